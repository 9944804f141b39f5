"""The whole job for real: `lfd demo` as a subprocess, the same command `make demo` runs, with few steps.

Bundled samples of three converters -> tiny model -> llamafactory-cli train (a LoRA and a full fine-tune)
-> predict each test split with the base and the tuned model -> lfd compare -> index.html and summary.md.
The fast test: the bundled samples' build scripts (the overview page is tested in tests/plugin/report/).
"""

import importlib.util
import json
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
# test split predicted -> (converter, records, a 0/1 metric its comparison tests by McNemar), from the bundled samples;
# the 安规 split is the circular one (--circular 4): its 15 questions, 12 in 4 orders and 3 true/false in 2
SPLITS = {"med_norm_test": ("med_norm", 30, "exact_match"),
          "safety_exam_test_circular": ("safety_exam", 54, "choice_circular_accuracy"),
          "med_mrg_test": ("med_mrg", 12, "json_parse_rate")}


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_demo_round_trip(demo_clone):
    """The session's `lfd demo --steps 3` run (tests/conftest.py), in its default folders."""
    work, reports = demo_clone["home"] / "build" / "demo", demo_clone["home"] / "reports" / "demo"

    info = json.loads((work / "data" / "dataset_info.json").read_text(encoding="utf-8"))
    names = [name for name, _, _ in SPLITS.values()]
    # + med_norm_val (--val-size 10): the LoRA recipe's eval_dataset, drawn from med_norm's training records
    assert set(info) == {f"{name}_{part}" for name in names for part in ("train", "test")} | {
        "med_norm_val", "safety_exam_test_circular"}
    assert info["safety_exam_test_circular"]["lfd"]["circular"] == 4
    assert len(lines(work / "data" / "med_norm_val.jsonl")) == 10
    lora_log = (work / "logs" / "train_lora.log").read_text(encoding="utf-8")
    assert "Loading dataset med_norm_val.jsonl" in lora_log and "eval_loss" in lora_log  # evaluated, as the recipe says
    assert (work / "saves" / "lora" / "sft" / "adapter_model.safetensors").is_file()
    assert (work / "saves" / "full" / "sft" / "model.safetensors").is_file()
    for dataset, (name, count, metric) in SPLITS.items():
        records = lines(work / "data" / f"{dataset}.jsonl")
        assert len(records) == count
        for label in ("base", "tuned"):
            predictions = lines(work / "saves" / "predict" / name / label / "generated_predictions.jsonl")
            assert len(predictions) == count and set(predictions[0]) == {"prompt", "predict", "label"}
            assert predictions[0]["label"].strip() == records[0]["output"]
        compare = json.loads((reports / name / "compare.json").read_text(encoding="utf-8"))
        assert compare["dataset"] == dataset and compare["n"] == count
        assert metric in compare["diff"] and metric in compare["mcnemar"]
        assert (reports / name / "compare.html").is_file()
    assert "rouge-l_char" in json.loads((reports / "med_norm" / "compare.json").read_text())["diff"]  # the demo's -e

    page = (reports / "index.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 5  # change, scores, loss, med_mrg's two per-field charts
    assert all(dataset in page for dataset in SPLITS)
    assert "med_mrg_test, by field" in page and ">诊断</text>" in page and "Flipped items" in page
    safety = (reports / "safety_exam" / "compare.html").read_text(encoding="utf-8")
    assert "Accuracy by the slot of the right answer, single-answer questions" in safety
    assert "Questions the tuned model gets right in one option order and wrong in another: " in safety
    circular = json.loads((reports / "safety_exam" / "compare.json").read_text(encoding="utf-8"))
    assert circular["primary_metric"] == "choice_circular_accuracy" and circular["changes"][
        "choice_circular_accuracy"]["n"] == 15  # paired by question
    assert circular["changes"]["choice_accuracy"]["test"].endswith("of questions")
    assert "learns output formats, not medicine" in page
    assert "modelscope download --model Qwen/Qwen2.5-0.5B-Instruct" in page and "lfd demo --model" in page
    summary = (reports / "summary.md").read_text(encoding="utf-8")
    assert summary.count("| med_mrg_test | ") == 3 and "| Field | json_field_exact_match |" in summary

    assert "reports: reports/demo/index.html" in demo_clone["stdout"]  # the page, as the user's path names it
    table = [line.split() for line in demo_clone["stdout"].splitlines() if line.split()[:1] and line.split()[0] in SPLITS]
    assert [(row[0], row[1]) for row in table] == [
        ("med_norm_test", "exact_match"), ("med_norm_test", "rouge-l_char"),
        ("safety_exam_test_circular", "choice_circular_accuracy"),
        ("safety_exam_test_circular", "choice_original_order_accuracy"),  # plain vs circular, base and tuned
        ("safety_exam_test_circular", "choice_accuracy"), ("safety_exam_test_circular", "choice_flip_rate"),
        ("safety_exam_test_circular", "choice_no_answer_rate"), ("med_mrg_test", "imcs_rouge"),
        ("med_mrg_test", "json_parse_rate"), ("med_mrg_test", "json_field_exact_match")]  # each split's primary first


@pytest.mark.parametrize("folder", ["med_mrg", "safety_exam"])
def test_bundled_samples_are_what_their_build_script_writes(tmp_path, folder):
    spec = importlib.util.spec_from_file_location(f"{folder}_build", SAMPLES / folder / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    build.main(tmp_path)
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written and written == sorted(p.name for p in (SAMPLES / folder).iterdir() if p.name != "build.py")
    for name in written:
        assert (tmp_path / name).read_bytes() == (SAMPLES / folder / name).read_bytes(), name
