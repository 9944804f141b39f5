import random

import pytest
from llamafactory_domains.evaluators.base import Prediction
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.scoring import (
    Scores,
    build_evaluators,
    compare_scores,
    flips,
    parse_spec,
    score_all,
)

LABELS = ["高血压", "糖尿病", "COPD", "肺炎", "慢性胃炎", "冠心病", "哮喘", "贫血"]


def chatml(question: str) -> str:
    return f"<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"


def predictions(predicts, labels=LABELS):
    pairs = enumerate(zip(predicts, labels), 1)
    return [Prediction(chatml(f"原始词:{x}"), p, x + "\n", line=i) for i, (p, x) in pairs]


def test_spec_parsing_types_values():
    assert parse_spec(" exact_match : ignore_case=TRUE, n=3, t=0.5, mode=a b ") == (
        "exact_match",
        {"ignore_case": True, "n": 3, "t": 0.5, "mode": "a b"},
    )
    with pytest.raises(UserError, match="no evaluator name"):
        parse_spec(":x=1")


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
        return compare_scores(*scores)["exact_match"][0]

    first, second = change(), change()
    assert first == second
    assert first.diff == pytest.approx(1 / 200)
    # paired: every resample holds the fixed item 0 or more times, so the difference is never negative
    assert first.ci95[0] == 0 and 0 < first.ci95[1] <= 3 / 200 + 1e-12
    assert (first.fixed, first.broken, first.p) == (1, 0, 1.0)


def test_flips_of_0_1_metrics_and_none_for_graded_ones():
    rate = "choice_no_answer_rate"
    base = Scores([{"a": 0.0, "g": 0.5, rate: 1.0}, {"a": 1.0, "g": 1.0, rate: 0.0}])
    tuned = Scores([{"a": 1.0, "g": 0.0, rate: 0.0}, {"a": 0.0, "g": 1.0, rate: 0.0}])
    assert flips("a", base, tuned) == ([0], [1])
    assert flips("g", base, tuned) is None
    assert flips(rate, base, tuned) == ([0], [])  # 1 → 0 is the improvement
