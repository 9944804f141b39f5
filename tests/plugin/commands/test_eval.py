import json
import re

import pytest

LABELS = ["膝骨关节病##膝关节游离体", "高血压", "糖尿病", "COPD"]
PREDICTS = ["膝关节游离体##膝骨关节病", "高血压", "糖尿", "copd"]


def jsonl(path, rows):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def info_entry(file_name="med_norm_test.jsonl", evaluators=None, primary=None):
    lfd = {"converter": "med_norm", "split": "test", "evaluators": evaluators or ["exact_match"]}
    return {
        "file_name": file_name,
        "formatting": "alpaca",
        "columns": {"prompt": "instruction", "query": "input", "response": "output"},
        "lfd": lfd if primary is None else {**lfd, "primary_metric": primary},
    }


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """cwd with a med_norm test split, its dataset_info.json and predictions as LLaMA-Factory writes them."""
    monkeypatch.chdir(tmp_path)
    records = [{"instruction": f"原始词:{i}", "input": "", "output": x} for i, x in enumerate(LABELS)]
    jsonl(tmp_path / "med_norm_test.jsonl", records)
    (tmp_path / "dataset_info.json").write_text(json.dumps({"med_norm_test": info_entry()}), encoding="utf-8")
    predictions = [{"prompt": "<|im_start|>…", "predict": p, "label": x + "\n"} for p, x in zip(PREDICTS, LABELS)]
    jsonl(tmp_path / "pred.jsonl", predictions)
    return tmp_path


