import math
import random
import time
from typing import ClassVar

import pytest
from llamafactory_domains.evaluators.base import Evaluator, Prediction
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.evaluator_specs import build_evaluators
from llamafactory_domains.plugin.scoring import (
    Change,
    Scores,
    compare_scores,
    flips,
    reliably,
    score_all,
)

LABELS = ["高血压", "糖尿病", "COPD", "肺炎", "慢性胃炎", "冠心病", "哮喘", "贫血"]


def chatml(question: str) -> str:
    return f"<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"


def predictions(predicts, labels=LABELS):
    pairs = enumerate(zip(predicts, labels), 1)
    return [Prediction(chatml(f"原始词:{x}"), p, x + "\n", line=i) for i, (p, x) in pairs]


def test_paired_bootstrap_is_deterministic_and_paired():
    rng = random.Random(0)
    base = [rng.choice(LABELS) if rng.random() < 0.5 else "错" for _ in range(200)]
    labels = [b if b != "错" else rng.choice(LABELS) for b in base]
    wrong = labels.index(next(x for b, x in zip(base, labels) if b == "错"))
    tuned = list(base)
    tuned[wrong] = labels[wrong]  # tuned fixes exactly one item
    chosen = build_evaluators([("-e", "exact_match")])

    def change():
        scores = score_all(predictions(base, labels), chosen), score_all(predictions(tuned, labels), chosen)
        return compare_scores(*scores).changes["exact_match"]

    first, second = change(), change()
    assert first == second
    assert first.diff == pytest.approx(1 / 200)
    assert (first.fixed, first.broken, first.p) == (1, 0, 1.0)
    # a 0/1 metric's difference: Agresti-Min, centred on 1/202 with sd √(2 − 1/202)/202, so it holds 0 as p = 1 says
    assert first.ci_method == "Agresti-Min adjusted Wald (paired)"
    sd = math.sqrt(2 - 1 / 202) / 202
    assert first.ci95 == pytest.approx((1 / 202 - 1.959963984540054 * sd, 1 / 202 + 1.959963984540054 * sd))
    assert first.ci95 == pytest.approx((-0.008754332, 0.018655322))

    # a graded metric's difference: the paired bootstrap; every resample holds the improved item 0 or more
    # times, so the difference is never negative
    graded = [0.25 if b == "错" else 1.0 for b in base]
    better = list(graded)
    better[wrong] = 0.75
    runs = score_all(rows(x_rouge=graded), [Table()]), score_all(rows(x_rouge=better), [Table()])
    rouge = compare_scores(*runs).changes["x_rouge"]
    assert rouge.ci_method == "paired percentile bootstrap, B=10000, seed 0"
    assert rouge.diff == pytest.approx(0.5 / 200) and rouge.ci95[0] == 0 and 0 < rouge.ci95[1] <= 1.5 / 200 + 1e-12


def test_flips_of_0_1_metrics_and_none_for_graded_ones():
    rate = "choice_no_answer_rate"
    base = Scores([{"a": 0.0, "g": 0.5, rate: 1.0}, {"a": 1.0, "g": 1.0, rate: 0.0}])
    tuned = Scores([{"a": 1.0, "g": 0.0, rate: 0.0}, {"a": 0.0, "g": 1.0, rate: 0.0}])
    assert flips("a", base, tuned) == ([0], [1])
    assert flips("g", base, tuned) is None
    assert flips(rate, base, tuned) == ([0], [])  # 1 → 0 is the improvement


# --- helpers: an evaluator that returns the scores written into each item's record ----------

class Table(Evaluator):
    """Scores given per item (the record is the scores): hand-worked examples without an evaluator's logic."""

    name = "table"
    primary = "x_accuracy"
    unbounded: ClassVar = ("x_rescaled",)

    def score(self, item):
        return dict(item.record)


class TableMean(Table):
    """The same mean through a custom aggregate: the statistics call it on every resample."""

    def aggregate(self, per_item):
        return Evaluator.aggregate(self, per_item)


def rows(**columns) -> list[Prediction]:
    """Items whose scores are the given columns (metric → one value per item)."""
    count = len(next(iter(columns.values())))
    return [Prediction("", "", "", record={name: values[i] for name, values in columns.items()}, line=i + 1)
            for i in range(count)]


# --- one run: which interval for which metric ------------------------------------------------

