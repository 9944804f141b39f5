"""A knowledge base's documents: which files a KB path holds, and each file's text.

:func:`document_files` lists the documents of files and folders (:data:`DOCUMENT_SUFFIXES`; a
langchain-Chatchat ``<kb>/content/`` layout is read through its ``content`` folder);
:func:`read_document` gives one file's text (text files UTF-8 or GB18030; Word .docx paragraphs and
tables; PDF pages; every sheet of a workbook; CSV rows); :func:`load_documents` reads them all into
:class:`Document` objects, stopping at the first bad file or, given a ``problems`` list, noting it
there and going on. Whatever the bytes, a bad file is a one-line :class:`UserError` naming it.
Table rows (docx tables, sheets, CSV) become a line each, their cells joined by tabs.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .atomic import lone_surrogate
from .tables import _brief, raise_field_limit
from .text import SNIFF, codec_of, encoding_of

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
DOCUMENT_SUFFIXES = (*TEXT_SUFFIXES, ".docx", ".pdf", ".xlsx", ".xlsm", ".csv")
OLD_OFFICE = {".doc": ".docx", ".xls": ".xlsx"}  # listed in a folder, refused with how to re-save them
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old .doc/.xls, or an encrypted Office file
SHOWN = " ".join(DOCUMENT_SUFFIXES)
CHATCHAT_CONTENT = "content"  # langchain-Chatchat keeps a KB's files in <kb>/content/ (beside vector_store/)
CELL_BREAK = re.compile(r"\s*[\r\n\t]+\s*")


@dataclass(frozen=True)
class Document:
    name: str  # what records cite as the source: the path relative to the --kb folder, or the file name
    text: str


# ---------------------------------------------------------------- which files


def _listed(path: Path, top: Path) -> bool:
    """Whether a file found under folder ``top`` is a document to read (hidden and lock files are not)."""
    parts = path.relative_to(top).parts
    return (path.suffix.lower() in (*DOCUMENT_SUFFIXES, *OLD_OFFICE) and not path.name.startswith("~$")
            and not any(part.startswith(".") for part in parts) and path.is_file())


def _folder_files(folder: Path, prefix: str = "") -> list[tuple[Path, str]]:
    """A plain folder's documents, recursively, sorted, named relative to it after ``prefix``."""
    return [(p, prefix + p.relative_to(folder).as_posix()) for p in sorted(folder.rglob("*")) if _listed(p, folder)]


def _is_chatchat_kb(folder: Path) -> bool:
    return (folder / CHATCHAT_CONTENT).is_dir()


def _kb_folder_files(folder: Path) -> list[tuple[Path, str]]:
    """The documents of a --kb folder: a Chatchat kb (``<kb>/content/``: its content, named relative to
    it), a Chatchat root (folders holding kbs: each kb's content, named ``<kb>/<file>``, beside the
    root's other files), or a plain folder (named relative to it)."""
    if _is_chatchat_kb(folder):
        return _folder_files(folder / CHATCHAT_CONTENT)
    try:
        kbs = sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.is_dir() and _is_chatchat_kb(p))
    except OSError as err:
        raise UserError(f"--kb {folder}: cannot list the folder ({err.strerror}); check its permissions") from None
    if not kbs:
        return _folder_files(folder)
    found = [(p, name) for p, name in _folder_files(folder) if name.split("/", 1)[0] not in {k.name for k in kbs}]
    for kb in kbs:
        found += _folder_files(kb / CHATCHAT_CONTENT, kb.name + "/")
    return sorted(found, key=lambda item: item[1])


