"""The strict reader of the JSONL files this tool or LLaMA-Factory wrote (predictions, converted
datasets): every non-blank line must be a JSON object, else a one-line error. Raw inputs are read
leniently instead (a broken line is a counted skip): see :mod:`.json_files`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError, where
from .json_exact import json_value
from .rows import Skip
from .text import open_bytes


def read_json_lines(path: Path, expected: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) of each non-blank line of a JSONL file we wrote or LLaMA-Factory wrote;
    anything else is a one-line error saying what was ``expected``. What JSON text does not hold (NaN,
    Infinity, 1e400; an integer too long for Python; nesting deeper than the recursion limit) is an error too:
    these files are written by programs, so such a line means the file is broken, not a record to skip."""
    try:
        with io.TextIOWrapper(open_bytes(path), encoding="utf-8-sig") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                obj = json_value(line)
                if isinstance(obj, Skip):
                    reason = obj.reason.removeprefix("invalid JSON line (").removesuffix(")") \
                        if obj.reason.startswith("invalid JSON line (") else obj.reason
                    raise UserError(f"{where(path, f'line {number}')}: not JSON ({reason}); expected {expected}")
                if not isinstance(obj, dict):
                    kind = type(obj).__name__
                    raise UserError(f"{where(path, f'line {number}')}: a JSON {kind}; expected {expected}")
                yield number, obj
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); expected {expected}") from None
