"""`lfd`: the command line. Each command lives in its own module of :mod:`.commands`, which adds its sub-parser."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading

from .commands import COMMANDS
from .commands.arguments import ExampleFirstParser, HelpFormatter
from .errors import UserError
from .io import atomic

EXAMPLE = """\
example:
  lfd convert med_norm data/samples/med_norm/yidu_n7k_train.xlsx --test data/samples/med_norm/chip_cdn_dev.json --val-size 10 --out-dir data

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
    previous = catch_signals()
    committed = atomic.commits
    try:
        return args.func(args) or 0
    except UserError as err:
        print(f"lfd {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (atomic.on_signal): temporary files are gone
        signum = getattr(stop, "signum", signal.SIGINT)
        done = ("; what was committed before it is complete, nothing else was written"
                if atomic.commits > committed else "; no output was written")
        print(f"lfd {args.command}: interrupted ({signal.Signals(signum).name}){done}", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        return 0
    except OSError as err:  # a file error no reader or writer names better: still one line, never a traceback
        place = f"{err.filename}: " if err.filename else ""
        print(f"lfd {args.command}: error: {place}{err.strerror or err}; check the path and its permissions",
              file=sys.stderr)
        return 1
    finally:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)


def catch_signals() -> dict:
    """SIGINT and SIGTERM stop a command cleanly (no output committed, no temporary file left), except in
    the middle of a commit, which finishes first. Returns the handlers replaced (none outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, atomic.on_signal)
    return previous


if __name__ == "__main__":
    sys.exit(main())
