import json
import math
import random
from fractions import Fraction

import pytest
from llamafactory_domains.evaluators.base import Prediction
from llamafactory_domains.plugin.commands.compare import (
    compare_scores,
    flips,
    mcnemar_p,
    pair_by_prompt,
)
from llamafactory_domains.plugin.commands.eval import (
    Scores,
    build_evaluators,
    score_all,
)
from llamafactory_domains.plugin.errors import UserError

LABELS = ["高血压", "糖尿病", "COPD", "肺炎", "慢性胃炎", "冠心病", "哮喘", "贫血"]
BASE = ["高血压", "糖尿", "COP", "肺炎", "胃炎", "冠心病", "哮", "贫"]  # right: lines 1, 4, 6
TUNED = ["高血压", "糖尿病", "COPD", "肺", "慢性胃炎", "冠心病", "哮喘", "贫"]  # fixed 2, 3, 5, 7; broken 4


def chatml(question: str) -> str:
    return f"<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"


def rows(predicts, labels=LABELS, template=chatml):
    return [{"prompt": template(f"原始词:{x}"), "predict": p, "label": x + "\n"} for p, x in zip(predicts, labels)]


def jsonl(path, items):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in items), encoding="utf-8")
    return path


def predictions(predicts, labels=LABELS):
    pairs = enumerate(zip(predicts, labels), 1)
    return [Prediction(chatml(f"原始词:{x}"), p, x + "\n", line=i) for i, (p, x) in pairs]


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """cwd holding base.jsonl and tuned.jsonl, the tuned lines shuffled."""
    monkeypatch.chdir(tmp_path)
    jsonl(tmp_path / "base.jsonl", rows(BASE))
    tuned = rows(TUNED)
    random.Random(3).shuffle(tuned)
    jsonl(tmp_path / "tuned.jsonl", tuned)
    return tmp_path