def assert_one_line_error(result, *fragments):
    """``result`` of lfd(...): exit 1, nothing on stdout, one line on stderr holding every fragment."""
    code, out, err = result
    assert (code, out) == (1, "")
    assert err.startswith("lfd eval: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_help_opens_with_a_runnable_example(lfd, capsys):
    with pytest.raises(SystemExit) as exit:
        lfd("eval", "--help")
    assert exit.value.code == 0
    assert capsys.readouterr().out.startswith("example:\n  lfd eval build/demo/saves/predict/")


def test_report_per_item_and_table(workdir, lfd):
    code, out, err = lfd(
        "eval", "pred.jsonl", "--dataset", "med_norm", "--out", "out/report.json", "--per-item", "out/items.jsonl"
    )
    assert (code, err) == (0, "4 predictions from pred.jsonl, checked against med_norm_test\n")  # status: stderr

    report = json.loads((workdir / "out/report.json").read_text(encoding="utf-8"))
    assert report["n"] == 4
    assert report["metrics"] == {"exact_match": 0.25, "exact_match_set": 1.0}
    assert report["counts"] == {"exact_match": 4, "exact_match_set": 1}
    assert report["evaluators"] == ["exact_match"]
    assert report["predictions"] == "pred.jsonl"
    assert report["dataset"] == "med_norm_test"
    lo, hi = report["ci95"]["exact_match"]
    assert 0 <= lo < 0.25 < hi < 1
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["items.jsonl", "report.json"]

    items = [json.loads(line) for line in (workdir / "out/items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [i["line"] for i in items] == [1, 2, 3, 4]
    assert items[0]["scores"] == {"exact_match": 0.0, "exact_match_set": 1.0}
    assert items[1] == {"line": 2, "predict": "高血压", "label": "高血压\n", "scores": {"exact_match": 1.0}}

    assert "checked against med_norm_test" not in out and out.startswith("metric ")  # stdout: the results
    assert f"exact_match      0.2500  [{lo:.4f}, {hi:.4f}]  4" in out
    assert "exact_match_set  1.0000" in out


def test_evaluator_options_without_dataset(workdir, lfd):
    code, _, _ = lfd("eval", "pred.jsonl", "-e", "exact_match:ignore_case=true", "--out", "report.json")
    report = json.loads((workdir / "report.json").read_text(encoding="utf-8"))
    assert code == 0
    assert report["metrics"]["exact_match"] == 0.5
    assert report["evaluators"] == ["exact_match:ignore_case=true"]
    assert report["dataset"] is None


def test_without_dataset_stderr_says_the_items_were_not_checked(workdir, lfd):
    code, out, err = lfd("eval", "pred.jsonl", "-e", "exact_match")
    assert code == 0 and out.startswith("metric ")
    assert err == ("4 predictions from pred.jsonl\nnote: 4 items were not checked against a test split (missing or extra lines go unnoticed, "
                   "labels are taken as they are); pass --dataset NAME\n")
    assert lfd("eval", "pred.jsonl", "--dataset", "med_norm")[2] == "4 predictions from pred.jsonl, checked against med_norm_test\n"


def test_the_dataset_primary_metric_leads_over_the_first_evaluators(workdir, lfd):
    entry = info_entry(evaluators=["rouge_zh", "exact_match"], primary="exact_match")
    (workdir / "dataset_info.json").write_text(json.dumps({"med_norm_test": entry}), encoding="utf-8")
    code, out, _ = lfd("eval", "pred.jsonl", "--dataset", "med_norm", "--out", "report.json")
    assert code == 0 and "primary metric: exact_match." in out
    assert json.loads((workdir / "report.json").read_text(encoding="utf-8"))["primary_metric"] == "exact_match"
    code, out, _ = lfd("eval", "pred.jsonl", "-e", "rouge_zh", "-e", "exact_match")
    assert code == 0 and "primary metric: rouge-l." in out  # without --dataset: the first evaluator's


def test_output_dir_is_accepted_for_the_predictions(workdir, lfd):
    (workdir / "saves").mkdir()
    (workdir / "pred.jsonl").rename(workdir / "saves/generated_predictions.jsonl")
    code, _, err = lfd("eval", "saves", "-e", "exact_match")
    assert code == 0 and "4 predictions from saves/generated_predictions.jsonl" in err


def test_dataset_info_falls_back_to_the_data_folder(workdir, lfd):
    (workdir / "data").mkdir()
    for name in ("dataset_info.json", "med_norm_test.jsonl"):
        (workdir / name).rename(workdir / "data" / name)
    code, out, _ = lfd("eval", "pred.jsonl", "--dataset", "med_norm_test")
    assert code == 0 and "exact_match_set" in out


def test_dataset_info_elsewhere_and_absolute_file_name(workdir, lfd, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    entry = info_entry(file_name=str(workdir / "med_norm_test.jsonl"))
    (elsewhere / "info.json").write_text(json.dumps({"med_norm_test": entry}), encoding="utf-8")
    (workdir / "dataset_info.json").unlink()
    code, _, err = lfd("eval", "pred.jsonl", "--dataset", "med_norm", "--dataset-info", elsewhere / "info.json")
    assert (code, err) == (0, "4 predictions from pred.jsonl, checked against med_norm_test\n")


@pytest.mark.parametrize(
    "listed, extra, spec, exact_match",
    [
        (["exact_match:ignore_case=true"], [], "exact_match:ignore_case=true", 0.5),
        (["exact_match:ignore_case=true"], ["-e", "exact_match:punct=true"], 
         "exact_match:ignore_case=true,punct=true", 0.5),
        (["exact_match:ignore_case=true"], ["-e", "exact_match:ignore_case=false"], "exact_match", 0.25),
    ],
)
def test_dataset_evaluators_are_merged_with_e_options_winning(workdir, lfd, listed, extra, spec, exact_match):
    (workdir / "dataset_info.json").write_text(json.dumps({"med_norm_test": info_entry(evaluators=listed)}))
    code, _, err = lfd("eval", "pred.jsonl", "--dataset", "med_norm", *extra, "--out", "report.json")
    report = json.loads((workdir / "report.json").read_text(encoding="utf-8"))
    assert (code, err) == (0, "4 predictions from pred.jsonl, checked against med_norm_test\n")
    assert report["evaluators"] == [spec]
    assert report["metrics"]["exact_match"] == exact_match


BAD_PREDICTIONS = [
    ('{"predict": "a", "label": "a"}\nnot json\n', "pred.jsonl: line 2: not JSON"),
    ('["a", "a"]\n', "pred.jsonl: line 1: a JSON list"),
    ('{"prompt": "x", "label": "a"}\n', "pred.jsonl: line 1: no 'predict' key"),
    ('{"prompt": "x"}\n', "pred.jsonl: line 1: no 'predict' or 'label' key"),
    ('{"predict": null, "label": "a"}\n', "pred.jsonl: line 1: 'predict' is a JSON NoneType, not a string"),
    ('\n{"predict": "a", "label": 3}\n', "pred.jsonl: line 2: 'label' is a JSON int, not a string"),
    ("", "pred.jsonl: empty"),
    ("\n\n", "pred.jsonl: empty"),
]


@pytest.mark.parametrize("text, message", BAD_PREDICTIONS)
def test_bad_predictions_are_one_line_errors_and_leave_no_report(workdir, lfd, text, message):
    (workdir / "pred.jsonl").write_text(text, encoding="utf-8")
    result = lfd("eval", "pred.jsonl", "-e", "exact_match", "--out", "report.json", "--per-item", "items.jsonl")
    assert_one_line_error(result, message, '{"prompt": ..., "predict": ..., "label": ...}')
    assert not (workdir / "report.json").exists() and not (workdir / "items.jsonl").exists()


def test_missing_or_binary_predictions(workdir, lfd):
    assert_one_line_error(lfd("eval", "nope.jsonl", "-e", "exact_match"), "nope.jsonl: no such file")
    (workdir / "pred.jsonl").write_bytes('{"predict": "高", "label": "高"}'.encode("gb18030"))
    assert_one_line_error(lfd("eval", "pred.jsonl", "-e", "exact_match"), "pred.jsonl: not UTF-8")


def test_an_error_keeps_the_previous_report(workdir, lfd):
    (workdir / "report.json").write_text("previous")
    (workdir / "pred.jsonl").write_text("{}\n")
    code, _, _ = lfd("eval", "pred.jsonl", "-e", "exact_match", "--out", "report.json")
    assert code == 1
    assert (workdir / "report.json").read_text() == "previous"
    assert [p.name for p in workdir.iterdir() if p.name.endswith(".tmp")] == []


def rewrite_predictions(workdir, rows):
    jsonl(workdir / "pred.jsonl", [{"prompt": "", "predict": x, "label": x + "\n"} for x in rows])


@pytest.mark.parametrize(
    "labels, fragments",
    [
        (LABELS[:3], ["3 predictions for 4 test records", "max_samples"]),
        (LABELS + ["癌"], ["pred.jsonl: line 5: more predictions than the 4 test records", "another dataset"]),
        (LABELS[:1] + ["肺炎"] + LABELS[2:], ["line 2: label '肺炎' is not the answer of record 2", "another dataset"]),
        (LABELS[:3] + ["CO"], ["pred.jsonl: line 4:", "cutoff_len"]),
    ],
)
def test_predictions_not_matching_the_test_split(workdir, lfd, labels, fragments):
    rewrite_predictions(workdir, labels)
    assert_one_line_error(lfd("eval", "pred.jsonl", "--dataset", "med_norm", "--out", "report.json"), *fragments)
    assert not (workdir / "report.json").exists()


def test_label_check_ignores_template_whitespace(workdir, lfd):
    jsonl(workdir / "pred.jsonl", [{"prompt": "", "predict": x, "label": "\n" + x + " \n"} for x in LABELS])
    assert lfd("eval", "pred.jsonl", "--dataset", "med_norm")[0] == 0


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--dataset", "med_nrm"], ["no dataset 'med_nrm_test' or 'med_nrm'", "did you mean 'med_norm_test'?"]),
        (["--dataset", "med_norm", "--dataset-info", "missing/info.json"], ["missing/info.json: no such file"]),
        (["--dataset-info", "dataset_info.json", "-e", "exact_match"], ["--dataset-info needs --dataset"]),
        ([], ["no evaluator: pass -e NAME"]),
        (["-e", "exact_mach"], ["unknown evaluator 'exact_mach'; did you mean 'exact_match'?"]),
        (["-e", "exact_match:ignorecase=true"], ["no option 'ignorecase'; valid options: ignore_case, fullwidth, punct"]),
        (["-e", "exact_match:ignore_case"], ["'ignore_case' in 'exact_match:ignore_case' is not key=value"]),
        (["-e", "exact_match:punct=yes"], ["option punct of evaluator 'exact_match' must be true or false, got 'yes'"]),
        (["-e", "exact_match", "--out", "pred.jsonl"], ["that is the predictions file"]),
    ],
)
def test_usage_errors(workdir, lfd, args, fragments):
    assert_one_line_error(lfd("eval", "pred.jsonl", *args), *fragments)


@pytest.mark.parametrize(
    "info, fragments",
    [
        ("{broken", ["dataset_info.json: not valid JSON"]),
        (json.dumps({"med_norm_test": info_entry("gone.jsonl")}),
         ["file_name of med_norm_test is 'gone.jsonl'", "convert the test split first (`lfd convert med_norm ... "
          "--out-dir .`"]),
        (json.dumps({"med_norm_test": {"hf_hub_url": "x/y"}}), ["med_norm_test has no file_name"]),
        (json.dumps({"med_norm_test": info_entry(evaluators="exact_match")}), ["lfd.evaluators must be a list"]),
        (json.dumps({"med_norm_test": info_entry(evaluators=["exact_mach"])}), ["did you mean 'exact_match'?"]),
        (json.dumps({"med_norm_test": info_entry(primary=3)}), ["lfd.primary_metric must be a metric name"]),
        (json.dumps({"med_norm_test": {**info_entry(), "columns": ["instruction", "output"]}}),
         ["entry 'med_norm_test': columns is a JSON list, not an object of column names; fix the entry"]),
        (json.dumps({"med_norm_test": {**info_entry(), "columns": {"response": ["output"]}}}),
         ["entry 'med_norm_test': columns.response is a JSON list, not a column name"]),
        (json.dumps({"med_norm_test": {**info_entry(), "formatting": "sharegpt", "tags": [1]}}),
         ["entry 'med_norm_test': tags is a JSON list, not an object of tag names"]),
        (json.dumps({"med_norm_test": {**info_entry(), "lfd": ["exact_match"]}}),
         ["entry 'med_norm_test': lfd is a JSON list, not an object"]),
        (json.dumps({"med_norm_test": 3}), ["entry 'med_norm_test' is a JSON int, not an object"]),
        (json.dumps({"med_norm_test": info_entry(primary="rouge-l")}),
         ["med_norm_test: its primary metric 'rouge-l'", "was not scored; keep its evaluator on"]),
    ],
)
def test_bad_dataset_info(workdir, lfd, info, fragments):
    (workdir / "dataset_info.json").write_text(info, encoding="utf-8")
    assert_one_line_error(lfd("eval", "pred.jsonl", "--dataset", "med_norm"), *fragments)


def test_json_array_test_file(workdir, lfd):
    records = [{"instruction": "", "input": "", "output": x} for x in LABELS]
    (workdir / "med_norm_test.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    (workdir / "dataset_info.json").write_text(json.dumps({"med_norm_test": info_entry("med_norm_test.json")}))
    assert lfd("eval", "pred.jsonl", "--dataset", "med_norm")[0] == 0


def test_bootstrap_option_sets_the_resamples(workdir, lfd):
    code, _, _ = lfd("eval", "pred.jsonl", "-e", "exact_match", "--bootstrap", "50", "--out", "report.json")
    report = json.loads((workdir / "report.json").read_text(encoding="utf-8"))
    assert code == 0 and report["bootstrap"] == {"draws": 50, "seed": 0}


def test_bootstrap_must_be_a_positive_count(tmp_path, lfd, capsys):
    with pytest.raises(SystemExit):
        lfd("eval", tmp_path / "pred.jsonl", "-e", "exact_match", "--bootstrap", "0")
    assert "expected a positive whole number, got '0'" in capsys.readouterr().err



@pytest.mark.parametrize("argv", [["eval", "p.jsonl"], ["compare", "a.jsonl", "b.jsonl"], ["rate", "import", "s.xlsx", "--key", "k"],
                                  ["judge", "pointwise", "a", "--api-base", "http://127.0.0.1:9/v1"]])
def test_bootstrap_is_bounded_before_it_outgrows_memory(lfd, capsys, argv):
    """99999999999 resamples asked numpy for 1.46 TiB (a traceback); the option now refuses it in one line."""
    with pytest.raises(SystemExit):
        lfd(*argv, "--bootstrap", "99999999999")
    assert "--bootstrap: at most 1000000 resamples" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_help_ends_with_every_evaluator_and_its_options(lfd, capsys, command):
    with pytest.raises(SystemExit) as exit:
        lfd(command, "--help")
    assert exit.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"example:\n  lfd {command} ")
    epilog = text[text.index("\nevaluators (-e NAME"):]
    assert re.search(r"^  exact_match +Exact match after stripping whitespace", epilog, re.MULTILINE)
    assert re.search(r"^ {6,}ignore_case=false \(true\|false\): compare case-insensitively", epilog, re.MULTILINE)
    assert re.search(r"^ {6,}level=word \(text\): word: jieba words", epilog, re.MULTILINE)
    assert re.search(r"^ {6,}num_layers=-1 \(int\): ", epilog, re.MULTILINE)
    assert re.search(r"^  choice +Choice questions.*\n {6,}\(no options\)$", epilog, re.MULTILINE)
    for name in ("bertscore", "bleu_zh", "choice", "exact_match", "json_fields", "rouge_zh"):
        assert re.search(rf"^  {name} ", epilog, re.MULTILINE), name


def test_reports_never_replace_an_input_or_each_other(lfd, tmp_path):
    import os

    predictions = tmp_path / "generated_predictions.jsonl"
    predictions.write_text(json.dumps({"prompt": "p", "predict": "a", "label": "a"}) + "\n", encoding="utf-8")
    os.link(predictions, tmp_path / "linked.jsonl")
    before = predictions.read_bytes()
    for args, fragment in [
        (["--out", tmp_path / "linked.jsonl"], "that is the predictions file"),
        (["--out", tmp_path / "r.json", "--per-item", tmp_path / "." / "r.json"], "both --out and --per-item"),
        (["--html", tmp_path / "r.json", "--per-item", tmp_path / "r.json"], "both --per-item and --html"),
        (["--out", tmp_path], "--out is a folder"),
        (["--per-item", predictions / "x.jsonl"], "is a file, not a folder"),
    ]:
        code, out, err = lfd("eval", predictions, "-e", "exact_match", *args)
        assert (code, out) == (1, "") and fragment in err and err.count("\n") == 1, (args, err)
    assert predictions.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generated_predictions.jsonl", "linked.jsonl"]


def test_lone_surrogates_reach_per_item_and_the_page(lfd, tmp_path):
    predictions = tmp_path / "generated_predictions.jsonl"
    predictions.write_text('{"prompt": "p\\ud83d", "predict": "a\\udfff", "label": "a\\udfff"}\n', encoding="utf-8")
    items, page, report = tmp_path / "items.jsonl", tmp_path / "r.html", tmp_path / "r.json"
    code, _, err = lfd("eval", predictions, "-e", "exact_match", "--per-item", items, "--html", page, "--out", report)
    assert code == 0, err
    assert json.loads(items.read_text(encoding="utf-8"))["predict"] == "a\udfff"  # the same text, escaped
    assert "\ufffd" in page.read_text(encoding="utf-8") or "a" in page.read_text(encoding="utf-8")
    json.loads(report.read_text(encoding="utf-8"))


def test_a_folder_without_predictions_names_what_it_looked_for_and_what_is_there(workdir, lfd):
    (workdir / "saves").mkdir()
    for name in ("b.jsonl", "a.jsonl", "notes.txt"):
        (workdir / "saves" / name).write_text("{}\n", encoding="utf-8")
    assert_one_line_error(lfd("eval", "saves", "-e", "exact_match"), "saves: a folder without generated_predictions.jsonl",
                          "it holds a.jsonl, b.jsonl;", "pass the predictions file itself, e.g. saves/a.jsonl")
    (workdir / "empty").mkdir()
    assert_one_line_error(lfd("eval", "empty", "-e", "exact_match"), "empty: a folder without generated_predictions.jsonl",
                          "it holds no .jsonl file", "output_dir of the predict run")


@pytest.mark.parametrize("option", [["--out", "-"], ["--json"], ["--json", "--out", "-"]])
def test_out_dash_and_json_print_the_report_json_alone_on_stdout(workdir, lfd, option):
    code, _, _ = lfd("eval", "pred.jsonl", "--dataset", "med_norm", "--out", "report.json")
    expected = json.loads((workdir / "report.json").read_text(encoding="utf-8"))
    code, out, err = lfd("eval", "pred.jsonl", "--dataset", "med_norm", *option)
    assert code == 0 and json.loads(out) == expected  # stdout is pure JSON
    assert not (workdir / "-").exists()
    assert err.startswith("4 predictions from pred.jsonl, checked against med_norm_test\nmetric ")  # the table: stderr
    assert "exact_match " in err


def test_json_with_out_file_writes_both(workdir, lfd):
    code, out, _ = lfd("eval", "pred.jsonl", "--dataset", "med_norm", "--json", "--out", "report.json")
    assert code == 0 and json.loads(out) == json.loads((workdir / "report.json").read_text(encoding="utf-8"))


def test_per_item_dash_prints_the_item_lines_on_stdout(workdir, lfd):
    code, out, err = lfd("eval", "pred.jsonl", "--dataset", "med_norm", "--per-item", "-")
    assert code == 0 and not (workdir / "-").exists()
    assert [json.loads(line)["line"] for line in out.splitlines()] == [1, 2, 3, 4]
    assert "metric " in err


@pytest.mark.parametrize("args, fragments", [
    (["--json", "--per-item", "-"], ["--json and --per-item -: both would go to stdout", "to a file"]),
    (["--out", "-", "--per-item", "-"], ["--out - and --per-item -: both would go to stdout"]),
    (["--html", "-"], ["--html -: the page cannot go to stdout", "--html report.html"]),
])
def test_only_one_report_goes_to_stdout(workdir, lfd, args, fragments):
    assert_one_line_error(lfd("eval", "pred.jsonl", "--dataset", "med_norm", *args), *fragments)
    assert not (workdir / "-").exists()
