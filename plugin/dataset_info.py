"""Reading and merging LLaMA-Factory ``dataset_info.json`` files without ever losing an entry."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from .errors import UserError
from .io.atomic import write_json

FILE_NAME = "dataset_info.json"


def default_path() -> Path:
    """``./dataset_info.json`` (this repo's root) if present, else ``./data/dataset_info.json``."""
    here = Path(FILE_NAME)
    return here if here.exists() else Path("data") / FILE_NAME


def load(path: Path) -> dict:
    """The file's entries; {} if it does not exist. Broken JSON is an error and the file is left as it is."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: not valid JSON ({err.msg} at line {err.lineno} column {err.colno}); "
                        "fix or move it — it was left untouched") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; re-save it as UTF-8 — it was left untouched") from None
    except OSError as err:  # a folder of that name, no permission
        raise UserError(f"{path}: cannot read it ({err.strerror}); fix or move it — it was left untouched") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object of dataset entries, found {type(data).__name__}; "
                        "fix or move it — it was left untouched")
    return data


@contextlib.contextmanager
def locked(path: Path):
    """Exclusive lock on the file's folder, so concurrent writers serialise their read-merge-write."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError as err:
        raise UserError(f"{path.parent}: cannot open the folder ({err.strerror}); pick a writable folder") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def conflicts(existing: dict, entries: dict) -> list[str]:
    return [name for name, entry in entries.items() if name in existing and existing[name] != entry]


def refuse_conflicts(path: Path, existing: dict, entries: dict, force: bool) -> None:
    clash = conflicts(existing, entries)
    if clash and not force:
        names = ", ".join(clash)
        raise UserError(f"{path}: entry {names} already exists with different content; "
                        "pass --force to replace it, or --name to choose another name")


def merge(path: Path, entries: dict, force: bool = False, before_write=None, before_merge=None) -> dict[str, list[str]]:
    """Add ``entries`` to the file atomically; returns the names added, replaced and unchanged.

    Under the folder's lock: ``before_merge()`` runs once the entries are known to fit (e.g. to put
    the data files they name in place, so a refused merge leaves no files behind), then
    ``before_write(path)`` only when the file is about to change.
    """
    with locked(path):
        existing = load(path)
        refuse_conflicts(path, existing, entries, force)
        if before_merge:
            before_merge()
        result = {"added": [], "replaced": [], "unchanged": []}
        for name, entry in entries.items():
            key = "unchanged" if existing.get(name) == entry else "replaced" if name in existing else "added"
            result[key].append(name)
        if result["added"] or result["replaced"]:
            if before_write:
                before_write(path)
            write_json(path, {**existing, **entries})
        return result


def describe(result: dict[str, list[str]], path: Path) -> str:
    parts = [f"{key} {', '.join(names)}" for key, names in result.items() if names]
    return f"{path}: {'; '.join(parts)}"
