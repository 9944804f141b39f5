import json
import random

import pytest

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
