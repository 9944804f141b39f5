"""Streaming readers for the raw sources: JSON arrays/objects, JSONL (also inside a .zip), CSV, xlsx
and Markdown pipe tables.

Every reader yields ``Row(location, data)`` one record at a time, so memory stays flat however
large the file; ``location`` ("record 3 (line 17)", "row 5", "sheet 题库 row 9") goes into
error messages and the rejects file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import mmap
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import UserError, where

CHUNK = 1 << 20
SNIFF = 1 << 16
FIRST_LINE_LIMIT = 1 << 24  # characters read to tell JSONL with a huge first record from one JSON value
NEXT_LINE = re.compile(r"\n[ \t\r]*\S")
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".tsv"}
JSON_SUFFIXES = {".json", ".jsonl"}
ZIP_SUFFIXES = {".zip"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
WHITESPACE = re.compile(r"[ \t\r\n]*")  # JSON's whitespace
NUMBER_TAIL = re.compile(r"[-+.0-9eE]*")  # what may still belong to a number the scanner stopped in
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # a JSON escape of half a surrogate pair
LONE_SURROGATE = "half of an emoji (a lone UTF-16 surrogate escape) in the text"
ARRAY_START = re.compile(rb"[ \t\r\n]*\[([ \t\r\n]*)\{")  # "[" and the first record's indentation
PART_MIN_BYTES = 32 << 20  # smaller JSON files are not split for parallel conversion
# encodings (codecs.lookup names) in which a \u in the text is the bytes b"\\u" (a multi-byte character
# may hold a 0x5C byte in GBK/GB18030/Big5: that only costs a needless check)
ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5", "ascii", "latin-1", "iso8859-1", "cp1252"}
ARRAY_SEPARATOR = re.compile(r"[ \t\r\n]*(?:,|(\]))[ \t\r\n]*")  # after an array element: "," or the closing "]"


class Row:
    """A record and where it is: ``location`` is text, ``(index, line)`` for "record {index} (line {line})",
    or ``(block, i)`` for the i-th record of an :class:`plugin.array_blocks.Block` (worked out only when
    asked for: the big arrays have millions of records, few of them reported)."""

    __slots__ = ("_location", "data")

    def __init__(self, location: str | tuple[int, int], data: object):
        self._location, self.data = location, data

    @property
    def location(self) -> str:
        at = self._location
        if at.__class__ is str:
            return at
        return "record {} (line {})".format(*at) if at[0].__class__ is int else at[0].location(at[1])

    def __eq__(self, other):
        return isinstance(other, Row) and (self.location, self.data) == (other.location, other.data)

    def __repr__(self):
        return f"Row({self.location!r}, {self.data!r})"


class Skip(Exception):
    """A record that is left out and counted: ``reason`` is the counter's name."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- text and encodings


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 — the encodings these dumps come in."""
    with open(path, "rb") as f:
        return _encoding_of(f.read(SNIFF), path)


def _encoding_of(head: bytes, path) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    candidates = ("utf-8", "gb18030")
    if head.count(0) > len(head) // 8:  # ASCII punctuation and digits in UTF-16 without a BOM
        candidates = ("utf-16-le",) if head[1::2].count(0) > head[0::2].count(0) else ("utf-16-be",)
    for encoding in candidates:
        try:  # not final: a file cut off mid-character is still this encoding (and reported as truncated)
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise UserError(f"{path}: neither UTF-8 nor GB18030 text; pass --encoding with the file's encoding")


def progress_bar(path: Path, size: int):
    """A tqdm bar over ``size`` bytes of ``path`` on stderr, or None for a small file or no terminal."""
    if size <= 8 * CHUNK or not sys.stderr.isatty():
        return None
    from tqdm import tqdm  # imported only now: a quicker start

    return tqdm(total=size, unit="B", unit_scale=True, desc=path.name, file=sys.stderr, disable=None, leave=False)


class _Range(io.RawIOBase):
    """The bytes ``[start, end)`` of a file; ``progress``: with a progress bar (on a terminal)."""

    def __init__(self, path: Path, start: int, end: int, progress: bool = False):
        self._file = open(path, "rb")
        self._file.seek(start)
        self._left = end - start
        self._bar = progress_bar(path, end - start) if progress else None

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self._file.readinto(memoryview(buffer)[: self._left])
        self._left -= n
        if self._bar is not None:
            self._bar.update(n)
        return n

    def close(self):
        if self._bar is not None:
            self._bar.close()
        self._file.close()
        super().close()


def _whole(path: Path) -> _Range:
    """All of a file, with a progress bar (on a terminal)."""
    return _Range(path, 0, path.stat().st_size, progress=True)


def open_text(path: Path, encoding: str | None):
    return _text(_whole(path), encoding or detect_encoding(path))


def _codec(encoding: str) -> str:
    """The codec to read ``encoding`` with: UTF-8 drops a leading BOM (it is never part of the data)."""
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UserError(f"unknown encoding {encoding!r}; use e.g. --encoding utf-8 or --encoding gb18030") from None
    return encoding


def _text(raw, encoding: str):
    """A text stream over the binary stream ``raw``."""
    return io.TextIOWrapper(io.BufferedReader(raw, CHUNK), encoding=_codec(encoding), newline="")


class _Decoded:
    """``read(size)`` of text decoded from the binary stream ``raw`` in blocks of ``size`` bytes.

    The JSON scanner's reader: a third of the time of a TextIOWrapper, which decodes in 8 KB pieces.
    """

    def __init__(self, raw, encoding: str):
        self.raw = raw
        codec = _codec(encoding)
        self.decoder = codecs.getincrementaldecoder(codec)()
        # whether the text of the last read may hold a \u escape: told from the bytes (a tenth of the
        # time of searching the text) where the encoding writes ASCII as ASCII
        self.escapes, self._ascii = True, codecs.lookup(codec).name in ASCII_COMPATIBLE
        self._backslash = False  # the last block ended with a backslash

    def read(self, size: int = CHUNK) -> str:
        """Up to ``size`` bytes' worth of text; "" only at the end of the stream."""
        while True:
            block = self.raw.read(size)
            text = self.decoder.decode(block, final=not block)
            if self._ascii and block:
                first = block.find(b"\\")  # memchr: no backslash at all is the common case
                self.escapes = (first >= 0 and b"\\u" in block[first:]) or (self._backslash and block[:1] == b"u")
                self._backslash = block[-1:] == b"\\"
            if text or not block:
                return text

    def close(self):
        self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def decode_guard(path: Path, encoding: str | None, rows: Iterator[Row]) -> Iterator[Row]:
    """Turns a decoding failure deep in a file into a one-line error that suggests --encoding."""
    last = None
    try:
        for row in rows:
            last = row
            yield row
    except UnicodeDecodeError as err:
        raise _decode_error(path, encoding, err, last.location if last else "the start") from None


