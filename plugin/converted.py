"""`lfd convert` with --limit, --test-size, --val-size or --rejects (or a big CSV) over big inputs: each
input is converted once, in parts (plugin/parts.py), one forked process per CPU, into temporary files
of converted lines, prompt keys and skips; the passes of plugin/pipeline.py (the --test-size and
--val-size reservoirs, the --limit count, the training split) then run over those files in the
original order instead of reading and converting the raw files again each time.

The passes are the pipeline's, step for step: the same seeded ``rng`` calls over the same sequence of
examples, the same deduplication (matched on the keys the workers computed), the same counts, and
rejects in the same order with their locations in the whole file (each part's records and lines
before it are added). --test files are read here, in the parent, first, as the pipeline reads them.
Anything the workers cannot do (a failing part, a converter that augments, rotates or adds held-out
copies) returns False before anything is written, and the caller reads the raw files.
"""

from __future__ import annotations

import bisect
import heapq
import os
import pickle
import random
import struct
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..converters.base import Converter
from .dedup import VAL_REASONS, TestItems, loose_keys
from .errors import UserError
from .io.atomic import make_temp
from .io.rows import Row, record_of
from . import parallel
from .parallel import _worker_start, stop_workers
from .parts import Part, file_parts, json_lines, part_rows, shift
from .run import Run

BATCH = 1024  # examples written together
_JOB: tuple | None = None  # what the forked workers convert


def reservoir(examples: Iterable, size: int, rng: random.Random) -> tuple[list, int]:
    """A seeded uniform sample of ``size`` (index, example) pairs in one pass, and the total count."""
    sample: list[tuple[float, int, object]] = []
    total = 0
    for index, example in enumerate(examples):
        total += 1
        key = rng.random()
        if len(sample) < size:
            heapq.heappush(sample, (-key, index, example))
        elif size and key < -sample[0][0]:
            heapq.heapreplace(sample, (-key, index, example))
    return sorted(((i, ex) for _, i, ex in sample), key=lambda pair: pair[0]), total


def test_size_error(size: int, total: int) -> UserError:
    return UserError(f"--test-size {size} leaves no training data ({total} records); pick a smaller number")


def val_size_error(size: int, usable: int, with_test: bool) -> UserError:
    after = " once the test split and its duplicates are out" if with_test else ""
    return UserError(f"--val-size {size} leaves no training data ({usable} usable training "
                     f"records{after}); pick a number below {usable}")


def eligible(run: Run, args) -> bool:
    conv = type(run.converter)
    return (not getattr(args, "circular", None) and conv.augment is Converter.augment
            and conv.held_out_copies is Converter.held_out_copies)


def convert_converted(run: Run, args, out, paths: dict, train, rng: random.Random, refuse_empty) -> bool:
    """The pipeline's passes over inputs converted in parallel parts (see the module's docstring); False,
    having written nothing, when the run or its inputs do not allow it or a part failed."""
    count = min(parallel.usable_cpus(), parallel.MAX_WORKERS)
    if count < 2 or not eligible(run, args):
        return False
    encoding = getattr(args, "encoding", None)
    parts = [part for path in args.inputs for part in file_parts(run.converter, path, encoding, count)]
    if all(part.kind == "whole" for part in parts):
        return False
    keys = bool(args.test or args.test_size or args.val_size)
    files: list[Path] = []
    try:
        files.extend(make_temp(args.out_dir, f"conv{index}") for index in range(len(parts)))
        for handle in (train, run.rejects):  # nothing buffered is copied into the workers
            if handle is not None:
                handle.flush()
        results = _convert_all(run, parts, files, encoding, keys, bool(args.rejects))
        if results is None:
            return False
        stream = Stream(run, parts, files, results, encoding)
        _Passes(run, args, out, paths, rng, refuse_empty, stream, train).write()
        return True
    finally:
        for file in files:
            file.unlink(missing_ok=True)


