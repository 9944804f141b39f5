"""Tables with a header row: CSV/TSV, xlsx workbooks and Markdown pipe tables. ``wanted`` lists the
accepted header column sets; a row that does not fit its header, or (CSV, xlsx) holds an Excel error
value such as ``#N/A`` in a wanted column, is a counted skip, a file without such a header a one-line
error naming what it does have."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

from ..errors import UserError, where
from .rows import Row, Skip
from .text import Range, codec_of, decode_guard, detect_encoding, open_text, text_stream


def _check_header(path: Path, place: str, header: list[str], wanted: Iterable[Iterable[str]],
                  position: str = "column") -> None:
    if not any(set(cols) <= set(header) for cols in wanted):
        expected = " or ".join("/".join(cols) for cols in wanted)
        found = ", ".join(_flat(name) for name in header)
        raise UserError(f"{where(path, place)}: header has no {expected} columns (found: "
                        f"{found or 'nothing'}); point to the right file or fix its header row")
    _check_unique(path, place, header, position)


def _flat(text) -> str:
    """A cell as it goes into an error message: on one line, whatever it holds."""
    return " ".join(str(text).split())


def _check_unique(path: Path, place: str, header: list[str], position: str = "column") -> None:
    """A header naming a column twice is refused: a row's value of that name would be the last one's."""
    first: dict[str, int] = {}
    for number, name in enumerate(header, 1):
        if name and name in first:
            raise UserError(f"{where(path, place)}: {position}s {first[name]} and {number} are both named {_flat(name)!r}; "
                            "rename or delete one of them")
        first.setdefault(name, number)


EOF_MARK = "\ue000lfd: end of file\ue000"  # a last line fed after the file's: a quoted field it lands in never closed
FIELD_LIMIT = (1 << 31) - 1  # the C long the csv module keeps its limit in (on every platform)


def raise_field_limit(size: int) -> None:
    """Lets a field be as long as the file (no field can be longer), bounded by what csv can hold."""
    if csv.field_size_limit() < size:
        csv.field_size_limit(min(size + 1, FIELD_LIMIT))


# what a formula that failed shows (openpyxl reads the cached value of an error cell as its code)
EXCEL_ERRORS = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!",
                          "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"))
EXCEL_ERROR = "an Excel error value (#N/A, #REF!, ...) in a required column: fix the formula or paste values"


def required_columns(header: list[str], wanted: list[tuple[str, ...]]) -> list[int]:
    """The positions in ``header`` of the columns of every wanted set it holds."""
    names = {name for cols in wanted if set(cols) <= set(header) for name in cols}
    return [at for at, cell in enumerate(header) if cell in names]


def excel_error_in(values: list[str], required: list[int]) -> bool:
    """Whether a required cell holds an Excel error value (spaces aside)."""
    return any(at < len(values) and values[at].strip() in EXCEL_ERRORS for at in required)


def iter_csv(path: Path, encoding: str | None, wanted: list[tuple[str, ...]], part: tuple[int, int] | None = None,
             columns: tuple[str, ...] | None = None, lines: list[int] | None = None) -> Iterator[Row]:
    """Rows of a CSV with a header (quoted fields may hold newlines; a row is named by its first line);
    ragged rows are skipped; a quote that never closes is an error naming the line it opens on.
    ``part``: only bytes [start, end) (see plugin/parts.py), which after the first part hold no header:
    ``columns`` is the file's; lines count from the part's start, and ``lines`` gets how many it has."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    if part is None:
        opened = open_text(path, encoding)
    else:
        codec = encoding or detect_encoding(path)
        if columns is not None and codec_of(codec) == "utf-8-sig":
            codec = "utf-8"  # a BOM only starts the file
        opened = text_stream(Range(path, *part, progress=columns is None), codec)
    with opened as stream:
        raise_field_limit(path.stat().st_size)
        reader = csv.reader(chain(stream, [EOF_MARK]), delimiter=delimiter)
        start = 1  # the first line of the record being read

        def rows():
            nonlocal start
            header = list(columns) if columns is not None else read_header(path, reader, wanted)
            required = required_columns(header, wanted)
            while True:
                start = reader.line_num + 1
                values = next(reader, None)
                if values is None or values == [EOF_MARK]:
                    if lines is not None:
                        lines.append(reader.line_num - 1)
                    return
                if any(EOF_MARK in value for value in values):
                    raise _unclosed(path, start)
                joined = "".join(values)
                if not joined.strip():
                    continue
                location = f"line {start}"
                if len(values) != len(header):
                    yield Row(location, Skip(f"ragged row ({len(values)} fields, header has {len(header)})"))
                elif "\0" in joined:
                    yield Row(location, Skip("NUL bytes in the row (binary data, or UTF-16 read as another encoding)"))
                elif "#" in joined and excel_error_in(values, required):  # a CSV saved from Excel keeps them
                    yield Row(location, Skip(EXCEL_ERROR, dict(zip(header, values))))
                else:
                    yield Row(location, dict(zip(header, values)))

        try:
            yield from decode_guard(path, encoding, rows())
        except csv.Error as err:
            raise UserError(f"{where(path, f'line {start}')}: broken CSV ({err}); "
                            "check quoting around that line") from None


def read_header(path: Path, reader, wanted: list[tuple[str, ...]]) -> list[str]:
    """The header row of a CSV ``reader`` (at the file's start), checked against ``wanted``."""
    header = [h.strip() for h in next(reader, [])]
    if header == [EOF_MARK]:
        header = []
    elif any(EOF_MARK in h for h in header):
        raise _unclosed(path, 1)
    elif any("\n" in h or "\r" in h for h in header):
        raise UserError(f"{where(path, 'line 1')}: a quoted field in the header row runs on to line "
                        f"{reader.line_num}; check the quotes of the header row")
    _check_header(path, "header row", header, wanted)
    return header


