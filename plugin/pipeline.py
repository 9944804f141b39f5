"""The `lfd convert` run: raw files -> ``<name>_train.jsonl`` / ``_test`` / ``_val`` + dataset_info entries.

The pipeline streams: records are read, converted and written one at a time. A held-out split
(``--test-size``, ``--val-size``) and ``--limit`` sampling each take another pass over the input
instead of holding it in memory; only the held-out splits (and the chosen record numbers) are kept.
With ``--circular K`` (the exam converters) each test question is also written, options rotated, to
``<name>_test_circular`` as it is written to the test split (plugin/circular.py); nothing else changes.
The validation split is drawn from the training pool (what is left once the test split and its
duplicates are out), and the training split then leaves out its duplicates too (plugin/dedup.py).
Without any of them, a big JSON array or JSONL file is converted in parts, one process per CPU (see
:mod:`.parallel`): the same bytes as one pass. With them (or --rejects, or a big CSV), big inputs are
converted once in parallel parts and the passes run over the converted lines (:mod:`.converted`);
:func:`_passes` is the one-process way, taken when that cannot be. The data files appear only together with their
dataset_info.json entries, under the output folder's lock.
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..converters.base import converters
from . import dataset_info, outputs
from .circular import refuse_one_rotation
from .dedup import VAL_REASONS, HeldOut, TestItems
from .errors import UserError
from .io.atomic import AtomicFiles
from .io.paths import same_file
from .io.text import check_encoding, open_bytes
from .converted import convert_converted, reservoir, test_size_error, val_size_error
from .io.dispatch import CSV_SUFFIXES, XLSX_SUFFIXES, ZIP_SUFFIXES
from .parallel import convert_in_parts
from .records import Example
from .run import Run, Tally


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
    if not args.inputs:
        raise UserError("no INPUT files: name the raw files, or pass --from-catalog NAME (see `lfd fetch --list`)")
    if args.test and args.test_size:
        raise UserError("give either --test FILE... or --test-size N, not both")
    for path in [*args.inputs, *(args.test or [])]:
        open_bytes(path).close()  # a folder, a pipe, a missing or an unreadable file: each its own line
        if getattr(args, "encoding", None) and Path(path).suffix.lower() not in XLSX_SUFFIXES | ZIP_SUFFIXES:
            check_encoding(Path(path), args.encoding)
    refuse_repeated(args.inputs, args.test or [])
    out_dir: Path = args.out_dir
    with_test = bool(args.test or args.test_size)
    circular = getattr(args, "circular", None)  # --circular K of the exam converters
    refuse_one_rotation(circular)
    if circular and not with_test:
        raise UserError(f"--circular {circular} rotates the options of the test questions, and this run has no test "
                        "split; pass --test FILE... or --test-size N")
    splits = ("train", *(["test"] * with_test), *(["test_circular"] * bool(circular)), *(["val"] * bool(args.val_size)))
    entries = cls.entries(name, fmt, "", splits, circular=circular)
    info_path = out_dir / dataset_info.FILE_NAME
    paths = {split: out_dir / f"{name}_{split}.jsonl" for split in ("train", "test", "test_circular", "val")}
    outputs.check_before(args, name, paths, info_path, entries, splits)  # no output over an input, ...
    rng = random.Random(args.seed)
    with AtomicFiles() as out:
        rejects = out.open(args.rejects) if args.rejects else None
        run = Run(conv, fmt, rejects, cleaner_of(args))
        train = out.open(paths["train"])
        if not in_parts(args) or not convert_converted(run, args, out, paths, train, rng, refuse_empty):
            _passes(args, run, out, paths, train, rng, with_test, circular)
        for split in splits:
            refuse_empty(split, run.tallies[split], args)
        # the files appear only if the entries still fit: another run may have merged since the check above
        merged, notes = outputs.commit(args, out, name, paths, info_path, entries, splits)
    return {"name": name, "paths": paths, "tallies": run.tallies, "splits": splits,
            "dataset_info": dataset_info.describe(merged, info_path), "rejects": args.rejects,
            "notes": [*notes, *getattr(run.converter, "notes", [])]}


def _passes(args: argparse.Namespace, run: Run, out, paths: dict, train, rng: random.Random, with_test: bool,
            circular) -> None:
    """The splits written in one process, reading the raw files again for each pass."""
    tally = run.tallies["train"]
    test_keys = TestItems()  # what the training split must leave out (plugin/dedup.py)
    val_keys = TestItems(VAL_REASONS)  # and, with --val-size, the validation items
    held_out: set[int] = set()  # --test-size: the test records, by index among the valid examples
    val_held_out: set[int] = set()  # --val-size: the validation records, by index in the pool
    if with_test:
        test = out.open(paths["test"])
        rotated = out.open(paths["test_circular"]) if circular else None
        if args.test:
            test_examples = run.examples(args.test, "test")
        else:
            sample, total = reservoir(run.examples(args.inputs, "train"), args.test_size, rng)
            if not total:  # every record was skipped: say why, not that the number is too big
                refuse_empty("train", tally, args)
            if args.test_size >= total:
                raise test_size_error(args.test_size, total)
            held_out = {index for index, _ in sample}
            test_examples = (example for _, example in sample)
        for example in test_examples:
            run.write(test, "test", example)
            test_keys.add(example)  # keys take option order as a set: a rotation is the same item
            for copy in run.converter.held_out_copies(example):
                run.write(test, "test", copy)
                run.tallies["test"].augmented += 1
                test_keys.add(copy)
            if rotated is not None:
                run.write_circular(rotated, example, circular)

    # each pass over the inputs counts (reads and skips, then test and validation items left out) only
    # what no pass before it counted: the --test-size reservoir pass counted the reads
    counted = {"reads": bool(args.test_size), "test items": False, "val items": False}

    def pool() -> Iterator[Example]:
        """The training pool: examples neither held out for the test split nor test items, and, once
        the validation split is drawn from it, neither validation records nor their duplicates."""
        count = {key: not done for key, done in counted.items()}
        counted.update({"reads": True, "test items": True, "val items": bool(val_keys)})
        examples = run.examples(args.inputs, "train", count=count["reads"])
        examples = run.fresh(sampled(examples, held_out, None, tally), test_keys, count["test items"])
        if val_keys:
            examples = run.fresh(sampled(examples, val_held_out, None, tally), val_keys, count["val items"])
        return examples

    if args.val_size:
        val = out.open(paths["val"])
        sample, usable = reservoir(pool(), args.val_size, rng)
        if not usable:
            refuse_empty("train", tally, args)
        if args.val_size >= usable:
            raise val_size_error(args.val_size, usable, with_test)
        val_held_out = {index for index, _ in sample}
        for _, example in sample:  # never augmented: --shuffle-options copies are training data
            run.write(val, "val", example)
            val_keys.add(example)
    if args.limit is not None:  # --limit counts what is written: it samples what deduplication keeps
        total = sum(1 for _ in pool())
    if args.limit is None and not held_out and not args.val_size:
        for path in args.inputs:  # every record is written: big files are converted in parallel parts
            if not convert_in_parts(run, path, train, test_keys, args):
                run.write_train(train, run.examples([path], "train"), test_keys)
    else:
        chosen = set(rng.sample(range(total), args.limit)) if args.limit is not None and args.limit < total else None
        run.write_train(train, sampled(pool(), set(), chosen, tally), HeldOut(test_keys, val_keys), checked=True)


def refuse_repeated(inputs: list[Path], tests: list[Path]) -> None:
    """A file given twice (as INPUT twice, or as an INPUT and a --test file) is an error: its records would
    be written twice, or every training record would be a test item. An archive may be both: each split
    reads its own member of it (IMCS-V2-MRG.zip)."""
    named = [("INPUT", path) for path in inputs] + [("--test", path) for path in tests]
    for index, (kind, path) in enumerate(named):
        for earlier_kind, earlier in named[:index]:
            archive = Path(path).suffix.lower() in ZIP_SUFFIXES and kind != earlier_kind
            if not archive and same_file(path, earlier):
                if kind == earlier_kind:
                    raise UserError(f"{path}: given twice as {kind} ({earlier} and {path}); its records would be "
                                    "written twice: pass it once")
                raise UserError(f"{path}: both an INPUT and a --test file; every training record would be a test "
                                "item: pass another --test file, or --test-size N")


def cleaner_of(args: argparse.Namespace):
    """--clean / --clean-rules: the Cleaner of plugin/cleaning/pipeline.py every example goes through, or None."""
    rules = getattr(args, "clean_rules", None)
    if not getattr(args, "clean", False) and rules is None:
        return None
    from .cleaning.pipeline import Cleaner, Options, chosen_rules

    return Cleaner(Options(rules=chosen_rules(argparse.Namespace(rules=rules, no=None), flag="--clean-rules")))


def in_parts(args: argparse.Namespace) -> bool:
    """Whether the run goes through plugin/converted.py first: any option but --test files alone (a run
    without options converts big JSON files in parts itself, plugin/parallel.py), or a CSV input."""
    plain = args.limit is None and not args.test_size and not args.val_size and not args.rejects
    return not plain or any(Path(path).suffix.lower() in CSV_SUFFIXES for path in args.inputs)


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
    if split == "test_circular":
        return refuse_unrotated(tally, args)
    if tally.written:
        return
    files = " ".join(map(str, args.test if split == "test" and args.test else args.inputs))
    # nothing is written, --rejects included: name the first skipped record instead
    first = f"; the first is {tally.first_skip}" if tally.first_skip else ""
    raise UserError(f"no usable {split} records in {files} ({skip_reasons(tally) or 'no records'}){first}; "
                    "nothing was written")


def refuse_unrotated(tally: Tally, args: argparse.Namespace) -> None:
    """A circular split without a rotated question (none written, or each in its own order only) is an error."""
    if not tally.written:
        raise UserError(f"--circular {args.circular}: no test question is a choice question ({skip_reasons(tally)}); "
                        "drop --circular, or hold out choice questions; nothing was written")
    if tally.written == tally.questions:
        raise UserError(f"--circular {args.circular}: no test question could be rotated ({skip_reasons(tally)}), so "
                        "no circular number could be computed; drop --circular; nothing was written")


def skip_reasons(tally: Tally) -> str:
    """``reason: n, …`` of the skipped records, most first."""
    return ", ".join(f"{reason}: {n}" for reason, n in tally.skipped.most_common())