def _convert_all(run: Run, parts: list[Part], files: list[Path], encoding, keys: bool, keep: bool):
    """(records read, lines) of each part, converted by forked workers into ``files``; None if any failed."""
    global _JOB
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _JOB = (run.converter, run.fmt, run.cleaner, parts, files, encoding, keys, keep)
    try:
        pool = ProcessPoolExecutor(min(len(parts), parallel.usable_cpus(), parallel.MAX_WORKERS),
                                   mp_context=multiprocessing.get_context("fork"),
                                   initializer=_worker_start, initargs=(os.getpid(),))
        try:
            results = list(pool.map(_convert_part, range(len(parts))))
        except BaseException:  # Ctrl-C, SIGTERM: the workers stop now too
            stop_workers(pool)
            raise
        pool.shutdown()
    except (OSError, BrokenProcessPool):
        return None
    finally:
        _JOB = None
    return None if None in results else results


class _Batch:
    """Up to BATCH examples of a part as a worker writes them: their lines, keys and rows, and the skips."""

    def __init__(self):
        self.lines: list[str] = []
        self.exact: list[bytes] = []
        self.loose: list[tuple[bytes, ...]] = []
        self.ordinals = array("q")  # each example's row number in the part
        self.locations: list[str] = []  # with --rejects: each example's location in the part, and record
        self.records: list = []
        self.skips: list[tuple] = []  # (examples before it in the batch, reason, row number, location, record)

    def dump(self, out) -> None:
        meta = pickle.dumps((self.skips, b"".join(self.exact), self.loose, self.ordinals.tobytes(), self.locations,
                             self.records), pickle.HIGHEST_PROTOCOL)
        blob = "".join(self.lines).encode("utf-8")
        out.write(struct.pack(HEADER, len(meta), len(blob), len(self.lines), len(self.skips)))
        out.write(meta)
        out.write(blob)


HEADER = "<QQII"  # a batch's meta and lines sizes in bytes, its examples and skips


class _Recorder(Run):
    """A worker's Run: skips are recorded in the batch, in order, for the parent to count."""

    def __init__(self, converter, fmt, cleaner):
        super().__init__(converter, fmt, cleaner=cleaner)
        self.ordinal, self.batch = -1, _Batch()

    def skip(self, split, reason, path=None, row=None):
        data = record_of(row)
        location = row.location if row is not None else None
        self.batch.skips.append((len(self.batch.lines), reason, self.ordinal, location, data))


def _convert_part(index: int):
    """Converts part ``index`` into its file of batches; (reads, lines, --clean's changes), or None if it failed."""
    conv, fmt, cleaner, parts, files, encoding, keys, keep = _JOB
    part, run, counted = parts[index], _Recorder(conv, fmt, cleaner), []

    def numbered(rows):
        for run.ordinal, row in enumerate(rows):
            yield row

    try:
        with open(files[index], "wb") as out:
            rows = numbered(part_rows(conv, part, encoding, counted))
            for example in run.examples_of(part.path, rows, "train", first=part.first):
                batch, row = run.batch, run.origin[1]
                batch.lines.append(run.line(example))
                batch.ordinals.append(run.ordinal)
                if keys:
                    prompt = example.prompt()
                    batch.exact.append(example.prompt_hash(prompt))
                    batch.loose.append(tuple(loose_keys(example, prompt)))
                if keep:
                    batch.locations.append(row.location)
                    batch.records.append(row.data)
                if len(batch.lines) >= BATCH:
                    batch.dump(out)
                    run.batch = _Batch()
            run.batch.dump(out)
        if part.kind == "csv":
            line_count = counted[0] if counted else 0
        else:
            line_count = json_lines(part) if not part.last else 0
    except Exception:  # noqa: BLE001 - the whole-file reading that follows reports it properly
        return None
    return run.tallies["train"].read, line_count, run.tallies["train"].cleaned


class _Locator:
    """The location of a part's row by its number, read again (only shown in an error)."""

    def __init__(self, conv, part: Part, encoding, offsets: tuple[int, int]):
        self.conv, self.part, self.encoding, self.offsets = conv, part, encoding, offsets

    def location(self, ordinal: int) -> str:
        for number, row in enumerate(part_rows(self.conv, self.part, self.encoding, [])):
            if number == ordinal:
                return shift(row.location, *self.offsets)
        return f"record {ordinal}"


