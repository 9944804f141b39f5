"""`lfd convert`: raw source files -> ``<name>_train.jsonl`` / ``<name>_test.jsonl`` + dataset_info entries.

The pipeline streams: records are read, converted and written one at a time. A held-out split
(``--test-size``) and ``--limit`` sampling take a second pass over the input instead of holding it
in memory; only the test split (and the chosen record numbers) is kept. Without them, a big JSON
array or JSONL file is converted in parts, one process per CPU (this one and forked workers), and
the parts are joined in order: the same bytes as one pass (see :func:`convert_in_parts`). The data files appear only
together with their dataset_info.json entries, under the output folder's lock.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from . import dataset_info
from .atomic import AtomicFiles
from .errors import UserError, where
from .readers import CHUNK, Row, Skip, iter_json_part, iter_rows, json_parts
from .records import FORMATS, Example, dataset_entry
from .registry import converters

DEDUP_REASON = "prompt also in the test split"
WRITE_BATCH = 256  # lines joined into one write
MAX_WORKERS = 4  # processes converting parts of one big file


class Shape(Skip):
    """A record of the wrong shape: an error if it is the file's first record (wrong file), else a skip."""


class Converter:
    """Base class: subclasses set the class attributes and implement ``convert``."""

    formats: tuple[str, ...] = FORMATS  # the first is the default
    evaluators: tuple[str, ...] = ()  # recorded in the test entry, so `lfd eval` needs no names
    with_system = False
    with_history = False
    columns: list[tuple[str, ...]] = []  # accepted header column sets of tabular sources
    expects = "records"  # what a record looks like, for the wrong-file error
    # convert() and augment() look at one record at a time and keep nothing between records, so the
    # records of a big JSON file may be converted in several processes; set False otherwise (a
    # converter that overrides rows() is never split)
    parallel = True

    def __init__(self, options: argparse.Namespace):
        self.options = options

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Converter-specific options."""

    def rows(self, path: Path, split: str) -> Iterator[Row]:
        """Records of one file; ``split`` says whether it was given as an INPUT ("train") or a --test file."""
        return iter_rows(path, getattr(self.options, "encoding", None), self.columns)

    def convert(self, record, split: str) -> Example | Iterable[Example]:
        """One raw record -> example(s); raise ``Skip(reason)`` to leave it out (counted)."""
        raise NotImplementedError

    def augment(self, example: Example) -> Iterable[Example]:
        """Extra training copies of an example (e.g. options reordered). Called after the split and the
        cross-split deduplication, for training examples only, so a copy never leaks into the test split."""
        return ()

    @classmethod
    def entries(cls, name: str, fmt: str, file_prefix: str, splits=("train", "test")) -> dict:
        """The dataset_info entries for ``<name>_<split>``, files at ``<file_prefix><name>_<split>.jsonl``."""
        result = {}
        for split in splits:
            lfd = {"converter": cls.name, "split": split}
            if split == "test" and cls.evaluators:
                lfd["evaluators"] = list(cls.evaluators)
            result[f"{name}_{split}"] = dataset_entry(
                f"{file_prefix}{name}_{split}.jsonl", fmt, cls.with_system, cls.with_history, lfd)
        return result


@dataclass
class Tally:
    read: int = 0
    written: int = 0
    augmented: int = 0  # of ``written``: extra copies made by Converter.augment
    skipped: Counter = field(default_factory=Counter)


class Run:
    """One `lfd convert` invocation: reading with counts and rejects, writing both splits."""

    def __init__(self, converter: Converter, fmt: str, rejects=None):
        self.converter, self.fmt, self.rejects = converter, fmt, rejects
        self.tallies = {"train": Tally(), "test": Tally()}

    def skip(self, split: str, reason: str, path: Path | None = None, row: Row | None = None) -> None:
        self.tallies[split].skipped[reason] += 1
        if self.rejects is not None:
            record = row.data if row is not None and not isinstance(row.data, Skip) else None
            self.rejects.write(_json_line({
                "split": split, "file": printable(path) if path else None,
                "location": row.location if row else None, "reason": reason, "record": record}))

    def examples(self, paths: list[Path], split: str, count: bool = True) -> Iterator[Example]:
        """Valid examples of ``paths``; with ``count`` the reads and skips go into the tally/rejects."""
        for path in paths:
            yield from self.examples_of(path, self.converter.rows(path, split), split, count)

    def examples_of(self, path: Path, rows: Iterable[Row], split: str, count: bool = True,
                    first: bool = True) -> Iterator[Example]:
        """Valid examples of the rows of ``path``; ``first``: the rows start at the file's first record."""
        tally, convert = self.tallies[split], self.converter.convert
        for row in rows:
            if count:
                tally.read += 1
            try:
                if isinstance(row.data, Skip):
                    raise row.data
                produced = convert(row.data, split)
            except Shape as shape:
                if first:
                    raise UserError(f"{where(path, row.location)}: {shape.reason}; expected "
                                    f"{self.converter.expects} — is this the right file for "
                                    f"`{self.converter.name}`?") from None
                if count:
                    self.skip(split, shape.reason, path, row)
                continue
            except Skip as skip:
                if count:
                    self.skip(split, skip.reason, path, row)
                first = False
                continue
            first = False
            if isinstance(produced, Example):
                yield produced
            else:
                yield from produced

    def line(self, example: Example) -> str:
        conv = self.converter
        return example.to_line(self.fmt, conv.with_system, conv.with_history)

    def write(self, handle, split: str, example: Example) -> None:
        handle.write(self.line(example))
        self.tallies[split].written += 1

    def write_train(self, handle, examples: Iterable[Example], test_keys: set[bytes]) -> None:
        """Writes training examples (and their augmented copies), leaving out prompts of the test split."""
        tally, pending = self.tallies["train"], []
        augment = self.converter.augment if type(self.converter).augment is not Converter.augment else None
        for example in examples:
            if test_keys and example.prompt_hash() in test_keys:  # no hashing without a test split
                self.skip("train", DEDUP_REASON)
                continue
            pending.append(self.line(example))
            for copy in augment(example) if augment else ():
                pending.append(self.line(copy))
                tally.augmented += 1
            if len(pending) >= WRITE_BATCH:
                tally.written += len(pending)
                handle.write("".join(pending))
                pending.clear()
        tally.written += len(pending)
        handle.write("".join(pending))


