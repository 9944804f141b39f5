"""Clustered items: the rotated copies of one question in a circular split (`lfd convert --circular`).

``units`` gives the unit (question) of each item, 0…G−1 (:func:`..scoring.question_units`). The
bootstrap of :mod:`.statistics` then draws units, each with all its items, and the sign-flip test
flips each unit's summed difference (:func:`unit_sums`) as one. A 0/1 metric with at most one value
per unit (a per-question metric, :func:`one_per_unit`) keeps its exact interval and test; a 0/1
metric with several values in a unit (accuracy over the rotations) is not a binomial count, so it
gets Korn and Graubard's interval (:func:`korn_graubard`: Clopper-Pearson at the effective sample
size, which a cluster bootstrap's under-coverage at a few dozen questions made the better choice)
and the clustered sign-flip test.
"""

from __future__ import annotations

import numpy as np

from .statistics import CONFIDENCE, unit_count

KORN_GRAUBARD = "Korn-Graubard (Clopper-Pearson at the effective sample size of questions)"


def one_per_unit(present: np.ndarray, units: np.ndarray | None) -> bool:
    """Whether no unit has more than one of the ``present`` items (a per-unit metric, or no units).

    >>> one_per_unit(np.array([True, False, True]), np.array([0, 0, 1])), one_per_unit(np.array([True, True]), np.array([0, 0]))
    (True, False)
    """
    if units is None:
        return True
    return not len(units) or int(np.bincount(units[present], minlength=1).max(initial=0)) <= 1


def unit_sums(values: np.ndarray, units: np.ndarray | None) -> np.ndarray:
    """(units, columns) sums of the rows of ``values`` (NaN as 0) within each unit; ``values`` when no units."""
    values = np.nan_to_num(np.asarray(values, dtype=float).reshape(len(values), -1), nan=0.0)
    if units is None:
        return values
    sums = np.zeros((unit_count(units, len(values)), values.shape[1]))
    np.add.at(sums, units, values)
    return sums


def korn_graubard(values: np.ndarray, units: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """95% interval of a 0/1 metric whose items come in clusters (a question's rotated copies): Korn and
    Graubard's Clopper-Pearson interval at the effective sample size (Survey Methodology 24, 1998,
    193-201; R survey's ``svyciprop(method="beta")``).

    The rate p of the n items has the cluster (linearization) variance v = G/(G−1)·Σ(y_g − p·m_g)²/n²
    over the G clusters (y_g ones among m_g items); the effective sample size n* = p(1−p)/v, at most n
    (n when v is 0), times (t_{n−1}/t_{G−1})² for the G−1 degrees of freedom; the interval is
    Clopper-Pearson's for p·n* ones in n*. At p = 0 or 1 the data say nothing of how alike a cluster's
    items are, so n* = G, as if they were all alike (the published method takes n there, which would
    claim as much as n independent items): like Clopper-Pearson it never collapses. With every
    cluster of one item, n* = n − 1 and the degrees-of-freedom factor is 1. One cluster is one
    observation (n* = 1).

    >>> [round(end, 4) for end in korn_graubard(np.zeros(12), np.repeat([0, 1, 2], 4))]  # 0 of 12 in 3 questions
    [0.0, 0.7076]
    >>> [round(end, 4) for end in korn_graubard(np.array([1., 0, 1, 0]), np.arange(4))]  # clopper_pearson(1.5, 3)
    [0.0387, 0.9613]
    """
    from scipy.special import betaincinv, stdtrit  # scipy.stats' beta.ppf / t.ppf without its 1.5 s import

    values, units = np.asarray(values, dtype=float), np.asarray(units)
    n = len(values)
    if not n:
        raise ValueError("no values")
    rate = float(values.mean())
    _, cluster = np.unique(units, return_inverse=True)
    clusters = int(cluster.max()) + 1
    if clusters < 2:
        effective = 1.0
    elif rate in (0.0, 1.0):
        effective = float(clusters)
    else:
        ones, sizes = np.bincount(cluster, weights=values), np.bincount(cluster)
        variance = clusters / (clusters - 1) * float(np.sum((ones - rate * sizes) ** 2)) / n**2
        effective = min(float(n), rate * (1 - rate) / variance) if variance > 0 else float(n)
        if n > 1:
            tail = 1 - round((1 - confidence) / 2, 12)
            effective *= (float(stdtrit(n - 1, tail)) / float(stdtrit(clusters - 1, tail))) ** 2
    tail = round((1 - confidence) / 2, 12)
    x = rate * effective
    lo = 0.0 if rate == 0 else float(betaincinv(x, effective - x + 1, tail))
    hi = 1.0 if rate == 1 else float(betaincinv(x + 1, effective - x, 1 - tail))
    return lo, hi
