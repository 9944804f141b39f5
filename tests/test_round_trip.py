"""The whole job for real: `lfd demo` as a subprocess, the same command `make demo` runs, with few steps.

Bundled samples of three converters -> tiny model -> llamafactory-cli train (a LoRA and a full fine-tune)
-> predict each test split with the base and the tuned model -> lfd compare -> index.html and summary.md.
The fast tests: the overview page and summary from made-up reports, and the bundled samples' build scripts.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

LFD = Path(sys.executable).with_name("lfd")
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
# test split -> (records, a metric its comparison reports), from the bundled samples
SPLITS = {"med_norm_test": (30, "exact_match"), "safety_exam_test": (15, "choice_no_answer_rate"),
          "med_mrg_test": (12, "json_parse_rate")}


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_demo_round_trip(tmp_path):
    work, reports = tmp_path / "work", tmp_path / "reports"
    command = [str(LFD), "demo", "--work-dir", str(work), "--reports-dir", str(reports), "--steps", "3"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]

    info = json.loads((work / "data" / "dataset_info.json").read_text(encoding="utf-8"))
    names = [dataset.removesuffix("_test") for dataset in SPLITS]
    assert set(info) == {f"{name}_{part}" for name in names for part in ("train", "test")}
    assert (work / "saves" / "lora" / "sft" / "adapter_model.safetensors").is_file()
    assert (work / "saves" / "full" / "sft" / "model.safetensors").is_file()
    for dataset, (count, metric) in SPLITS.items():
        name = dataset.removesuffix("_test")
        records = lines(work / "data" / f"{name}_test.jsonl")
        assert len(records) == count
        for label in ("base", "tuned"):
            predictions = lines(work / "saves" / "predict" / name / label / "generated_predictions.jsonl")
            assert len(predictions) == count and set(predictions[0]) == {"prompt", "predict", "label"}
            assert predictions[0]["label"].strip() == records[0]["output"]
        compare = json.loads((reports / name / "compare.json").read_text(encoding="utf-8"))
        assert compare["dataset"] == dataset and compare["n"] == count
        assert metric in compare["diff"] and metric in compare["mcnemar"]
        assert (reports / name / "compare.html").is_file()
    assert "rouge-l" in json.loads((reports / "med_norm" / "compare.json").read_text())["diff"]  # the demo's -e

    page = (reports / "index.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 5  # change, scores, loss, med_mrg's two per-field charts
    assert all(dataset in page for dataset in SPLITS)
    assert "med_mrg_test, by field" in page and ">诊断</text>" in page and "Flipped items" in page
    assert "learns output formats, not medicine" in page
    assert "modelscope download --model Qwen/Qwen2.5-0.5B-Instruct" in page and "lfd demo --model" in page
    summary = (reports / "summary.md").read_text(encoding="utf-8")
    assert summary.count("| med_mrg_test | ") == 3 and "| Field | json_field_exact_match |" in summary

    assert str(reports / "index.html") in done.stdout
    table = [line.split() for line in done.stdout.splitlines() if line.split()[:1] and line.split()[0] in SPLITS]
    assert [(row[0], row[1]) for row in table] == [
        ("med_norm_test", "exact_match"), ("med_norm_test", "rouge-l"), ("safety_exam_test", "choice_no_answer_rate"),
        ("safety_exam_test", "choice_accuracy"), ("med_mrg_test", "json_parse_rate"),
        ("med_mrg_test", "json_field_exact_match"), ("med_mrg_test", "imcs_rouge")]


def report(dataset, base, tuned, flips=None, n=10):
    """An `lfd compare --out` report: metric -> (base, tuned) values, intervals ±0.1 around them."""
    def run(values):
        return {"predictions": f"saves/{dataset}.jsonl", "metrics": values,
                "ci95": {m: [v - 0.1, v + 0.1] for m, v in values.items()}, "counts": {m: n for m in values}}

    diff = {m: tuned[m] - base[m] for m in base}
    return {"n": n, "dataset": dataset, "base": run(base), "tuned": run(tuned), "diff": diff,
            "diff_ci95": {m: [d - 0.05, d + 0.05] for m, d in diff.items()},
            "mcnemar": {m: {"fixed": 5, "broken": 0, "p": 0.0625} for m in flips or {}}, "flips": flips or {}}


def test_overview_page_and_summary_show_every_split():
    from llamafactory_domains.plugin.commands.demo import markdown
    from llamafactory_domains.plugin.report_html import Overview, Split, render_overview

    flip = {"prompt": "问诊对话历史:\n患者:<b>咳嗽</b>", "label": '{"诊断": "感冒。"}', "base": "\n\n", "tuned": '{"诊断": "'}
    fields = {f"json_field_exact_match/{f}": 0.0 for f in ("主诉", "诊断")}
    splits = [
        Split("med_mrg_test", "full fine-tune · `recipes/safety_full.yaml`",
              report("med_mrg_test", {"json_parse_rate": 0.0, **fields}, {"json_parse_rate": 0.9, **fields},
                     {"json_parse_rate": {"fixed": [flip], "broken": []}}), ["json_parse_rate"],
              "med_mrg/compare.html"),
        Split("safety_exam_test", "full fine-tune", report("safety_exam_test", {"choice_no_answer_rate": 1.0},
                                                           {"choice_no_answer_rate": 0.2}), ["choice_no_answer_rate"]),
    ]
    view = Overview("Base vs tuned", ["Formats, not medicine.", "Then `lfd demo --model M`."], [("Model", "`tiny`")],
                    splits, {"LoRA": [(1, 7.4), (2, 3.0)]}, [("train_full", "llamafactory-cli", 9)])
    page = render_overview(view)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page
    assert page.count("<svg") == 4  # change, scores, loss, med_mrg's per-field bars
    assert '<p class="callout">Formats, not medicine.</p>' in page and "<code>lfd demo --model M</code>" in page
    assert "med_mrg_test, by field" in page and ">诊断</text>" in page
    assert "&lt;b&gt;咳嗽&lt;/b&gt;" in page and "(blank: whitespace only)" in page  # escaped; the base's newlines
    assert "No item flipped in safety_exam_test." in page
    assert 'href="med_mrg/compare.html"' in page and "7.40 → 3.00" in page
    # both changes are reliable improvements (fewer unanswered questions is better): green dots
    assert page.count('r="5.5" fill="#059669"') == 2

    summary = markdown(view, [("LoRA", "med_norm_lora.yaml", 2, [(1, 7.4), (2, 3.0)], 9.0)])
    assert "> Formats, not medicine." in summary
    assert "| med_mrg_test | json_parse_rate | 0.0 | 90.0 | +90.0 [+85.0, +95.0] | 0.062 | 10 |" in summary
    assert "| safety_exam_test | choice_no_answer_rate ↓ | 100.0 | 20.0 | -80.0 [-85.0, -75.0] | — | 10 |" in summary
    assert "| 诊断 | 0.0 → 0.0 |" in summary and "| LoRA | `recipes/med_norm_lora.yaml` | 2 | 3.00 | 9 s |" in summary


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
