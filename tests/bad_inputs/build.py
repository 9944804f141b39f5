"""Builds the bad-input corpus from every ``cases_*.py`` module: the files (files/) and manifest.json.

    .venv/bin/python tests/bad_inputs/build.py

Run after changing a cases module; the files and the manifest are committed, and re-running
rewrites them byte for byte. What a case holds, and the placeholders of its arguments:
``corpus.py``. tests/test_bad_inputs.py runs every case through ``driver.py``; ``python
tests/bad_inputs/driver.py`` runs them all and prints the totals.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
MANIFEST = HERE / "manifest.json"
sys.path.insert(0, str(HERE))  # the cases modules import corpus.py beside them

from corpus import F  # noqa: E402


def areas() -> list:
    """The cases modules, base first."""
    names = sorted(path.stem for path in HERE.glob("cases_*.py"))
    return [importlib.import_module(name) for name in ["cases_base", *(n for n in names if n != "cases_base")]]


def all_cases() -> list[dict]:
    cases, seen = [], set()
    for module in areas():
        for entry in module.CASES:
            if entry["id"] in seen:
                raise SystemExit(f"{module.__name__}: case id {entry['id']!r} is used twice")
            seen.add(entry["id"])
            cases.append(entry)
    return cases


def generators() -> dict:
    found = {}
    for module in areas():
        for name, function in getattr(module, "GENERATORS", {}).items():
            if name in found:
                raise SystemExit(f"{module.__name__}: generator {name!r} is defined twice")
            found[name] = function
    return found


def file_of(entry: dict) -> str | None:
    """The corpus file a case's data goes to: its ``file``, else the files/ path in its args."""
    if "file" in entry:
        return entry["file"]
    named = [arg for arg in entry["args"] if arg.startswith(F)]
    return named[0][len(F):] if named else None


def build() -> list[dict]:
    FILES.mkdir(parents=True, exist_ok=True)
    written: dict[str, bytes] = {}
    manifest = []
    for entry in all_cases():
        entry = dict(entry)
        data, name = entry.pop("data"), file_of(entry)
        for extra, content in entry.pop("extra_files", {}).items():
            written[extra] = content
        if data is not None:
            if name in written and written[name] != data:
                raise SystemExit(f"{entry['id']}: {name} is written twice with different content")
            written[name] = data
            entry["file"] = name
        manifest.append(entry)
    for name, data in written.items():
        (FILES / name).write_bytes(data)
    for stale in set(p.name for p in FILES.iterdir()) - set(written):
        (FILES / stale).unlink()
    lines = ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in manifest)  # a case a line
    MANIFEST.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    return manifest


if __name__ == "__main__":
    print(f"{len(build())} cases, files in {FILES}")
