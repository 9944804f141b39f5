"""The option-order metrics of a circular split, on hand-built "models" whose numbers are worked out by hand."""

from __future__ import annotations

import pytest
from scipy import stats

from llamafactory_domains.evaluators.base import Prediction
from llamafactory_domains.evaluators.choice import Choice
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.scoring import compare_scores, score_all
from llamafactory_domains.plugin.clusters import KORN_GRAUBARD
from llamafactory_domains.plugin.statistics import CLOPPER_PEARSON, MCNEMAR, clopper_pearson

LETTERS = "ABCDE"


def rotated(n: int, answer: set[int], r: int) -> tuple[dict[str, str], str, str]:
    """Options, answer letters and order of rotation ``r`` (slot j shows original option (j + r) mod n)."""
    order = "".join(LETTERS[(j + r) % n] for j in range(n))
    options = {LETTERS[j]: f"选项{order[j]}" for j in range(n)}
    letters = "".join(sorted(LETTERS[(i - r) % n] for i in answer))
    return options, letters, order


def always_a(n, answer, r, letters, order):
    return "A"


def right_content(n, answer, r, letters, order):
    return letters


def right_in_original_order(n, answer, r, letters, order):
    """Answers the original letters whatever the order: right only in rotation 0."""
    return "".join(sorted(LETTERS[i] for i in answer))


def question(q: int, n: int, answer: set[int], model, kind: str) -> list[Prediction]:
    items = []
    for r in range(n):
        options, letters, order = rotated(n, answer, r)
        record = {"options": options, "answer": letters, "question_type": kind,
                  "circular": {"question": q, "rotation": r, "order": order, "rotations": n}}
        items.append(Prediction("", model(n, answer, r, letters, order), letters, record=record, line=len(items) + 1))
    return items


def split(n: int, answer: set[int], model, kind: str, questions: int = 3) -> list[Prediction]:
    items = [item for q in range(1, questions + 1) for item in question(q, n, answer, model, kind)]
    for line, item in enumerate(items, 1):
        item.line = line
    return items


SINGLE = {n: {1 % n} for n in range(2, 6)}  # the answer is the original B
MULTI = {n: {0, 1} for n in range(3, 6)}  # the answers are the original A and B


@pytest.mark.parametrize("n", range(2, 6))
def test_always_a_single(n):
    scores = score_all(split(n, SINGLE[n], always_a, "single"), [Choice()])
    m = scores.metrics
    assert m["choice_accuracy"] == pytest.approx(1 / n)  # right only where the answer sits in A
    assert m["choice_original_order_accuracy"] == 0.0  # the original answer is B
    assert m["choice_circular_accuracy"] == 0.0
    assert m["choice_answer_consistency"] == 0.0  # slot A holds another original option each time
    assert m["choice_flip_rate"] == 1.0
    assert m["choice_slot_accuracy_single/A"] == 1.0
    assert all(m[f"choice_slot_accuracy_single/{x}"] == 0.0 for x in LETTERS[1:n])
    assert m["choice_letter_share_single/A"] == 1.0
    assert all(m[f"choice_label_share_single/{x}"] == pytest.approx(1 / n) for x in LETTERS[:n])
    assert scores.counts["choice_circular_accuracy"] == 3  # questions, not copies
    assert scores.counts["choice_accuracy"] == 3 * n


@pytest.mark.parametrize("n", range(2, 6))
def test_right_content_single(n):
    m = score_all(split(n, SINGLE[n], right_content, "single"), [Choice()]).metrics
    for name in ("choice_accuracy", "choice_original_order_accuracy", "choice_circular_accuracy",
                 "choice_answer_consistency"):
        assert m[name] == 1.0
    assert m["choice_flip_rate"] == 0.0
    assert all(m[f"choice_slot_accuracy_single/{x}"] == 1.0 for x in LETTERS[:n])
    assert all(m[f"choice_letter_share_single/{x}"] == pytest.approx(1 / n) for x in LETTERS[:n])


