"""Scoring with evaluators: ``-e`` specs into evaluators, scores of a run, and two runs compared.

:func:`score_all` gives each item's scores, the aggregated metrics with their bootstrap draws and
95% intervals (:mod:`.statistics`); :func:`compare_scores` turns two runs of the same items into a
:class:`Change` per metric: the difference, its paired interval and, for 0/1 metrics, the flips.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..evaluators.base import Evaluator, Prediction, evaluators, metric_values
from .errors import UserError
from .statistics import (
    BOOTSTRAP_SAMPLES,
    confidence_intervals,
    interval,
    mcnemar_p,
    resample,
)

LOWER_IS_BETTER = ("no_answer_rate", "missing_rate", "extra_keys_rate")  # endings of metrics where less is better
FLIP_KINDS = ("fixed", "broken")  # base 0 → tuned 1, and 1 → 0 (the reverse for lower-is-better metrics)


def parse_value(text: str) -> bool | int | float | str:
    """Typed option value.

    >>> [parse_value(v) for v in ("true", "False", "3", "0.5", "loose")]
    [True, False, 3, 0.5, 'loose']
    """
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_spec(spec: str, source: str = "-e") -> tuple[str, dict]:
    """``NAME[:key=value[,key=value]]`` → (name, options); ``source`` prefixes error messages.

    >>> parse_spec("exact_match:ignore_case=true,punct=false")
    ('exact_match', {'ignore_case': True, 'punct': False})
    """
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise UserError(f"{source}: no evaluator name in {spec!r}; write NAME or NAME:key=value[,key=value]")
    options = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, equals, value = part.partition("=")
        if not equals or not key.strip():
            raise UserError(f"{source}: {part!r} in {spec!r} is not key=value; write e.g. {name}:ignore_case=true")
        options[key.strip()] = parse_value(value.strip())
    return name, options


def build_evaluators(specs: list[tuple[str, str]]) -> list[Evaluator]:
    """Evaluators from (source, spec) pairs; a name given twice merges its options, later ones winning."""
    merged: dict[str, dict] = {}
    for source, spec in specs:
        name, options = parse_spec(spec, source)
        merged.setdefault(name, {}).update(options)
    return [evaluators.get(name)(**options) for name, options in merged.items()]


@dataclass
class Scores:
    per_item: list[dict[str, float | None]]
    metrics: dict[str, float] = field(default_factory=dict)
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    draws: dict[str, np.ndarray] = field(default_factory=dict)  # bootstrap values, for paired differences


def score_all(items: list[Prediction], chosen: list[Evaluator], draws: int = BOOTSTRAP_SAMPLES) -> Scores:
    """Per-item scores, aggregated metrics, their 95% bootstrap CIs and how many items each metric covers."""
    scores, owner = Scores([{} for _ in items]), {}
    for evaluator in chosen:
        per_item = evaluator.score_batch(items)
        for item, item_scores in zip(items, per_item):
            for name, value in item_scores.items():
                if value is not None and not (isinstance(value, int | float) and 0 <= value <= 1):
                    raise UserError(
                        f"evaluator {evaluator.name!r} gave line {item.line} {name}={value!r}; "
                        "scores must be numbers in [0, 1] or None: fix the evaluator"
                    )
        metrics = evaluator.aggregate(per_item)
        for name in metrics:
            if owner.setdefault(name, evaluator.name) != evaluator.name:
                raise UserError(
                    f"evaluators {owner[name]!r} and {evaluator.name!r} both report {name!r}; drop one of them"
                )
        for merged, item_scores in zip(scores.per_item, per_item):
            merged.update(item_scores)
        scores.metrics.update(metrics)
        drawn = resample(evaluator, per_item, list(metrics), draws)
        scores.draws.update(drawn)
        scores.ci95.update(confidence_intervals(drawn))
        scores.counts.update({name: len(vals) for name, vals in metric_values(per_item).items() if name in metrics})
    return scores


def lower_is_better(metric: str) -> bool:
    return metric.endswith(LOWER_IS_BETTER)


@dataclass
class Change:
    """tuned − base for one metric, its paired-bootstrap interval and, for 0/1 metrics, the flips."""

    diff: float
    ci95: tuple[float, float] | None
    p: float | None = None  # exact two-sided McNemar
    fixed: int | None = None
    broken: int | None = None


def flips(name: str, base: Scores, tuned: Scores) -> tuple[list[int], list[int]] | None:
    """Indices of the items ``name`` fixed and broke when both runs score it 0/1; None for graded metrics.
    For a lower-is-better metric (``choice_no_answer_rate``, ``json_field_missing_rate``) fixed means 1 → 0."""
    pairs = [(i, b.get(name), t.get(name)) for i, (b, t) in enumerate(zip(base.per_item, tuned.per_item))]
    if not {v for _, b, t in pairs for v in (b, t) if v is not None} <= {0, 1}:
        return None
    up = [i for i, b, t in pairs if b == 0 and t == 1]
    down = [i for i, b, t in pairs if b == 1 and t == 0]
    return (down, up) if lower_is_better(name) else (up, down)


def compare_scores(base: Scores, tuned: Scores) -> dict[str, tuple[Change, tuple | None]]:
    """Metric → (its change, (fixed indices, broken indices) or None) for metrics both runs report."""
    changes = {}
    for name, value in base.metrics.items():
        if name not in tuned.metrics:
            continue
        flipped = flips(name, base, tuned)
        change = Change(tuned.metrics[name] - value, interval(tuned.draws[name] - base.draws[name]))
        if flipped:
            change.fixed, change.broken = len(flipped[0]), len(flipped[1])
            change.p = mcnemar_p(change.fixed, change.broken)
        changes[name] = (change, flipped)
    return changes
