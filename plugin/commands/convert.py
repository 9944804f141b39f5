"""`lfd convert`: the command line of :mod:`..pipeline` (options, --from-catalog, the summary on stderr)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ...converters.base import Converter, converters
from ..circular import NOT_CHOICE_REASON
from ..errors import UserError
from ..pipeline import convert
from ..records import FORMATS
from ..run import Tally
from .arguments import add_command, positive_int


def from_catalog(args: argparse.Namespace, cls: type[Converter]) -> None:
    """Inputs, test files and default options from a catalog source already in the `lfd fetch` cache."""
    from .. import catalog

    info = catalog.entry(args.from_catalog)
    if info.get("converter") != cls.name:
        raise UserError(f"catalog source {args.from_catalog!r} is converted by {info.get('converter') or 'no converter'}, "
                        f"not {cls.name}; run `lfd convert {info.get('converter')} --from-catalog {args.from_catalog} ...`")
    cache = args.cache_dir or catalog.default_cache()
    files = catalog.split_files(args.from_catalog, cache)
    if args.inputs:
        raise UserError("give INPUT files or --from-catalog, not both")
    args.inputs = files["train"]
    defaults = cls_parser_defaults(cls, catalog.catalog_args(args.from_catalog, cache))
    for key, value in defaults.items():  # the catalog's options, unless given on the command line
        if getattr(args, key, None) in (None, False):
            setattr(args, key, value)
    if "test" in files and not args.test_size:
        args.test = args.test or files["test"]


def cls_parser_defaults(cls: type[Converter], argv: list[str]) -> dict:
    """The options in ``argv`` (catalog convert_args) parsed like `lfd convert` would, minus the defaults."""
    parser = argparse.ArgumentParser(add_help=False)
    add_arguments(parser)
    cls.add_arguments(parser)
    given, _ = parser.parse_known_args(["x", "y", "--out-dir", ".", *argv])
    default, _ = parser.parse_known_args(["x", "y", "--out-dir", "."])
    return {k: v for k, v in vars(given).items() if v != getattr(default, k, None)}


def report(summary: dict) -> None:
    out = sys.stderr
    for split in summary["splits"]:
        tally: Tally = summary["tallies"][split]
        if split == "test_circular":
            report_circular(tally, summary["paths"][split])
            continue
        read = f"read {tally.read}, " if tally.read else ""
        kind = "added held-out items (e.g. --test-negatives)" if split == "test" else "augmented copies"
        copies = f" ({tally.augmented} of them {kind})" if tally.augmented else ""
        print(f"{split}: {read}wrote {tally.written}{copies} -> {summary['paths'][split]}", file=out)
        for reason, n in sorted(tally.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  skipped {n}: {reason}", file=out)
        if tally.cleaned:
            changes = ", ".join(f"{rule} {n}" for rule, n in sorted(tally.cleaned.items(), key=lambda kv: (-kv[1], kv[0])))
            print(f"  cleaned (--clean): {changes}", file=out)
    if summary["rejects"]:
        print(f"rejected records with their file and location: {summary['rejects']}", file=out)
    for note in summary.get("notes", []):
        print(note, file=out)
    print(summary["dataset_info"], file=out)


def report_circular(tally: Tally, path) -> None:
    """``--circular``: variants and questions written, and the questions not rotated, by reason."""
    print(f"test_circular: wrote {tally.written} variants of {tally.questions} questions -> {path}", file=sys.stderr)
    for reason, n in sorted(tally.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
        how = "left out" if reason == NOT_CHOICE_REASON else "original order only"
        print(f"  {how}, {reason}: {n}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if args.from_catalog:
        from_catalog(args, converters.get(args.converter))
    report(convert(args))
    return 0


def add_parser(sub) -> argparse.ArgumentParser:

    p = add_command(
        sub, "convert",
        example=("lfd convert med_norm data/samples/med_norm/yidu_n7k_train.xlsx --test data/samples/med_norm/chip_cdn_dev.json "
                 "--val-size 10 --out-dir data"),
        description=("Convert raw files with CONVERTER (see `lfd list`) into LLaMA-Factory JSONL and merge\n"
                     "<name>_train / <name>_test (/ <name>_val, <name>_test_circular) entries into OUT_DIR/dataset_info.json.\n"
                     "Counts of records read, written and skipped (by reason) go to stderr."),
        help="raw files -> LLaMA-Factory dataset + dataset_info.json entries",
    )
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def add_arguments(p: argparse.ArgumentParser, converter: bool = True) -> None:
    """The options every conversion takes; ``converter=False`` for a command that names its converter (`lfd synth`)."""
    if converter:
        p.add_argument("converter", metavar="CONVERTER", help="converter name, e.g. med_norm")
    p.add_argument("inputs", metavar="INPUT", nargs="*", type=Path, help="raw training files")
    p.add_argument("--from-catalog", metavar="NAME",
                   help="take INPUT/--test files and options from a source in the `lfd fetch` cache")
    p.add_argument("--cache-dir", type=Path, help="the `lfd fetch` cache (default $LFD_CACHE or ~/.cache/llamafactory-domains)")
    p.add_argument("--out-dir", type=Path, required=True, help="folder for the JSONL files and dataset_info.json")
    p.add_argument("--name", help="dataset name (default: the converter's name)")
    p.add_argument("--test", nargs="+", type=Path, metavar="FILE", help="raw files of the test split")
    p.add_argument("--test-size", type=positive_int, metavar="N", help="hold out N random records as the test split")
    p.add_argument("--val-size", type=positive_int, metavar="N",
                   help="hold out N random training records as the validation split <name>_val (for eval_dataset "
                        "while training; drawn after the test split and its duplicates are out, and train leaves "
                        "out its duplicates too)")
    p.add_argument("--seed", type=int, default=42, help="seed for sampling (default 42)")
    p.add_argument("--format", choices=FORMATS, help="output format (default: the converter's)")
    p.add_argument("--limit", type=positive_int, metavar="N",
                   help="keep a seeded random sample of N training records (counted after the held-out splits)")
    p.add_argument("--encoding", help="text encoding of CSV/JSON inputs (default: detect UTF-8/GB18030)")
    p.add_argument("--rejects", type=Path, metavar="FILE", help="write skipped records (JSONL, with file and location)")
    p.add_argument("--clean", action="store_true",
                   help="clean every record as `lfd clean` does, before deduplication and sampling: personal data "
                        "masked ([姓名], [电话], …), junk removed (control and zero-width characters, HTML, repeated "
                        "punctuation, URLs, ads), records with an empty/placeholder or echoed answer skipped; the "
                        "changes are counted in the summary (over-long records and near-duplicates: `lfd clean`)")
    p.add_argument("--clean-rules", metavar="RULES",
                   help="--clean with only these rules, comma-separated (privacy, control, zero_width, html, punct, "
                        "url, ads, empty_answer, echo_answer)")
    p.add_argument("--force", action="store_true",
                   help="replace existing different dataset_info entries and data files of the same name (and remove "
                        "an earlier test, circular test or validation split a run without one would leave)")


def extend_parser(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Adds the named converter's own options, so `lfd convert NAME --help` lists them."""
    if len(argv) > 1 and argv[0] == "convert" and not argv[1].startswith("-"):
        try:
            cls = converters.get(argv[1])
        except UserError:
            return  # reported properly when the command runs
        parser.description = converter_help(cls, parser.description)
        group = parser.add_argument_group(f"{cls.name} options")
        cls.add_arguments(group)


def converter_help(cls: type[Converter], description: str) -> str:
    """`lfd convert NAME --help`: the converter's own command and example record, then the general text."""
    if not cls.example_command:
        return description
    general = description.split("\n\n", 1)[-1]
    parts = [f"example:\n  {cls.example_command}", (cls.__doc__ or "").strip().splitlines()[0]]
    if cls.example_raw is not None and cls.example_output is not None:
        shown = json.dumps(cls.example_raw, ensure_ascii=False)
        produced = cls.example_output if isinstance(cls.example_output, list) else [cls.example_output]
        given = f" (with {' '.join(cls.example_args)})" if cls.example_args else ""
        parts.append(f"one raw record:\n  {shown}\nbecomes{given} ({cls.formats[0]}):\n"
                     + "\n".join(f"  {json.dumps(record, ensure_ascii=False)}" for record in produced))
    return "\n\n".join([*parts, general])
