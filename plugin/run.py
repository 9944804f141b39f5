"""One `lfd convert` run's reading and writing: records in with counts and rejects, lines out."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..converters.base import Converter, Shape
from .circular import circular_examples
from .dedup import EXACT, HeldOut, TestItems
from .errors import UserError, where
from .io.rows import Row, Skip, record_of
from .records import Example

DEDUP_REASON = EXACT  # the exact prompt; plugin/dedup.py has the other reasons
COPY_REASON = "augmented copy (e.g. --shuffle-options) is a held-out item: {}"  # {}: the test or validation reason
# --clean's record rules (plugin/cleaning/pipeline.py), as skip reasons: by rule, never by the record's text
CLEAN_REASONS = {"empty_answer": "--clean: the answer is empty or a placeholder (无, 略, 同上, …)",
                 "echo_answer": "--clean: the answer only repeats the question"}
WRITE_BATCH = 256  # lines joined into one write


@dataclass
class Tally:
    read: int = 0
    written: int = 0
    augmented: int = 0  # of ``written``: extra copies made by Converter.augment
    questions: int = 0  # test_circular: the test questions whose variants ``written`` counts
    skipped: Counter = field(default_factory=Counter)
    cleaned: Counter = field(default_factory=Counter)  # --clean: the changes by rule (privacy:TYPE for masks)
    # where the first skipped record is, for the error when nothing is left (then the file was read in one
    # pass: see parallel.convert_in_parts); a message, not a count: tallies compare without it
    first_skip: FirstSkip | None = field(default=None, compare=False)


class FirstSkip:
    """Where the first skipped record of a split is and why, as text: worked out only when shown (a
    location of plugin/converted.py may take a part of the file read again)."""

    __slots__ = ("path", "row", "reason")

    def __init__(self, path: Path, row: Row | None, reason: str):
        self.path, self.row, self.reason = path, row, reason

    def __str__(self) -> str:
        return f"{where(printable(self.path), self.row.location if self.row else None)}: {self.reason}"


class Run:
    """One `lfd convert` invocation: reading with counts and rejects, writing the splits."""

    def __init__(self, converter: Converter, fmt: str, rejects=None, cleaner=None):
        self.converter, self.fmt, self.rejects = converter, fmt, rejects
        self.cleaner = cleaner  # --clean: a plugin/cleaning/pipeline.py Cleaner each example goes through
        self.tallies = {"train": Tally(), "test": Tally(), "test_circular": Tally(), "val": Tally()}
        self.origin: tuple[Path | None, Row | None] = (None, None)  # file and row of the last example yielded

    def skip(self, split: str, reason: str, path: Path | None = None, row: Row | None = None) -> None:
        tally = self.tallies[split]
        tally.skipped[reason] += 1
        if tally.first_skip is None and path is not None:
            tally.first_skip = FirstSkip(path, row, reason)
        if self.rejects is not None:
            record = record_of(row)
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
            self.origin = (path, row)
            if self.cleaner is None:
                if isinstance(produced, Example):
                    yield produced
                else:
                    yield from produced
                continue
            for example in (produced,) if isinstance(produced, Example) else produced:
                example = self.cleaned(example, split, count)
                if example is not None:
                    yield example

    def cleaned(self, example: Example, split: str, count: bool) -> Example | None:
        """``example`` as --clean leaves it (masked, its junk removed), or None when a record rule drops it;
        with ``count`` its changes and the drop are counted (the later passes over the same records do not)."""
        record = {"instruction": example.instruction, "input": example.input, "output": example.output,
                  "system": example.system, "history": [list(turn) for turn in example.history]}
        result = self.cleaner.clean(record)
        if result.dropped is not None:
            if count:
                self.skip(split, CLEAN_REASONS.get(result.dropped, f"--clean: {result.dropped}"), *self.origin)
            return None
        if count:
            self.tallies[split].cleaned.update(result.counts)
        (kept,) = result.records
        return replace(example, instruction=kept["instruction"], input=kept["input"], output=kept["output"],
                       system=kept["system"], history=[tuple(turn) for turn in kept["history"]])

    def line(self, example: Example) -> str:
        conv = self.converter
        return example.to_line(self.fmt, conv.with_system, conv.with_history)

    def write(self, handle, split: str, example: Example) -> None:
        handle.write(self.line(example))
        self.tallies[split].written += 1

    def write_circular(self, handle, example: Example, k: int | str) -> None:
        """``--circular K``: the rotated variants of the test example just written (plugin/mcq.py); a question
        not rotated is counted by reason."""
        tally = self.tallies["test_circular"]
        variants, reason = circular_examples(example, self.converter.render_choice, k, self.tallies["test"].written)
        if reason is not None:
            tally.skipped[reason] += 1
        tally.questions += bool(variants)
        for variant in variants:
            self.write(handle, "test_circular", variant)

    def fresh(self, examples: Iterable[Example], test: TestItems | HeldOut, count: bool = True) -> Iterator[Example]:
        """The examples that are not items of ``test`` (a held-out split, see plugin/dedup.py); with ``count``
        the others are counted by reason and go to the rejects with their file, location and record."""
        for example in examples:
            reason = test.match(example) if test else None  # nothing is hashed without a test split
            if reason is None:
                yield example
            elif count:
                self.skip("train", reason, *self.origin)

    def write_train(self, handle, examples: Iterable[Example], test: TestItems | HeldOut, checked: bool = False) -> None:
        """Writes training examples and their augmented copies, leaving out held-out items (test, validation;
        originals and copies alike); ``checked``: the examples were already passed through :meth:`fresh`."""
        tally, pending = self.tallies["train"], []
        augment = self.converter.augment if type(self.converter).augment is not Converter.augment else None
        for example in examples if checked or not test else self.fresh(examples, test):
            pending.append(self.line(example))
            for copy in augment(example) if augment else ():
                reason = test.match(copy) if test else None
                if reason is not None:
                    self.skip("train", COPY_REASON.format(reason), *self.origin)
                    continue
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