def _decode_error(path, encoding: str | None, err: UnicodeDecodeError, last: str) -> UserError:
    if err.reason == "unexpected end of data":  # only raised at the end of the input
        return UserError(f"{path}: ends in the middle of a character after {last}: the file is truncated; "
                         "download or copy it again")
    used = encoding or "the detected encoding"
    other = "gb18030" if "utf" in (err.encoding or "").lower() else "utf-8"
    return UserError(f"{path}: cannot decode as {err.encoding or used} after {last}; "
                     f"pass --encoding {other} (or the file's real encoding)")


# ---------------------------------------------------------------- JSON


class _Scanner:
    """Incremental JSON value scanner over a text stream, tracking line numbers.

    Values are parsed by the json module's C scanner straight from the buffer; a value cut off by
    the buffer's end is parsed again after the next read, which doubles in size each time so a
    record of any size costs linear time overall.
    """

    def __init__(self, stream, path: Path, chunk: int = CHUNK):
        self.stream, self.path, self.chunk = stream, path, chunk
        self.buf, self.pos, self.line, self.eof = "", 0, 1, False
        self.start = 0  # where the last value read starts in buf
        self.escapes = True  # buf may hold a \u escape
        self.scan = json.JSONDecoder().scan_once  # (value, end) at an index; StopIteration if none starts there

    def _fill(self, size: int | None = None) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(size or self.chunk)
        if not chunk:
            self.eof = True
            return False
        rest = self.buf[self.pos:]
        # whether buf may now hold a \u escape: _Decoded tells it from the bytes
        told = getattr(self.stream, "escapes", None)
        if told is None:
            told = "\\u" in chunk or (chunk[:1] == "u" and rest[-1:] == "\\")
        self.escapes = told or (self.escapes and "\\u" in rest)
        self.buf, self.pos = rest + chunk, 0
        return True

    def peek(self) -> str:
        """Next non-whitespace character ('' at end of file)."""
        while True:
            buf, pos = self.buf, self.pos
            end = WHITESPACE.match(buf, pos).end()
            if end > pos:
                self.line += buf.count("\n", pos, end)
                self.pos = end
            if end < len(buf):
                return buf[end]
            if not self._fill():
                return ""

    def checked(self, value):
        """``value`` as the last ``value()`` read it, or a Skip if its text escapes half a surrogate pair."""
        return _without_lone_surrogates(value) if SURROGATE_ESCAPE.search(self.buf, self.start, self.pos) else value

    def expect(self, chars: str, what: str) -> str:
        c = self.peek()
        if c == "" or c not in chars:
            found = f"{c!r}" if c else "the end of the file"
            raise UserError(f"{where(self.path, f'line {self.line}')}: expected {what}, found {found}; "
                            "the file is not valid JSON (truncated?)")
        self.pos += 1
        return c

    def value(self, what: str, *args):
        """The next value; ``what.format(*args)`` names it in the error (formatted only then)."""
        self.peek()
        size = self.chunk
        while True:
            buf, pos = self.buf, self.pos
            # only the message and position of a failure are kept: holding the exception would keep
            # this frame, and so the buffer, alive in a reference cycle
            try:
                obj, end = self.scan(buf, pos)
            except StopIteration as stop:
                failure = ("Expecting value", stop.value)
            except json.JSONDecodeError as err:
                failure = (err.msg, err.pos)
            except RecursionError:
                raise UserError(f"{where(self.path, f'{what.format(*args)} (line {self.line})')}: nested too "
                                "deeply to read (thousands of levels); the file is broken") from None
            else:
                # a number may go on in the next chunk: "1" or "-0." (then the scanner stops at "-0")
                # touching the buffer's end
                if self.eof or buf[pos] in "{[\"" or NUMBER_TAIL.match(buf, end).end() < len(buf):
                    self.line += buf.count("\n", pos, end)
                    self.start, self.pos = pos, end
                    return obj
                failure = None
            if failure is not None:
                message, at = failure
                # cut off by the buffer's end (or inside a long string), rather than broken mid-buffer
                incomplete = message.startswith("Unterminated string") or at >= len(buf) - 64
                if self.eof or not incomplete:
                    raise UserError(f"{where(self.path, f'{what.format(*args)} (line {self.line})')}: invalid JSON: "
                                    f"{message}; the file may be truncated or not JSON") from None
            self._fill(size)
            size *= 2  # huge records: grow reads so re-scanning stays linear overall