def _unclosed(path: Path, line: int) -> UserError:
    return UserError(f"{where(path, f'line {line}')}: a quoted field opens on this line and never closes (it runs "
                     "to the end of the file); add the closing quote (\") or remove the stray one")


def iter_xlsx(path: Path, wanted: list[tuple[str, ...]]) -> Iterator[Row]:
    """Rows of every sheet whose header (within its first 10 rows) holds one of the wanted column sets.
    A row with an Excel error value (a failed formula's ``#N/A``) in a wanted column is a counted skip
    (its record kept for the rejects file), never a text. A damaged workbook (a corrupt, truncated or
    encrypted part) is a one-line error, wherever it shows."""
    import zlib
    from xml.etree.ElementTree import ParseError
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    damaged = (InvalidFileException, BadZipFile, KeyError, OSError, zlib.error, EOFError, ParseError,
               RuntimeError, ValueError, TypeError, IndexError, AttributeError)
    try:
        from lxml.etree import LxmlError
        damaged += (LxmlError,)
    except ImportError:
        pass
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except damaged as err:
        raise UserError(f"{path}: not a readable .xlsx workbook ({_brief(err)}); re-save it as .xlsx") from None
    matched = False
    seen: dict[str, list[str]] = {}  # sheet -> its first non-empty row, for the error message
    title = None
    try:
        for sheet in book.worksheets:
            title, header, required = sheet.title, None, []
            for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
                cells = ["" if v is None else str(v).strip() for v in values]
                if header is not None:
                    if any(cells):
                        record = dict(zip(header, cells))
                        failed = "#" in "".join(cells) and excel_error_in(cells, required)
                        yield Row(f"sheet {sheet.title} row {number}", Skip(EXCEL_ERROR, record) if failed else record)
                elif any(set(cols) <= set(cells) for cols in wanted):
                    _check_unique(path, f"sheet {sheet.title} row {number}", cells)
                    header, matched, required = cells, True, required_columns(cells, wanted)
                elif number >= 10:
                    break
                elif any(cells):
                    seen.setdefault(sheet.title, [_flat(c) for c in cells if c])
            seen.setdefault(sheet.title, [])
    except UserError:
        raise
    except damaged as err:
        place = f"sheet {title}" if title is not None else "its sheets"
        raise UserError(f"{where(path, place)}: a damaged part of the workbook ({_brief(err)}); re-save it in "
                        "Excel or download it again") from None
    finally:
        book.close()
    if not matched:
        expected = " or ".join("/".join(cols) for cols in wanted)
        sheets = "; ".join(f"sheet {name}: {', '.join(cells) or 'empty'}" for name, cells in seen.items())
        raise UserError(f"{path}: no sheet has a {expected} header ({sheets or 'no sheets'}); "
                        "fix the header row or pick the right file")


def _brief(err: BaseException) -> str:
    """The first line of an error's text, or its kind when it has none (a KeyError of a missing part)."""
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


# a Markdown table's delimiter row: | --- | :---: | ---: |
MARKDOWN_DELIMITER = re.compile(r"\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?")


def _markdown_cells(line: str) -> list[str]:
    """The cells of a table line: split at unescaped pipes; ``\\|`` is a pipe, ``<br>`` a line break."""
    text = line.strip()
    text = text.removeprefix("|")
    text = text[:-1] if text.endswith("|") and not text.endswith("\\|") else text
    return [re.sub(r"<br\s*/?>", "\n", cell.replace("\\|", "|")).strip()
            for cell in re.split(r"(?<!\\)\|", text)]


def iter_markdown(path: Path, encoding: str | None, wanted: list[tuple[str, ...]]) -> Iterator[Row]:
    """Rows of the first pipe table whose header holds one of the wanted column sets.

    The delimiter row (``| --- |``) is skipped; a row with another number of cells than the header
    is a counted skip; the table ends at a blank or pipe-less line; fenced code blocks are ignored.
    """
    with open_text(path, encoding) as stream:

        def rows():
            header: list[str] | None = None
            previous: list[str] | None = None  # the line above, as cells: a header if a delimiter follows
            headers_seen: list[str] = []
            fenced = False
            for number, line in enumerate(stream, 1):
                text = line.strip()
                if header is not None:
                    if not text or "|" not in text or text.startswith(("```", "~~~")):
                        return
                    cells = _markdown_cells(text)
                    if not any(cells):
                        continue
                    location = f"line {number}"
                    if len(cells) != len(header):
                        yield Row(location, Skip(f"ragged row ({len(cells)} cells, header has {len(header)})"))
                    else:
                        yield Row(location, dict(zip(header, cells)))
                    continue
                if text.startswith(("```", "~~~")):
                    fenced, previous = not fenced, None
                    continue
                if fenced:
                    continue
                if previous is not None and MARKDOWN_DELIMITER.fullmatch(text) \
                        and len(_markdown_cells(text)) == len(previous):
                    if any(set(cols) <= set(previous) for cols in wanted):
                        _check_unique(path, f"line {number - 1}", previous)
                        header = previous
                        continue
                    headers_seen.append(", ".join(map(_flat, previous)))
                previous = _markdown_cells(text) if "|" in text else None
            if header is None:
                expected = " or ".join("/".join(cols) for cols in wanted)
                found = "; ".join(dict.fromkeys(headers_seen)) or "no table"
                raise UserError(f"{path}: no Markdown table has a {expected} header (found: {found}); "
                                "point to the right file or fix the table's header row")

        yield from decode_guard(path, encoding, rows())
