"""The fast ways through a big UTF-8 JSON array or JSONL file, parsed by orjson: exact, or not used.

**Arrays, a block of records at a time.** The real dumps (Chinese-medical-dialogue: ~800k records,
634 MB) are one array written by ``json.dump(..., indent=4)``: every record ends with ``}`` and is
followed by the same separator (``",\\n    "``). A block of the bytes that ends just before such a
separator is parsed in one call as ``[`` + block + ``]``: three times faster than decoding the text
and scanning it a record at a time, and memory stays at one block. It is exact, or it is not used:

- if ``[`` + block + ``]`` parses, the block is whole records: objects are self-delimiting, so a
  split inside a string or a nested value leaves something unterminated;
- anything orjson reads differently from the json module fails the parse (NaN/Infinity, which the
  exact scanner makes a counted skip; 1e400, a lone surrogate, invalid UTF-8, nesting beyond 1024
  levels) or is caught after it (an integer beyond 64 bits, which orjson reads as a float; nesting
  too deep to check, which the exact scanner then reports);
- then, and for a separator that never comes back (irregular layout, a 16 MB record), the exact
  scanner of :mod:`.json_exact` reads on from the block's start, reporting errors with their
  line as always.

Locations ("record 7 (line 40)") are worked out only when asked for (a skipped record, an error),
by reading the record's block again.

**JSONL, each line's bytes** (DISC-Law-SFT: ~580 MB): three times faster than decoding the text and
parsing it with the json module. A line orjson does not read as the json module would (it fails:
NaN, a lone surrogate, invalid UTF-8, a blank line of Unicode spaces; or it reads an integer beyond
64 bits as a float, or nests too deeply to check) is decoded and read by :func:`.json_exact.json_line`,
the reader of the text path (which makes NaN/Infinity, an integer too long for Python and too deep a
nesting counted skips). Lines are numbered as the text path numbers them: a lone ``\\r`` ends a line too.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError, where
from .json_exact import ARRAY_SEPARATOR, WHITESPACE, Scanner, json_array, json_line
from .rows import Row
from .text import CHUNK, Decoded, Range, is_utf8, progress_bar

try:
    import orjson
except ImportError:  # the exact scanner does it all, a little slower
    orjson = None

BLOCK = CHUNK  # bytes read at a time
MAX_BLOCK = 16 << 20  # no separator in this many bytes: the exact scanner reads on
BIG = 2.0**63  # orjson reads an integer beyond 64 bits as a float at least this big
ARRAY_START = re.compile(rb"[ \t\r\n]*\[([ \t\r\n]*)\{")  # "[" and the first record's indentation
LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # where a text line ends at a \r alone (newline="" reading)


def fast_readable(path: Path, encoding: str | None) -> bool:
    """Whether ``path`` is UTF-8 and orjson is there: what the fast readers need."""
    return is_utf8(path, encoding) and orjson is not None


def fast_layout(path: Path, encoding: str | None) -> bytes | None:
    """The separator of a UTF-8 JSON array that :func:`fast_array` reads, or None."""
    return layout(path) if fast_readable(path, encoding) else None


def layout(path: Path) -> bytes | None:
    """The bytes between the first two records of a UTF-8 JSON array of objects (``b",\\n    "`` for
    ``json.dump(..., indent=4)``), or None when the file is not such an array, or the first record
    is too big to tell, or orjson is missing."""
    if orjson is None:
        return None
    with open(path, "rb") as f:
        head = f.read(CHUNK)
    start = 3 if head[:3] == codecs.BOM_UTF8 else 0
    opening = ARRAY_START.match(head, start)
    if not opening:
        return None
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(head[opening.end() - 1:])
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except (ValueError, RecursionError):
        return None
    separator = ARRAY_SEPARATOR.match(text, end)
    if separator is None or separator[1] or separator.end() == len(text) or text[separator.end()] != "{":
        return None
    return text[end:separator.end()].encode("utf-8")


class Block:
    """Where the records of one parsed block are: bytes ``[start, end)`` of the file, first record ``first``."""

    __slots__ = ("path", "lines", "start", "end", "first", "_starts")

    def __init__(self, path: Path, lines: Lines, start: int, end: int, first: int):
        self.path, self.lines, self.start, self.end, self.first = path, lines, start, end, first
        self._starts: list[int] | None = None  # the line of each record

    def location(self, i: int) -> str:
        if self._starts is None:  # the block parsed, so records and separators alternate
            with open(self.path, "rb") as f:
                f.seek(self.start)
                text = f.read(self.end - self.start).decode("utf-8")
            scan, pos, line, starts = json.JSONDecoder().scan_once, 0, self.lines.at(self.start), []
            while (begin := WHITESPACE.match(text, pos).end()) < len(text):
                line += text.count("\n", pos, begin)
                starts.append(line)
                _, end = scan(text, begin)
                after = ARRAY_SEPARATOR.match(text, end)
                pos = after.end() if after else len(text)
                line += text.count("\n", begin, pos)
            self._starts = starts
        return f"record {self.first + i} (line {self._starts[i]})"


class Lines:
    """Line numbers of byte offsets of a file, counted when asked for (cheap when asked in order)."""

    def __init__(self, path: Path, offset: int = 0):
        self.path, self.base = path, offset
        self.offset, self.line = offset, 1  # lines are counted from ``base``, where line 1 starts

    def at(self, offset: int) -> int:
        if offset < self.offset:
            self.offset, self.line = self.base, 1
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            while self.offset < offset:
                block = f.read(min(CHUNK, offset - self.offset))
                if not block:
                    break
                self.line += block.count(b"\n")
                self.offset += len(block)
        return self.line


def exact(value) -> bool:
    """False if orjson may have read an integer beyond 64 bits in ``value`` as a float, or ``value`` is
    nested too deeply to check (the exact scanner then reads it, and says so)."""
    try:
        return _exact(value)
    except RecursionError:
        return False


def _exact(value) -> bool:
    for item in value.values() if value.__class__ is dict else value:
        cls = item.__class__
        if cls is str or cls is int or item is None or cls is bool:
            continue
        if cls is float:
            if not -BIG < item < BIG:
                return False
        elif (cls is dict or cls is list) and not _exact(item):
            return False
    return True


def fast_array(path: Path, start: int, end: int, separator: bytes, first: bool, last: bool,
               whole: bool) -> Iterator[Row]:
    """Records of bytes ``[start, end)`` of a UTF-8 JSON array laid out with ``separator`` (see
    :func:`layout`): the whole array (``whole``), or one of :func:`.json_files.json_parts`. ``first``:
    the range starts with the ``[``; ``last``: it ends with the ``]``; otherwise it starts at a record
    and ends after a record's separator. A progress bar shows on a terminal for the whole array or the
    first part (the one `lfd convert` reads in its own process)."""
    bar = progress_bar(path, end - start) if whole or first else None
    try:
        yield from _blocks(path, start, end, separator, first, last, whole, bar)
    finally:
        if bar is not None:
            bar.close()


def _blocks(path: Path, start: int, end: int, separator: bytes, first: bool, last: bool, whole: bool,
            bar) -> Iterator[Row]:
    marker = b"}" + separator + b"{"
    loads, Error = orjson.loads, orjson.JSONDecodeError
    lines = Lines(path, 0 if whole else start)
    index = 0
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(min(BLOCK, end - start))
        pos = start  # the file offset of data[0]
        if first:
            skip = ARRAY_START.match(data, 3 if data[:3] == codecs.BOM_UTF8 else 0).end() - 1  # layout() matched it
            data, pos = data[skip:], pos + skip
        while True:
            at_end = pos + len(data) >= end
            if at_end:
                tail = data.rstrip(b" \t\r\n")
                if last:
                    chunk, cut = b"[" + data, len(data)
                elif tail.endswith(b","):
                    chunk, cut = b"[" + tail[:-1] + b"]", len(data)
                else:
                    chunk = None
            else:
                cut = data.rfind(marker)
                if cut < 0:
                    if len(data) < MAX_BLOCK:
                        data, end = _more(f, data, pos, end, max(BLOCK, len(data)))
                        continue
                    chunk = None
                else:
                    chunk, cut = b"[" + data[: cut + 1] + b"]", cut + len(marker) - 1
            try:
                records = loads(chunk) if chunk is not None else None
            except Error:
                records = None
            if records is None or records.__class__ is not list or not exact(records):
                yield from _exactly(path, pos, end, lines, index, last, whole)
                return
            del chunk
            place = Block(path, lines, pos, pos + cut, index)
            for i, record in enumerate(records):
                yield Row((place, i), record)
            index += len(records)
            if bar is not None:
                bar.update(cut)
            if at_end:
                return
            data, end = _more(f, data[cut:], pos + cut, end, BLOCK)
            pos += cut


def _more(f, data: bytes, pos: int, end: int, size: int) -> tuple[bytes, int]:
    """``data`` (the bytes from offset ``pos``) and up to ``size`` more, and ``end``, cut short if the file is."""
    more = f.read(min(size, end - pos - len(data)))
    return data + more, end if more else pos + len(data)


def _exactly(path: Path, start: int, end: int, lines: Lines, index: int, last: bool, whole: bool) -> Iterator[Row]:
    """The records from ``start`` (a record's first byte) to ``end``, read by the exact scanner."""
    with Decoded(Range(path, start, end), "utf-8") as stream:
        scanner = Scanner(stream, path)
        scanner.line = lines.at(start)
        closed = yield from json_array(scanner, to_end=not last, index=index)
        if whole and scanner.peek():
            raise UserError(f"{where(path, f'line {scanner.line}')}: extra data after the JSON array")
        if closed != ("]" if last else "") or scanner.peek():
            raise UserError(f"{path}: bytes {start}-{end} are not whole records; read it in one piece")


def fast_jsonl(raw: io.RawIOBase, first: bool) -> Iterator[Row]:
    """Records of the lines of the UTF-8 bytes ``raw``; ``first``: they start the file (a BOM is dropped)."""
    loads, Error = orjson.loads, orjson.JSONDecodeError
    number = 0
    with io.BufferedReader(raw, CHUNK) as lines:
        for line in lines:
            if first:
                first = False
                if line.startswith(codecs.BOM_UTF8):
                    line = line[3:]
            number += 1
            cr = line.find(b"\r")
            if cr >= 0 and (cr < len(line) - 2 or (cr == len(line) - 2 and line[-1:] != b"\n")):
                pieces = LONE_CR.split(line.decode("utf-8"))
                if pieces[-1] == "":  # after a \r that ends the file
                    pieces.pop()
                for offset, piece in enumerate(pieces):
                    record = json_line(piece)
                    if record is not None:
                        yield Row(f"line {number + offset}", record)
                number += len(pieces) - 1
                continue
            try:
                record = loads(line)
            except Error:
                if not line.strip():
                    continue
                record = json_line(line.decode("utf-8"))
                if record is None:
                    continue
            else:
                if not exact((record,)):
                    record = json_line(line.decode("utf-8"))
            yield Row(f"line {number}", record)
