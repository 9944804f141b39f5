"""`lfd`: the command line. Each command lives in its own module, which adds its sub-parser."""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import UserError

# command -> its module, in the order `lfd --help` lists them; each module has add_parser(subparsers)
COMMANDS = {
    "list": "plugin.listing",
    "convert": "plugin.convert",
    "eval": "plugin.evaluate",
    "compare": "plugin.compare",
    "register": "plugin.register",
    "tiny-model": "plugin.tiny_model",
    "stats": "plugin.stats",
    "fetch": "plugin.fetch",
    "dataset-info": "plugin.fragment",
    "demo": "plugin.demo",
    "webui": "plugin.webui",
}
COMMAND_MODULES = list(COMMANDS.values())

EXAMPLE = """\
example:
  lfd convert med_norm data/samples/med_norm/yidu_n7k_train.xlsx --test data/samples/med_norm/chip_cdn_dev.json --out-dir data

Raw Chinese domain data -> LLaMA-Factory datasets, recipes and honest scores.
Run `lfd COMMAND --help` for each command's example and options.
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples in descriptions as written."""


class ExampleFirstParser(argparse.ArgumentParser):
    """--help opens with the description (which starts with a runnable example), then usage."""

    def format_help(self) -> str:
        formatter = self._get_formatter()
        formatter.add_text(self.description)
        formatter.add_usage(self.usage, self._actions, self._mutually_exclusive_groups)
        for group in self._action_groups:
            formatter.start_section(group.title)
            formatter.add_text(group.description)
            formatter.add_arguments(group._group_actions)
            formatter.end_section()
        formatter.add_text(self.epilog)
        return formatter.format_help()


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """``argv`` lets a command add options that depend on its arguments (a converter's own options).

    Only the named command's module is imported (`lfd convert` needs neither numpy nor yaml: a
    quicker start); `lfd --help`, no command or an unknown one imports them all, to list them."""
    parser = ExampleFirstParser(prog="lfd", description=EXAMPLE, formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = COMMANDS.get(argv[0]) if argv else None
    for name in [named] if named in COMMAND_MODULES else COMMAND_MODULES:
        module = importlib.import_module(name)
        command = module.add_parser(sub)
        if hasattr(module, "extend_parser"):
            module.extend_parser(command, argv or [])
    return parser


def add_command(sub, name: str, example: str, description: str, help: str) -> argparse.ArgumentParser:
    """A sub-command whose --help opens with a runnable example."""
    return sub.add_parser(
        name,
        help=help,
        description=f"example:\n  {example}\n\n{description}",
        formatter_class=HelpFormatter,
    )


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
