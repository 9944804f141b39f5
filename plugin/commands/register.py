"""`lfd register`: put our datasets into an existing LLaMA-Factory install's data/dataset_info.json, and with
``--with-recipes`` our training recipes into its web board's saved configurations (:mod:`..board`)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from .. import board, dataset_info
from ..errors import UserError
from ..io.paths import check_outputs, same_file

REGISTER_HINT = "pass --force to replace it (the previous file is kept as a timestamped backup)"


def absolute_entries(source: Path) -> dict:
    """The source file's entries with ``file_name`` made absolute; every file must exist."""
    entries = dataset_info.load(source)
    if not entries:
        raise UserError(f"{source}: no dataset entries (or no such file); run `lfd convert ... --out-dir "
                        f"{source.parent}` first or pass --from")
    result = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise UserError(f"{source}: entry {name!r} is {dataset_info.shown(entry)}, not an object with a "
                            "file_name; fix the entry (or convert again)")
        if "file_name" not in entry:
            raise UserError(f"{source}: entry {name!r} has no file_name; only local files can be registered")
        file_name = entry["file_name"]
        if not isinstance(file_name, str) or not file_name or "\0" in file_name:
            raise UserError(f"{source}: entry {name!r} has file_name {dataset_info.shown(file_name)}, not a file "
                            "name; fix the entry (or convert again) — only local files can be registered")
        problem = dataset_info.entry_problem(entry)
        if problem:  # registered, it would break (or silently misread) training in the install
            raise UserError(f"{source}: entry {name!r}: {problem}; fix the entry (or convert again)")
        path = (source.parent / file_name).resolve()
        if not path.exists():
            raise UserError(f"{source}: entry {name!r} points to {path}, which does not exist; "
                            "run the conversion that writes it first")
        result[name] = {**entry, "file_name": str(path)}
    return result


def backup_path(path: Path) -> Path:
    """Where the file is copied before it changes: ``dataset_info.json.<time>.bak`` (a free name)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{stamp}.bak")
    n = 1
    while os.path.lexists(target):
        n += 1
        target = path.with_name(f"{path.name}.{stamp}-{n}.bak")
    return target


def register(lf_root: Path, source: Path, force: bool = False) -> tuple[dict, Path | None]:
    data_dir = lf_root / "data"
    if not os.path.isdir(data_dir):
        raise UserError(f"{lf_root}: no data/ folder, so not the folder LLaMA-Factory runs from; pass the "
                        "folder that holds data/dataset_info.json (where you run llamafactory-cli)")
    target = data_dir / dataset_info.FILE_NAME
    if same_file(source, target):
        raise UserError(f"{source}: --from is the install's own dataset_info.json ({target}); pass the "
                        "dataset_info.json `lfd convert` wrote (in its --out-dir)")
    entries = absolute_entries(source)
    saved: list[Path] = []

    def keep_backup(path: Path, files) -> None:
        if not os.path.lexists(path):
            return
        aside = backup_path(path)
        check_outputs([("the backup", aside), ("the install's dataset_info.json", path)], [("--from", source)])
        files.copy(path, aside)  # appears with the new file, or not at all
        saved.append(aside)

    check_outputs([("the install's dataset_info.json", target)], [("--from", source)])
    merged = dataset_info.merge(target, entries, force=force, before_write=keep_backup, hint=REGISTER_HINT)
    return merged, (saved[0] if saved else None)


def report_configs(done: dict, lf_root: Path) -> None:
    """What `--with-recipes` did (stderr), and how to load the configurations (stdout)."""
    for what in ("written", "unchanged", "removed"):
        if done[what]:
            print(f"{what}: {', '.join(str(p) for p in done[what])}", file=sys.stderr)
    for note in done["notes"]:
        print(f"note: {note}", file=sys.stderr)
    names = ", ".join(p.name for p in done["configs"]) or "none"
    print(f"board configurations in {lf_root / board.CONFIG_DIR} ({names}): cd {lf_root} && llamafactory-cli "
          "webui, then Train tab -> Config path -> <recipe>.yaml -> Load arguments")


def run(args) -> int:
    source = args.source or dataset_info.default_path()
    if args.with_recipes:  # refused before anything is registered, not halfway
        board.check_install_outputs(args.llamafactory_dir, source)
    merged, saved = register(args.llamafactory_dir, source, args.force)
    target = args.llamafactory_dir / "data" / dataset_info.FILE_NAME
    print(dataset_info.describe(merged, target), file=sys.stderr)
    if saved:
        print(f"backup of the previous file: {saved}", file=sys.stderr)
    names = " ".join(merged["added"] + merged["replaced"] + merged["unchanged"])
    print(f"use them from {args.llamafactory_dir} with `dataset: <name>` (dataset_dir: data): {names}")
    if args.with_recipes:
        report_configs(board.install_configs(args.llamafactory_dir, source), args.llamafactory_dir.resolve())
    return 0


def add_parser(sub):
    from .arguments import add_command

    p = add_command(
        sub, "register",
        example="lfd register --llamafactory-dir ~/LLaMA-Factory --from data/dataset_info.json",
        description=("The example needs LLaMA-Factory cloned into ~/LLaMA-Factory and an `lfd convert ... --out-dir\n"
                     "data` first (e.g. `lfd --help`'s example).\n"
                     "Merge the entries of a dataset_info.json written by `lfd convert` into LF_ROOT/data/\n"
                     "dataset_info.json with absolute file paths, so training and the web board find them from\n"
                     "LF_ROOT. Keeps a timestamped backup; re-running changes nothing; an existing different\n"
                     "entry of the same name is refused unless --force. A symlinked dataset_info.json is\n"
                     "written through the link. --with-recipes also writes each training recipe whose datasets\n"
                     "the install has as a web board configuration (LF_ROOT/llamaboard_config/<recipe>.yaml)."),
        help="register converted datasets into an existing LLaMA-Factory install",
    )
    p.add_argument("--llamafactory-dir", type=Path, required=True, metavar="LF_ROOT",
                   help="the folder LLaMA-Factory runs from (holds data/dataset_info.json)")
    p.add_argument("--from", dest="source", type=Path, metavar="DATASET_INFO",
                   help="our dataset_info.json (default: ./dataset_info.json, else ./data/dataset_info.json)")
    p.add_argument("--force", action="store_true", help="replace existing different entries of the same name")
    p.add_argument("--with-recipes", action="store_true",
                   help="also write our training recipes as LlamaBoard configurations of LF_ROOT (Train tab -> "
                        "Config path -> Load arguments); files you saved there are never touched")
    p.set_defaults(func=run)
    return p
