import math
from fractions import Fraction
from typing import ClassVar

import numpy as np
import pytest
from llamafactory_domains.evaluators.base import Evaluator, Prediction
from llamafactory_domains.plugin.statistics import (
    BOOTSTRAP_SAMPLES,
    EXACT_SIGN_FLIP,
    MAX_DECIMALS,
    clopper_pearson,
    confidence_intervals,
    decimals_for,
    endpoint_errors,
    holm,
    interval,
    mcnemar_p,
    resample,
    sign_flip_p,
    sign_flip_pvalues,
    stable_decimals,
    weighted_mean_draws,
)


@pytest.mark.parametrize(
    "fixed, broken, p",
    [(9, 1, 0.021484375), (1, 9, 0.021484375), (0, 0, 1.0), (5, 0, 0.0625), (3, 3, 1.0), (0, 1, 1.0)],
)
def test_mcnemar_exact_p_on_known_tables(fixed, broken, p):
    assert mcnemar_p(fixed, broken) == p


def test_mcnemar_equals_the_binomial_test_summing_all_outcomes_no_likelier_than_the_observed():
    for fixed, broken in [(12, 30), (100, 140), (7, 0), (50, 50)]:
        n = fixed + broken
        chances = [Fraction(math.comb(n, k), 2**n) for k in range(n + 1)]
        assert mcnemar_p(fixed, broken) == pytest.approx(float(sum(c for c in chances if c <= chances[fixed])))


class Length(Evaluator):
    """Fraction of the label's length the prediction reaches (not a 0/1 metric)."""

    name = "length"
    options: ClassVar = {"cap": 1.0}

    def score(self, item):
        return {"length": min(self.cap, len(item.predict) / max(1, len(item.label)))}


def test_bootstrap_interval_for_a_graded_metric_is_fixed_and_holds_the_mean():
    evaluator = Length()
    per_item = [evaluator.score(Prediction("", "x" * n, "x" * 10)) for n in range(11)]
    mean = evaluator.aggregate(per_item)["length"]
    first = confidence_intervals(resample(evaluator, per_item))
    second = confidence_intervals(resample(evaluator, per_item))
    assert first == second
    lo, hi = first["length"]
    assert 0 <= lo < mean < hi <= 1


class LengthMean(Length):
    """The same mean through a custom aggregate: the bootstrap calls it on every resample."""

    def aggregate(self, per_item):
        return Evaluator.aggregate(self, per_item)


def test_vectorised_bootstrap_matches_aggregating_each_resample():
    per_item = [{"length": n / 30, "rare": (float(n % 2) if n % 3 == 0 else None)} for n in range(30)]
    fast = confidence_intervals(resample(Length(), per_item))
    slow = confidence_intervals(resample(LengthMean(), per_item))
    assert list(fast) == list(slow) == ["length", "rare"]
    for name in fast:
        assert fast[name] == pytest.approx(slow[name], abs=1e-12)


# --- Clopper-Pearson: exact intervals of 0/1 metrics -------------------------------------------

def binomial_tail_at_least(k: int, n: int, p: float) -> float:
    return math.fsum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))


def test_clopper_pearson_7_of_20_by_its_definition():
    lo, hi = clopper_pearson(7, 20)
    # by hand: lo is the rate where P(X >= 7) = 0.025, hi the rate where P(X <= 7) = 0.025 (X ~ Bin(20, p))
    assert binomial_tail_at_least(7, 20, lo) == pytest.approx(0.025, abs=1e-12)
    assert 1 - binomial_tail_at_least(8, 20, hi) == pytest.approx(0.025, abs=1e-12)
    assert (round(lo, 4), round(hi, 4)) == (0.1539, 0.5922)


def test_clopper_pearson_never_collapses_at_0_of_n_or_n_of_n():
    # P(X = 0) = (1 - hi)^20 = 0.025  =>  hi = 1 - 0.025^(1/20)
    assert clopper_pearson(0, 20) == (0.0, pytest.approx(1 - 0.025 ** (1 / 20), abs=1e-15))
    assert round(clopper_pearson(0, 20)[1], 4) == 0.1684
    assert clopper_pearson(20, 20) == (pytest.approx(0.025 ** (1 / 20), abs=1e-15), 1.0)
    assert clopper_pearson(1, 1) == (0.025, 1.0)


def test_clopper_pearson_matches_statsmodels_beta():
    from statsmodels.stats.proportion import proportion_confint

    for n in (1, 2, 7, 20, 133, 1000):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            assert clopper_pearson(k, n) == pytest.approx(proportion_confint(k, n, alpha=0.05, method="beta"),
                                                          abs=1e-12)


