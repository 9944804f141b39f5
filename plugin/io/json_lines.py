"""The strict reader of the JSONL files this tool or LLaMA-Factory wrote (predictions, converted
datasets): every non-blank line must be a JSON object, else a one-line error. Raw inputs are read
leniently instead (a broken line is a counted skip): see :mod:`.json_files`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError, where


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
