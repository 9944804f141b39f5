"""The statistics of `lfd eval` and `lfd compare`: percentile bootstrap and the exact McNemar test.

Every metric and every run of the same size is resampled with the same items (seed 0), so the
draws of two runs subtract into a paired-bootstrap interval of their difference.
"""

from __future__ import annotations

import math

import numpy as np

from ..evaluators.base import Evaluator

BOOTSTRAP_SAMPLES = 1000
SEED = 0
CHUNK_CELLS = 2_000_000  # resampled indices held at once (16 MB as float weights)


def bootstrap_indices(n: int, draws: int, seed: int = SEED):
    """Chunks of resampled item indices, shape (draws in chunk, n); the same n, draws and seed give the same rows."""
    rng, done = np.random.default_rng(seed), 0
    chunk = max(1, min(draws, CHUNK_CELLS // max(1, n)))
    while done < draws:
        rows = min(chunk, draws - done)
        yield rng.integers(0, n, size=(rows, n))
        done += rows


def _mean_draws(per_item: list[dict], names: list[str], draws: int) -> np.ndarray:
    """(draws, metrics) means over resampled items, each index row weighting every metric at once."""
    n = len(per_item)
    values = np.array([[_number(scores.get(name)) for name in names] for scores in per_item], dtype=float)
    present = ~np.isnan(values)
    values[~present] = 0.0
    out, row = np.empty((draws, len(names))), 0
    for indices in bootstrap_indices(n, draws):
        rows = len(indices)
        flat = (indices + n * np.arange(rows)[:, None]).ravel()
        weights = np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):  # no applicable item drawn: NaN
            out[row : row + rows] = (weights @ values) / (weights @ present)
        row += rows
    return out


def _number(value) -> float:
    return math.nan if value is None else float(value)


def resample(evaluator: Evaluator, per_item: list[dict], names: list[str] | None = None,
             draws: int = BOOTSTRAP_SAMPLES) -> dict[str, np.ndarray]:
    """Metric → its value on each of ``draws`` bootstrap resamples of the items (seed 0; NaN where undefined).

    ``names`` defaults to the metrics ``evaluator`` aggregates ``per_item`` into. The default mean is
    vectorised; a custom ``aggregate`` is called on each resample. Two score lists of the same length
    get the same resampled indices, which makes the bootstrap paired.
    """
    names = list(evaluator.aggregate(per_item)) if names is None else names
    if type(evaluator).aggregate is Evaluator.aggregate:
        table = _mean_draws(per_item, names, draws)
        return {name: table[:, column] for column, name in enumerate(names)}
    table, row = np.full((draws, len(names)), np.nan), 0
    for indices in bootstrap_indices(len(per_item), draws):
        for drawn in indices:
            metrics = evaluator.aggregate([per_item[i] for i in drawn])
            table[row] = [_number(metrics.get(name)) for name in names]
            row += 1
    return {name: table[:, column] for column, name in enumerate(names)}


def interval(draws: np.ndarray) -> tuple[float, float] | None:
    """Percentile 95% interval of bootstrap draws (NaN draws left out); None when none is defined.

    >>> interval(np.array([np.nan, np.nan])) is None
    True
    """
    finite = draws[~np.isnan(draws)]
    if not len(finite):
        return None
    lo, hi = np.quantile(finite, [0.025, 0.975])
    return float(lo), float(hi)


def confidence_intervals(drawn: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """The 95% interval of each metric of :func:`resample`'s draws; metrics without one are left out."""
    return {name: ci for name, values in drawn.items() if (ci := interval(values)) is not None}


def mcnemar_p(fixed: int, broken: int) -> float:
    """Exact two-sided McNemar p-value: a binomial test of the discordant pairs against 1/2.

    >>> mcnemar_p(9, 1)
    0.021484375
    >>> mcnemar_p(0, 0)
    1.0
    """
    n = fixed + broken
    tail = sum(math.comb(n, k) for k in range(min(fixed, broken) + 1))
    return min(1.0, 2 * tail / 2**n)