class Stream:
    """The converted parts in order: their reads, and their batches."""

    def __init__(self, run: Run, parts: list[Part], files: list[Path], results: list, encoding):
        self.run, self.parts, self.files, self.encoding = run, parts, files, encoding
        self.reads = sum(reads for reads, _, _ in results)
        self.cleaned = sum((cleaned for _, _, cleaned in results), Counter())
        self.offsets, records, lines = [], 0, 0
        for part, (reads, line_count, _) in zip(parts, results):
            if part.first:
                records = lines = 0
            self.offsets.append((records, lines))
            records, lines = records + reads, lines + line_count
        self.examples = sum(count for _, _, count, _, _ in self.batches(False, False))

    def batches(self, meta: bool | None, blob: bool, wanted=None) -> Iterator[tuple]:
        """(part index, first example's number, examples, meta or None, lines blob or None) of each batch;
        ``meta`` None: only for a batch with skips; ``wanted(first, count)``: which batches to load."""
        base = 0
        for index, file in enumerate(self.files):
            with open(file, "rb") as f:
                while head := f.read(struct.calcsize(HEADER)):
                    meta_size, blob_size, count, skips = struct.unpack(HEADER, head)
                    load = wanted is None or wanted(base, count)
                    if load and (meta or (meta is None and skips)):
                        data = pickle.loads(f.read(meta_size))
                    else:
                        data = None
                        f.seek(meta_size, 1)
                    if load and blob:
                        text = f.read(blob_size)
                    else:
                        text = None
                        f.seek(blob_size, 1)
                    if load:
                        yield index, base, count, data, text
                    base += count

    def skip_row(self, index: int, ordinal: int, location: str | None, data) -> Row:
        """The row a skip or an example came from, located in the whole file."""
        if location is None:
            return Row((_Locator(self.run.converter, self.parts[index], self.encoding, self.offsets[index]),
                        ordinal), data)
        return Row(shift(location, *self.offsets[index]), data)

    def fetch(self, numbers: list[int]) -> dict[int, tuple[str, bytes, tuple]]:
        """Examples by number: (line, exact key, loose keys)."""
        wanted, found, ordered = set(numbers), {}, sorted(numbers)

        def needed(first: int, count: int) -> bool:
            at = bisect.bisect_left(ordered, first)
            return at < len(ordered) and ordered[at] < first + count

        for _, base, count, meta, text in self.batches(True, True, needed):
            lines = text.split(b"\n")  # JSON lines hold no other newline byte
            for i in range(count):
                if base + i in wanted:
                    keys = meta[1][16 * i:16 * i + 16], meta[2][i] if meta[2] else ()
                    found[base + i] = (lines[i].decode("utf-8") + "\n", *keys)
        return found


def _match(items: TestItems, exact: bytes, loose: tuple) -> str | None:
    """``TestItems.match`` on the keys a worker computed."""
    if not items.exact:
        return None
    if exact in items.exact:
        return items.reasons[0]
    for index, key in enumerate(loose):
        if key in items.loose:
            return items.reasons[1] if index == 0 else items.reasons[2]
    return None