def assert_one_line_error(result, *fragments):
    code, out, err = result
    assert (code, out) == (1, "")
    assert err.startswith("lfd compare: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err


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


def test_pairing_by_prompt_survives_shuffling_and_duplicates():
    base = predictions(BASE + ["高"], LABELS + ["高血压"])  # a duplicated item
    tuned = predictions(TUNED + ["高血压"], LABELS + ["高血压"])
    shuffled = tuned[:]
    random.Random(1).shuffle(shuffled)
    paired = pair_by_prompt(base, shuffled, "base.jsonl", "tuned.jsonl")
    assert [p.prompt for p in paired] == [b.prompt for b in base]
    assert sorted(p.line for p in paired) == list(range(1, 10))
    assert [p.predict for p in paired[:8]] == TUNED


def test_cli_end_to_end(runs, lfd):
    code, out, err = lfd("compare", "base.jsonl", "tuned.jsonl", "-e", "exact_match",
                         "--out", "report.json", "--html", "report.html")
    assert (code, err) == (0, "")
    assert out.startswith("8 items paired by prompt: base base.jsonl, tuned tuned.jsonl\n")
    assert "exact_match  0.3750 [" in out and "+0.3750 [" in out

    report = json.loads((runs / "report.json").read_text(encoding="utf-8"))
    assert report["n"] == 8 and report["paired_by"] == "prompt" and report["evaluators"] == ["exact_match"]
    assert report["base"]["metrics"] == {"exact_match": 0.375}
    assert report["tuned"]["metrics"] == {"exact_match": 0.75}
    assert report["diff"]["exact_match"] == pytest.approx(0.375)
    lo, hi = report["diff_ci95"]["exact_match"]
    assert lo < 0.375 < hi
    assert report["mcnemar"]["exact_match"] == {"fixed": 4, "broken": 1, "p": 0.375}
    fixed, broken = report["flips"]["exact_match"]["fixed"], report["flips"]["exact_match"]["broken"]
    assert [f["base_line"] for f in fixed] == [2, 3, 5, 7]
    assert broken == [{"base_line": 4, "tuned_line": broken[0]["tuned_line"], "prompt": "原始词:肺炎",
                       "label": "肺炎", "base": "肺炎", "tuned": "肺"}]
    assert report["bootstrap"] == {"draws": 1000, "seed": 0}

    page = (runs / "report.html").read_text(encoding="utf-8")
    assert "<svg" in page and "原始词:肺炎" in page and "broken: exact_match" in page

    # the same files in the same order give the same numbers
    unshuffled = jsonl(runs / "tuned_in_order.jsonl", rows(TUNED))
    assert lfd("compare", "base.jsonl", unshuffled, "-e", "exact_match", "--out", "again.json")[0] == 0
    again = json.loads((runs / "again.json").read_text(encoding="utf-8"))
    assert again["diff_ci95"] == report["diff_ci95"] and again["mcnemar"] == report["mcnemar"]


def test_terminal_lists_the_flipped_items(runs, lfd):
    _, out, _ = lfd("compare", "base.jsonl", "tuned.jsonl", "-e", "exact_match")
    assert "fixed by tuned (exact_match), 4 of 4:" in out
    assert "broken by tuned (exact_match), 1 of 1:\n  line 4: '原始词:肺炎'  label '肺炎'  base '肺炎'  tuned '肺'" in out


def test_dataset_pairs_by_test_split_order_across_templates(runs, lfd):
    records = [{"instruction": f"原始词:{x}", "input": "", "output": x} for x in LABELS]
    jsonl(runs / "test.jsonl", records)
    entry = {"file_name": "test.jsonl", "columns": {"prompt": "instruction", "query": "input", "response": "output"},
             "lfd": {"evaluators": ["exact_match"]}}
    (runs / "dataset_info.json").write_text(json.dumps({"norm_test": entry}), encoding="utf-8")
    jsonl(runs / "tuned.jsonl", rows(TUNED, template=lambda q: f"[gMASK]<sop><|user|>\n{q}<|assistant|>"))
    code, out, err = lfd("compare", "base.jsonl", "tuned.jsonl", "--dataset", "norm", "--out", "report.json")
    assert (code, err) == (0, "")
    assert "8 items paired by test-split order, checked against norm_test" in out
    report = json.loads((runs / "report.json").read_text(encoding="utf-8"))
    assert report["mcnemar"]["exact_match"]["fixed"] == 4 and report["dataset"] == "norm_test"


def test_mismatched_sets_are_refused_with_counts_and_a_first_example(runs, lfd):
    jsonl(runs / "tuned.jsonl", rows(TUNED[:7] + ["肝炎"], LABELS[:7] + ["肝炎"]))
    result = lfd("compare", "base.jsonl", "tuned.jsonl", "-e", "exact_match", "--out", "report.json")
    assert_one_line_error(
        result,
        "base.jsonl and tuned.jsonl do not hold the same items",
        "1 of 8 base items have no tuned item with the same prompt and label (first: base.jsonl: line 8, "
        "prompt '原始词:贫血')",
        "1 of 8 tuned items have none in base (first: tuned.jsonl: line 8, prompt '原始词:肝炎')",
        "pass --dataset NAME to pair them by test-split order",
    )
    assert not (runs / "report.json").exists()


def test_same_prompt_with_another_label_points_at_the_label(runs, lfd):
    tuned = rows(TUNED)
    tuned[0]["label"] = "高血"
    jsonl(runs / "tuned.jsonl", tuned)
    assert_one_line_error(lfd("compare", "base.jsonl", "tuned.jsonl", "-e", "exact_match"),
                          "label '高血压' in base but '高血' in tuned", "cutoff_len")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["base.jsonl", "base.jsonl", "-e", "exact_match"], ["BASE and TUNED are the same file"]),
        (["base.jsonl", "tuned.jsonl"], ["no evaluator: pass -e NAME"]),
        (["base.jsonl", "tuned.jsonl", "-e", "exact_match", "--html", "tuned.jsonl"], ["that is the predictions file"]),
        (["base.jsonl", "gone.jsonl", "-e", "exact_match"], ["gone.jsonl: no such file"]),
    ],
)
def test_usage_errors(runs, lfd, args, fragments):
    assert_one_line_error(lfd("compare", *args), *fragments)


def test_blank_prompts_need_the_dataset(runs, lfd):
    jsonl(runs / "tuned.jsonl", [{"prompt": "", "predict": p, "label": x} for p, x in zip(TUNED, LABELS)])
    assert_one_line_error(lfd("compare", "base.jsonl", "tuned.jsonl", "-e", "exact_match"),
                          "tuned.jsonl: line 1: no prompt", "pass --dataset NAME")


def test_pairing_refuses_blank_prompts_directly():
    base = predictions(BASE)
    with pytest.raises(UserError, match="base.jsonl: line 1: no prompt"):
        pair_by_prompt([Prediction("", "x", "x", line=1)], base, "base.jsonl", "tuned.jsonl")
