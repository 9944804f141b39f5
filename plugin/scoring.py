"""Scoring with evaluators (made from ``-e`` specs by :mod:`.evaluator_specs`): scores of a run, and two runs compared.

:func:`score_all` gives each item's scores, the aggregated metrics and their 95% intervals
(:class:`Scores`); :func:`compare_scores` turns two runs of the same items into a
:class:`Comparison`: one :class:`Change` per metric, computed on the items both runs score (the
pairs), with its paired interval, its test, Holm-adjusted p-values for the secondary metrics and the
flips of 0/1 metrics; :func:`reliably` says whether a change is reliably better or worse. The
methods are described in :mod:`.statistics`. The rotated copies of one question in a circular split
(`lfd convert --circular`) are one resampling unit (:func:`question_units`), in intervals and tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..evaluators.base import Evaluator, Prediction, metric_values
from .errors import UserError
from .progress import bar
from .clusters import KORN_GRAUBARD, korn_graubard, one_per_unit, unit_sums
from .statistics import (
    AGRESTI_MIN,
    ALPHA,
    BOOTSTRAP_SAMPLES,
    CLOPPER_PEARSON,
    MAX_DECIMALS,
    MCNEMAR,
    SEED,
    aggregate_draws,
    agresti_min,
    bootstrap_method,
    clopper_pearson,
    holm,
    interval,
    is_binary,
    mcnemar_p,
    resample,
    sign_flip_pvalues,
    stable_decimals,
    unit_count,
    uses_mean,
    value_table,
    weighted_mean_draws,
)

# endings of metrics where less is better
LOWER_IS_BETTER = ("no_answer_rate", "missing_rate", "extra_keys_rate", "ambiguous_rate", "flip_rate",
                   "false_refusal_rate")
QUESTION = "question"  # the resampling unit of a circular split
FLIP_KINDS = ("fixed", "broken")  # base 0 → tuned 1, and 1 → 0 (the reverse for lower-is-better metrics)


@dataclass
class Scores:
    """One run scored: per-item scores, the metrics and their 95% intervals, with how each was computed."""

    per_item: list[dict[str, float | None]]  # each item's scores (metric → value, None: does not apply)
    metrics: dict[str, float] = field(default_factory=dict)  # metric → aggregated value (mean by default)
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict)  # metric → 95% interval
    counts: dict[str, int] = field(default_factory=dict)  # metric → items with a value (its denominator)
    ci_methods: dict[str, str] = field(default_factory=dict)  # metric → "Clopper-Pearson exact" | bootstrap_method()
    decimals: dict[str, int] = field(default_factory=dict)  # metric → decimals of its interval ends that are stable
    primary: str = ""  # the first evaluator's primary metric, else the first metric
    resamples: int = BOOTSTRAP_SAMPLES  # bootstrap resamples (and Monte-Carlo sign flips) used
    owners: dict[str, Evaluator] = field(default_factory=dict, repr=False, compare=False)  # metric → its evaluator
    # each item's resampling unit (its question in a circular split), None: every item is its own
    units: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def unit(self) -> str:
        """What the intervals resample: "question" in a circular split, else "" (the items)."""
        return QUESTION if self.units is not None else ""


def question_units(items: list[Prediction]) -> np.ndarray | None:
    """Each item's resampling unit, 0…G−1: the rotated copies of one question of a circular split (their
    record's ``circular.question``) share one; None when no item has a question id (items are the units).

    >>> records = [{"circular": {"question": 1}}, {"circular": {"question": 1}}, {}, {"circular": {"question": 2}}]
    >>> question_units([Prediction("", "", "", record=r) for r in records]).tolist()
    [0, 0, 1, 2]
    """
    keys, found = [], False
    for index, item in enumerate(items):
        circular = (item.record or {}).get("circular")
        question = circular.get("question") if isinstance(circular, dict) else None
        if isinstance(question, (int, str)) and not isinstance(question, bool):
            keys.append(("question", question))
            found = True
        else:
            keys.append(("item", index))
    if not found:
        return None
    ids: dict[tuple, int] = {}
    return np.array([ids.setdefault(key, len(ids)) for key in keys], dtype=int)


def check_value(evaluator: Evaluator, item: Prediction, name: str, value) -> None:
    """One-line error unless ``value`` is None or a number in [0, 1] (any finite number for ``unbounded`` metrics)."""
    if value is None:
        return
    number = isinstance(value, int | float) and math.isfinite(value)
    if name in getattr(evaluator, "unbounded", ()):
        if not number:
            raise UserError(f"evaluator {evaluator.name!r} gave line {item.line} {name}={value!r}; "
                            f"{name} may exceed [0, 1] but must be a finite number or None: fix the evaluator")
    elif not (number and 0 <= value <= 1):
        raise UserError(f"evaluator {evaluator.name!r} gave line {item.line} {name}={value!r}; "
                        "scores must be numbers in [0, 1] or None: fix the evaluator")


def scored(evaluator: Evaluator, items: list[Prediction]) -> list[dict[str, float | None]]:
    """``evaluator.score_batch(items)`` with a bar of the items and their rate on a terminal's stderr: one by
    one when it scores an item at a time (Evaluator.score_batch's ``score`` of each: the same scores)."""
    progress = bar(len(items), evaluator.name) if items else None
    if progress is None:
        return evaluator.score_batch(items)
    with progress:
        if type(evaluator).score_batch is not Evaluator.score_batch:  # its own batching (BERTScore, choice)
            per_item = evaluator.score_batch(items)
            progress.update(len(items))
            return per_item
        per_item = []
        for item in items:
            per_item.append(evaluator.score(item))
            progress.update()
        return per_item


def score_all(items: list[Prediction], chosen: list[Evaluator], draws: int = BOOTSTRAP_SAMPLES) -> Scores:
    """Per-item scores, aggregated metrics, their 95% intervals and how many items each metric covers.

    A 0/1 metric averaged by the default mean gets the Clopper-Pearson interval, or, when a question's
    rotated copies give it several values (no binomial count), Korn and Graubard's interval at the
    effective number of questions; every other metric a percentile bootstrap of ``draws`` resamples
    (seed 0; of questions in a circular split), with :attr:`Scores.decimals` its stable decimals.
    """
    units = question_units(items)
    scores, graded = Scores([{} for _ in items], resamples=draws, units=units), []
    for evaluator in chosen:
        per_item = scored(evaluator, items)
        for item, item_scores in zip(items, per_item):
            for name, value in item_scores.items():
                check_value(evaluator, item, name, value)
        metrics = evaluator.aggregate(per_item)
        for name in metrics:
            if scores.owners.setdefault(name, evaluator).name != evaluator.name:
                raise UserError(
                    f"evaluators {scores.owners[name].name!r} and {evaluator.name!r} both report {name!r}; "
                    "drop one of them"
                )
        for merged, item_scores in zip(scores.per_item, per_item):
            merged.update(item_scores)
        scores.metrics.update(metrics)
        values = metric_values(per_item)
        scores.counts.update({name: len(vals) for name, vals in values.items() if name in metrics})
        if not uses_mean(evaluator):
            drawn = resample(evaluator, per_item, list(metrics), draws, units)
            for name, column in drawn.items():
                _bootstrap_interval(scores, name, column)
            continue
        for name in metrics:
            present = np.array([scores_of.get(name) is not None for scores_of in per_item], dtype=bool)
            if not is_binary(values.get(name, [])):
                graded.append(name)
            elif one_per_unit(present, units):
                ones, count = sum(1 for v in values[name] if v == 1), len(values[name])
                scores.ci95[name], scores.ci_methods[name] = clopper_pearson(ones, count), CLOPPER_PEARSON
                scores.decimals[name] = MAX_DECIMALS
            else:  # 0/1 values in clusters (a question's rotated copies): not a binomial count
                scores.ci95[name] = korn_graubard(np.array(values[name], dtype=float), units[present])
                scores.ci_methods[name], scores.decimals[name] = KORN_GRAUBARD, MAX_DECIMALS
    if graded:  # every default-mean graded metric of every evaluator from one set of resamples
        table = value_table(scores.per_item, graded)
        drawn = weighted_mean_draws(table, ~np.isnan(table), draws, units=units)
        for column, name in enumerate(graded):
            _bootstrap_interval(scores, name, drawn[:, column])
    first = chosen[0].primary if chosen else ""
    scores.primary = first if first in scores.metrics else next(iter(scores.metrics), "")
    return scores


def _bootstrap_interval(scores: Scores, name: str, draws: np.ndarray) -> None:
    ci = interval(draws)
    if ci is not None:
        scores.ci95[name], scores.decimals[name] = ci, stable_decimals(draws)
        scores.ci_methods[name] = bootstrap_method(scores.resamples, unit=scores.unit)


def lower_is_better(metric: str) -> bool:
    """Whether less of ``metric`` is better (its name ends with one of :data:`LOWER_IS_BETTER`).

    >>> lower_is_better("choice_no_answer_rate"), lower_is_better("choice_ambiguous_rate"), lower_is_better("rouge_l")
    (True, True, False)
    """
    return metric.endswith(LOWER_IS_BETTER)


@dataclass
class Change:
    """tuned − base for one metric on the items both runs score (the pairs), its interval and its test.

    The first five fields keep their old order, so ``Change(diff, ci95, p, fixed, broken)`` still works;
    the others are keyword-only.
    """

    diff: float | None  # tuned − base on the pairs (None when there is no pair)
    ci95: tuple[float, float] | None  # its 95% interval: Agresti-Min (0/1) or paired bootstrap (see ci_method)
    p: float | None = None  # raw two-sided p-value of `test`
    fixed: int | None = None  # 0/1 metrics: pairs that went 0 → 1 (1 → 0 for lower-is-better metrics)
    broken: int | None = None  # 0/1 metrics: the reverse
    metric: str = field(default="", kw_only=True)
    n: int = field(default=0, kw_only=True)  # pairs: items where both runs have a value
    base_only: int = field(default=0, kw_only=True)  # items only base has a value for
    tuned_only: int = field(default=0, kw_only=True)  # items only tuned has a value for
    base: float | None = field(default=None, kw_only=True)  # base's aggregate (mean) over the pairs
    tuned: float | None = field(default=None, kw_only=True)  # tuned's aggregate (mean) over the pairs
    test: str = field(default="", kw_only=True)  # "exact McNemar" | "exact sign-flip permutation" | Monte Carlo …
    ci_method: str = field(default="", kw_only=True)  # e.g. "paired percentile bootstrap, B=10000, seed 0"
    decimals: int = field(default=MAX_DECIMALS, kw_only=True)  # stable decimals of the ci95 ends
    primary: bool = field(default=False, kw_only=True)  # the comparison's primary metric (else exploratory)
    p_adjusted: float | None = field(default=None, kw_only=True)  # the p decisions use: raw (primary), Holm (others)
    flips: tuple[list[int], list[int]] | None = field(default=None, kw_only=True)  # 0/1: (fixed, broken) indices

    @property
    def exploratory(self) -> bool:
        """A secondary metric: its p is Holm-adjusted and it is not the claim of the comparison."""
        return not self.primary


def reliably(change: Change) -> str | None:
    """"better" or "worse" when the change is reliable, else None: the only verdict reports should print.

    Reliable means the decision p (raw for the primary metric, Holm-adjusted for secondary ones:
    ``p_adjusted``) is below :data:`ALPHA` = 0.05; the sign of the difference, read with
    :func:`lower_is_better`, says which way.

    >>> reliably(Change(0.2, (-0.01, 0.4), 0.125, 3, 0, metric="choice_accuracy", n=15, primary=True, p_adjusted=0.125))
    >>> reliably(Change(-0.1, (-0.2, -0.03), 0.004, metric="choice_no_answer_rate", p_adjusted=0.02))
    'better'
    """
    p = change.p_adjusted
    if p is None or not p < ALPHA or not change.diff:
        return None
    return "better" if (change.diff > 0) != lower_is_better(change.metric) else "worse"


def flips(name: str, base: Scores, tuned: Scores) -> tuple[list[int], list[int]] | None:
    """Indices of the items ``name`` fixed and broke when both runs score it 0/1; None for graded metrics.
    For a lower-is-better metric (``choice_no_answer_rate``, ``json_field_missing_rate``) fixed means 1 → 0."""
    pairs = [(i, b.get(name), t.get(name)) for i, (b, t) in enumerate(zip(base.per_item, tuned.per_item))]
    if not {v for _, b, t in pairs for v in (b, t) if v is not None} <= {0, 1}:
        return None
    up = [i for i, b, t in pairs if b == 0 and t == 1]
    down = [i for i, b, t in pairs if b == 1 and t == 0]
    return (down, up) if lower_is_better(name) else (up, down)


@dataclass
class Comparison:
    """What :func:`compare_scores` found: the primary metric and a :class:`Change` per metric both runs report."""

    primary: str  # the metric the comparison is about; the others are exploratory
    changes: dict[str, Change]  # metric → change, in base's metric order

    @property
    def flipped(self) -> tuple[str, list[int], list[int]] | None:
        """(metric, fixed indices, broken indices) of the primary metric when it is 0/1: the only flips to list."""
        change = self.changes.get(self.primary)
        if change is None or change.flips is None:
            return None
        return self.primary, *change.flips


def compare_scores(base: Scores, tuned: Scores, primary: str | None = None, draws: int | None = None) -> Comparison:
    """Base and tuned runs of the same items (item i of one is item i of the other) compared metric by metric.

    Each metric is compared on its pairs only: the items where both runs have a value. 0/1 metrics
    averaged by the mean get the exact McNemar test; other metrics a sign-flip permutation test of
    the per-item differences (a custom ``aggregate``: a Monte-Carlo swap permutation of the pairs).
    The difference of a 0/1 metric gets Agresti and Min's adjusted Wald interval for paired
    proportions; every other one a paired percentile bootstrap interval: ``draws`` (default
    ``base.resamples``) resamples of all items with seed 0, the pairs drawn averaged. ``primary``
    (default ``base.primary``, else the first metric) keeps its raw p; the other metrics' p-values
    are Holm-adjusted together into ``p_adjusted``. With ``base.units`` (a circular split) the
    questions are resampled and sign-flipped as wholes, and a 0/1 metric with several values per
    question (accuracy over the rotations) is tested like a graded one, not by McNemar.
    """
    if len(base.per_item) != len(tuned.per_item):
        raise ValueError(f"base has {len(base.per_item)} items and tuned {len(tuned.per_item)}; pair them first")
    draws = base.resamples if draws is None else draws
    units, unit = base.units, base.unit
    names = [name for name in base.metrics if name in tuned.metrics]
    if primary is None:
        primary = base.primary if base.primary in names else next(iter(names), "")
    elif primary not in names:
        shared = ", ".join(names) or "none"
        raise UserError(f"primary metric {primary!r} is not scored by both runs; they share: {shared}")
    b_table, t_table = value_table(base.per_item, names), value_table(tuned.per_item, names)
    changes, means, custom = {}, [], {}
    for column, name in enumerate(names):
        has_b, has_t = ~np.isnan(b_table[:, column]), ~np.isnan(t_table[:, column])
        paired = has_b & has_t
        change = Change(None, None, metric=name, n=int(paired.sum()), base_only=int((has_b & ~has_t).sum()),
                        tuned_only=int((has_t & ~has_b).sum()), primary=name == primary,
                        ci_method=bootstrap_method(draws, paired=True, unit=unit))
        changes[name] = change
        owner = base.owners.get(name)
        if not uses_mean(owner):
            keep = np.flatnonzero(paired) if has_b.any() or has_t.any() else np.arange(len(paired))
            change.n = len(keep)
            if change.n:
                custom.setdefault((id(owner), tuple(keep)), []).append(name)
            continue
        if not change.n:
            continue
        b_vals, t_vals = b_table[paired, column], t_table[paired, column]
        change.base, change.tuned = math.fsum(b_vals) / change.n, math.fsum(t_vals) / change.n
        change.diff = change.tuned - change.base
        change.flips = flips(name, base, tuned)  # not None: every value of both runs is 0 or 1
        if change.flips is not None:
            change.fixed, change.broken = len(change.flips[0]), len(change.flips[1])
            if one_per_unit(paired, units):  # independent pairs: McNemar; a question's rotations are not
                change.p, change.test = mcnemar_p(change.fixed, change.broken), MCNEMAR
        means.append(column)
    if means:
        differences = np.where(np.isnan(b_table) | np.isnan(t_table), np.nan, t_table - b_table)[:, means]
        paired = ~np.isnan(differences)
        drawn = weighted_mean_draws(differences, paired, draws, units=units)
        graded = [i for i, column in enumerate(means) if changes[names[column]].test != MCNEMAR]
        tests = sign_flip_pvalues(unit_sums(differences[:, graded], units), draws, unit=unit) if graded else []
        for i, (p, test) in zip(graded, tests):
            changes[names[means[i]]].p, changes[names[means[i]]].test = p, test
        for i, column in enumerate(means):
            change = changes[names[column]]
            if change.test == MCNEMAR:  # 0/1: the adjusted Wald interval, which no lack of flips collapses
                up, down = (change.broken, change.fixed) if lower_is_better(change.metric) else (change.fixed, change.broken)
                change.ci95, change.ci_method, change.decimals = agresti_min(up, down, change.n), AGRESTI_MIN, MAX_DECIMALS
            else:
                _paired_interval(change, drawn[:, i])
    for (_, keep), group in custom.items():
        _compare_custom(base, tuned, group, np.array(keep, dtype=int), draws, changes, units)
    secondary = [change for change in changes.values() if not change.primary and change.p is not None]
    for change, adjusted in zip(secondary, holm([change.p for change in secondary])):
        change.p_adjusted = adjusted
    if primary in changes:
        changes[primary].p_adjusted = changes[primary].p
    return Comparison(primary, changes)


def _paired_interval(change: Change, draws: np.ndarray) -> None:
    change.ci95 = interval(draws)
    if change.ci95 is not None:
        change.decimals = stable_decimals(draws)


def _compare_custom(base: Scores, tuned: Scores, names: list[str], keep: np.ndarray, draws: int,
                    changes: dict[str, Change], units: np.ndarray | None = None) -> None:
    """Metrics of one custom ``aggregate`` on the same pairs: values, paired bootstrap, swap permutation
    test (``units``: a question's pairs are drawn and swapped together)."""
    owner = base.owners[names[0]]
    b_aggregate, t_aggregate = owner.aggregate, tuned.owners.get(names[0], owner).aggregate

    def difference(pairs: list[tuple[dict, dict]]) -> dict[str, float]:
        b_metrics, t_metrics = b_aggregate([b for b, _ in pairs]), t_aggregate([t for _, t in pairs])
        return {name: _diff(b_metrics.get(name), t_metrics.get(name)) for name in names}

    pairs = list(zip(base.per_item, tuned.per_item))
    kept = [pairs[i] for i in keep]
    b_metrics, t_metrics = b_aggregate([b for b, _ in kept]), t_aggregate([t for _, t in kept])
    drawn = aggregate_draws(difference, pairs, names, draws, keep=keep, units=units)
    observed = np.array([_diff(b_metrics.get(name), t_metrics.get(name)) for name in names])
    rng, at_least = np.random.default_rng(SEED), np.zeros(len(names))
    for _ in range(draws):
        if units is None:
            swap = rng.integers(0, 2, size=len(kept)).astype(bool)
        else:  # one coin per question, for all its kept pairs
            swap = rng.integers(0, 2, size=unit_count(units, len(units))).astype(bool)[units[keep]]
        shuffled = [(t, b) if s else (b, t) for (b, t), s in zip(kept, swap)]
        values = difference(shuffled)
        at_least += [abs(values[name]) >= abs(o) - 1e-9 * max(abs(o), 1e-12) for name, o in zip(names, observed)]
    for column, name in enumerate(names):
        change = changes[name]
        change.base, change.tuned = _float(b_metrics.get(name)), _float(t_metrics.get(name))
        if change.base is None or change.tuned is None:
            continue
        change.diff = change.tuned - change.base
        values = [scores.get(name) for pair in kept for scores in pair]
        change.flips = flips(name, base, tuned) if is_binary(values) else None
        if change.flips is not None:
            change.fixed, change.broken = len(change.flips[0]), len(change.flips[1])
        change.p = (1 + float(at_least[column])) / (1 + draws)
        of = f" of {base.unit}s" if units is not None else ""
        change.test = f"Monte Carlo swap permutation{of} of the aggregate, B={draws}, seed {SEED}"
        _paired_interval(change, drawn[:, column])


def _float(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _diff(b, t) -> float:
    b, t = _float(b), _float(t)
    return math.nan if b is None or t is None else t - b
