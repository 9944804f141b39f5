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
    assert (code, err) == (0, "8 items paired by prompt: base base.jsonl, tuned tuned.jsonl\n")  # status: stderr
    assert out.startswith("metric ")  # stdout: the results
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
    assert report["bootstrap"] == {"draws": 10000, "seed": 0}
    assert report["primary_metric"] == "exact_match"
    change = report["changes"]["exact_match"]
    assert (change["n"], change["base"], change["tuned"], change["test"]) == (8, 0.375, 0.75, "exact McNemar")
    assert change["p"] == change["p_adjusted"] == 0.375 and change["primary"]

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
    assert code == 0 and err == ("8 items paired by test-split order, checked against norm_test: "
                                 "base base.jsonl, tuned tuned.jsonl\n")
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


def test_per_item_writes_both_runs_scores_of_each_pair(runs, lfd):
    code, _, err = lfd("compare", "base.jsonl", "tuned.jsonl", "-e", "exact_match", "--per-item", "items.jsonl")
    assert (code, err) == (0, "8 items paired by prompt: base base.jsonl, tuned tuned.jsonl\n")
    rows = [json.loads(line) for line in (runs / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["base"]["line"] for row in rows] == list(range(1, 9))  # in base order, tuned paired by prompt
    assert [row["label"] for row in rows] == [x + "\n" for x in LABELS]
    assert [row["base"]["predict"] for row in rows] == BASE and [row["tuned"]["predict"] for row in rows] == TUNED
    assert [row["base"]["scores"]["exact_match"] for row in rows] == [1, 0, 0, 1, 0, 1, 0, 0]
    assert [row["tuned"]["scores"]["exact_match"] for row in rows] == [1, 1, 1, 0, 1, 1, 1, 0]
    tuned_lines = [json.loads(line)["predict"] for line in (runs / "tuned.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(tuned_lines[row["tuned"]["line"] - 1] == row["tuned"]["predict"] for row in rows)


def test_per_item_is_refused_over_an_input(runs, lfd):
    assert_one_line_error(lfd("compare", "base.jsonl", "tuned.jsonl", "-e", "exact_match", "--per-item", "tuned.jsonl"),
                          "tuned.jsonl")
    assert len((runs / "tuned.jsonl").read_text(encoding="utf-8").splitlines()) == 8


def test_a_wrong_answer_is_never_fixed_because_the_no_answer_rate_improved(tmp_path, lfd):
    """Base gives no answer, tuned a wrong letter: the no-answer rate improves on that item, accuracy does not."""
    questions = [f"第{i}题\nA. 甲\nB. 乙\nC. 丙\nD. 丁" for i in range(6)]
    labels = ["A", "B", "C", "D", "A", "B"]
    base = ["A", "无法回答", "无法回答", "D", "B", "B"]  # right: 1, 4, 6; no answer: 2, 3
    tuned = ["A", "C", "C", "D", "A", "B"]  # right: 1, 3, 4, 5, 6; line 2 answers, wrongly
    for name, predicts in (("base", base), ("tuned", tuned)):
        jsonl(tmp_path / f"{name}.jsonl", [{"prompt": chatml(q), "predict": p, "label": x}
                                           for q, p, x in zip(questions, predicts, labels)])
    code, out, _ = lfd("compare", tmp_path / "base.jsonl", tmp_path / "tuned.jsonl", "-e", "choice",
                       "--out", tmp_path / "report.json", "--html", tmp_path / "report.html")
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["primary_metric"] == "choice_accuracy"
    assert report["mcnemar"]["choice_accuracy"] == {"fixed": 2, "broken": 0, "p": 0.5}  # lines 3 and 5
    assert report["mcnemar"]["choice_no_answer_rate"]["fixed"] == 2  # lines 2 and 3 now answer
    # only the primary metric's flips are listed: line 2 (answered, wrongly) is not "fixed"
    assert list(report["flips"]) == ["choice_accuracy"]
    assert [row["base_line"] for row in report["flips"]["choice_accuracy"]["fixed"]] == [3, 5]
    assert "fixed by tuned (choice_accuracy), 2 of 2:" in out and "no_answer_rate)" not in out
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count('<span class="tag fixed">') == 2 and "fixed: choice_no_answer_rate" not in page
    # the exploratory no-answer rate's p is Holm-adjusted over the secondary metrics
    change = report["changes"]["choice_no_answer_rate"]
    assert not change["primary"] and change["p_adjusted"] >= change["p"] == 0.5
    # cards: the primary metric first, whatever moved most
    assert page.index("choice_accuracy</div>") < page.index("choice_no_answer_rate ↓</div>")


@pytest.mark.parametrize("option", [["--out", "-"], ["--json"]])
def test_out_dash_and_json_print_the_report_json_alone_on_stdout(runs, lfd, option):
    code, _, _ = lfd("compare", "base.jsonl", "tuned.jsonl", "-e", "exact_match", "--out", "report.json")
    expected = json.loads((runs / "report.json").read_text(encoding="utf-8"))
    code, out, err = lfd("compare", "base.jsonl", "tuned.jsonl", "-e", "exact_match", *option)
    assert code == 0 and json.loads(out) == expected  # stdout is pure JSON
    assert not (runs / "-").exists()
    assert err.startswith("8 items paired by prompt: base base.jsonl, tuned tuned.jsonl\nmetric ")  # table: stderr
    assert "fixed by tuned" in err


def test_per_item_dash_prints_the_pairs_on_stdout(runs, lfd):
    code, out, err = lfd("compare", "base.jsonl", "tuned.jsonl", "-e", "exact_match", "--per-item", "-")
    assert code == 0 and not (runs / "-").exists()
    assert [json.loads(line)["base"]["line"] for line in out.splitlines()] == list(range(1, 9))
    assert "metric " in err


def test_a_folder_without_predictions_is_named_with_what_it_holds(runs, lfd):
    (runs / "saves").mkdir()
    (runs / "saves" / "predict.jsonl").write_text("{}\n", encoding="utf-8")
    assert_one_line_error(lfd("compare", "saves", "tuned.jsonl", "-e", "exact_match"),
                          "saves: a folder without generated_predictions.jsonl", "it holds predict.jsonl;")