def _json_container(scanner: _Scanner, path: Path) -> Iterator[Row]:
    opening = scanner.expect("[{", "a JSON array or object")
    closing = "]" if opening == "[" else "}"
    if scanner.peek() == closing:
        scanner.pos += 1
    elif opening == "[":
        yield from _json_array(scanner)
    else:
        index = 0
        while True:
            scanner.peek()
            line = scanner.line
            key = scanner.value("key after record {}", index)
            scanner.expect(":", "':' after an object key")
            yield Row(f"record {key!r} (line {line})", scanner.checked(scanner.value("record {!r}", key)))
            index += 1
            if scanner.expect(",}", "',' or '}'") == "}":
                break
    if scanner.peek():
        raise UserError(f"{where(path, f'line {scanner.line}')}: extra data after the JSON {('array', 'object')[opening == '{']}")


def _json_array(scanner: _Scanner, to_end: bool = False, index: int = 0) -> Iterator[Row]:
    """The records of a non-empty array whose ``[`` was read; returns "]" after its ``]``.

    With ``to_end`` (a part of an array, see :func:`iter_json_part`) the records may also stop at
    the end of the input after a ``,``; it then returns "". ``index``: the first record's number.
    Fast path: while a record and the separator after it lie inside the buffer, they are parsed in
    this loop; the record that reaches the buffer's end (or is broken) goes through
    ``value``/``expect``, which read on and report errors.
    """
    scan, first = scanner.scan, index
    while True:
        if scanner.peek() == "" and to_end and index > first:
            return ""
        buf, pos, line = scanner.buf, scanner.pos, scanner.line
        escapes = scanner.escapes  # only \u escapes can make a lone surrogate
        while True:
            try:
                record, end = scan(buf, pos)
            except (StopIteration, ValueError, RecursionError):
                break
            separator = ARRAY_SEPARATOR.match(buf, end)
            if separator is None or (after := separator.end()) == len(buf):
                break
            if escapes and SURROGATE_ESCAPE.search(buf, pos, end):
                record = _without_lone_surrogates(record)
            yield Row((index, line), record)
            index += 1
            line += buf.count("\n", pos, after)
            pos = after
            if separator[1]:  # the closing bracket
                scanner.pos, scanner.line = pos, line
                return "]"
        scanner.pos, scanner.line = pos, line
        yield Row(f"record {index} (line {line})", scanner.checked(scanner.value("record {}", index)))
        index += 1
        if scanner.expect(",]", "',' or ']'") == "]":
            return "]"


