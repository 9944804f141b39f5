"""What a `lfd convert` writes: checked before anything is read, committed with its entries, nothing lost.

Before converting (:func:`check_before`): ``--out-dir`` is a folder; no output (the splits,
``--rejects``, dataset_info.json) is an input or another output (:mod:`.io.paths`); ``--rejects``
is not the file of a dataset entry; the entries fit; and a run without a test (validation) split
refuses to leave an earlier run's ``<name>_test`` (``<name>_val``) split beside a training split
that now holds its items, and a run without ``--circular`` an earlier ``<name>_test_circular``
beside a test split it no longer matches.

At the end, under the folder's lock (:func:`commit`): a data file of the same name whose bytes differ
(an earlier conversion of other data, or a file made by hand that no entry names) is refused unless
``--force``, and then reported as replaced, with its old and new record counts; the same bytes again
are left as they are ("unchanged").
The data files, the rejects, the removal of a stale test, circular test or validation split (with ``--force``) and
dataset_info.json are then committed in one :class:`.io.atomic.AtomicFiles` transaction.
"""

from __future__ import annotations

import argparse
import errno
import os
from pathlib import Path
from typing import NamedTuple

from . import dataset_info
from .errors import UserError
from .io.atomic import AtomicFiles
from .io.paths import check_outputs, file_in_the_way, refuse_too_long, write_error

NOT_INPUTS = {"out_dir", "rejects"}  # Path options that are written, not read


def input_paths(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """Every file the run reads: INPUT, --test and each converter option that is a path (--answers, --kb...)."""
    found = []
    for key, value in vars(args).items():
        if key in NOT_INPUTS:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, Path):
                found.append(("INPUT" if key == "inputs" else f"--{key.replace('_', '-')}", item))
    return found


def refuse_file_as_out_dir(out_dir: Path) -> None:
    """--out-dir that is a file, lies under a file or has a name too long: said of --out-dir, before anything."""
    if os.path.lexists(out_dir) and not os.path.isdir(out_dir):
        raise UserError(f"--out-dir {out_dir}: a file, not a folder; pass the folder that is to hold the JSONL "
                        "files and dataset_info.json")
    if os.path.isdir(out_dir):
        return
    refuse_too_long(out_dir, "--out-dir")
    above = file_in_the_way(out_dir)
    if above is not None:
        raise UserError(f"--out-dir {out_dir}: cannot create it ({above} is a file, not a folder); pick a writable "
                        "folder")