def test_clopper_pearson_rejects_impossible_counts():
    for k, n in [(3, 2), (-1, 5), (0, 0)]:
        with pytest.raises(ValueError):
            clopper_pearson(k, n)


# --- McNemar ----------------------------------------------------------------------------------

def test_mcnemar_3_vs_9_by_hand():
    # 12 discordant pairs, the smaller side 3: 2 * (C(12,0)+C(12,1)+C(12,2)+C(12,3)) / 2^12 = 2 * 299 / 4096
    assert 1 + 12 + 66 + 220 == 299
    assert mcnemar_p(3, 9) == mcnemar_p(9, 3) == 598 / 4096


def test_mcnemar_matches_statsmodels_exact():
    from statsmodels.stats.contingency_tables import mcnemar

    for fixed, broken in [(3, 9), (9, 1), (0, 0), (5, 0), (12, 30), (100, 140), (50, 50), (0, 1)]:
        table = [[40, broken], [fixed, 17]]  # rows base right/wrong, columns tuned right/wrong
        assert mcnemar_p(fixed, broken) == pytest.approx(mcnemar(table, exact=True).pvalue, abs=1e-14)


# --- the sign-flip permutation test of graded differences --------------------------------------

def test_sign_flip_exact_by_hand():
    # nonzero differences 0.5, 0.25, -0.25 (the 0 takes no part), observed sum 0.5; the 8 sign vectors
    # give sums ±1, ±0.5, ±0.5, 0, 0: six of eight have |sum| >= 0.5
    assert sign_flip_p([0.5, 0.25, 0.0, -0.25]) == (0.75, EXACT_SIGN_FLIP)
    # all three positive: only the all-plus and all-minus vectors reach |0.6|
    assert sign_flip_p([0.3, 0.2, 0.1, None]) == (0.25, EXACT_SIGN_FLIP)
    assert sign_flip_p([0.0, None, 0.0]) == (1.0, EXACT_SIGN_FLIP)


def test_sign_flip_of_plus_minus_one_differences_is_mcnemar():
    for fixed, broken in [(3, 9), (5, 1), (8, 8), (0, 4), (16, 0)]:
        differences = [1.0] * fixed + [-1.0] * broken + [0.0] * 5
        assert sign_flip_p(differences)[0] == pytest.approx(mcnemar_p(fixed, broken), abs=1e-15)


def test_sign_flip_monte_carlo_is_one_plus_k_over_one_plus_b():
    p, test = sign_flip_p([1.0] * 40)  # |sum| = 40 is reached by 2 of 2^40 sign vectors: k = 0
    assert (p, test) == (1 / (1 + BOOTSTRAP_SAMPLES), "Monte Carlo sign-flip permutation, B=10000, seed 0")
    assert sign_flip_p([1.0] * 40, draws=99)[0] == 1 / 100
    # 20 vs 10 among 30 nonzero: close to the exact binomial (McNemar) value, and deterministic
    differences = [1.0] * 20 + [-1.0] * 10 + [0.0] * 7
    p = sign_flip_p(differences)[0]
    assert p == sign_flip_p(differences)[0]
    assert abs(p - mcnemar_p(20, 10)) < 4 * math.sqrt(0.1 * 0.9 / BOOTSTRAP_SAMPLES)


def test_sign_flip_columns_do_not_depend_on_each_other():
    rng = np.random.default_rng(3)
    table = rng.normal(0.05, 0.2, size=(60, 3))
    table[rng.random(table.shape) < 0.2] = np.nan  # unpaired items
    together = sign_flip_pvalues(table)
    assert together == [sign_flip_pvalues(table[:, [column]])[0] for column in range(3)]


# --- Holm ---------------------------------------------------------------------------------------

def test_holm_on_four_p_values_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-15)
    assert holm([0.5, 0.9]) == [1.0, 1.0]  # capped at 1
    assert holm([0.2]) == [0.2]


def test_holm_matches_statsmodels_multipletests():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(0)
    for size in (1, 2, 5, 12, 30):
        pvalues = list(rng.random(size) ** 3)
        pvalues[0] = pvalues[-1]  # a tie
        assert holm(pvalues) == pytest.approx(list(multipletests(pvalues, method="holm")[1]), abs=1e-14)


# --- bootstrap intervals and their stable decimals ---------------------------------------------

