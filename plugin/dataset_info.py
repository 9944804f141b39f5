"""Reading and merging LLaMA-Factory ``dataset_info.json`` files without ever losing an entry.

A merge happens under the folder's lock, in one transaction with the files its entries name
(:class:`.io.atomic.AtomicFiles`): the data files and the new dataset_info.json appear together, or
neither does. A symlinked dataset_info.json (one linked into a LLaMA-Factory install) is written
through the link, and the lock is taken on the folder the link points into.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sys
from pathlib import Path

from .errors import UserError
from .io.atomic import AtomicFiles, dumps_json
from .io.json_keys import DuplicateKey, unique_keys
from .io.paths import write_error
from .io.text import open_bytes

FILE_NAME = "dataset_info.json"
NAME_HINT = "pass --force to replace it, or --name to choose another name"
LEFT = "fix or move it — it was left untouched"


def default_path() -> Path:
    """``./dataset_info.json`` (this repo's root) if present, else ``./data/dataset_info.json``."""
    here = Path(FILE_NAME)
    return here if here.exists() else Path("data") / FILE_NAME


class _NotJson(ValueError):
    """NaN or Infinity: Python reads them, JSON (and other readers of the file) does not."""


def _constant(name: str):
    raise _NotJson(name)


def _line_of(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    return f" at line {text.count(chr(10), 0, found.start()) + 1}" if found else ""


def parse(path: Path, text: str):
    """The JSON value of ``text`` (the content of ``path``); anything JSON does not hold is a one-line error."""
    try:
        return json.loads(text, parse_constant=_constant, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: not valid JSON ({err.msg} at line {err.lineno} column {err.colno}); {LEFT}") from None
    except DuplicateKey as twice:  # a rewrite would drop the first one unseen
        key = json.dumps(str(twice), ensure_ascii=False)
        found = [m.start() for m in re.finditer(re.escape(key) + r"\s*:", text)]
        lines = sorted({text.count("\n", 0, at) + 1 for at in found})
        where = f" (lines {', '.join(map(str, lines))})" if len(lines) > 1 else f" (line {lines[0]})" if lines else ""
        raise UserError(f"{path}: the key {key} is given twice in one object{where}; LLaMA-Factory reads only the "
                        f"last one: remove the other — the file was left untouched") from None
    except _NotJson as bad:
        where = _line_of(text, r"(?<![\w.])" + re.escape(str(bad)) + r"(?!\w)")
        raise UserError(f"{path}: {bad}{where} is not JSON (write a number or null); {LEFT}") from None
    except RecursionError:
        raise UserError(f"{path}: nested deeper than can be read (over {sys.getrecursionlimit()} levels); "
                        f"{LEFT}") from None
    except ValueError:  # an integer of thousands of digits (Python's int_max_str_digits)
        where = _line_of(text, r"\d{4000,}")
        raise UserError(f"{path}: an integer too long to read{where} (thousands of digits); {LEFT}") from None


def load(path: Path) -> dict:
    """The file's entries; {} if it does not exist. Broken JSON is an error and the file is left as it is."""
    if not os.path.exists(path):  # none yet, or a symlink to nothing: written through the link
        return {}
    try:
        with open_bytes(path) as f:  # a folder, a pipe or no permission: one line (a pipe would block)
            text = f.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; re-save it as UTF-8 — it was left untouched") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read it ({err.strerror}); {LEFT}") from None
    data = parse(path, text)
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object of dataset entries, found {type(data).__name__}; {LEFT}")
    return data


# what LLaMA-Factory 0.9.5 reads of an entry (data/parser.py DatasetAttr.join, data/converter.py)
FORMATTINGS = ("alpaca", "sharegpt", "openai")
COLUMNS = ("prompt", "query", "response", "history", "messages", "system", "tools", "images", "videos", "audios",
           "chosen", "rejected", "kto_tag")
TAGS = ("role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag")


def shown(value) -> str:
    """A JSON value as a message names it: ``'text'``, ``null``, ``a JSON list``."""
    if isinstance(value, str):
        return repr(value)
    return "null" if value is None else f"a JSON {type(value).__name__}"


def entry_problem(entry: dict) -> str | None:
    """What LLaMA-Factory would fail on or silently not read in the keys of ``entry`` it reads (the
    formatting, the column and tag names, ranking, split, subset, folder, num_samples), or None.

    >>> entry_problem({"file_name": "a.jsonl", "columns": {"prompt": "instruction", "system": None}}) is None
    True
    >>> entry_problem({"file_name": "a.jsonl", "formatting": "Alpaca"})
    "formatting 'Alpaca' is not one LLaMA-Factory reads (alpaca, sharegpt, openai)"
    >>> entry_problem({"file_name": "a.jsonl", "columns": ["instruction", "output"]})
    'columns is a JSON list, not an object of column names'
    >>> entry_problem({"file_name": "a.jsonl", "columns": {"promt": "question"}})
    "columns has 'promt', which LLaMA-Factory does not read (it reads prompt, query, response, history, ...)"
    >>> entry_problem({"file_name": "a.jsonl", "num_samples": "100"})
    "num_samples is '100', not a whole number above 0"
    """
    formatting = entry.get("formatting", "alpaca")
    if formatting not in FORMATTINGS:
        return f"formatting {shown(formatting)} is not one LLaMA-Factory reads ({', '.join(FORMATTINGS)})"
    for key, known in (("columns", COLUMNS), ("tags", TAGS)):
        names = entry.get(key, {})
        if not isinstance(names, dict):
            return f"{key} is {shown(names)}, not an object of {key[:-1] if key == 'tags' else 'column'} names"
        for name, value in names.items():
            if name not in known:
                return (f"{key} has {name!r}, which LLaMA-Factory does not read (it reads "
                        f"{', '.join(known[:4])}, ...)")
            if (value is not None or key == "tags") and (not isinstance(value, str) or not value):
                return f"{key}.{name} is {shown(value)}, not a {'tag' if key == 'tags' else 'column'} name"
    if not isinstance(entry.get("ranking", False), bool):
        return f"ranking is {shown(entry['ranking'])}, not true or false"
    if not isinstance(entry.get("split", "train"), str):
        return f"split is {shown(entry['split'])}, not a split name such as \"train\""
    for key in ("subset", "folder"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return f"{key} is {shown(entry[key])}, not a name"
    samples = entry.get("num_samples")
    if samples is not None and (type(samples) is not int or samples < 1):
        return f"num_samples is {shown(samples) if type(samples) is not int else samples}, not a whole number above 0"
    return None


def lock_folder(path: Path) -> Path:
    """The folder whose lock guards ``path``: the one its symlink (if any) points into."""
    return Path(os.path.realpath(path)).parent


@contextlib.contextmanager
def locked(path: Path):
    """Exclusive lock on the file's folder, so concurrent writers serialise their read-merge-write."""
    folder = lock_folder(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY)
    except OSError as err:
        raise UserError(f"{folder}: cannot open the folder ({err.strerror}); pick a writable folder") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def conflicts(existing: dict, entries: dict) -> list[str]:
    return [name for name, entry in entries.items() if name in existing and existing[name] != entry]


def refuse_conflicts(path: Path, existing: dict, entries: dict, force: bool, hint: str = NAME_HINT) -> None:
    clash = conflicts(existing, entries)
    if clash and not force:
        names = ", ".join(clash)
        raise UserError(f"{path}: entry {names} already exists with different content; {hint}")


def file_names(path: Path, existing: dict) -> dict[str, str]:
    """The local file each entry names (resolved beside ``path``) -> the entry's name; entries whose
    ``file_name`` is missing, null or not a string name none."""
    named = {}
    for name, entry in existing.items():
        file_name = entry.get("file_name") if isinstance(entry, dict) else None
        if isinstance(file_name, str) and file_name and "\0" not in file_name:
            named.setdefault(os.path.realpath(Path(path).parent / file_name), name)
    return named


def merge(path: Path, entries: dict, force: bool = False, before_write=None, before_merge=None,
          files: AtomicFiles | None = None, check=None, remove=(), hint: str = NAME_HINT) -> dict[str, list[str]]:
    """Add ``entries`` (and drop the entries named in ``remove``); returns the names added, replaced,
    unchanged and removed.

    Under the folder's lock: ``check(existing)`` runs once the entries are known to fit and may refuse
    (raise) or return names of entries whose files it replaces; ``before_merge()`` runs next;
    ``before_write(path, files)`` only when the file is about to change. The new dataset_info.json is
    written into ``files`` (the data files the entries name are already there) and all of them are
    committed together, or none.
    """
    with locked(path):
        existing = load(path)
        refuse_conflicts(path, existing, entries, force, hint)
        replaced_files = set(check(existing) if check else ())
        if before_merge:
            before_merge()
        result = {"added": [], "replaced": [], "unchanged": [], "removed": []}
        for name, entry in entries.items():
            if existing.get(name) == entry and name not in replaced_files:
                key = "unchanged"
            else:
                key = "replaced" if name in existing or name in replaced_files else "added"
            result[key].append(name)
        result["removed"] = [name for name in remove if name in existing and name not in entries]
        merged = {name: entry for name, entry in existing.items() if name not in result["removed"]}
        merged.update(entries)
        own = files if files is not None else AtomicFiles()
        try:
            if merged != existing:
                if before_write:
                    before_write(path, own)
                try:
                    own.open(path).write(dumps_json(merged))
                except OSError as err:
                    raise write_error(err, path) from None
            own.commit()
        finally:
            if files is None:
                own.discard()
        return result


def describe(result: dict[str, list[str]], path: Path) -> str:
    parts = [f"{key} {', '.join(names)}" for key, names in result.items() if names]
    return f"{path}: {'; '.join(parts)}"
