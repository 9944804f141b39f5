import math
from fractions import Fraction
from typing import ClassVar

import pytest
from llamafactory_domains.evaluators.base import Evaluator, Prediction
from llamafactory_domains.plugin.statistics import (
    confidence_intervals,
    mcnemar_p,
    resample,
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