def test_0_1_metrics_get_clopper_pearson_and_graded_ones_a_bootstrap():
    items = rows(x_accuracy=[0.0] * 20, x_rouge=[i / 19 for i in range(20)], x_rate=[1.0] * 7 + [0.0] * 13)
    scores = score_all(items, [Table()])
    assert scores.ci95["x_accuracy"] == (0.0, pytest.approx(1 - 0.025 ** (1 / 20)))  # 0/20: [0, 0.1684]
    assert scores.ci95["x_rate"] == pytest.approx((0.15390920478454118, 0.5921885345328282))  # 7/20
    assert scores.ci_methods == {"x_accuracy": "Clopper-Pearson exact", "x_rate": "Clopper-Pearson exact",
                                 "x_rouge": "percentile bootstrap, B=10000, seed 0"}
    assert scores.decimals["x_accuracy"] == scores.decimals["x_rate"] == 4
    # n = 20: the Monte-Carlo error of each end is 2 steps of the 1/380 grid of resampled means, 0.0053 > 0.005,
    # so only 1 decimal is stable (other seeds move the upper end between 0.629 and 0.637)
    assert scores.decimals["x_rouge"] == 1
    lo, hi = scores.ci95["x_rouge"]
    assert lo < 0.5 < hi
    assert scores.counts == {"x_accuracy": 20, "x_rouge": 20, "x_rate": 20}
    assert (scores.primary, scores.resamples) == ("x_accuracy", 10_000)
    assert score_all(items, [Table()]).ci95 == scores.ci95  # deterministic


def test_a_custom_aggregate_gets_the_bootstrap_even_for_0_1_values():
    items = rows(x_accuracy=[1.0, 0.0] * 10)
    scores = score_all(items, [TableMean()], draws=500)
    assert scores.ci_methods["x_accuracy"] == "percentile bootstrap, B=500, seed 0"
    assert scores.ci95["x_accuracy"] == pytest.approx(score_all(items, [Table()], draws=500).ci95["x_accuracy"],
                                                      abs=0.1)


def test_primary_defaults_to_the_first_metric_when_the_evaluator_names_none():
    class NoPrimary(Table):
        primary = ""

    assert score_all(rows(b=[1.0], a=[0.0]), [NoPrimary()]).primary == "b"


def test_unbounded_metrics_may_leave_0_1_but_must_be_finite_numbers():
    scores = score_all(rows(x_rescaled=[-0.3, 1.2, 0.5]), [Table()])
    assert scores.metrics["x_rescaled"] == pytest.approx(1.4 / 3)
    for bad in (math.nan, math.inf, "0.5"):
        with pytest.raises(UserError, match=r"x_rescaled may exceed \[0, 1\] but must be a finite number or None"):
            score_all(rows(x_rescaled=[0.5, bad]), [Table()])
    for bad in (1.2, -0.1, math.nan, "1"):
        with pytest.raises(UserError, match=r"line 2 x_accuracy=.*; scores must be numbers in \[0, 1\] or None: fix"):
            score_all(rows(x_accuracy=[0.5, bad]), [Table()])


# --- a comparison: pairs only, tests, Holm, the primary metric -------------------------------

