"""SUS statistics on the hand-filled sheets: means worked out by hand, the bootstrap of questions redone by
hand, the paired sign-flip test enumerated by hand, and alpha equal to `krippendorff.alpha` itself."""

from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import pytest
from llamafactory_domains.plugin.rating.agreement import judge_agreement
from llamafactory_domains.plugin.rating.sheets import read_ratings
from llamafactory_domains.plugin.rating.sus import summarize
from rating_helpers import RATINGS
from scipy.stats import spearmanr

BASE, TUNED = "qwen-base-secret", "qwen-lora-secret"
DRAWS = 2000


@pytest.fixture
def summary(filled):
    rows = read_ratings([filled["sheet"]], filled["key"])
    return rows, summarize(rows, [BASE, TUNED], 3, DRAWS)


def test_means_by_hand(summary):
    _, result = summary
    base, tuned = result["means"][BASE], result["means"][TUNED]
    # base safety: 1 2 1 (rater 1) and 1 2 2 (rater 2) = 9 / 6; usability 2 2 1, 1 2 1 = 9 / 6; smoothness 3 3 2, 3 2 2
    assert (base["safety"]["mean"], base["usability"]["mean"], base["smoothness"]["mean"]) == (1.5, 1.5, 2.5)
    assert base["total"]["mean"] == pytest.approx(5.5) and base["total"]["ratings"] == 6  # (6 + 7 + 4 + 5 + 6 + 5) / 6
    assert tuned["safety"]["mean"] == pytest.approx(16 / 6) and tuned["smoothness"]["mean"] == 3.0
    assert tuned["total"]["mean"] == pytest.approx(50 / 6)


def test_the_interval_resamples_questions_with_their_raters(summary):
    rows, result = summary
    # redone by hand: draw 3 of the 3 questions (seed 0), average every rating of the drawn questions
    drawn = np.random.default_rng(0).integers(0, 3, size=(DRAWS, 3))
    totals = {q: [sum(RATINGS[r][BASE][q]) for r in RATINGS] for q in range(3)}
    means = [np.mean([t for q in draw for t in totals[q]]) for draw in drawn]
    lo, hi = np.quantile(means, [0.025, 0.975])
    assert result["means"][BASE]["total"]["ci95"] == pytest.approx((lo, hi))


def test_paired_difference_and_sign_flip_by_hand(summary):
    _, result = summary
    [comparison] = result["comparisons"]
    assert (comparison["first"], comparison["second"]) == (BASE, TUNED)
    safety, total = comparison["numbers"]["safety"], comparison["numbers"]["total"]
    # per question mean over raters: base safety 1, 2, 1.5; tuned 3, 2.5, 2.5 -> differences 2, 0.5, 1
    assert safety["diff"] == pytest.approx(3.5 / 3) and safety["questions"] == 3
    # all 8 sign vectors of (2, 0.5, 1): only ±3.5 reach |3.5|
    sums = [abs(np.dot(signs, [2, 0.5, 1])) for signs in itertools.product([1, -1], repeat=3)]
    assert safety["p"] == sum(s >= 3.5 - 1e-12 for s in sums) / 8 == 0.25
    assert safety["test"] == "exact sign-flip permutation of questions"
    # totals per question: base 5.5, 6.5, 4.5; tuned 9, 7.5, 8.5 -> 3.5, 1, 4
    assert total["diff"] == pytest.approx(8.5 / 3) and total["p"] == 0.25
    lo, hi = total["ci95"]
    assert 1 <= lo <= total["diff"] <= hi <= 4
    assert {"p_holm"} <= set(total)


def test_alpha_is_krippendorffs(summary):
    rows, result = summary
    units = [(m, q) for m in (BASE, TUNED) for q in range(3)]
    for index, dimension in enumerate(("safety", "usability", "smoothness")):
        data = np.array([[RATINGS[r][m][q][index] for m, q in units] for r in RATINGS], dtype=float)
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal")
        assert result["agreement"][dimension]["alpha"] == pytest.approx(expected, abs=1e-12)
        assert result["agreement"][dimension]["units"] == 6


def test_judge_agreement_against_the_physicians(summary):
    rows, _ = summary
    judge = [{"model": m, "item": q, "rater": "judge", "safety": s, "usability": 2, "smoothness": 3}
             for (m, q), s in zip([(m, q) for m in (BASE, TUNED) for q in range(3)], [1, 2, 1, 3, 3, 2])]
    result = judge_agreement(judge, rows)
    human_mean = [1, 2, 1.5, 3, 2.5, 2.5]
    assert result["safety"]["spearman"] == pytest.approx(spearmanr([1, 2, 1, 3, 3, 2], human_mean).statistic)
    assert result["safety"]["pairs"] == 6 and result["usability"]["spearman"] is None  # a constant judge
    units = [(m, q) for m in (BASE, TUNED) for q in range(3)]
    humans = np.array([[RATINGS[r][m][q][0] for m, q in units] for r in RATINGS], dtype=float)
    with_judge = np.vstack([humans, [[1, 2, 1, 3, 3, 2]]])
    assert result["safety"]["alpha_humans"] == pytest.approx(krippendorff.alpha(reliability_data=humans,
                                                                                 level_of_measurement="ordinal"))
    assert result["safety"]["alpha_with_judge"] == pytest.approx(krippendorff.alpha(reliability_data=with_judge,
                                                                                     level_of_measurement="ordinal"))
    with pytest.raises(ValueError, match="twice"):
        judge_agreement(judge + judge[:1], rows)


def test_missing_ratings_are_nan_units(summary):
    rows, _ = summary
    partial = [dict(row, safety=None) if row["rater"] == "评分员2" and row["item"] == 0 else row for row in rows]
    result = summarize(partial, [BASE, TUNED], 3, 200)
    assert result["means"][BASE]["safety"]["ratings"] == 5
    assert result["means"][BASE]["total"]["ratings"] == 5  # the total needs all three
    assert result["means"][BASE]["safety"]["mean"] == pytest.approx(8 / 5)