@pytest.mark.parametrize("n", range(2, 6))
def test_right_only_in_original_order_single(n):
    m = score_all(split(n, SINGLE[n], right_in_original_order, "single"), [Choice()]).metrics
    assert m["choice_accuracy"] == pytest.approx(1 / n)
    assert m["choice_original_order_accuracy"] == 1.0
    assert m["choice_circular_accuracy"] == 0.0
    assert m["choice_answer_consistency"] == 0.0  # the letter B stands for another option each time
    assert m["choice_flip_rate"] == 1.0
    assert m["choice_letter_share_single/B"] == 1.0
    assert m["choice_slot_accuracy_single/B"] == 1.0  # the answer sits in B only in the original order
    assert all(m[f"choice_slot_accuracy_single/{x}"] == 0.0 for x in LETTERS[:n] if x != "B")


@pytest.mark.parametrize("n", range(3, 6))
def test_multiple_select(n):
    a = score_all(split(n, MULTI[n], always_a, "multi"), [Choice()]).metrics
    assert (a["choice_accuracy"], a["choice_circular_accuracy"], a["choice_flip_rate"]) == (0.0, 0.0, 0.0)
    assert a["choice_answer_consistency"] == 0.0
    assert a["choice_letter_share_multi/A"] == 1.0 and a["choice_letter_share_multi/B"] == 0.0
    assert all(a[f"choice_label_share_multi/{x}"] == pytest.approx(2 / n) for x in LETTERS[:n])
    right = score_all(split(n, MULTI[n], right_content, "multi"), [Choice()]).metrics
    assert (right["choice_circular_accuracy"], right["choice_answer_consistency"], right["choice_flip_rate"]) == (1, 1, 0)
    assert all(right[f"choice_slot_accuracy_multi/{x}"] == 1.0 for x in LETTERS[:n])
    original = score_all(split(n, MULTI[n], right_in_original_order, "multi"), [Choice()]).metrics
    assert original["choice_accuracy"] == pytest.approx(1 / n)
    assert (original["choice_original_order_accuracy"], original["choice_circular_accuracy"],
            original["choice_flip_rate"], original["choice_answer_consistency"]) == (1, 0, 1, 0)
    # slot A holds a right answer in the original order (right) and in one other rotation (wrong)
    assert original["choice_slot_accuracy_multi/A"] == pytest.approx(1 / 2)


def test_single_and_multiple_select_separately():
    items = split(4, SINGLE[4], right_content, "single", 2) + [
        item for item in question(9, 4, MULTI[4], right_in_original_order, "multi")]
    for line, item in enumerate(items, 1):
        item.line = line
    m = score_all(items, [Choice()]).metrics
    assert m["choice_single_select/circular_accuracy"] == 1.0
    assert m["choice_multi_select/circular_accuracy"] == 0.0
    assert m["choice_multi_select/flip_rate"] == 1.0
    assert m["choice_circular_accuracy"] == pytest.approx(2 / 3)  # two of three questions
    assert m["choice_multi_select/accuracy"] == pytest.approx(1 / 4)


def renumbered(items):
    for q, start in enumerate(range(0, len(items), 4)):
        for item in items[start:start + 4]:
            item.record["circular"]["question"] = q
    return items


