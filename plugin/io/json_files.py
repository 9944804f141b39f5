"""JSON files as records: a JSON array, a JSON object (its values, keyed) or JSONL, read whole
(:func:`iter_json`) or, for a big one, in byte ranges that parallel workers read
(:func:`json_parts`, :func:`iter_json_part`). A UTF-8 file goes the fast way of :mod:`.json_fast`
when it can, anything else through the exact reading of :mod:`.json_exact`.
"""

from __future__ import annotations

import codecs
import mmap
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from .json_exact import Scanner, is_jsonl, json_array, json_container, jsonl_rows
from .json_fast import ARRAY_START, fast_array, fast_jsonl, fast_layout, fast_readable
from .rows import Row
from .text import (
    Decoded,
    Range,
    decode_guard,
    detect_encoding,
    is_utf8,
    open_text,
    text_stream,
    whole_file,
)

JSON_SUFFIXES = {".json", ".jsonl"}
PART_MIN_BYTES = 32 << 20  # smaller JSON files are not split for parallel conversion


def iter_json(path: Path, encoding: str | None = None) -> Iterator[Row]:
    """Records of a JSON array, a JSON object (its values, keyed), or JSONL."""
    if is_jsonl(path, encoding):
        if fast_readable(path, encoding):
            yield from decode_guard(path, encoding, fast_jsonl(whole_file(path), first=True))
            return
        with open_text(path, encoding) as stream:
            yield from decode_guard(path, encoding, jsonl_rows(stream, path))
    elif separator := fast_layout(path, encoding):
        size = path.stat().st_size
        yield from decode_guard(path, encoding, fast_array(path, 0, size, separator, True, True, whole=True))
    else:
        with Decoded(whole_file(path), encoding or detect_encoding(path)) as stream:
            yield from decode_guard(path, encoding, json_container(Scanner(stream, path), path))


def json_parts(path: Path, encoding: str | None, count: int) -> tuple[bool, list[tuple[int, int]]] | None:
    """Byte ranges splitting a big UTF-8 JSONL file, or JSON array with one record per indented
    block (as ``json.dump(..., indent=N)`` writes it), into up to ``count`` parts at record starts,
    to be read by :func:`iter_json_part` in parallel: (whether it is JSONL, the ranges); None when the
    file is small or not of that kind.

    A JSONL file splits after a newline. An array splits where ``},`` is followed by a newline and
    exactly the first record's indentation and ``{``: raw newlines only occur between tokens, so
    that is a record start unless the indentation is irregular; each split point is confirmed when
    the part before it is read to exactly there.
    """
    size = path.stat().st_size
    if count < 2 or size < PART_MIN_BYTES or path.suffix.lower() not in JSON_SUFFIXES:
        return None
    if not is_utf8(path, encoding):
        return None  # in GB18030 a '{' or newline byte can be half of a character
    jsonl = is_jsonl(path, encoding)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if jsonl:
            starts = [data.find(b"\n", size * k // count) + 1 for k in range(1, count)]
        else:
            opening = ARRAY_START.match(data, 3 if data[:3] == codecs.BOM_UTF8 else 0)
            if not opening or b"\n" not in opening[1]:
                return None
            record_start = re.compile(rb"\}[ \t]*," + re.escape(opening[1]) + rb"\{")
            starts = []
            for k in range(1, count):
                found = record_start.search(data, size * k // count)
                starts.append(found.end() - 1 if found else 0)
    bounds = [0, *sorted({s for s in starts if 0 < s < size}), size]
    return (jsonl, list(zip(bounds, bounds[1:]))) if len(bounds) > 2 else None


def iter_json_part(path: Path, part: tuple[int, int], encoding: str | None, jsonl: bool,
                   first: bool, last: bool) -> Iterator[Row]:
    """Records of one of the :func:`json_parts` of ``path``. A part of an array that does not end
    exactly after a record and its ``,`` (or, the last part, after the ``]``) is a UserError: the
    split point was wrong, and the caller reads the file whole instead. Locations count from the
    part's start."""
    start, end = part
    codec = (encoding or detect_encoding(path)) if first else "utf-8"
    if jsonl and fast_readable(path, encoding):
        yield from fast_jsonl(Range(path, start, end, progress=first), first)
        return
    if jsonl:
        with text_stream(Range(path, start, end), codec) as stream:
            yield from jsonl_rows(stream, path)
        return
    if separator := fast_layout(path, encoding):
        yield from fast_array(path, start, end, separator, first, last, whole=False)
        return
    with Decoded(Range(path, start, end), codec) as stream:
        scanner = Scanner(stream, path)
        if first:
            scanner.expect("[", "a JSON array")
        closed = yield from json_array(scanner, to_end=not last)
        if closed != ("]" if last else "") or scanner.peek():
            raise UserError(f"{path}: bytes {start}-{end} are not whole records; read it in one piece")
