"""Everything a converter author imports, from this one module.

A converter is one class in one module: it reads the records of a raw source (``rows``; the
readers here stream JSON/JSONL, CSV, xlsx, Markdown tables and zip members) and turns each into
an :class:`Example` (``convert``), or raises :class:`Skip` (left out, counted by reason) or
:class:`Shape` (the wrong kind of record: the wrong file if it is the first one). It declares one
raw record and the record it produces (``example_raw``/``example_output``): `lfd convert NAME
--help` shows them and a test converts one into the other. A built-in is a module of this package
(found by importing it); a third-party class is named by an entry point of the group
``llamafactory_domains.converters``::

    from llamafactory_domains.converters.base import Converter, Example, fields, register_converter

    @register_converter("hospital_emr")
    class HospitalEmr(Converter):
        \"\"\"Our hospital's EMR export (CSV 主诉,诊断) -> alpaca.\"\"\"

        columns = [("主诉", "诊断")]
        example_raw = {"主诉": "头痛三天", "诊断": "偏头痛"}
        example_output = {"instruction": "头痛三天", "input": "", "output": "偏头痛"}

        def convert(self, record, split):
            complaint, diagnosis = fields(record, "主诉", "诊断")
            return Example(instruction=complaint, output=diagnosis)
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

from ..plugin.commands.arguments import positive_int
from ..plugin.errors import UserError, where
from ..plugin.io.archives import iter_zip
from ..plugin.io.dispatch import iter_rows
from ..plugin.io.json_files import iter_json
from ..plugin.io.rows import Row, Skip
from ..plugin.records import FORMATS, Example, dataset_entry, text_of
from ..plugin.registry import Registry

__all__ = ["Converter", "Example", "Row", "Shape", "Skip", "UserError", "converters", "fields", "iter_json",
           "iter_rows", "iter_zip", "keys_of", "positive_int", "register_converter", "require_fields",
           "require_object", "text_of", "where"]


CIRCULAR_METRIC = "choice_circular_accuracy"  # a question counts only if every rotation of it is right


class Shape(Skip):
    """A record of the wrong shape: an error if it is the file's first record (wrong file), else a skip."""


def keys_of(record) -> str:
    """The keys of a record, for a Shape message.

    >>> keys_of({"title": 1, "ask": 2}), keys_of({})
    ('title, ask', 'none')
    """
    return ", ".join(map(str, record)) or "none"


def require_object(record, what: str = "an object") -> dict:
    """``record`` if it is a JSON object / table row, else :class:`Shape`.

    >>> require_object([1, 2])
    Traceback (most recent call last):
    ...
    llamafactory_domains.converters.base.Shape: record is a list, not an object
    """
    if not isinstance(record, dict):
        raise Shape(f"record is a {type(record).__name__}, not {what}")
    return record


def require_fields(record, *names: str) -> dict:
    """``record`` if it is an object with every named field, else :class:`Shape` naming what was found.

    >>> require_fields({"q": 1}, "context", "target")
    Traceback (most recent call last):
    ...
    llamafactory_domains.converters.base.Shape: record has no context/target fields (found: q)
    """
    require_object(record)
    if not all(name in record for name in names):
        raise Shape(f"record has no {'/'.join(names)} fields (found: {keys_of(record)})")
    return record


def fields(record, *names: str) -> tuple[str, ...]:
    """The named fields of an object record as stripped text ("" for null; see :func:`require_fields`).

    >>> fields({"context": " 问题 ", "target": None}, "context", "target")
    ('问题', '')
    """
    require_fields(record, *names)
    return tuple(text_of(record[name], name) for name in names)


