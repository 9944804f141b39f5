"""`lfd`: the command line. Each command lives in its own module of :mod:`.commands`, which adds its sub-parser."""

from __future__ import annotations

import argparse
import importlib
import sys

from .commands import COMMANDS
from .commands.arguments import ExampleFirstParser, HelpFormatter
from .errors import UserError

EXAMPLE = """\
example:
  lfd convert med_norm data/samples/med_norm/yidu_n7k_train.xlsx --test data/samples/med_norm/chip_cdn_dev.json --out-dir data

Raw Chinese domain data -> LLaMA-Factory datasets, recipes and honest scores.
Run `lfd COMMAND --help` for each command's example and options.
"""


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """``argv`` lets a command add options that depend on its arguments (a converter's own options).

    Only the named command's module is imported (`lfd convert` needs neither numpy nor yaml: a
    quicker start); `lfd --help`, no command or an unknown one imports them all, to list them."""
    parser = ExampleFirstParser(prog="lfd", description=EXAMPLE, formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = COMMANDS.get(argv[0]) if argv else None
    for name in [named] if named else COMMANDS.values():
        module = importlib.import_module(f"{__package__}.commands.{name}")
        command = module.add_parser(sub)
        if hasattr(module, "extend_parser"):
            module.extend_parser(command, argv or [])
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        parser = build_parser(argv)
    except UserError as err:  # e.g. a broken third-party entry point
        print(f"lfd: error: {err}", file=sys.stderr)
        return 1
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except UserError as err:
        print(f"lfd {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lfd {args.command}: interrupted; no output was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