def printable(path) -> str:
    """A path as text that UTF-8 can hold: the bytes of a file name that is not UTF-8 become ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _json_line(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str) + "\n"


def _reservoir(examples: Iterable[Example], size: int, rng: random.Random) -> tuple[list[tuple[int, Example]], int]:
    """A seeded uniform sample of ``size`` (index, example) pairs in one pass, and the total count."""
    sample: list[tuple[float, int, Example]] = []
    total = 0
    for index, example in enumerate(examples):
        total += 1
        key = rng.random()
        if len(sample) < size:
            heapq.heappush(sample, (-key, index, example))
        elif size and key < -sample[0][0]:
            heapq.heapreplace(sample, (-key, index, example))
    return sorted(((i, ex) for _, i, ex in sample), key=lambda pair: pair[0]), total


def convert(args: argparse.Namespace) -> dict:
    """Runs the conversion; returns the summary that is printed."""
    cls = converters.get(args.converter)
    conv = cls(args)
    fmt = args.format or cls.formats[0]
    if fmt not in cls.formats:
        raise UserError(f"{cls.name} writes {' or '.join(cls.formats)}, not {fmt}; drop --format or pick one of those")
    name = args.name or cls.name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise UserError(f"--name {name!r}: use letters, digits, '_', '.', '-' (it becomes a dataset name and file name)")
    if args.from_catalog:
        from_catalog(args, cls)
    if not args.inputs:
        raise UserError("no INPUT files: name the raw files, or pass --from-catalog NAME (see `lfd fetch --list`)")
    if args.test and args.test_size:
        raise UserError("give either --test FILE... or --test-size N, not both")
    for path in [*args.inputs, *(args.test or [])]:
        if not path.is_file():
            raise UserError(f"{path}: no such file; check the path")
    out_dir: Path = args.out_dir
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out-dir {out_dir}: cannot create it ({err.strerror}); pick a writable folder") from None

    with_test = bool(args.test or args.test_size)
    entries = cls.entries(name, fmt, "", ("train", "test") if with_test else ("train",))
    info_path = out_dir / dataset_info.FILE_NAME
    dataset_info.refuse_conflicts(info_path, dataset_info.load(info_path), entries, args.force)

    paths = {"train": out_dir / f"{name}_train.jsonl", "test": out_dir / f"{name}_test.jsonl"}
    rng = random.Random(args.seed)
    with AtomicFiles() as out:
        rejects = out.open(args.rejects) if args.rejects else None
        run = Run(conv, fmt, rejects)
        train = out.open(paths["train"])
        test_keys: set[bytes] = set()
        held_out: set[int] = set()
        if with_test:
            test = out.open(paths["test"])
            if args.test:
                test_examples = run.examples(args.test, "test")
            else:
                sample, total = _reservoir(run.examples(args.inputs, "train"), args.test_size, rng)
                if args.test_size >= total:
                    raise UserError(f"--test-size {args.test_size} leaves no training data ({total} records); "
                                    "pick a smaller number")
                held_out = {index for index, _ in sample}
                test_examples = (example for _, example in sample)
            for example in test_examples:
                run.write(test, "test", example)
                test_keys.add(example.prompt_hash())

        counted = not args.test_size  # the reservoir pass already counted reads and skips
        if args.limit is not None and counted:
            total = sum(1 for _ in run.examples(args.inputs, "train"))
            counted = False
        if args.limit is None and not held_out:
            for path in args.inputs:  # every record is written: big files are converted in parallel parts
                if not convert_in_parts(run, path, train, test_keys, args):
                    run.write_train(train, run.examples([path], "train"), test_keys)
        else:
            eligible = total - len(held_out) if args.limit is not None else 0
            chosen = set(rng.sample(range(eligible), args.limit)) if args.limit is not None and args.limit < eligible else None
            examples = run.examples(args.inputs, "train", count=counted)
            run.write_train(train, sampled(examples, held_out, chosen, run.tallies["train"]), test_keys)
        for split in ("train", "test") if with_test else ("train",):
            refuse_empty(split, run.tallies[split], args)
        # the files appear only if the entries still fit: another run may have merged since the check above
        merged = dataset_info.merge(info_path, entries, force=args.force, before_merge=out.commit)
    return {"name": name, "paths": paths, "tallies": run.tallies, "with_test": with_test,
            "dataset_info": dataset_info.describe(merged, info_path), "rejects": args.rejects}


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_PARTS_JOB: tuple | None = None  # what the forked workers of convert_in_parts convert


def convert_in_parts(run: Run, path: Path, handle, test_keys: set[bytes], args: argparse.Namespace) -> bool:
    """Converts a big JSONL file or indented JSON array (see ``readers.json_parts``) in parts, one process
    per CPU, and writes the parts' lines to ``handle`` in order: the same bytes and counts as reading it
    whole. This process converts the first part straight into ``handle`` while forked workers convert
    the others into temporary files, appended afterwards (copying costs about a third of converting).
    Returns False, having written nothing, when the run or the file does not allow it or any part
    fails (an error, a wrong split point): the caller then reads the file whole, which reports errors
    with their exact location. Not with --rejects (locations count from each part's start)."""
    global _PARTS_JOB
    conv = run.converter
    if args.rejects or not conv.parallel or type(conv).rows is not Converter.rows:
        return False
    encoding = getattr(args, "encoding", None)
    split = json_parts(path, encoding, min(usable_cpus(), MAX_WORKERS))
    if split is None:
        return False
    jsonl, parts = split
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    files: dict[int, Path] = {}
    handle.flush()  # nothing buffered is copied into the workers
    mark = handle.tell()
    try:
        try:
            for index in range(1, len(parts)):
                fd, name = tempfile.mkstemp(dir=args.out_dir, prefix=f".lfd-part{index}.", suffix=".tmp")
                os.close(fd)
                files[index] = Path(name)
            _PARTS_JOB = (run, path, encoding, jsonl, parts, files, test_keys)
            with ProcessPoolExecutor(len(parts) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
                others = pool.map(_convert_part, range(1, len(parts)))  # submitted: the workers start
                tallies = [_convert_part(0, handle), *others]
            if None not in tallies:
                for index in range(1, len(parts)):
                    append_file(handle, files[index])
        except (OSError, BrokenProcessPool):  # no room for the parts, a worker killed (out of memory?)
            tallies = [None]
        if None in tallies:  # take back what the first part wrote
            handle.flush()
            handle.seek(mark)
            handle.truncate()
            return False
        train = run.tallies["train"]
        for tally in tallies:
            train.read += tally.read
            train.written += tally.written
            train.augmented += tally.augmented
            train.skipped.update(tally.skipped)
        return True
    finally:
        _PARTS_JOB = None
        for file in files.values():
            file.unlink(missing_ok=True)


def append_file(handle, source: Path) -> None:
    """Appends the bytes of ``source`` to the open file ``handle``, inside the kernel where it can."""
    handle.flush()
    with open(source, "rb") as part:
        left, copied = os.fstat(part.fileno()).st_size, 0
        try:
            while left:
                step = os.copy_file_range(part.fileno(), handle.fileno(), left)
                if not step:
                    break
                left, copied = left - step, copied + step
        except (AttributeError, OSError):  # no copy_file_range here (other systems, file systems)
            if copied:
                raise
            shutil.copyfileobj(part, handle.buffer, CHUNK)


def _convert_part(index: int, handle=None) -> Tally | None:
    """Converts part ``index`` into ``handle``, or in a forked worker into its file; its tally, or None if
    anything failed."""
    parent, path, encoding, jsonl, parts, files, test_keys = _PARTS_JOB
    run = Run(parent.converter, parent.fmt)
    first, last = index == 0, index == len(parts) - 1
    try:
        with open(files[index], "w", encoding="utf-8", newline="\n") if handle is None else nullcontext(handle) as out:
            rows = iter_json_part(path, parts[index], encoding, jsonl, first, last)
            run.write_train(out, run.examples_of(path, rows, "train", first=first), test_keys)
    except Exception:  # noqa: BLE001 - the whole-file pass that follows reports it properly
        return None
    return run.tallies["train"]


def sampled(examples: Iterable[Example], held_out: set[int], chosen: set[int] | None, tally: Tally) -> Iterator[Example]:
    """The examples that are neither held out (by index) nor left out by --limit (by rank among the rest)."""
    rank = -1
    for index, example in enumerate(examples):
        if index in held_out:
            continue
        rank += 1
        if chosen is not None and rank not in chosen:
            tally.skipped["not sampled (--limit)"] += 1
            continue
        yield example


def refuse_empty(split: str, tally: Tally, args: argparse.Namespace) -> None:
    """An empty split is an error (LLaMA-Factory would stop with `Cannot find valid samples`): nothing is written."""
    if tally.written:
        return
    files = " ".join(map(str, args.test if split == "test" and args.test else args.inputs))
    reasons = ", ".join(f"{reason}: {n}" for reason, n in tally.skipped.most_common()) or "no records"
    hint = " (pass --rejects FILE to see them)" if tally.skipped and not args.rejects else ""
    raise UserError(f"no usable {split} records in {files} ({reasons}){hint}; nothing was written")


def from_catalog(args: argparse.Namespace, cls: type[Converter]) -> None:
    """Inputs, test files and default options from a catalog source already in the `lfd fetch` cache."""
    from . import fetch

    info = fetch.entry(args.from_catalog)
    if info.get("converter") != cls.name:
        raise UserError(f"catalog source {args.from_catalog!r} is converted by {info.get('converter') or 'no converter'}, "
                        f"not {cls.name}; run `lfd convert {info.get('converter')} --from-catalog {args.from_catalog} ...`")
    cache = args.cache_dir or fetch.default_cache()
    files = fetch.split_files(args.from_catalog, cache)
    if args.inputs:
        raise UserError("give INPUT files or --from-catalog, not both")
    args.inputs = files["train"]
    defaults = cls_parser_defaults(cls, fetch.catalog_args(args.from_catalog, cache))
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
    for split in ("train", "test"):
        tally: Tally = summary["tallies"][split]
        if split == "test" and not summary["with_test"]:
            continue
        read = f"read {tally.read}, " if tally.read else ""
        copies = f" ({tally.augmented} of them augmented copies)" if tally.augmented else ""
        print(f"{split}: {read}wrote {tally.written}{copies} -> {summary['paths'][split]}", file=out)
        for reason, n in sorted(tally.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  skipped {n}: {reason}", file=out)
    if summary["rejects"]:
        print(f"rejected records with their file and location: {summary['rejects']}", file=out)
    print(summary["dataset_info"], file=out)


def run(args: argparse.Namespace) -> int:
    report(convert(args))
    return 0


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def add_parser(sub) -> argparse.ArgumentParser:
    from .cli import add_command

    p = add_command(
        sub, "convert",
        example="lfd convert med_norm data/samples/med_norm/yidu_n7k_train.xlsx --test-size 20 --out-dir data",
        description=("Convert raw files with CONVERTER (see `lfd list`) into LLaMA-Factory JSONL and merge\n"
                     "<name>_train / <name>_test entries into OUT_DIR/dataset_info.json.\n"
                     "Counts of records read, written and skipped (by reason) go to stderr."),
        help="raw files -> LLaMA-Factory dataset + dataset_info.json entries",
    )
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("converter", metavar="CONVERTER", help="converter name, e.g. med_norm")
    p.add_argument("inputs", metavar="INPUT", nargs="*", type=Path, help="raw training files")
    p.add_argument("--from-catalog", metavar="NAME",
                   help="take INPUT/--test files and options from a source in the `lfd fetch` cache")
    p.add_argument("--cache-dir", type=Path, help="the `lfd fetch` cache (default $LFD_CACHE or ~/.cache/llamafactory-domains)")
    p.add_argument("--out-dir", type=Path, required=True, help="folder for the JSONL files and dataset_info.json")
    p.add_argument("--name", help="dataset name (default: the converter's name)")
    p.add_argument("--test", nargs="+", type=Path, metavar="FILE", help="raw files of the test split")
    p.add_argument("--test-size", type=positive_int, metavar="N", help="hold out N random records as the test split")
    p.add_argument("--seed", type=int, default=42, help="seed for sampling (default 42)")
    p.add_argument("--format", choices=FORMATS, help="output format (default: the converter's)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="keep a seeded random sample of N training records")
    p.add_argument("--encoding", help="text encoding of CSV/JSON inputs (default: detect UTF-8/GB18030)")
    p.add_argument("--rejects", type=Path, metavar="FILE", help="write skipped records (JSONL, with file and location)")
    p.add_argument("--force", action="store_true", help="replace existing different dataset_info entries of the same name")


def extend_parser(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Adds the named converter's own options, so `lfd convert NAME --help` lists them."""
    if len(argv) > 1 and argv[0] == "convert" and not argv[1].startswith("-"):
        try:
            cls = converters.get(argv[1])
        except UserError:
            return  # reported properly when the command runs
        group = parser.add_argument_group(f"{cls.name} options")
        cls.add_arguments(group)