def _is_jsonl(path: Path, encoding: str | None) -> bool:
    """A file of several top-level values is JSONL (Huatuo's llama_data.json is, despite its name)."""
    if path.suffix.lower() == ".jsonl":
        return True
    with _text(open(path, "rb", buffering=0), encoding or detect_encoding(path)) as stream:  # no progress bar
        try:
            return _looks_like_jsonl(_head(stream))
        except UnicodeDecodeError as err:
            raise _decode_error(path, encoding, err, "the start") from None


def _head(stream) -> str:
    """The start of a text stream: SNIFF characters, or up to where its second line starts when the first
    line is a longer JSON object (a huge first record; at most FIRST_LINE_LIMIT characters)."""
    head = stream.read(SNIFF)
    start = len(head) - len(head.lstrip())
    if not head.startswith("{", start):
        return head
    pieces, size = [head], len(head)
    while not NEXT_LINE.search(pieces[-1], start if len(pieces) == 1 else 0) and size < FIRST_LINE_LIMIT:
        more = stream.read(CHUNK)
        if not more:
            break
        pieces.append(more)
        size += len(more)
    return "".join(pieces)


def _looks_like_jsonl(head: str) -> bool:
    stripped = head.lstrip()
    if not stripped.startswith("{"):
        return False
    first_line = stripped.split("\n", 1)
    try:
        json.loads(first_line[0])
    except (json.JSONDecodeError, RecursionError):
        return False
    return len(first_line) > 1 and first_line[1].strip() != ""


def _jsonl(stream, path: Path) -> Iterator[Row]:
    for number, line in enumerate(stream, 1):
        record = json_line(line)
        if record is not None:
            yield Row(f"line {number}", record)


def json_line(line: str):
    """The record of a JSONL line, a Skip saying why there is none, or None for a blank line."""
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        return Skip(f"invalid JSON line ({err.msg})")
    except RecursionError:
        return Skip("invalid JSON line (nested too deeply)")
    return _without_lone_surrogates(record) if SURROGATE_ESCAPE.search(line) else record


def _without_lone_surrogates(record):
    """The record, or a Skip if a ``\\ud83d``-like escape left half of a surrogate pair in it (a cut
    emoji): such text cannot be written as UTF-8."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return Skip(LONE_SURROGATE)
    return record


def iter_json(path: Path, encoding: str | None = None) -> Iterator[Row]:
    """Records of a JSON array, a JSON object (its values, keyed), or JSONL."""
    if _is_jsonl(path, encoding):
        if _fast_readable(path, encoding):
            from .jsonl_lines import fast_jsonl

            yield from decode_guard(path, encoding, fast_jsonl(_whole(path), first=True))
            return
        with open_text(path, encoding) as stream:
            yield from decode_guard(path, encoding, _jsonl(stream, path))
    elif separator := _fast_layout(path, encoding):
        from .array_blocks import fast_array

        size = path.stat().st_size
        yield from decode_guard(path, encoding, fast_array(path, 0, size, separator, True, True, whole=True))
    else:
        with _Decoded(_whole(path), encoding or detect_encoding(path)) as stream:
            yield from decode_guard(path, encoding, _json_container(_Scanner(stream, path), path))


def _fast_layout(path: Path, encoding: str | None) -> bytes | None:
    """The separator of a UTF-8 JSON array that :func:`plugin.array_blocks.fast_array` reads, or None."""
    if not _fast_readable(path, encoding):
        return None
    from .array_blocks import layout

    return layout(path)


def _fast_readable(path: Path, encoding: str | None) -> bool:
    """Whether ``path`` is UTF-8 and orjson is there: what the fast readers need."""
    if _codec(encoding or detect_encoding(path)).replace("_", "-").lower() != "utf-8-sig":
        return False
    from .array_blocks import orjson

    return orjson is not None


# ---------------------------------------------------------------- parts of a big JSON file


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
    if _codec(encoding or detect_encoding(path)).replace("_", "-").lower() != "utf-8-sig":
        return None  # in GB18030 a '{' or newline byte can be half of a character
    jsonl = _is_jsonl(path, encoding)
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
    if jsonl and _fast_readable(path, encoding):
        from .jsonl_lines import fast_jsonl

        yield from fast_jsonl(_Range(path, start, end, progress=first), first)
        return
    if jsonl:
        with _text(_Range(path, start, end), codec) as stream:
            yield from _jsonl(stream, path)
        return
    if separator := _fast_layout(path, encoding):
        from .array_blocks import fast_array

        yield from fast_array(path, start, end, separator, first, last, whole=False)
        return
    with _Decoded(_Range(path, start, end), codec) as stream:
        scanner = _Scanner(stream, path)
        if first:
            scanner.expect("[", "a JSON array")
        closed = yield from _json_array(scanner, to_end=not last)
        if closed != ("]" if last else "") or scanner.peek():
            raise UserError(f"{path}: bytes {start}-{end} are not whole records; read it in one piece")


# ---------------------------------------------------------------- zip archives


def _zip_member(archive: zipfile.ZipFile, path: Path, member: str | None, option: str | None) -> zipfile.ZipInfo:
    """The member named ``member`` (full name or file name), or the archive's only JSON member."""
    files = [info for info in archive.infolist()
             if not info.is_dir() and not info.filename.startswith("__MACOSX/")
             and not Path(info.filename).name.startswith("._")]  # macOS resource forks
    if member is None:
        found = [info for info in files if Path(info.filename).suffix.lower() in JSON_SUFFIXES]
        problem = f"holds {len(found)} JSON members, not one"
    else:
        found = [info for info in files if info.filename == member] or [
            info for info in files if Path(info.filename).name == Path(member).name]
        problem = f"has no member {member!r}" if not found else f"has {len(found)} members named {member!r}"
    fix = f"pass {option} with the full name of one of them" if option else "unzip it and pass the file you want"
    if len(found) != 1:
        names = ", ".join(info.filename for info in files) or "nothing"
        raise UserError(f"{path}: {problem} (it holds: {names}); {fix}")
    if Path(found[0].filename).suffix.lower() not in JSON_SUFFIXES:
        raise UserError(f"{path}: member {found[0].filename} is not .json/.jsonl; {fix}")
    return found[0]