def test_a_conditional_metric_is_compared_on_the_items_both_runs_have_worked_by_hand():
    base = rows(x_accuracy=[1.0, 0.0, 0.0, 1.0, 0.0, 1.0],
                json_field_missing_rate=[0.0, 1.0, None, 1.0, 0.0, None],
                x_rouge=[0.5, 0.2, None, 0.9, 0.4, None])
    tuned = rows(x_accuracy=[1.0, 1.0, 1.0, 1.0, 0.0, 0.0],
                 json_field_missing_rate=[0.0, 0.0, 0.0, None, 0.0, 1.0],
                 x_rouge=[0.75, 0.2, 0.6, None, 0.65, 0.1])
    runs = score_all(base, [Table()]), score_all(tuned, [Table()])
    comparison = compare_scores(*runs)
    assert comparison.primary == "x_accuracy"

    accuracy = comparison.changes["x_accuracy"]  # fixed items 1 and 2, broke item 5: McNemar 2·(1+2)/8 → 1
    assert (accuracy.n, accuracy.base_only, accuracy.tuned_only) == (6, 0, 0)
    assert (accuracy.base, accuracy.tuned, accuracy.diff) == (pytest.approx(3 / 6), pytest.approx(4 / 6),
                                                              pytest.approx(1 / 6))
    assert (accuracy.fixed, accuracy.broken, accuracy.flips) == (2, 1, ([1, 2], [5]))
    assert (accuracy.p, accuracy.test, accuracy.p_adjusted, accuracy.primary) == (1.0, "exact McNemar", 1.0, True)

    # base has it on items 0 1 3 4 (4), tuned on 0 1 2 4 5 (5): compared on 0 1 4 (3)
    missing = comparison.changes["json_field_missing_rate"]
    assert (runs[0].counts["json_field_missing_rate"], runs[1].counts["json_field_missing_rate"]) == (4, 5)
    assert (missing.n, missing.base_only, missing.tuned_only) == (3, 1, 2)
    assert (missing.base, missing.tuned, missing.diff) == (pytest.approx(1 / 3), 0.0, pytest.approx(-1 / 3))
    # not the unpaired 1/5 − 2/4 = −0.3
    assert runs[1].metrics["json_field_missing_rate"] - runs[0].metrics["json_field_missing_rate"] == pytest.approx(-0.3)
    assert (missing.fixed, missing.broken, missing.flips) == (1, 0, ([1], []))  # 1 → 0 on item 1 is the fix
    assert (missing.p, missing.test, missing.exploratory) == (1.0, "exact McNemar", True)

    # differences on the pairs 0 1 4: 0.25, 0, 0.25; the signs of the two nonzero ones give |sum| 0.5 in 2 of 4
    rouge = comparison.changes["x_rouge"]
    assert (rouge.n, rouge.base_only, rouge.tuned_only) == (3, 1, 2)
    assert (rouge.base, rouge.tuned, rouge.diff) == (pytest.approx(1.1 / 3), pytest.approx(1.6 / 3),
                                                     pytest.approx(0.5 / 3))
    assert (rouge.p, rouge.test, rouge.fixed, rouge.flips) == (0.5, "exact sign-flip permutation", None, None)
    assert 0 <= rouge.ci95[0] <= rouge.diff <= rouge.ci95[1] <= 0.25 + 1e-12
    assert rouge.ci_method == "paired percentile bootstrap, B=10000, seed 0"

    # Holm over the two secondary p-values 1.0 and 0.5: 0.5·2 = 1, then max(1, 1·1) = 1
    assert (missing.p_adjusted, rouge.p_adjusted) == (1.0, 1.0)
    assert comparison.flipped == ("x_accuracy", [1, 2], [5])


def test_holm_for_secondary_metrics_raw_p_for_the_primary_and_the_verdict():
    n = 40
    fixed6 = ([0.0] * 6 + [1.0] * (n - 6), [1.0] * n)  # 6 fixed, 0 broken: McNemar 2/64 = 0.03125
    base = rows(x_accuracy=fixed6[0], y_accuracy=fixed6[0], z_accuracy=[1.0, 0.0] + [1.0] * (n - 2),
                choice_no_answer_rate=[1.0] * 7 + [0.0] * (n - 7))
    tuned = rows(x_accuracy=fixed6[1], y_accuracy=fixed6[1], z_accuracy=[0.0, 1.0] + [1.0] * (n - 2),
                 choice_no_answer_rate=[0.0] * n)
    runs = score_all(base, [Table()]), score_all(tuned, [Table()])
    changes = compare_scores(*runs).changes
    x, y, z, no_answer = (changes[name] for name in ("x_accuracy", "y_accuracy", "z_accuracy", "choice_no_answer_rate"))
    assert x.p == y.p == 0.03125 and z.p == 1.0 and no_answer.p == 2 / 128
    # secondary y, z, no_answer: sorted 2/128, 0.03125, 1 times 3, 2, 1 -> 0.046875, 0.0625, 1
    assert (no_answer.p_adjusted, y.p_adjusted, z.p_adjusted) == (0.046875, 0.0625, 1.0)
    assert x.p_adjusted == x.p  # the primary keeps its raw p
    assert (reliably(x), reliably(y), reliably(z), reliably(no_answer)) == ("better", None, None, "better")

    # the same data with y as the primary: x becomes the exploratory one
    swapped = compare_scores(*runs, primary="y_accuracy")
    assert (swapped.primary, swapped.changes["y_accuracy"].p_adjusted, swapped.changes["x_accuracy"].p_adjusted) == (
        "y_accuracy", 0.03125, 0.0625)
    assert reliably(swapped.changes["y_accuracy"]) == "better" and reliably(swapped.changes["x_accuracy"]) is None
    with pytest.raises(UserError, match="primary metric 'rouge' is not scored by both runs"):
        compare_scores(*runs, primary="rouge")


