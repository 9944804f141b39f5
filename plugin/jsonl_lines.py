"""The fast way through a big UTF-8 JSONL file (DISC-Law-SFT: ~580 MB): each line's bytes parsed by orjson.

Three times faster than decoding the text and parsing it with the json module, and exact, or not
used: a line orjson does not read as the json module would (it fails: NaN, a lone surrogate,
invalid UTF-8, a blank line of Unicode spaces; or it reads an integer beyond 64 bits as a float)
is decoded and read by :func:`plugin.readers.json_line`, the reader of the text path. Lines are
numbered as the text path numbers them: a lone ``\\r`` ends a line too.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator

from .array_blocks import exact, orjson
from .readers import CHUNK, Row, json_line

LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # where a text line ends at a \r alone (newline="" reading)


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
