"""JSON text read exactly as the json module reads it: the streaming scanner of a JSON array or
object (a record at a time, with line numbers), the reader of JSONL lines, and telling JSONL from
one JSON value by the start of a file.

This is the reference reading: the fast paths of :mod:`.json_fast` give the same records, skips,
locations and errors, or hand over to it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError, where
from .rows import Row, Skip
from .text import CHUNK, SNIFF, decode_error, detect_encoding, text_stream

FIRST_LINE_LIMIT = 1 << 24  # characters read to tell JSONL with a huge first record from one JSON value
NEXT_LINE = re.compile(r"\n[ \t\r]*\S")
WHITESPACE = re.compile(r"[ \t\r\n]*")  # JSON's whitespace
NUMBER_TAIL = re.compile(r"[-+.0-9eE]*")  # what may still belong to a number the scanner stopped in
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # a JSON escape of half a surrogate pair
LONE_SURROGATE = "half of an emoji (a lone UTF-16 surrogate escape) in the text"
ARRAY_SEPARATOR = re.compile(r"[ \t\r\n]*(?:,|(\]))[ \t\r\n]*")  # after an array element: "," or the closing "]"
NOT_JSON = "NaN/Infinity is not JSON text"  # the json module reads them (as float("nan") ...); JSON has no such value
TOO_BIG = "a number too big for a float (it would read as inf)"
INFINITE = (float("inf"), float("-inf"))


def big_number(digits: int) -> str:
    """The skip reason of a record with an integer of ``digits`` digits, beyond what Python converts."""
    return f"a number of {digits} digits (more than Python reads; not a real record)"


class Flags(list):
    """What the json module read in the last value that JSON text does not hold: NaN/Infinity (read with
    ``parse_constant``), a number too big for a float (1e400, which float() reads as inf), an integer
    too long for ``int()`` (read again with ``tolerant``'s ``parse_int``). Empty for almost every
    record: checking it costs one truth test."""

    def __init__(self):
        super().__init__()
        self.scan = json.JSONDecoder(parse_constant=self._constant, parse_float=self._float).scan_once
        # only after a ValueError: a Python call per integer
        self.tolerant = json.JSONDecoder(parse_constant=self._constant, parse_float=self._float,
                                         parse_int=self._int).scan_once

    def _constant(self, name: str):
        self.append(NOT_JSON)
        return None

    def _float(self, text: str) -> float:
        value = float(text)
        if value in INFINITE:
            self.append(TOO_BIG)
        return value

    def _int(self, text: str):
        try:
            return int(text)
        except ValueError:
            self.append(big_number(len(text.lstrip("-"))))
            return 0

    def scan_any(self, buf: str, pos: int):
        """``scan(buf, pos)``, reading a too long integer as 0 (and flagging it) instead of failing."""
        try:
            return self.scan(buf, pos)
        except json.JSONDecodeError:
            raise
        except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
            self.clear()
            return self.tolerant(buf, pos)

    def skip(self) -> Skip:
        reason = self[0]
        self.clear()
        return Skip(reason)


class Scanner:
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
        self.flags = Flags()  # NaN/Infinity or a too long integer in the last value
        self.scan = self.flags.scan  # (value, end) at an index; StopIteration if none starts there

    def _fill(self, size: int | None = None) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(size or self.chunk)
        if not chunk:
            self.eof = True
            return False
        rest = self.buf[self.pos:]
        # whether buf may now hold a \u escape: text.Decoded tells it from the bytes
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
        if value.__class__ is Skip:
            return value
        return without_lone_surrogates(value) if SURROGATE_ESCAPE.search(self.buf, self.start, self.pos) else value

    def expect(self, chars: str, what: str) -> str:
        c = self.peek()
        if c == "" or c not in chars:
            found = f"{c!r}" if c else "the end of the file"
            raise UserError(f"{where(self.path, f'line {self.line}')}: expected {what}, found {found}; "
                            "the file is not valid JSON (truncated?)")
        self.pos += 1
        return c

    def value(self, what: str, *args):
        """The next value; ``what.format(*args)`` names it in the error (formatted only then). A value
        holding NaN/Infinity or an integer too long to convert is read to its end and returned as a Skip."""
        self.peek()
        size = self.chunk
        flags = self.flags
        while True:
            buf, pos = self.buf, self.pos
            flags.clear()
            # only the message and position of a failure are kept: holding the exception would keep
            # this frame, and so the buffer, alive in a reference cycle
            try:
                obj, end = flags.scan_any(buf, pos)
            except StopIteration as stop:
                failure = ("Expecting value", stop.value)
            except json.JSONDecodeError as err:
                failure = (err.msg, err.pos)
            except RecursionError:
                raise UserError(f"{where(self.path, f'{what.format(*args)} (line {self.line})')}: nested too "
                                "deeply to read (about 1000 levels or more); the file is broken") from None
            else:
                # a number may go on in the next chunk: "1" or "-0." (then the scanner stops at "-0")
                # touching the buffer's end
                if self.eof or buf[pos] in "{[\"" or NUMBER_TAIL.match(buf, end).end() < len(buf):
                    self.line += buf.count("\n", pos, end)
                    self.start, self.pos = pos, end
                    return flags.skip() if flags else obj
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


def json_container(scanner: Scanner, path: Path) -> Iterator[Row]:
    """The records of one JSON array, or the values of one JSON object (keyed), and nothing after it."""
    opening = scanner.expect("[{", "a JSON array or object")
    closing = "]" if opening == "[" else "}"
    if scanner.peek() == closing:
        scanner.pos += 1
    elif opening == "[":
        yield from json_array(scanner)
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


def json_array(scanner: Scanner, to_end: bool = False, index: int = 0) -> Iterator[Row]:
    """The records of a non-empty array whose ``[`` was read; returns "]" after its ``]``.

    With ``to_end`` (a part of an array, see :func:`plugin.io.json_files.iter_json_part`) the records
    may also stop at the end of the input after a ``,``; it then returns "". ``index``: the first
    record's number. Fast path: while a record and the separator after it lie inside the buffer,
    they are parsed in this loop; the record that reaches the buffer's end (or is broken) goes
    through ``value``/``expect``, which read on and report errors.
    """
    scan, flags, first = scanner.scan, scanner.flags, index
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
            if flags:  # NaN/Infinity in it
                record = flags.skip()
            elif escapes and SURROGATE_ESCAPE.search(buf, pos, end):
                record = without_lone_surrogates(record)
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


def is_jsonl(path: Path, encoding: str | None) -> bool:
    """A file of several top-level values is JSONL (Huatuo's llama_data.json is, despite its name)."""
    if path.suffix.lower() == ".jsonl":
        return True
    with text_stream(open(path, "rb", buffering=0), encoding or detect_encoding(path)) as stream:  # no progress bar
        try:
            return looks_like_jsonl(head(stream))
        except UnicodeDecodeError as err:
            raise decode_error(path, encoding, err, "the start") from None


def head(stream) -> str:
    """The start of a text stream: SNIFF characters, or up to where its second line starts when the first
    line is a longer JSON object (a huge first record; at most FIRST_LINE_LIMIT characters)."""
    text = stream.read(SNIFF)
    start = len(text) - len(text.lstrip())
    if not text.startswith("{", start):
        return text
    pieces, size = [text], len(text)
    while not NEXT_LINE.search(pieces[-1], start if len(pieces) == 1 else 0) and size < FIRST_LINE_LIMIT:
        more = stream.read(CHUNK)
        if not more:
            break
        pieces.append(more)
        size += len(more)
    return "".join(pieces)


def looks_like_jsonl(start: str) -> bool:
    """Whether the start of a text (see :func:`head`) is a JSON object on a line of its own, and more."""
    stripped = start.lstrip()
    if not stripped.startswith("{"):
        return False
    first_line = stripped.split("\n", 1)
    if len(first_line) < 2 or first_line[1].strip() == "":
        return False
    first = json_line(first_line[0])
    if first.__class__ is dict or not first.reason.startswith("invalid JSON line"):
        return True  # an object (perhaps skipped for NaN, a too long number or a lone surrogate)
    # a broken first line (a JSONL file with a bad line 1, not one JSON value): the next whole lines
    # (up to three; the last piece of the head may be cut) are each a JSON object
    following = [line for line in first_line[1].split("\n")[:-1] if line.strip()][:3]
    return bool(following) and all(json_line(line).__class__ is dict for line in following)


def jsonl_rows(stream, path: Path) -> Iterator[Row]:
    """The records of the lines of a JSONL text stream (a broken line is a counted skip)."""
    for number, line in enumerate(stream, 1):
        record = json_line(line)
        if record is not None:
            yield Row(f"line {number}", record)


def json_line(line: str):
    """The record of a JSONL line, a Skip saying why there is none, or None for a blank line."""
    if not line.strip():
        return None
    record = json_value(line)
    if record.__class__ is Skip:
        return record
    return without_lone_surrogates(record) if SURROGATE_ESCAPE.search(line) else record


def json_value(line: str):
    """``json.loads(line)``, or a Skip saying why not: invalid JSON, nesting deeper than the recursion
    limit, NaN/Infinity (not JSON text), an integer too long for Python."""
    if line.startswith("\ufeff"):  # as json.loads says it
        return Skip("invalid JSON line (Unexpected UTF-8 BOM (decode using utf-8-sig))")
    flags = LINE_FLAGS
    flags.clear()
    try:
        record, end = flags.scan_any(line, WHITESPACE.match(line).end())
    except StopIteration:
        return Skip("invalid JSON line (Expecting value)")
    except json.JSONDecodeError as err:
        return Skip(f"invalid JSON line ({err.msg})")
    except RecursionError:
        return Skip("invalid JSON line (nested too deeply)")
    if WHITESPACE.match(line, end).end() != len(line):
        return Skip("invalid JSON line (Extra data)")
    return flags.skip() if flags else record


LINE_FLAGS = Flags()


def without_lone_surrogates(record):
    """The record, or a Skip if a ``\\ud83d``-like escape left half of a surrogate pair in it (a cut
    emoji): such text cannot be written as UTF-8."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return Skip(LONE_SURROGATE)
    return record