def test_never_reliably_better_when_p_says_otherwise():
    # n = 15, tuned fixes 4: McNemar p = 2/16 = 0.125, although no resample of the difference reaches 0
    runs = (score_all(rows(x_accuracy=[0.0] * 4 + [1.0] * 11), [Table()]),
            score_all(rows(x_accuracy=[1.0] * 15), [Table()]))
    change = compare_scores(*runs).changes["x_accuracy"]
    assert (change.n, change.p, change.primary) == (15, 0.125, True)
    assert change.ci95[0] > 0  # the interval alone would have said "better"
    assert reliably(change) is None
    worse = compare_scores(*runs[::-1]).changes["x_accuracy"]
    assert reliably(worse) is None
    assert reliably(Change(-0.2, None, 0.01, metric="choice_ambiguous_rate", p_adjusted=0.01)) == "better"
    assert reliably(Change(0.2, None, 0.01, metric="choice_ambiguous_rate", p_adjusted=0.01)) == "worse"
    assert reliably(Change(0.0, None, 0.01, metric="x", p_adjusted=0.01)) is None
    assert reliably(Change(0.2, None, 0.01, metric="x")) is None  # no decision p


def test_only_the_primary_metric_s_flips_are_listed():
    base = rows(x_accuracy=[0.0, 0.0, 1.0], choice_no_answer_rate=[1.0, 1.0, 0.0], x_rouge=[0.1, 0.2, 0.3])
    tuned = rows(x_accuracy=[0.0, 1.0, 1.0], choice_no_answer_rate=[0.0, 0.0, 0.0], x_rouge=[0.2, 0.2, 0.1])
    runs = score_all(base, [Table()]), score_all(tuned, [Table()])
    comparison = compare_scores(*runs)
    # item 0 answered now but still wrong: fixed for the no-answer rate, never listed as fixed
    assert comparison.changes["choice_no_answer_rate"].flips == ([0, 1], [])
    assert comparison.flipped == ("x_accuracy", [1], [])
    assert compare_scores(*runs, primary="x_rouge").flipped is None


def test_a_custom_aggregate_is_compared_on_the_pairs_too():
    rng = random.Random(4)
    b_values = [round(rng.random(), 2) if rng.random() < 0.8 else None for _ in range(40)]
    t_values = [None if v is None and rng.random() < 0.5 else round(min(1.0, rng.random() * 0.3 + (v or 0.5)), 2)
                for v in b_values]
    fast = compare_scores(score_all(rows(g=b_values), [Table()], 2000),
                          score_all(rows(g=t_values), [Table()], 2000)).changes["g"]
    slow = compare_scores(score_all(rows(g=b_values), [TableMean()], 2000),
                          score_all(rows(g=t_values), [TableMean()], 2000)).changes["g"]
    for field_name in ("n", "base_only", "tuned_only", "base", "tuned", "diff", "decimals"):
        assert getattr(slow, field_name) == pytest.approx(getattr(fast, field_name), abs=1e-12)
    assert slow.ci95 == pytest.approx(fast.ci95, abs=1e-12)  # the same resampled items
    assert fast.test == "Monte Carlo sign-flip permutation, B=2000, seed 0"
    assert slow.test == "Monte Carlo swap permutation of the aggregate, B=2000, seed 0"
    assert abs(slow.p - fast.p) < 4 * math.sqrt(max(fast.p, 0.01) / 2000)


def test_statistics_of_1000_items_and_a_dozen_metrics_take_well_under_a_second():
    rng = random.Random(0)
    columns = {f"x{k}_accuracy": [float(rng.random() < 0.6) for _ in range(1000)] for k in range(6)}
    columns |= {f"x{k}_rouge": [rng.random() if rng.random() < 0.9 else None for _ in range(1000)] for k in range(6)}
    shifted = {name: [None if v is None else min(1.0, v + 0.05 * (rng.random() < 0.5)) for v in values]
               for name, values in columns.items()}
    started = time.perf_counter()
    runs = score_all(rows(**columns), [Table()]), score_all(rows(**shifted), [Table()])
    comparison = compare_scores(*runs, primary="x0_accuracy")
    assert time.perf_counter() - started < 3  # about 0.3 s; loose for shared machines
    assert len(comparison.changes) == 12 and all(c.p is not None for c in comparison.changes.values())


def test_a_metric_without_pairs_is_reported_with_its_denominators_only():
    base, tuned = rows(x_rouge=[0.5, None, 0.2]), rows(x_rouge=[None, 0.7, None])
    for evaluator in (Table(), TableMean()):
        change = compare_scores(score_all(base, [evaluator], 200), score_all(tuned, [evaluator], 200)).changes["x_rouge"]
        assert (change.n, change.base_only, change.tuned_only) == (0, 2, 1)
        assert (change.diff, change.ci95, change.p, change.p_adjusted, change.base) == (None, None, None, None, None)
        assert reliably(change) is None
