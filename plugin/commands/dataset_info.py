"""`lfd dataset-info`: the repo's top-level dataset_info.json, generated from converter metadata.

It describes the built-in datasets as `lfd convert NAME ... --out-dir data` writes them (default
name and format), with paths relative to the repo root, so recipes run from the root with
``dataset_dir: .`` find them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ...converters.base import converters
from .. import ROOT
from ..io.atomic import dumps_json, write_json

REPO_FRAGMENT = ROOT / "dataset_info.json"


def builtin_fragment(data_dir: str = "data") -> dict:
    fragment = {}
    for name in converters.names():
        cls = converters.get(name)
        if converters.is_builtin(name):
            fragment.update(cls.entries(name, cls.formats[0], f"{data_dir}/"))
    return fragment


def run(args) -> int:
    fragment = builtin_fragment()
    if args.out:
        write_json(args.out, fragment)
        print(f"wrote {len(fragment)} entries to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(dumps_json(fragment))
    return 0


def add_parser(sub):
    from .arguments import add_command

    p = add_command(
        sub, "dataset-info", example="lfd dataset-info --out dataset_info.json",
        description=("Print (or write) the dataset_info.json fragment for the built-in datasets, files under\n"
                     "data/ relative to the repo root. The repo's own dataset_info.json is this output."),
        help="generate the repo's dataset_info.json from converter metadata",
    )
    p.add_argument("--out", type=Path, help="write to this file (atomically) instead of stdout")
    p.set_defaults(func=run)
    return p