def make_out_dir(out_dir: Path) -> None:
    refuse_file_as_out_dir(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if err.errno in (errno.ENAMETOOLONG, errno.ENOSPC, errno.EDQUOT):
            raise write_error(err, out_dir, "--out-dir") from None
        raise UserError(f"--out-dir {out_dir}: cannot create it ({err.strerror}); pick a writable folder") from None


class HeldOutSplit(NamedTuple):
    """How to speak of a split an earlier run may have left: what it is, how a run writes it, why it is
    stale without that ({train}: this run's training file name), the fix's verb and what this run does."""

    kind: str
    how: str
    stale: str
    again: str
    none: str


HOLDS_ITEMS = "this run holds out none, so {train} would hold its items next to it"
HELD_OUT = {  # split -> how to speak of it
    "test": HeldOutSplit("test split", "--test-size N or --test FILE", HOLDS_ITEMS, "hold them out again",
                         "holds out none"),
    "test_circular": HeldOutSplit("circular test split", "--circular K with the test split",
                                  "this run writes none (no --circular), so it would be left next to a test split "
                                  "it no longer matches", "write it again", "writes none"),
    "val": HeldOutSplit("validation split", "--val-size N", HOLDS_ITEMS, "hold them out again", "holds out none"),
}

def outputs(args: argparse.Namespace, paths: dict[str, Path], info_path: Path) -> list[tuple[str, Path]]:
    return [("the training split (--out-dir, --name)", paths["train"]),
            ("the test split (--out-dir, --name)", paths["test"]),
            ("the validation split (--out-dir, --name)", paths["val"]),
            ("the circular test split (--out-dir, --name, --circular)", paths["test_circular"]),
            ("dataset_info.json of --out-dir", info_path),
            ("--rejects", args.rejects)]


def stale_split(name: str, split: str, paths: dict[str, Path], existing: dict) -> tuple[str | None, Path | None]:
    """The held-out ``split`` ("test", "test_circular", "val") an earlier run left under this name: its entry and its file
    (each None if absent)."""
    entry = f"{name}_{split}"
    return (entry if entry in existing else None), (paths[split] if os.path.lexists(paths[split]) else None)


def refuse_stale_split(name: str, split: str, paths: dict[str, Path], existing: dict, info_path: Path) -> None:
    entry, file = stale_split(name, split, paths, existing)
    if entry or file:
        what = file or f"entry {entry} of {info_path}"
        held = HELD_OUT[split]
        raise UserError(f"{what}: the {held.kind} of an earlier conversion named {name}; "
                        f"{held.stale.format(train=paths['train'].name)} — pass {held.how} to {held.again}, "
                        f"or --force to remove the old {held.kind}")


def refuse_rejects_over_data(rejects: Path | None, info_path: Path, existing: dict) -> None:
    if rejects is None:
        return
    owner = dataset_info.file_names(info_path, existing).get(os.path.realpath(rejects))
    if owner:
        raise UserError(f"{rejects}: --rejects is the file of dataset {owner} in {info_path}; writing it would "
                        "replace that dataset — pick another file for --rejects")


def count_records(path: Path | None) -> str:
    """The records of a JSONL data file (its non-blank lines), "?" when it cannot be read."""
    if path is None:
        return "?"
    try:
        with open(path, "rb") as handle:
            return str(sum(1 for line in handle if line.strip()))
    except OSError:
        return "?"


def check_before(args: argparse.Namespace, name: str, paths: dict[str, Path], info_path: Path, entries: dict,
                 splits: tuple[str, ...]) -> None:
    """Everything about the outputs that can be refused before a record is read; ``splits``: those this
    run writes ("train", and "test", "val" when held out)."""
    refuse_file_as_out_dir(args.out_dir)
    check_outputs(outputs(args, paths, info_path), input_paths(args))  # before the folder is made: nothing left
    make_out_dir(args.out_dir)
    existing = dataset_info.load(info_path)
    dataset_info.refuse_conflicts(info_path, existing, entries, args.force)
    refuse_rejects_over_data(args.rejects, info_path, existing)
    for split in HELD_OUT:
        if split not in splits and not args.force:
            refuse_stale_split(name, split, paths, existing, info_path)


def commit(args: argparse.Namespace, out: AtomicFiles, name: str, paths: dict[str, Path], info_path: Path,
           entries: dict, splits: tuple[str, ...]) -> tuple[dict, list[str]]:
    """Under the folder's lock: checks the data files of ``splits`` against what is there now, then commits
    the files of ``out`` with the entries. Returns the merge result and the notes to print (files replaced
    or removed)."""
    notes: list[str] = []
    not_held_out = [split for split in HELD_OUT if split not in splits]

    def check(existing: dict) -> list[str]:
        refuse_rejects_over_data(args.rejects, info_path, existing)
        named = dataset_info.file_names(info_path, existing)
        replaced = []
        for split in splits:
            path = paths[split]
            if not out.differs(path):  # new, or the same bytes again
                continue
            owner = named.get(os.path.realpath(path))
            if not args.force:
                made = (f"written by an earlier conversion (entry {owner})" if owner else
                        f"and no entry of {info_path} names it (made by hand?)")
                raise UserError(f"{path}: already exists with different data, {made}; pass --force to replace "
                                "it, or --name to write another file")
            replaced.append(f"{name}_{split}")
            counts = f"{count_records(Path(os.path.realpath(path)))} → {count_records(out.pending(path))} records"
            notes.append(f"{path}: replaced ({counts}; --force)")
        for split in not_held_out:
            entry, file = stale_split(name, split, paths, existing)
            if (entry or file) and not args.force:
                refuse_stale_split(name, split, paths, existing, info_path)
            if file:
                out.remove(file)
            if entry or file:
                parts = ([str(file)] if file else []) + ([f"entry {entry}"] if entry else [])
                notes.append(f"removed the earlier {HELD_OUT[split].kind} ({' and '.join(parts)}): this run "
                             f"{HELD_OUT[split].none} (--force)")
        return replaced

    merged = dataset_info.merge(info_path, entries, force=args.force, files=out, check=check,
                                remove=[f"{name}_{split}" for split in not_held_out])
    return merged, notes
