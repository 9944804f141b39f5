"""Tables with a header row: CSV/TSV, xlsx workbooks and Markdown pipe tables. ``wanted`` lists the
accepted header column sets; a row that does not fit its header is a counted skip, a file without
such a header a one-line error naming what it does have."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import UserError, where
from .rows import Row, Skip
from .text import decode_guard, open_text


def _check_header(path: Path, place: str, header: list[str], wanted: Iterable[Iterable[str]]) -> None:
    if not any(set(cols) <= set(header) for cols in wanted):
        expected = " or ".join("/".join(cols) for cols in wanted)
        raise UserError(f"{where(path, place)}: header has no {expected} columns (found: "
                        f"{', '.join(map(str, header)) or 'nothing'}); point to the right file or fix its header row")


def iter_csv(path: Path, encoding: str | None, wanted: list[tuple[str, ...]]) -> Iterator[Row]:
    """Rows of a CSV with a header (quoted fields may hold newlines); ragged rows are skipped."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open_text(path, encoding) as stream:
        reader = csv.reader(stream, delimiter=delimiter)

        def rows():
            header = [h.strip() for h in next(reader, [])]
            _check_header(path, "header row", header, wanted)
            for values in reader:
                joined = "".join(values)
                if not joined.strip():
                    continue
                location = f"line {reader.line_num}"
                if len(values) != len(header):
                    yield Row(location, Skip(f"ragged row ({len(values)} fields, header has {len(header)})"))
                elif "\0" in joined:
                    yield Row(location, Skip("NUL bytes in the row (binary data, or UTF-16 read as another encoding)"))
                else:
                    yield Row(location, dict(zip(header, values)))

        try:
            yield from decode_guard(path, encoding, rows())
        except csv.Error as err:
            raise UserError(f"{where(path, f'line {reader.line_num}')}: broken CSV ({err}); "
                            "check quoting around that line") from None


def iter_xlsx(path: Path, wanted: list[tuple[str, ...]]) -> Iterator[Row]:
    """Rows of every sheet whose header (within its first 10 rows) holds one of the wanted column sets."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError) as err:
        raise UserError(f"{path}: not a readable .xlsx workbook ({err}); re-save it as .xlsx") from None
    matched = False
    seen: dict[str, list[str]] = {}  # sheet -> its first non-empty row, for the error message
    try:
        for sheet in book.worksheets:
            header = None
            for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
                cells = ["" if v is None else str(v).strip() for v in values]
                if header is not None:
                    if any(cells):
                        yield Row(f"sheet {sheet.title} row {number}", dict(zip(header, cells)))
                elif any(set(cols) <= set(cells) for cols in wanted):
                    header, matched = cells, True
                elif number >= 10:
                    break
                elif any(cells):
                    seen.setdefault(sheet.title, [c for c in cells if c])
            seen.setdefault(sheet.title, [])
    finally:
        book.close()
    if not matched:
        expected = " or ".join("/".join(cols) for cols in wanted)
        sheets = "; ".join(f"sheet {name}: {', '.join(cells) or 'empty'}" for name, cells in seen.items())
        raise UserError(f"{path}: no sheet has a {expected} header ({sheets or 'no sheets'}); "
                        "fix the header row or pick the right file")


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
                        header = previous
                        continue
                    headers_seen.append(", ".join(previous))
                previous = _markdown_cells(text) if "|" in text else None
            if header is None:
                expected = " or ".join("/".join(cols) for cols in wanted)
                found = "; ".join(dict.fromkeys(headers_seen)) or "no table"
                raise UserError(f"{path}: no Markdown table has a {expected} header (found: {found}); "
                                "point to the right file or fix the table's header row")

        yield from decode_guard(path, encoding, rows())
