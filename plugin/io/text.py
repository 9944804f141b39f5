"""Bytes to text: the encodings the raw dumps come in (detected, or passed as ``--encoding``), the
byte ranges and progress bar every reader reads through, and decoding failures as one-line errors."""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from .rows import Row

CHUNK = 1 << 20
SNIFF = 1 << 16
# encodings (codecs.lookup names) in which a \u in the text is the bytes b"\\u" (a multi-byte character
# may hold a 0x5C byte in GBK/GB18030/Big5: that only costs a needless check)
ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5", "ascii", "latin-1", "iso8859-1", "cp1252"}


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16/UTF-32 with BOM, else GB18030 — the encodings these dumps come
    in; a head that reads better as Big5 is refused (it would read as GB18030 mojibake)."""
    with open_bytes(path) as f:
        return encoding_of(f.read(SNIFF), path)


def open_bytes(path: Path):
    """``open(path, "rb")``, with a folder, a missing or an unreadable file as one-line errors, and no
    pipe or device opened (reading a FIFO would wait for a writer forever)."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise UserError(f"{path}: a folder, not a file; pass a file inside it")
        if not stat.S_ISREG(mode):
            raise UserError(f"{path}: not a regular file (a pipe, device or socket); pass a file")
        return open(path, "rb")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; check the path") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied; make the file readable (chmod u+r) or copy it") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read the file ({err.strerror or err}); check the path") from None


def encoding_of(head: bytes, path) -> str:
    """The encoding of a file (or zip member) that starts with ``head``; ``path`` names it in the error."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE starts both
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    candidates = ("utf-8", "gb18030")
    if head.count(0) > len(head) // 8:  # ASCII punctuation and digits in UTF-16 without a BOM
        candidates = ("utf-16-le",) if head[1::2].count(0) > head[0::2].count(0) else ("utf-16-be",)
    for encoding in candidates:
        if decodes(head, encoding):
            if encoding == "gb18030" and looks_like_big5(head):
                raise UserError(f"{path}: looks like Big5 (traditional Chinese), which would read as GB18030 "
                                "mojibake; pass --encoding big5 (or --encoding gb18030 if it is not Big5)")
            return encoding
    raise UserError(f"{path}: neither UTF-8 nor GB18030 text; pass --encoding with the file's encoding")


def decodes(data: bytes, encoding: str) -> bool:
    """Whether ``data`` is text in ``encoding``; not final: a head cut off mid-character still is."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)
        return True
    except UnicodeDecodeError:
        return False


def looks_like_big5(head: bytes) -> bool:
    """Whether non-UTF-8 bytes that decode as GB18030 are Big5 rather: they must decode as Big5 too (GB18030
    text seldom does), and charset-normalizer must judge Big5 the more coherent reading."""
    if not decodes(head, "big5"):
        return False
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # without it, GB18030 as before
        return False
    best = from_bytes(head, cp_isolation=["gb18030", "big5"]).best()
    return best is not None and best.encoding == "big5"


def progress_bar(path: Path, size: int):
    """A tqdm bar over ``size`` bytes of ``path`` on stderr, or None for a small file or no terminal."""
    if size <= 8 * CHUNK or not sys.stderr.isatty():
        return None
    from tqdm import tqdm  # imported only now: a quicker start

    return tqdm(total=size, unit="B", unit_scale=True, desc=path.name, file=sys.stderr, disable=None, leave=False)


class Range(io.RawIOBase):
    """The bytes ``[start, end)`` of a file; ``progress``: with a progress bar (on a terminal)."""

    def __init__(self, path: Path, start: int, end: int, progress: bool = False):
        self._file = open_bytes(path)
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


def whole_file(path: Path) -> Range:
    """All of a file, with a progress bar (on a terminal)."""
    return Range(path, 0, path.stat().st_size, progress=True)


def open_text(path: Path, encoding: str | None):
    return text_stream(whole_file(path), encoding or detect_encoding(path))


def codec_of(encoding: str) -> str:
    """The codec to read ``encoding`` with: UTF-8 drops a leading BOM (it is never part of the data)."""
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise UserError(f"unknown encoding {encoding!r}; use e.g. --encoding utf-8 or --encoding gb18030") from None
    if not info._is_text_encoding or info.name == "undefined":  # rot13, base64: codecs, not encodings of text
        raise UserError(f"{encoding!r} is not a text encoding; use e.g. --encoding utf-8 or --encoding gb18030")
    return encoding