class Converter:
    """Base class: subclasses set the class attributes and implement ``convert``."""

    formats: tuple[str, ...] = FORMATS  # the first is the default
    evaluators: tuple[str, ...] = ()  # recorded in the test (and val) entry, so `lfd eval` needs no names
    # the one metric the test split is judged by (headlines, flips, "reliably better"); the other
    # metrics are secondary: Holm-adjusted and labelled exploratory in `lfd compare`
    primary_metric: ClassVar[str] = ""
    # a multiple-choice converter whose examples keep their Question (plugin.mcq.ChoiceExample) and
    # that takes --circular K: its test questions, options rotated, go to <name>_test_circular,
    # judged by CIRCULAR_METRIC
    circular_split: ClassVar[bool] = False
    with_system = False
    with_history = False
    columns: list[tuple[str, ...]] = []  # accepted header column sets of tabular sources
    expects = "records"  # what a record looks like, for the wrong-file error
    # convert() and augment() look at one record at a time and keep nothing between records, so the
    # records of a big JSON file may be converted in several processes; set False otherwise (a
    # converter that overrides rows() is never split)
    parallel = True
    # one raw record as rows() yields it, and the record(s) convert() makes of it in the default
    # format with default options (a dict, or a list for several): shown by `lfd convert NAME --help`,
    # checked by tests/converters/test_examples.py
    example_command: ClassVar[str] = ""  # a typical `lfd convert` command line for the real files
    example_args: ClassVar[tuple[str, ...]] = ()  # options the example needs (paths relative to the repo root)
    example_raw: ClassVar[object] = None
    example_output: ClassVar[dict | list[dict] | None] = None
    example_split: ClassVar[str] = "train"  # the split the example is converted as

    def __init__(self, options: argparse.Namespace):
        self.options = options
        self.notes: list[str] = []  # lines printed after a successful conversion's summary (kg_qa: requests, tokens)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Converter-specific options."""

    def rows(self, path: Path, split: str) -> Iterator[Row]:
        """Records of one file; ``split`` says whether it was given as an INPUT ("train") or a --test file."""
        return iter_rows(path, getattr(self.options, "encoding", None), self.columns)

    def convert(self, record, split: str) -> Example | Iterable[Example]:
        """One raw record -> example(s); raise ``Skip(reason)`` to leave it out (counted)."""
        raise NotImplementedError

    def render_choice(self, question) -> Example:
        """A choice question (plugin.mcq.Question) as this converter writes it: each ``--circular`` variant."""
        return question.example()

    def augment(self, example: Example) -> Iterable[Example]:
        """Extra training copies of an example (e.g. options reordered). Called after the split and the
        cross-split deduplication, for training examples only; each copy is checked against the test
        split too (plugin/dedup.py), so a copy never recreates a test item."""
        return ()

    def held_out_copies(self, example: Example) -> Iterable[Example]:
        """Extra items written to the test split right after a test example (pharma_rag's refusal items of
        --test-negatives); like the example, each is kept out of training (plugin/dedup.py)."""
        return ()

    @classmethod
    def entries(cls, name: str, fmt: str, file_prefix: str, splits=None, circular=None) -> dict:
        """The dataset_info entries for ``<name>_<split>``, files at ``<file_prefix><name>_<split>.jsonl``;
        the held-out splits (test, test_circular of ``--circular K``, val of ``--val-size``) record the
        evaluators that score them; ``circular``: K as given. ``splits`` defaults to every split the
        converter can write."""
        if splits is None:
            splits = ("train", "test", "val", *(["test_circular"] * cls.circular_split))
        result = {}
        for split in splits:
            lfd = {"converter": cls.name, "split": split}
            if split in ("test", "val", "test_circular") and cls.evaluators:
                lfd["evaluators"] = list(cls.evaluators)
                if split == "test_circular":
                    lfd["primary_metric"] = CIRCULAR_METRIC
                elif cls.primary_metric:
                    lfd["primary_metric"] = cls.primary_metric
            if split == "test_circular" and circular is not None:
                lfd["circular"] = circular
            result[f"{name}_{split}"] = dataset_entry(
                f"{file_prefix}{name}_{split}.jsonl", fmt, cls.with_system, cls.with_history, lfd)
        return result

    @classmethod
    def render_example(cls, options: argparse.Namespace) -> list[dict]:
        """The records ``example_raw`` converts to, in the default format (what ``example_output`` says)."""
        converter = cls(options)
        produced = converter.convert(cls.example_raw, cls.example_split)
        examples = [produced] if isinstance(produced, Example) else list(produced)
        return [ex.render(cls.formats[0], cls.with_system, cls.with_history) for ex in examples]


converters = Registry("converter", "llamafactory_domains.converters", base=Converter, package=__package__)


def register_converter(name: str):
    """Class decorator: ``@register_converter("med_norm")`` makes the class `lfd convert med_norm`."""
    return converters.register(name)