def test_endpoint_error_is_the_order_statistic_bound():
    draws = np.arange(10_000.0)  # the sorted draws are their ranks
    lo_error, hi_error = endpoint_errors(draws)
    # q = 0.025: estimate at rank 0.025 * 9999 = 249.975, spread 1.96 * sqrt(10000 * 0.025 * 0.975) = 30.6
    # ranks floor(219.4) = 219 and ceil(280.6) = 281: the farther is 281 - 249.975
    assert lo_error == pytest.approx(281 - 249.975)
    assert hi_error == pytest.approx(lo_error)
    assert decimals_for(0.00049) == 3 and decimals_for(0.00051) == 2


def test_stable_decimals_hold_against_other_seeds():
    """The ends rounded to their stable decimals move by at most one unit when the seed changes."""
    rng = np.random.default_rng(5)
    for n in (20, 300):
        values = np.round(rng.beta(2, 3, size=(n, 1)), 3)
        present = np.ones_like(values, dtype=bool)
        reference = weighted_mean_draws(values, present)[:, 0]
        decimals = stable_decimals(reference)
        assert 1 <= decimals <= 3
        ends = np.array(interval(reference))
        for seed in range(1, 21):
            other = np.array(interval(weighted_mean_draws(values, present, seed=seed)[:, 0]))
            assert np.all(np.abs(np.round(other, decimals) - np.round(ends, decimals)) <= 10.0**-decimals + 1e-12)


def test_stable_decimals_of_constant_or_missing_draws_are_all_printed():
    assert stable_decimals(np.full(100, 0.3)) == MAX_DECIMALS
    assert stable_decimals(np.full(100, np.nan)) == MAX_DECIMALS


def test_a_metric_s_draws_do_not_depend_on_the_other_metrics():
    rng = np.random.default_rng(1)
    values = rng.random((50, 3))
    present = rng.random((50, 3)) < 0.8
    together = weighted_mean_draws(values, present, 500)
    alone = weighted_mean_draws(values[:, [1]], present[:, [1]], 500)
    # the same resampled items; only the matrix product's last bits may differ
    assert np.allclose(together[:, [1]], alone, rtol=0, atol=1e-12, equal_nan=True)


def test_agresti_min_by_hand_and_never_collapsing():
    from llamafactory_domains.plugin.statistics import agresti_min

    # 9 pairs up, 1 down of 40: centre 8/42, sd √(11 − 64/42)/42
    sd = math.sqrt(11 - 64 / 42) / 42
    assert agresti_min(9, 1, 40) == pytest.approx((8 / 42 - 1.959963984540054 * sd, 8 / 42 + 1.959963984540054 * sd))
    # no pair flipped: still ±z/22 around 0 at n = 20, not [0, 0]
    assert agresti_min(0, 0, 20) == pytest.approx((-1.959963984540054 / 22, 1.959963984540054 / 22))
    assert agresti_min(20, 0, 20)[1] == 1.0  # cut to [−1, 1]
    with pytest.raises(ValueError):
        agresti_min(3, 2, 4)


def test_agresti_min_covers_about_95_percent():
    from llamafactory_domains.plugin.statistics import agresti_min

    rng = np.random.default_rng(0)
    for n, up, down in ((30, 0.2, 0.05), (60, 0.1, 0.1), (200, 0.03, 0.01)):
        cells = rng.multinomial(n, [up, down, 1 - up - down], size=4000)
        covered = [lo <= up - down <= hi for lo, hi in (agresti_min(u, d, n) for u, d, _ in cells)]
        assert 0.93 <= np.mean(covered) <= 0.99, (n, up, down, np.mean(covered))


def test_units_of_one_item_each_resample_as_the_items_do():
    values = np.random.default_rng(3).random((30, 2))
    present = values > 0.2
    plain = weighted_mean_draws(values, present, 400)
    assert np.allclose(plain, weighted_mean_draws(values, present, 400, units=np.arange(30)), rtol=0, atol=1e-12,
                       equal_nan=True)


def test_units_are_drawn_whole():
    """Two questions of three copies each: every resample holds 0, 3 or 6 copies of each question, so the
    mean of a question-constant value takes only the values of 0, 1 or 2 copies of question 1."""
    values = np.array([[1.0]] * 3 + [[0.0]] * 3)
    draws = weighted_mean_draws(values, np.ones_like(values, dtype=bool), 300, units=np.array([0, 0, 0, 1, 1, 1]))
    assert set(np.round(draws[:, 0], 9)) <= {0.0, 0.5, 1.0}
