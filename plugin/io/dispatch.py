"""Which reader a raw file gets: :func:`iter_rows` dispatches on the file's suffix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from .archives import iter_zip
from .json_files import JSON_SUFFIXES, iter_json
from .rows import Row
from .tables import iter_csv, iter_markdown, iter_xlsx
from .text import open_bytes

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".tsv"}
ZIP_SUFFIXES = {".zip"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}


def iter_rows(path: Path, encoding: str | None, wanted: list[tuple[str, ...]],
              member: str | None = None, member_option: str | None = None) -> Iterator[Row]:
    """Dispatch on the file's extension; ``wanted`` lists accepted header column sets for tables.

    A .zip is read through its JSON ``member`` (see :func:`plugin.io.archives.iter_zip`);
    ``member_option`` names the option that sets it, for the error when it is missing.
    """
    open_bytes(path).close()  # a missing, unreadable or folder input: one line now, not a traceback later
    if not path.is_file():
        raise UserError(f"{path}: not a regular file; pass a file")
    suffix = path.suffix.lower()
    if not wanted and suffix in XLSX_SUFFIXES | CSV_SUFFIXES | MARKDOWN_SUFFIXES:
        raise UserError(f"{path}: a {suffix} table, but this converter reads JSON (.json, .jsonl or a .zip of "
                        "them); pass the JSON file")
    if suffix in XLSX_SUFFIXES:
        return iter_xlsx(path, wanted)
    if suffix in CSV_SUFFIXES:
        return iter_csv(path, encoding, wanted)
    if suffix in JSON_SUFFIXES:
        return iter_json(path, encoding)
    if suffix in ZIP_SUFFIXES:
        return iter_zip(path, member, encoding, member_option)
    if suffix in MARKDOWN_SUFFIXES:
        return iter_markdown(path, encoding, wanted)
    known = ", ".join(sorted(XLSX_SUFFIXES | CSV_SUFFIXES | JSON_SUFFIXES | ZIP_SUFFIXES | MARKDOWN_SUFFIXES))
    raise UserError(f"{path}: unsupported file type {suffix or '(none)'}; expected one of {known}")
