"""Everything an evaluator author imports, from this one module.

An evaluator is one class in one module: it declares its options (:class:`Option`, a default and a
help text each; `lfd list` and `lfd eval --help` show them), scores one :class:`Prediction` at a
time (metric name -> value in [0, 1], None where it does not apply) and aggregates. A built-in is
a module of this package (found by importing it); a third-party class is named by an entry point
of the group ``llamafactory_domains.evaluators``::

    from llamafactory_domains.evaluators.base import Evaluator, Option, register_evaluator

    @register_evaluator("starts_right")
    class StartsRight(Evaluator):
        \"\"\"1 when the prediction starts with the label.\"\"\"

        options = {"strip": Option(True, "strip whitespace first")}

        def score(self, item):
            predict, label = (item.predict.strip(), item.label.strip()) if self.strip else (item.predict, item.label)
            return {"starts_right": float(predict.startswith(label))}

It is then usable as ``lfd eval RUN -e starts_right:strip=false``.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import ClassVar

from ..plugin.errors import UserError
from ..plugin.registry import Registry

__all__ = ["Evaluator", "Option", "Prediction", "UserError", "evaluators", "register_evaluator"]


@dataclass
class Prediction:
    """One line of generated_predictions.jsonl; ``record`` is its test record when --dataset is given."""

    prompt: str
    predict: str
    label: str
    record: dict | None = None
    line: int = 0


@dataclass(frozen=True)
class Option:
    """An evaluator option: its default (whose type a given value must have), what it does, and for a
    number the least value it takes (``least``; None: any)."""

    default: bool | int | float | str | None
    help: str = ""
    least: int | float | None = None

    @property
    def kind(self) -> str:
        """The value's type as `lfd list` shows it.

        >>> Option(False).kind, Option(3).kind, Option(0.5).kind, Option("word").kind
        ('true|false', 'int', 'number', 'text')
        """
        if isinstance(self.default, bool):
            return "true|false"
        if isinstance(self.default, int):
            return "int"
        return "number" if isinstance(self.default, float) else "text"


class Evaluator(abc.ABC):
    """Base class: ``options`` maps each option name to its :class:`Option` (a bare default is taken as one)."""

    name = ""  # set by @register_evaluator
    options: ClassVar[dict[str, Option]] = {}
    # the metric headlines and the "reliably better" marks use when the test split declares none
    # (its converter's ``primary_metric``): the first evaluator's
    primary: ClassVar[str] = ""
    # metrics whose values may lie outside [0, 1] (rescaled BERTScore); they must still be finite
    unbounded: ClassVar[tuple[str, ...]] = ()
    # metric groups ("prefix/member" names): the title of each group's chart on the report pages, and
    # groups drawn as a reference bar in another group's chart (the labels' letter shares beside the answers')
    group_titles: ClassVar[dict[str, str]] = {}
    group_references: ClassVar[dict[str, str]] = {}

    def __init__(self, **options):
        declared = self.declared()
        unknown = [key for key in options if key not in declared]
        if unknown:
            valid = ", ".join(declared) or "none"
            raise UserError(f"evaluator {self.name!r} has no option {unknown[0]!r}; valid options: {valid}")
        self.settings = {
            key: _typed(self.name, key, option.default, options.get(key, option.default))
            for key, option in declared.items()
        }
        for key, option in declared.items():
            if option.least is not None and self.settings[key] < option.least:
                raise UserError(f"option {key} of evaluator {self.name!r} must be at least {option.least}, "
                                f"got {self.settings[key]}")
        for key, value in self.settings.items():
            setattr(self, key, value)

    @classmethod
    def declared(cls) -> dict[str, Option]:
        """The options as :class:`Option` declarations."""
        return {key: value if isinstance(value, Option) else Option(value) for key, value in cls.options.items()}

    @classmethod
    def describe_options(cls) -> list[str]:
        """One line per option, ``key=DEFAULT (type): help``, for `lfd list` and `lfd eval --help`."""
        return [f"{key}={format_value(option.default)} ({option.kind}): {option.help}".rstrip(": ")
                for key, option in cls.declared().items()]

    @property
    def spec(self) -> str:
        """``name[:key=value,...]`` with the options that differ from their defaults; ``-e`` accepts it."""
        declared = self.declared()
        changed = [f"{k}={format_value(v)}" for k, v in self.settings.items() if v != declared[k].default]
        return self.name + (":" + ",".join(changed) if changed else "")

    @abc.abstractmethod
    def score(self, item: Prediction) -> dict[str, float | None]:
        """Metric name → value in [0, 1] for one prediction; None (or no key) when it does not apply."""

    def score_batch(self, items: list[Prediction]) -> list[dict[str, float | None]]:
        """Scores of all items; evaluators with a model (BERTScore) override it to batch the work."""
        return [self.score(item) for item in items]

    def aggregate(self, per_item: list[dict[str, float | None]]) -> dict[str, float]:
        """Mean of each metric over the items where it is not None."""
        return {name: math.fsum(values) / len(values) for name, values in metric_values(per_item).items()}


evaluators = Registry("evaluator", "llamafactory_domains.evaluators", base=Evaluator, package=__package__)


def register_evaluator(name: str):
    """Class decorator: ``@register_evaluator("exact_match")`` makes the class ``-e exact_match``."""
    return evaluators.register(name)


def metric_values(per_item: list[dict[str, float | None]]) -> dict[str, list[float]]:
    """Each metric's values over the items, Nones left out; metrics in the order the items first name
    them (a None names it too), those without any value left out.

    >>> metric_values([{"a": None, "b": 1.0}, {"a": 0.5, "b": None}])
    {'a': [0.5], 'b': [1.0]}
    """
    values: dict[str, list[float]] = {}
    for scores in per_item:
        for name, value in scores.items():
            values.setdefault(name, [])
            if value is not None:
                values[name].append(value)
    return {name: found for name, found in values.items() if found}


def format_value(value) -> str:
    """An option value as ``-e`` takes it: booleans lower-case."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _typed(evaluator: str, key: str, default, value):
    """``value`` checked against the type of ``default``: 0/1 pass as booleans, ints as floats, anything as text."""
    if isinstance(default, str) or default is None:
        return value if default is None else format_value(value)
    if isinstance(default, bool):
        ok, wanted, value = value in (0, 1), "true or false", bool(value) if value in (0, 1) else value
    elif isinstance(default, int):
        ok, wanted = isinstance(value, int) and not isinstance(value, bool), "an integer"
    else:
        ok, wanted = isinstance(value, int | float) and not isinstance(value, bool), "a number"
        value = float(value) if ok else value
    if not ok:
        raise UserError(f"option {key} of evaluator {evaluator!r} must be {wanted}, got {format_value(value)!r}")
    return value