def document_files(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """(file, cited name) of each document of ``paths``: a file is named by its file name, a folder's
    files (searched recursively, sorted; hidden files and folders and Office lock files ``~$…`` left
    out) by their path relative to it; a Chatchat ``<kb>`` folder's by their path relative to
    ``<kb>/content/``, and a Chatchat ``knowledge_base/`` root's as ``<kb>/<that path>`` (vector_store/
    is never read). A folder's .doc/.xls files are listed too: :func:`read_document` says how to re-save
    them. A missing path, a folder without documents and a file of another kind are errors."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            files = _kb_folder_files(path)
            if not files:
                raise UserError(f"--kb {path}: the folder holds no readable documents ({SHOWN}); point --kb to "
                                "the folder of regulation texts (one file per document)")
            found += files
        elif path.is_file():
            suffix = path.suffix.lower()
            if suffix in OLD_OFFICE:
                raise UserError(_old_office(path, f"--kb {path}"))
            if suffix not in DOCUMENT_SUFFIXES:
                raise UserError(f"--kb {path}: not a document this reads ({suffix or 'no suffix'}); the knowledge "
                                f"base takes {SHOWN} files (convert other files to one of them first)")
            found.append((path, path.name))
        else:
            raise UserError(f"--kb {path}: no such file or folder; check the path")
    return found


def _old_office(path: Path, name: str) -> str:
    suffix = path.suffix.lower()
    app = "Word" if suffix == ".doc" else "Excel"
    return (f"{name}: an old {app} {suffix} file, which is not read; open it in {app} (or LibreOffice) and save it "
            f"as {OLD_OFFICE[suffix]}")


# ---------------------------------------------------------------- one file's text


def read_document(path: Path) -> str:
    """The text of a KB file (see the module docstring for each kind); an unreadable, damaged or empty
    file is a one-line error naming it."""
    suffix = path.suffix.lower()
    if suffix in OLD_OFFICE:
        raise UserError(_old_office(path, str(path)))
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UserError(f"{path}: cannot read this knowledge-base file ({err.strerror}); "
                        "check its permissions or leave it out of --kb") from None
    if suffix == ".docx":
        text = _docx_text(path, raw)
    elif suffix == ".pdf":
        text = _pdf_text(path, raw)
    elif suffix in (".xlsx", ".xlsm"):
        text = _xlsx_text(path, raw)
    elif suffix == ".csv":
        text = _csv_text(path, raw)
    else:
        text = _plain_text(path, raw)
    if not text.strip():
        raise UserError(f"{path}: the knowledge-base file is empty; fill it or leave it out of --kb")
    return text


def _plain_text(path: Path, raw: bytes) -> str:
    """A text file: UTF-8 (with or without BOM) or GB18030; binary data is refused."""
    if b"\0" in raw[:65536]:
        raise UserError(f"{path}: a binary file, not text; the knowledge base takes .txt/.md text files")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(f"{path}: neither UTF-8 nor GB18030 text; re-save it as UTF-8")


def _row(cells: Iterable[object]) -> str:
    """A table row as a line: its cells (on one line each) joined by tabs, empty cells at the end dropped.

    >>> _row(["第十条", None, "有效期\\n五年", 5, None, ""])
    '第十条\\t\\t有效期 五年\\t5'
    """
    return "\t".join(CELL_BREAK.sub(" ", "" if c is None else str(c)).strip() for c in cells).rstrip("\t")


def _zip_kind_check(path: Path, raw: bytes, kind: str, fix: str) -> None:
    """An Office file must be a zip: an OLE2 one is an old-format or password-protected file."""
    if raw.startswith(OLE2):
        raise UserError(f"{path}: an old-format or password-protected {kind}, not a {path.suffix.lower()} "
                        f"zip; {fix}")
    if not raw.startswith(b"PK"):
        raise UserError(f"{path}: not a readable {kind} (not a zip archive); {fix}")


def _docx_text(path: Path, raw: bytes) -> str:
    """Paragraphs and tables of the body, in order: a paragraph a line, a table row a line."""
    fix = "open it in Word and save it again as .docx (without a password), or download it again"
    _zip_kind_check(path, raw, "Word document", fix)
    try:
        from docx import Document as open_docx
        from docx.oxml.ns import qn
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = open_docx(io.BytesIO(raw))
        lines: list[str] = []

        def walk(parent) -> None:
            for element in parent.iterchildren():
                if element.tag == qn("w:p"):
                    text = Paragraph(element, document).text
                    if text.strip():
                        lines.append(text)
                elif element.tag == qn("w:tbl"):
                    for row in Table(element, document).rows:
                        cells, seen = [], set()
                        for cell in row.cells:  # a merged cell repeats: once
                            if id(cell._tc) not in seen:
                                seen.add(id(cell._tc))
                                cells.append(cell.text)
                        line = _row(cells)
                        if line.strip():
                            lines.append(line)
                elif element.tag == qn("w:sdt"):  # a content control: its paragraphs and tables
                    for content in element.iterchildren(qn("w:sdtContent")):
                        walk(content)

        walk(document.element.body)
    except UserError:
        raise
    except Exception as err:  # noqa: BLE001 - any bytes: a damaged part is one line, never a traceback
        raise UserError(f"{path}: not a readable Word document ({_brief(err)}); {fix}") from None
    return "\n".join(lines)


def _pdf_text(path: Path, raw: bytes) -> str:
    """The text of every page, pages joined by newlines."""
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - a dependency of the package
        raise UserError(f"{path}: reading PDFs needs pypdf; pip install pypdf") from None
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # pypdf logs each repair of a sloppy file: noise on stderr
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                reader = PdfReader(io.BytesIO(raw))
                encrypted = reader.is_encrypted
            except Exception as err:  # noqa: BLE001 - any bytes: one line, never a traceback
                raise UserError(f"{path}: not a readable PDF ({_brief(err)}); download it again or re-save it "
                                "as PDF") from None
            if encrypted:
                try:
                    opened = bool(reader.decrypt(""))  # only an owner password (restrictions): readable
                except Exception:  # noqa: BLE001 - e.g. AES without the cryptography package
                    opened = False
                if not opened:
                    raise UserError(f"{path}: an encrypted (password-protected) PDF; remove the password "
                                    "(e.g. qpdf --decrypt --password=... in.pdf out.pdf) and pass the copy")
            try:
                pages = [page.extract_text() or "" for page in reader.pages]
            except Exception as err:  # noqa: BLE001
                raise UserError(f"{path}: a damaged PDF ({_brief(err)}); download it again or re-save it "
                                "as PDF") from None
    finally:
        logger.setLevel(level)
    if not "".join(pages).strip():
        raise UserError(f"{path}: the PDF has no extractable text ({len(pages)} page(s), scanned images?); "
                        "OCR it first (e.g. ocrmypdf -l chi_sim in.pdf out.pdf) or pass its text as a .txt file")
    return "\n".join(pages)


def _xlsx_text(path: Path, raw: bytes) -> str:
    """Every sheet with rows: its name on a line, then each non-empty row as a line."""
    fix = "open it in Excel and save it again as .xlsx (without a password), or download it again"
    _zip_kind_check(path, raw, "Excel workbook", fix)
    lines: list[str] = []
    try:
        from openpyxl import load_workbook

        with warnings.catch_warnings():  # "Workbook contains no default style" and the like
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            try:
                for sheet in book.worksheets:
                    rows = [line for line in (_row(values) for values in sheet.iter_rows(values_only=True))
                            if line.strip()]
                    if rows:
                        lines += [sheet.title, *rows]
            finally:
                book.close()
    except Exception as err:  # noqa: BLE001 - any bytes: a damaged part is one line, never a traceback
        raise UserError(f"{path}: not a readable Excel workbook ({_brief(err)}); {fix}") from None
    return "\n".join(lines)


def _csv_text(path: Path, raw: bytes) -> str:
    """Each non-empty row of a CSV (encoding detected as for the converters' inputs) as a line."""
    try:
        encoding = encoding_of(raw[:SNIFF], path)
    except UserError:  # its advice is --encoding, which a KB does not take
        raise UserError(f"{path}: neither UTF-8 nor GB18030 text; re-save it as UTF-8") from None
    try:
        text = codecs.decode(raw, codec_of(encoding))
    except UnicodeError as err:
        at = f" at byte {err.start}" if isinstance(err, UnicodeDecodeError) else ""
        raise UserError(f"{path}: cannot decode as {encoding}{at}; re-save it as UTF-8") from None
    if "\0" in text:
        raise UserError(f"{path}: a binary file, not CSV text; pass the CSV export of the table")
    raise_field_limit(len(text))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        lines = [line for line in (_row(cells) for cells in reader) if line.strip()]
    except csv.Error as err:
        raise UserError(f"{path}: line {reader.line_num}: broken CSV ({err}); check quoting around that "
                        "line") from None
    return "\n".join(lines)


# ---------------------------------------------------------------- all of them


def name_problem(path: Path, name: str) -> str | None:
    """Why a document's cited name cannot be cited (a file name that is not UTF-8: answers and records
    quote it), or None."""
    if not (half := lone_surrogate(name)):
        return None
    shown = os.fsencode(path).decode("utf-8", "backslashreplace")  # the bytes as \\xff: printable anywhere
    return f"{shown}: its name is not UTF-8 (byte {ord(half) - 0xDC00:#04x}); rename the file"


def load_documents(paths: Iterable[Path], problems: list[str] | None = None) -> list[Document]:
    """The documents of the --kb paths; a name cited twice (same file name in two folders) becomes the
    full path. With a ``problems`` list, a file that cannot be read (or is empty) is left out and its
    one-line message appended there; without, it is an error. Errors about the paths themselves (see
    :func:`document_files`) are raised either way."""
    documents, names = [], set()
    for path, name in document_files(paths):
        name = str(path) if name in names else name
        try:
            if problem := name_problem(path, name):
                raise UserError(problem)
            text = read_document(path)
        except UserError as err:
            if problems is None:
                raise
            problems.append(str(err))
            continue
        names.add(name)
        documents.append(Document(name, text))
    return documents
