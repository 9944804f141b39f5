"""The statistics of `lfd eval` and `lfd compare`: exact and bootstrap intervals, exact and permutation tests.

Intervals (95%) of one run's metric:

- a **0/1 metric** (every value 0 or 1) averaged by the default mean gets the **Clopper-Pearson**
  interval from beta quantiles (:func:`clopper_pearson`): exact, coverage at least 95% whatever the
  rate, and never collapsing at 0/N or N/N (0/20 gives [0, 0.1684]);
- any other metric (graded means such as ROUGE or BERTScore, and every custom ``aggregate``) gets a
  **percentile bootstrap** with :data:`BOOTSTRAP_SAMPLES` = 10,000 resamples of the items, seed 0.

Why percentile rather than BCa: it needs nothing but the statistic on resampled items, so a custom
``aggregate`` is called once per resample (BCa's jackknife adds n more calls), it is the same method
for a run and for a paired difference, and its Monte-Carlo error is known without assumptions, so
:func:`stable_decimals` can say how many decimals of each endpoint a rerun with another seed would
keep. BCa's gain, a second-order correction for bias and skewness, is smallest for means, which
almost every metric is; and its endpoints are Monte-Carlo quantiles too, at adjusted levels that can
lie further in a tail where draws are sparser, so at the same B they are no more stable.
At n = 20 one or two decimals are stable, at n = 1,000 two or three; reports print only those.

The Monte-Carlo error of a percentile endpoint: it is the order statistic of rank q·B (q = 0.025 or
0.975), and the rank at which the B = ∞ quantile falls among B draws is binomial(B, q), sd
√(B·q·(1−q)); so with 95% probability the B = ∞ endpoint lies between the order statistics of ranks
q·B ± 1.96·√(B·q·(1−q)). An endpoint keeps d decimals when that spread is at most half a unit of the
d-th decimal: the rounded value is then within one unit of the B = ∞ endpoint.

The interval of a paired difference of a 0/1 metric is Agresti and Min's adjusted Wald interval
(:func:`agresti_min`), which keeps its width when few or no pairs flipped; a graded metric's is the
paired percentile bootstrap. Tests of a paired difference (see :mod:`..scoring`): exact two-sided McNemar (:func:`mcnemar_p`) for
0/1 metrics and a sign-flip permutation test of the per-item differences (:func:`sign_flip_pvalues`,
exact up to :data:`EXACT_SIGN_FLIPS` nonzero differences, else Monte Carlo with seed 0 and
p = (1+k)/(1+B)) for graded ones; :func:`holm` adjusts the secondary metrics' p-values.

Everything is deterministic: the resampled indices and the random signs depend only on the number
of items, the number of draws and the seed (0), never on the metric or on the other metrics.

**Resampling units.** The rotated copies of one question in a circular split are not independent:
with ``units`` (the unit of each item, 0…G−1) the bootstrap draws G units with replacement, each
bringing all its items (the indices then depend on G); :mod:`.clusters` has the rest (which metrics
keep their exact interval and test, Korn-Graubard's interval, the units' summed differences).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ..evaluators.base import Evaluator

BOOTSTRAP_SAMPLES = 10_000  # bootstrap resamples, and Monte-Carlo sign flips, per interval / test
SEED = 0
CONFIDENCE = 0.95  # of every interval
TAIL = round((1 - CONFIDENCE) / 2, 12)  # 0.025 in each tail (rounded: 1 - 0.95 is not exactly 0.05)
ALPHA = 0.05  # significance level of "reliably better / worse"
MAX_DECIMALS = 4  # decimals of a fraction reports print at most; exact intervals keep all of them
EXACT_SIGN_FLIPS = 16  # up to this many nonzero differences the sign-flip test enumerates all 2^m signs
CHUNK_CELLS = 2_000_000  # resampled indices held at once (16 MB as float weights)

CLOPPER_PEARSON = "Clopper-Pearson exact"
AGRESTI_MIN = "Agresti-Min adjusted Wald (paired)"
MCNEMAR = "exact McNemar"
EXACT_SIGN_FLIP = "exact sign-flip permutation"


def bootstrap_method(draws: int = BOOTSTRAP_SAMPLES, paired: bool = False, unit: str = "") -> str:
    """The name reports print for a bootstrap interval; ``unit``: what is resampled when not the items.

    >>> bootstrap_method(), bootstrap_method(1000, paired=True)
    ('percentile bootstrap, B=10000, seed 0', 'paired percentile bootstrap, B=1000, seed 0')
    >>> bootstrap_method(unit="question")
    'percentile bootstrap of questions, B=10000, seed 0'
    """
    of = f" of {unit}s" if unit else ""
    return f"{'paired ' if paired else ''}percentile bootstrap{of}, B={draws}, seed {SEED}"


def monte_carlo_sign_flip(draws: int = BOOTSTRAP_SAMPLES, unit: str = "") -> str:
    """The name of the Monte-Carlo sign-flip test (``unit``: whose summed differences are flipped).

    >>> monte_carlo_sign_flip(), monte_carlo_sign_flip(unit="question")
    ('Monte Carlo sign-flip permutation, B=10000, seed 0', 'Monte Carlo sign-flip permutation of questions, B=10000, seed 0')
    """
    of = f" of {unit}s" if unit else ""
    return f"Monte Carlo sign-flip permutation{of}, B={draws}, seed {SEED}"


def unit_count(units: np.ndarray | None, n: int) -> int:
    """How many resampling units ``n`` items form (each item its own when ``units`` is None)."""
    return n if units is None else (int(units.max()) + 1 if len(units) else 0)


def clopper_pearson(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a proportion ``successes``/``n`` from beta quantiles.

    The lower end is the rate at which P(X ≥ successes) = (1 − confidence)/2, the upper the rate at
    which P(X ≤ successes) = (1 − confidence)/2 (X binomial); 0 and 1 at 0/n and n/n.

    >>> [round(end, 4) for end in clopper_pearson(7, 20)]
    [0.1539, 0.5922]
    >>> [round(end, 4) for end in clopper_pearson(0, 20)], [round(end, 4) for end in clopper_pearson(20, 20)]
    ([0.0, 0.1684], [0.8316, 1.0])
    """
    if not 0 <= successes <= n or n <= 0:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes}/{n}")
    from scipy.special import betaincinv  # scipy.stats' beta.ppf without its 1.5 s import; only when asked

    tail = round((1 - confidence) / 2, 12)
    lo = 0.0 if successes == 0 else float(betaincinv(successes, n - successes + 1, tail))
    hi = 1.0 if successes == n else float(betaincinv(successes + 1, n - successes, 1 - tail))
    return lo, hi