class _Passes:
    """plugin/pipeline.py's passes over a :class:`Stream`: the reservoirs draw the same rng numbers over
    the same counts (a sample depends on nothing else), and the pool is worked out once per held-out set."""

    def __init__(self, run, args, out, paths, rng, refuse_empty, stream: Stream, train):
        self.run, self.args, self.out, self.paths, self.rng, self.train = run, args, out, paths, rng, train
        self.refuse_empty, self.stream = refuse_empty, stream
        self.test_keys, self.val_keys = TestItems(), TestItems(VAL_REASONS)
        self.held_out: set[int] = set()  # by example number
        self.val_held_out: set[int] = set()
        self.counted = {"reads": False, "test items": False, "val items": False}

    def skip(self, index: int, reason: str, ordinal: int, location, data) -> None:
        row = self.stream.skip_row(index, ordinal, location, data)
        self.run.skip("train", reason, self.stream.parts[index].path, row)

    def add_reads(self) -> None:
        """The records the workers read, and --clean's changes to them, into the training tally."""
        self.run.tallies["train"].read += self.stream.reads
        self.run.tallies["train"].cleaned.update(self.stream.cleaned)

    def count_reads(self) -> None:
        """The reads and read skips, counted once."""
        self.add_reads()
        for index, _, _, meta, _ in self.stream.batches(None, False):
            for _, reason, ordinal, location, data in meta[0] if meta else ():
                self.skip(index, reason, ordinal, location, data)

    def pool(self) -> array:
        """The numbers of the examples in pipeline.convert's ``pool()``, counting what no pass before counted."""
        count = {key: not done for key, done in self.counted.items()}
        use_val = bool(self.val_keys)
        self.counted.update({"reads": True, "test items": True, "val items": use_val})
        if count["reads"]:
            self.add_reads()
        test, val, held_out, val_held_out = self.test_keys, self.val_keys, self.held_out, self.val_held_out
        members = array("q")
        plain = not (test or use_val or held_out)
        for index, base, n, meta, _ in self.stream.batches(None if plain else True, False):
            skips = meta[0] if meta and count["reads"] else []
            if plain:
                for _, reason, ordinal, location, data in skips:
                    self.skip(index, reason, ordinal, location, data)
                members.extend(range(base, base + n))
                continue
            _, exact, loose, ordinals, locations, records = meta
            ordinals, waiting = array("q", ordinals), 0
            for i in range(n):
                while waiting < len(skips) and skips[waiting][0] <= i:
                    self.skip(index, *skips[waiting][1:])
                    waiting += 1
                number = base + i
                if number in held_out:
                    continue
                key = exact[16 * i:16 * i + 16]
                reason, counting = _match(test, key, loose[i]) if test else None, count["test items"]
                if reason is None and use_val:
                    if number in val_held_out:
                        continue
                    reason, counting = _match(val, key, loose[i]), count["val items"]
                if reason is None:
                    members.append(number)
                elif counting:
                    self.skip(index, reason, ordinals[i], locations[i] if locations else None,
                              records[i] if records else None)
            for skip in skips[waiting:]:
                self.skip(index, *skip[1:])
        return members

    def held_split(self, split: str, numbers: list[int], keys: TestItems) -> None:
        """Writes the examples ``numbers`` (in order) to ``split`` and adds their keys to ``keys``."""
        handle, found = self.out.open(self.paths[split]), self.stream.fetch(numbers)
        for number in numbers:
            line, exact, loose = found[number]
            handle.write(line)
            self.run.tallies[split].written += 1
            keys.exact.add(exact)
            keys.loose.update(loose)

    def test_files(self) -> None:
        """--test FILE...: their examples to the test split, and their keys to what training leaves out."""
        handle = self.out.open(self.paths["test"])
        for example in self.run.examples(self.args.test, "test"):
            self.run.write(handle, "test", example)
            self.test_keys.add(example)

    def write(self) -> None:
        run, args, rng = self.run, self.args, self.rng
        tally = run.tallies["train"]
        if args.test:
            self.test_files()
        if args.test_size:
            self.counted["reads"] = True
            self.count_reads()
            total = self.stream.examples
            sample, _ = reservoir(range(total), args.test_size, rng)
            if not total:
                self.refuse_empty("train", tally, args)
            if args.test_size >= total:
                raise test_size_error(args.test_size, total)
            self.held_out = {number for number, _ in sample}
            self.held_split("test", sorted(self.held_out), self.test_keys)
        members = self.pool()
        if args.val_size:
            sample, usable = reservoir(range(len(members)), args.val_size, rng)
            if not usable:
                self.refuse_empty("train", tally, args)
            if args.val_size >= usable:
                raise val_size_error(args.val_size, usable, bool(args.test_size))
            self.val_held_out = {members[position] for position, _ in sample}
            self.held_split("val", sorted(self.val_held_out), self.val_keys)
            members = self.pool()
        total = len(members)
        if args.limit is not None and args.limit < total:
            chosen = sorted(members[position] for position in rng.sample(range(total), args.limit))
            tally.skipped["not sampled (--limit)"] += total - args.limit
            members = array("q", chosen)
        self.write_train(members)

    def write_train(self, members: array) -> None:
        """The lines of the examples ``members`` (ascending numbers) to the training split."""
        ordered, at, tally = members, 0, self.run.tallies["train"]

        def needed(first: int, count: int) -> bool:
            return at < len(ordered) and ordered[at] < first + count

        for _, base, count, _, text in self.stream.batches(False, True, needed):
            end = bisect.bisect_left(ordered, base + count, at)
            if end - at == count:
                self.train.write(text.decode("utf-8"))
            else:
                lines = text.split(b"\n")
                self.train.write(b"".join(lines[number - base] + b"\n" for number in ordered[at:end]).decode("utf-8"))
            tally.written += end - at
            at = end