BOM_FIRST = {"utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)}


def check_encoding(path: Path, encoding: str) -> None:
    """An --encoding that cannot read ``path`` from its first bytes is a one-line error: ``utf-16`` and
    ``utf-32`` (no byte order given) need the file to start with a byte-order mark."""
    name = codecs.lookup(codec_of(encoding)).name
    if name in BOM_FIRST:
        with open_bytes(path) as f:
            start = f.read(4)
        if not start.startswith(BOM_FIRST[name]):
            found = codecs.lookup(codec_of(detect_encoding(path))).name.removesuffix("-sig")
            fix = (f"pass --encoding {name}-le (or {name}-be)" if found.startswith(("utf-16", "utf-32"))
                   else f"drop --encoding: the file reads as {found}")
            raise UserError(f"{path}: --encoding {encoding} needs a byte-order mark at the start of the file, and it "
                            f"has none; {fix}")


def is_utf8(path: Path, encoding: str | None) -> bool:
    """Whether ``path`` is read as UTF-8 (``encoding``, or the detected one), with or without a BOM."""
    return codec_of(encoding or detect_encoding(path)).replace("_", "-").lower() == "utf-8-sig"


def text_stream(raw, encoding: str):
    """A text stream over the binary stream ``raw``."""
    return io.TextIOWrapper(io.BufferedReader(raw, CHUNK), encoding=codec_of(encoding), newline="")


class Decoded:
    """``read(size)`` of text decoded from the binary stream ``raw`` in blocks of ``size`` bytes.

    The JSON scanner's reader: a third of the time of a TextIOWrapper, which decodes in 8 KB pieces.
    """

    def __init__(self, raw, encoding: str):
        self.raw = raw
        codec = codec_of(encoding)
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


def decode_guard(path: Path, encoding: str | None, rows: Iterator[Row], reopen=None) -> Iterator[Row]:
    """Turns a decoding failure deep in a file into a one-line error with a true suggestion (see
    :func:`decode_error`); ``reopen`` gives the raw bytes again (default: ``open(path, "rb")``)."""
    last = None
    try:
        for row in rows:
            last = row
            yield row
    except UnicodeDecodeError as err:
        raise decode_error(path, encoding, err, last.location if last else "the start", reopen) from None


# what a file that does not decode is tried in, for the suggestion (latin-1 reads any bytes: never suggested)
OTHER_ENCODINGS = ("utf-8", "gb18030", "big5", "utf-16")


CJK = re.compile("[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")  # Chinese characters and punctuation


def first_failure(opened, encoding: str) -> tuple[int, int, bool] | None:
    """(byte offset, line, whether the text before it holds Chinese) of the first byte of the binary
    stream ``opened`` that does not decode in ``encoding``, or None if all of it decodes."""
    decoder = codecs.getincrementaldecoder(codec_of(encoding))()
    offset, line, chinese = 0, 1, False
    with opened as raw:
        while True:
            block = raw.read(CHUNK)
            held = decoder.getstate()[0]  # the bytes of a character cut by the last block's end
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as err:  # err.start counts from the held bytes' start
                good = (held + block)[: err.start].decode(codec_of(encoding), errors="replace")
                return offset - len(held) + err.start, line + good.count("\n"), chinese or bool(CJK.search(good))
            except UnicodeError:  # "UTF-16 stream does not start with BOM"
                return 0, 1, False
            line += text.count("\n")
            chinese = chinese or bool(CJK.search(text))
            offset += len(block)
            if not block:
                return None


def decode_error(path, encoding: str | None, err: UnicodeDecodeError, last: str, reopen=None) -> UserError:
    """The error for text of ``path`` that does not decode, after the record at ``last``: where the first
    bad byte is, and an --encoding to pass only if that encoding reads the whole file."""
    if err.reason == "unexpected end of data":  # only raised at the end of the input
        return UserError(f"{path}: ends in the middle of a character after {last}: the file is truncated; "
                         "download or copy it again")
    # the charmap codecs (cp1252, latin-1 ...) report "charmap": the encoding asked for is the name to show
    used = ((err.encoding if err.encoding != "charmap" else None) or encoding or "utf-8").lower()
    reopen = reopen or (lambda: open(path, "rb"))
    failure = readable = None
    try:  # read again from the start (an error path: whole passes are affordable)
        failure = first_failure(reopen(), used)
        mixed = failure is not None and failure[2] and codecs.lookup(used).name == "utf-8"
        if not mixed:
            others = [name for name in OTHER_ENCODINGS if codecs.lookup(name).name != codecs.lookup(used).name]
            readable = next((name for name in others if first_failure(reopen(), name) is None), None)
    except Exception:  # noqa: BLE001 - a file (or zip member) that cannot be read again: the error without details
        pass
    at = f" (byte {failure[0]}, line {failure[1]})" if failure else ""
    if failure and failure[2] and codecs.lookup(used).name == "utf-8":
        # Chinese text decoded as UTF-8 up to there: another encoding would turn all of it into mojibake
        fix = ("the text before it is UTF-8: the file is damaged or mixes encodings there; "
               "fix that line, or re-save the whole file as UTF-8")
    elif readable:
        fix = f"pass --encoding {readable} (it reads the whole file)"
    else:
        fix = ("no common encoding (utf-8, gb18030, big5, utf-16) reads the whole file; fix that byte, or "
               "pass --encoding with the file's real encoding")
    return UserError(f"{path}: cannot decode as {used} after {last}{at}; {fix}")