def is_binary(values: Sequence) -> bool:
    """Whether there are values and every one that is not None is 0 or 1 (a 0/1 metric).

    >>> is_binary([1.0, 0, None, True]), is_binary([0.5, 1.0]), is_binary([None])
    (True, False, False)
    """
    present = [value for value in values if value is not None]
    return bool(present) and all(value in (0, 1) for value in present)


def bootstrap_indices(n: int, draws: int, seed: int = SEED) -> Iterator[np.ndarray]:
    """Chunks of resampled item indices, shape (draws in chunk, n); the same n, draws and seed give the same rows."""
    rng, done = np.random.default_rng(seed), 0
    chunk = max(1, min(draws, CHUNK_CELLS // max(1, n)))
    while done < draws:
        rows = min(chunk, draws - done)
        yield rng.integers(0, n, size=(rows, n))
        done += rows


def bootstrap_weights(n: int, draws: int, seed: int = SEED, units: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """The rows of :func:`bootstrap_indices` as counts: how often each of the n items was drawn; with
    ``units``, the units are drawn (G of G) and each item counts as often as its unit."""
    count = unit_count(units, n)
    for indices in bootstrap_indices(count, draws, seed):
        rows = len(indices)
        flat = (indices + count * np.arange(rows)[:, None]).ravel()
        weights = np.bincount(flat, minlength=rows * count).reshape(rows, count).astype(float)
        yield weights if units is None else weights[:, units]


def weighted_mean_draws(values: np.ndarray, present: np.ndarray, draws: int = BOOTSTRAP_SAMPLES,
                        seed: int = SEED, units: np.ndarray | None = None) -> np.ndarray:
    """(draws, columns) bootstrap means of each column of ``values`` (n, columns) over its ``present`` items.

    Every resample draws n of all n items (seed 0; with ``units``, G of the G units, each with all its
    items) and averages each column over the drawn items where it is present, so a conditional
    metric's count varies as in a rerun; NaN when none is drawn.
    """
    values = np.where(present, values, 0.0)
    present = present.astype(float)
    out, row = np.empty((draws, values.shape[1])), 0
    for weights in bootstrap_weights(len(values), draws, seed, units):
        with np.errstate(invalid="ignore", divide="ignore"):
            out[row : row + len(weights)] = (weights @ values) / (weights @ present)
        row += len(weights)
    return out


def value_table(per_item: list[dict], names: list[str]) -> np.ndarray:
    """(items, names) array of the scores, NaN where a metric is None or absent."""
    return np.array([[_number(scores.get(name)) for name in names] for scores in per_item], dtype=float).reshape(
        len(per_item), len(names)
    )


def _number(value) -> float:
    return math.nan if value is None else float(value)


def _mean_draws(per_item: list[dict], names: list[str], draws: int, units: np.ndarray | None = None) -> np.ndarray:
    values = value_table(per_item, names)
    return weighted_mean_draws(values, ~np.isnan(values), draws, units=units)


def uses_mean(evaluator: Evaluator | None) -> bool:
    """Whether ``evaluator`` aggregates by the default mean (None counts as the mean)."""
    return evaluator is None or type(evaluator).aggregate is Evaluator.aggregate


def aggregate_draws(aggregate: Callable[[list[dict]], dict], per_item: list[dict], names: list[str],
                    draws: int = BOOTSTRAP_SAMPLES, keep: Sequence[int] | None = None,
                    units: np.ndarray | None = None) -> np.ndarray:
    """(draws, names) values of ``aggregate`` on each bootstrap resample of the items (seed 0; NaN where undefined).

    ``keep``: only drawn items among these indices are passed on (the paired items of a comparison);
    ``units``: the units are drawn, each bringing all its items.
    """
    table, row = np.full((draws, len(names)), np.nan), 0
    kept = None if keep is None else np.isin(np.arange(len(per_item)), np.asarray(keep, dtype=int))
    members = None if units is None else [np.flatnonzero(units == unit) for unit in range(unit_count(units, len(units)))]
    for indices in bootstrap_indices(unit_count(units, len(per_item)), draws):
        for drawn in indices:
            if members is not None:
                drawn = np.concatenate([members[unit] for unit in drawn]) if len(drawn) else drawn
            if kept is not None:
                drawn = drawn[kept[drawn]]
                if not len(drawn):  # no paired item drawn: undefined, like the mean's NaN
                    row += 1
                    continue
            metrics = aggregate([per_item[i] for i in drawn])
            table[row] = [_number(metrics.get(name)) for name in names]
            row += 1
    return table


def resample(evaluator: Evaluator, per_item: list[dict], names: list[str] | None = None,
             draws: int = BOOTSTRAP_SAMPLES, units: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Metric → its value on each of ``draws`` bootstrap resamples of the items (seed 0; NaN where undefined).

    ``names`` defaults to the metrics ``evaluator`` aggregates ``per_item`` into. The default mean is
    vectorised; a custom ``aggregate`` is called on each resample. Two score lists of the same length
    get the same resampled indices. ``units``: resample units of items (see the module).
    """
    names = list(evaluator.aggregate(per_item)) if names is None else names
    if uses_mean(evaluator):
        table = _mean_draws(per_item, names, draws, units)
    else:
        table = aggregate_draws(evaluator.aggregate, per_item, names, draws, units=units)
    return {name: table[:, column] for column, name in enumerate(names)}


def interval(draws: np.ndarray) -> tuple[float, float] | None:
    """Percentile 95% interval of bootstrap draws (NaN draws left out); None when none is defined.

    >>> interval(np.arange(101.0))
    (2.5, 97.5)
    >>> interval(np.array([np.nan, np.nan])) is None
    True
    """
    finite = draws[~np.isnan(draws)]
    if not len(finite):
        return None
    lo, hi = np.quantile(finite, [TAIL, 1 - TAIL])
    return float(lo), float(hi)


def endpoint_errors(draws: np.ndarray) -> tuple[float, float] | None:
    """The Monte-Carlo error (95% order-statistic bound) of each end of :func:`interval`; None without draws.

    The B = ∞ quantile q falls at a binomial(B, q) rank among the B sorted draws, so it lies between
    the order statistics of ranks q·(B−1) ± 1.96·√(B·q·(1−q)) with about 95% probability; the error is
    the larger distance from the estimated endpoint to those two.
    """
    finite = np.sort(draws[~np.isnan(draws)])
    count = len(finite)
    if not count:
        return None
    z, errors = 1.959963984540054, []
    for q in (TAIL, 1 - TAIL):
        estimate = float(np.quantile(finite, q))
        spread = z * math.sqrt(count * q * (1 - q))
        low = finite[max(0, math.floor(q * (count - 1) - spread))]
        high = finite[min(count - 1, math.ceil(q * (count - 1) + spread))]
        errors.append(float(max(estimate - low, high - estimate)))
    return errors[0], errors[1]


def decimals_for(error: float) -> int:
    """The most decimals (≤ :data:`MAX_DECIMALS`) whose half unit is at least ``error``.

    >>> decimals_for(0.0), decimals_for(0.00004), decimals_for(0.0035), decimals_for(0.2), decimals_for(0.7)
    (4, 4, 2, 0, 0)
    """
    for decimals in range(MAX_DECIMALS, -1, -1):
        if error <= 0.5 * 10.0**-decimals:
            return decimals
    return 0


def stable_decimals(draws: np.ndarray) -> int:
    """Decimals of both ends of :func:`interval` that the Monte-Carlo error leaves stable (see the module).

    >>> stable_decimals(np.full(1000, 0.25)), stable_decimals(np.random.default_rng(0).normal(0, 0.07, 10_000))
    (4, 2)
    """
    errors = endpoint_errors(draws)
    return MAX_DECIMALS if errors is None else min(decimals_for(error) for error in errors)


def confidence_intervals(drawn: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """The 95% interval of each metric of :func:`resample`'s draws; metrics without one are left out."""
    return {name: ci for name, values in drawn.items() if (ci := interval(values)) is not None}


def agresti_min(up: int, down: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """95% interval of a paired difference of proportions (tuned − base) from ``n`` pairs: Agresti and
    Min's adjusted Wald interval (Statistics in Medicine 24, 2005, 729-740; PropCIs' ``diffpropci.Wald.mp``).

    ``up`` pairs went 0 → 1 and ``down`` 1 → 0. Half a pair is added to each of the four cells, so the
    interval is centred on (up − down)/(n + 2) with sd √((up + down + 1) − (up − down)²/(n + 2)) / (n + 2),
    cut to [−1, 1]: unlike a bootstrap of the pairs it does not collapse to [0, 0] when no pair flipped.

    >>> [round(end, 6) for end in agresti_min(9, 1, 40)]
    [0.046823, 0.33413]
    >>> [round(end, 6) for end in agresti_min(0, 0, 20)]
    [-0.089089, 0.089089]
    """
    if min(up, down) < 0 or up + down > n:
        raise ValueError(f"need 0 <= up + down <= n, got {up} + {down} of {n}")
    from scipy.special import ndtri  # scipy.stats' norm.ppf without its 1.5 s import; only when asked

    z = float(ndtri(1 - round((1 - confidence) / 2, 12)))
    centre = (up - down) / (n + 2)
    sd = math.sqrt((up + down + 1) - (up - down) ** 2 / (n + 2)) / (n + 2)
    return max(-1.0, centre - z * sd), min(1.0, centre + z * sd)


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


def _at_least(statistics: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """|statistics| ≥ |observed| with a relative tolerance for floating-point sums of the same terms."""
    scale = np.abs(observed)
    return np.abs(statistics) >= scale - 1e-9 * np.maximum(scale, 1e-12)


def sign_flip_pvalues(differences: np.ndarray, draws: int = BOOTSTRAP_SAMPLES,
                      seed: int = SEED, unit: str = "") -> list[tuple[float, str]]:
    """Two-sided paired permutation test of each column of ``differences`` (n, columns): (p, test name).

    Under "no difference" each item's tuned − base difference is as likely to have either sign, so
    the observed |sum| is compared with the |sum| after flipping signs. Zeros (and NaNs: items that
    are not pairs) take no part. With at most :data:`EXACT_SIGN_FLIPS` nonzero differences all 2^m
    sign vectors are enumerated (p = share with |sum| ≥ observed); beyond that ``draws`` random sign
    vectors over all n rows (seed 0, the same for every column) give p = (1 + k)/(1 + draws). The rows
    are units' summed differences when ``unit`` names them (:func:`unit_sums`), which the test names.

    >>> sign_flip_pvalues(np.array([[0.5], [0.25], [0.0], [-0.25]]))
    [(0.75, 'exact sign-flip permutation')]
    """
    differences = np.nan_to_num(np.asarray(differences, dtype=float).reshape(len(differences), -1), nan=0.0)
    observed = differences.sum(axis=0)
    results: list[tuple[float, str] | None] = [None] * differences.shape[1]
    monte_carlo = []
    for column in range(differences.shape[1]):
        nonzero = differences[differences[:, column] != 0, column]
        if len(nonzero) > EXACT_SIGN_FLIPS:
            monte_carlo.append(column)
            continue
        bits = (np.arange(2 ** len(nonzero))[:, None] >> np.arange(len(nonzero))) & 1
        sums = (1 - 2 * bits) @ nonzero
        results[column] = (float(np.mean(_at_least(sums, observed[column]))),
                           EXACT_SIGN_FLIP + (f" of {unit}s" if unit else ""))
    if monte_carlo:
        table, counts = differences[:, monte_carlo], np.zeros(len(monte_carlo))
        rng, done, n = np.random.default_rng(seed), 0, len(differences)
        chunk = max(1, min(draws, CHUNK_CELLS // max(1, n)))
        while done < draws:
            rows = min(chunk, draws - done)
            signs = 1.0 - 2.0 * rng.integers(0, 2, size=(rows, n), dtype=np.int8)
            counts += _at_least(signs @ table, observed[monte_carlo]).sum(axis=0)
            done += rows
        for column, k in zip(monte_carlo, counts):
            results[column] = ((1 + float(k)) / (1 + draws), monte_carlo_sign_flip(draws, unit))
    return results  # type: ignore[return-value]


def sign_flip_p(differences: Sequence[float], draws: int = BOOTSTRAP_SAMPLES) -> tuple[float, str]:
    """:func:`sign_flip_pvalues` of one list of tuned − base differences (None / NaN: not a pair).

    >>> sign_flip_p([1, 1, 1, 1, 1, -1])
    (0.21875, 'exact sign-flip permutation')
    """
    values = np.array([_number(d) for d in differences], dtype=float)
    return sign_flip_pvalues(values[:, None], draws)[0]


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the given order.

    The i-th smallest of m p-values is multiplied by m − i + 1 (i from 1), capped at 1 and made
    non-decreasing along the sorted order; a hypothesis is rejected at level α when its adjusted p < α,
    which keeps the chance of any false rejection at most α.

    >>> [round(p, 6) for p in holm([0.01, 0.04, 0.03, 0.005])]
    [0.03, 0.06, 0.06, 0.02]
    >>> holm([])
    []
    """
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[index]))
        adjusted[index] = running
    return adjusted