def test_intervals_count_questions_not_copies():
    """Per-question 0/1 metrics keep the exact interval over questions; copies of a question are not
    independent, so accuracy over the copies gets Korn-Graubard's interval at the effective number of
    questions, never Clopper-Pearson over the copies; a graded metric a bootstrap of questions."""
    items = renumbered(split(4, SINGLE[4], always_a, "single", 5) + split(4, SINGLE[4], right_content, "single", 5))
    scores = score_all(items, [Choice()], 2000)
    assert scores.ci_methods["choice_circular_accuracy"] == CLOPPER_PEARSON
    assert scores.ci95["choice_circular_accuracy"] == clopper_pearson(5, 10)
    assert scores.ci_methods["choice_accuracy"] == KORN_GRAUBARD
    # by hand: p = 25/40; the clusters hold 1 or 4 ones of 4, so v = 10/9 · 5·(1 − 2.5)²·2 / 40² = 0.015625,
    # n* = p(1 − p)/v = 15, times (t_39 / t_9)² for 9 degrees of freedom; Clopper-Pearson of p·n* in n*
    effective = 15 * (stats.t.ppf(0.975, 39) / stats.t.ppf(0.975, 9)) ** 2
    x = 25 / 40 * effective
    assert scores.ci95["choice_accuracy"] == pytest.approx(
        (stats.beta.ppf(0.025, x, effective - x + 1), stats.beta.ppf(0.975, x + 1, effective - x)), abs=1e-12)
    low, high = scores.ci95["choice_accuracy"]
    low_items, high_items = clopper_pearson(25, 40)
    assert high - low > 1.3 * (high_items - low_items)  # 10 questions: wider than 40 independent items
    # a graded metric (partial credit of multiple answers) is bootstrapped by question
    multi = renumbered(split(4, MULTI[4], always_a, "multi", 3))
    assert score_all(multi, [Choice()], 500).ci_methods["choice_partial_credit"] == (
        "percentile bootstrap of questions, B=500, seed 0")


def test_a_rate_of_copies_at_zero_does_not_collapse():
    scores = score_all(renumbered(split(4, MULTI[4], always_a, "multi", 3)), [Choice()], 500)
    assert scores.metrics["choice_accuracy"] == 0.0
    # 3 questions that give no sign of how alike their copies are: no more than 3 independent items
    assert scores.ci95["choice_accuracy"] == clopper_pearson(0, 3)


def test_compare_pairs_by_question():
    base = split(4, SINGLE[4], right_in_original_order, "single", 6)
    tuned = split(4, SINGLE[4], right_content, "single", 6)
    comparison = compare_scores(score_all(base, [Choice()], 500), score_all(tuned, [Choice()], 500),
                                primary="choice_circular_accuracy")
    circular = comparison.changes["choice_circular_accuracy"]
    assert (circular.n, circular.fixed, circular.broken, circular.test) == (6, 6, 0, MCNEMAR)
    assert circular.p == pytest.approx(2 / 2**6)
    accuracy = comparison.changes["choice_accuracy"]
    assert accuracy.test == "exact sign-flip permutation of questions"  # not McNemar over 24 copies
    assert accuracy.p == pytest.approx(2 / 2**6)  # six questions, each +3 copies right
    assert comparison.flipped[0] == "choice_circular_accuracy" and len(comparison.flipped[1]) == 6


def test_incomplete_question_is_refused():
    items = split(4, SINGLE[4], always_a, "single", 1)[:3]
    with pytest.raises(UserError, match="question 1 of the circular split has rotations 0, 1, 2 of its 4"):
        score_all(items, [Choice()])


def test_question_kept_in_its_order_has_no_circular_scores():
    record = {"options": {"A": "甲", "B": "以上都对"}, "answer": "B", "question_type": "single",
              "circular": {"question": 1, "rotation": 0, "order": "AB", "rotations": 1}}
    scores = score_all([Prediction("", "B", "B", record=record, line=1)], [Choice()])
    assert scores.metrics["choice_original_order_accuracy"] == 1.0
    assert "choice_circular_accuracy" not in scores.metrics


def test_multiple_select_of_two_options():
    """Both options are the answer: a rotation moves their texts but keeps the answer AB, so answering the
    original letters is right in every order; answering A alone never is."""
    a = score_all(split(2, {0, 1}, always_a, "multi"), [Choice()]).metrics
    assert (a["choice_accuracy"], a["choice_circular_accuracy"], a["choice_flip_rate"], a["choice_answer_consistency"]) \
        == (0.0, 0.0, 0.0, 0.0)  # A is the original A, then the original B: not the same option
    assert (a["choice_letter_share_multi/A"], a["choice_label_share_multi/A"], a["choice_label_share_multi/B"]) == (1, 1, 1)
    original = score_all(split(2, {0, 1}, right_in_original_order, "multi"), [Choice()]).metrics
    assert (original["choice_circular_accuracy"], original["choice_answer_consistency"], original["choice_flip_rate"]) \
        == (1.0, 1.0, 0.0)
