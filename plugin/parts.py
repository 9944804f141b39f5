"""The parts of `lfd convert`'s input files that parallel workers read (see :mod:`.converted`): a big
JSON array or JSONL file split at record starts (:func:`.io.json_files.json_parts`), a big CSV split
at newlines outside quoted fields (:func:`csv_parts`), any other file whole; the rows of one part,
and their locations as reading the whole file gives them (:func:`shift`).

A CSV splits after a newline with an even number of ``"`` before it. In UTF-8, GB18030, GBK and
Big5 neither byte is ever part of a multi-byte character, so each part also decodes on its own. A
quote inside an unquoted field can make a split point wrong; each is confirmed when the part before
it is read to exactly there (a part that ends inside a quoted field is an error, and the caller
then reads the file whole).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..converters.base import Converter
from .errors import UserError
from .io import json_files
from .io.dispatch import CSV_SUFFIXES
from .io.rows import Row
from .io.tables import iter_csv, raise_field_limit
from .io.text import CHUNK, codec_of, detect_encoding, open_text

# encodings in which the bytes of '"' and '\n' are never part of another character
CSV_SPLIT_ENCODINGS = {"utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5"}


@dataclass(frozen=True)
class Part:
    """Bytes ``[start, end)`` of ``path`` as ``kind`` ("json", "jsonl", "csv"), or all of it ("whole",
    read by the converter's ``rows``); ``first``/``last``: it starts/ends the file; ``header``: a CSV's
    header, for the parts after the first."""

    path: Path
    kind: str
    start: int = 0
    end: int = 0
    first: bool = True
    last: bool = True
    header: tuple[str, ...] | None = None


def splittable(conv: Converter) -> bool:
    """Whether the records of a file may be converted in parts by ``conv`` (see ``Converter.parallel``)."""
    return conv.parallel and type(conv).rows is Converter.rows


def file_parts(conv: Converter, path: Path, encoding: str | None, count: int) -> list[Part]:
    """Up to ``count`` parts of ``path``: several for a big splittable file, else the whole file."""
    if splittable(conv) and count > 1:
        if path.suffix.lower() in CSV_SUFFIXES and conv.columns:
            try:
                ranges = csv_parts(path, encoding, count)
                header = csv_header(path, encoding) if ranges is not None else None
            except (UserError, OSError, ValueError, csv.Error):
                ranges = None  # the whole-file reading reports it
            if ranges is not None:
                return [Part(path, "csv", start, end, i == 0, i == len(ranges) - 1, None if i == 0 else header)
                        for i, (start, end) in enumerate(ranges)]
        else:
            try:
                split = json_files.json_parts(path, encoding, count)
            except (UserError, OSError, ValueError):
                split = None  # the whole-file reading reports it
            if split is not None:
                jsonl, ranges = split
                return [Part(path, "jsonl" if jsonl else "json", start, end, i == 0, i == len(ranges) - 1)
                        for i, (start, end) in enumerate(ranges)]
    return [Part(path, "whole")]


def csv_parts(path: Path, encoding: str | None, count: int) -> list[tuple[int, int]] | None:
    """Byte ranges splitting a big CSV into up to ``count`` parts after newlines outside quotes, or None."""
    size = path.stat().st_size
    if count < 2 or size < json_files.PART_MIN_BYTES or size == 0:
        return None
    try:
        codec = codecs.lookup(codec_of(encoding or detect_encoding(path))).name
    except UserError:
        return None
    if codec not in CSV_SPLIT_ENCODINGS:
        return None
    starts, quotes, pos = [], 0, 0
    with open(path, "rb") as f:  # read, not mapped: the pages read do not stay in this process
        for k in range(1, count):
            target = size * k // count
            if target > pos:
                quotes, pos = quotes + _quotes(f, pos, target), target
            f.seek(pos)
            while block := f.read(CHUNK):
                at = 0
                while (newline := block.find(b"\n", at)) >= 0:
                    quotes, at = quotes + block.count(b'"', at, newline), newline + 1
                    if quotes % 2 == 0 and block[at:at + 3] != codecs.BOM_UTF8:
                        break
                else:
                    quotes, pos = quotes + block.count(b'"', at), pos + len(block)
                    continue
                pos += at
                starts.append(pos)
                break
    bounds = [0, *sorted({s for s in starts if 0 < s < size}), size]
    return list(zip(bounds, bounds[1:])) if len(bounds) > 2 else None


def _quotes(f, start: int, end: int) -> int:
    """The number of ``"`` bytes in bytes ``[start, end)`` of the open file ``f``."""
    total = 0
    f.seek(start)
    while start < end and (block := f.read(min(4 * CHUNK, end - start))):
        total, start = total + block.count(b'"'), start + len(block)
    return total


def csv_header(path: Path, encoding: str | None) -> tuple[str, ...]:
    """A CSV's header row as :func:`.io.tables.iter_csv` reads it."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open_text(path, encoding) as stream:
        raise_field_limit(path.stat().st_size)
        return tuple(h.strip() for h in next(csv.reader(stream, delimiter=delimiter), []))


def part_rows(conv: Converter, part: Part, encoding: str | None, lines: list[int]) -> Iterator[Row]:
    """The rows of ``part``, located from its start; a CSV part appends its number of lines to ``lines``."""
    if part.kind == "whole":
        yield from conv.rows(part.path, "train")
    elif part.kind == "csv":
        yield from iter_csv(part.path, encoding, conv.columns, (part.start, part.end), part.header, lines)
    else:
        yield from json_files.iter_json_part(part.path, (part.start, part.end), encoding, part.kind == "jsonl",
                                             part.first, part.last)


def json_lines(part: Part) -> int:
    """The lines of a JSON part as its reader counts them (newlines); a ValueError for a JSONL part with a
    lone carriage return, which its reader counts as a line end too."""
    total = 0
    with open(part.path, "rb") as f:
        f.seek(part.start)
        left = part.end - part.start
        while left > 0:
            block = f.read(min(16 * CHUNK, left))
            if not block:
                break
            left -= len(block)
            total += block.count(b"\n")
            if part.kind == "jsonl" and b"\r" in block and LONE_CR.search(block.rstrip(b"\r")):
                raise ValueError("a lone carriage return")
            if part.kind == "jsonl" and block.endswith(b"\r") and left > 0:
                raise ValueError("a carriage return at a block end")
    return total


LONE_CR = re.compile(rb"\r(?!\n)")
RECORD_AT = re.compile(r"record (\d+) \(line (\d+)\)")
LINE_AT = re.compile(r"line (\d+)")


def shift(location: str | None, records: int, lines: int) -> str | None:
    """A location counted from a part's start, counted from the file's: ``records`` records and ``lines``
    lines come before the part."""
    if location is None or not (records or lines):
        return location
    if found := RECORD_AT.fullmatch(location):
        return f"record {int(found[1]) + records} (line {int(found[2]) + lines})"
    if found := LINE_AT.fullmatch(location):
        return f"line {int(found[1]) + lines}"
    return location