def iter_zip(path: Path, member: str | None = None, encoding: str | None = None,
             option: str | None = None) -> Iterator[Row]:
    """Records of one JSON/JSONL member of a .zip, decompressed as a stream (nothing extracted to disk).

    ``member`` is its full name or file name (``IMCS-V2_train.json`` finds ``IMCS-V2-MRG/IMCS-V2_train.json``);
    without it the archive must hold exactly one JSON member. ``option`` is the converter option that
    picks the member, for the error when it is missing. Locations start with the member's name.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise UserError(f"{path}: not a readable .zip archive ({err}); re-download or re-zip it") from None
    with archive:
        info = _zip_member(archive, path, member, option)
        label = f"{path}:{info.filename}"  # the prefix of every error about its records
        with archive.open(info) as raw:
            encoding = encoding or _encoding_of(raw.read(SNIFF), label)
        with _text(archive.open(info), encoding) as stream:
            jsonl = info.filename.lower().endswith(".jsonl") or _looks_like_jsonl(_head(stream))
        opened = _text(archive.open(info), encoding) if jsonl else _Decoded(archive.open(info), encoding)
        with opened as stream:
            rows = _jsonl(stream, label) if jsonl else _json_container(_Scanner(stream, label), label)
            for row in decode_guard(label, encoding, rows):
                yield Row(f"{info.filename} {row.location}", row.data)


# ---------------------------------------------------------------- tables


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


def iter_rows(path: Path, encoding: str | None, wanted: list[tuple[str, ...]],
              member: str | None = None, member_option: str | None = None) -> Iterator[Row]:
    """Dispatch on the file's extension; ``wanted`` lists accepted header column sets for tables.

    A .zip is read through its JSON ``member`` (see :func:`iter_zip`); ``member_option`` names the
    option that sets it, for the error when it is missing.
    """
    if not path.is_file():
        raise UserError(f"{path}: no such file; check the path")
    suffix = path.suffix.lower()
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


def read_json_lines(path: Path, expected: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) of each non-blank line of a JSONL file we wrote or LLaMA-Factory wrote;
    anything else is a one-line error saying what was ``expected``."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    raise UserError(f"{where(path, f'line {number}')}: not JSON ({err.msg}); expected {expected}")
                if not isinstance(obj, dict):
                    kind = type(obj).__name__
                    raise UserError(f"{where(path, f'line {number}')}: a JSON {kind}; expected {expected}")
                yield number, obj
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; expected {expected}") from None
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); expected {expected}") from None
    except IsADirectoryError:
        raise UserError(f"{path}: a folder; pass the file inside it") from None
