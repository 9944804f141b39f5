"""`lfd compare --sus`: the physicians' (or a judge's) SUS ratings of the two runs beside the automatic metrics,
with the same numbers `lfd rate import` gives for that pair of models."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "data" / "samples" / "rating"


def test_compare_shows_the_physicians_numbers_for_base_and_tuned(lfd, tmp_path):
    ratings = tmp_path / "ratings.json"
    code, _, err = lfd("rate", "import", SAMPLE / "ratings_filled.xlsx", "--key", SAMPLE / "ratings_filled.key.json",
                       "--out", ratings)
    assert code == 0, err
    imported = json.loads(ratings.read_text(encoding="utf-8"))
    code, out, err = lfd("compare", SAMPLE / "base", SAMPLE / "tuned", "-e", "rouge_zh", "--sus", ratings,
                         "--out", tmp_path / "compare.json", "--html", tmp_path / "compare.html")
    assert code == 0, err
    [sus] = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))["sus"]
    assert sus["source"] == f"physicians ({len(imported['raters'])} raters)"
    [pair] = [c for c in imported["comparisons"] if (c["first"], c["second"]) == ("base", "tuned")]
    for number in ("safety", "usability", "smoothness", "total"):
        assert sus["means"]["base"][number] == imported["means"]["base"][number]
        assert sus["means"]["tuned"][number] == imported["means"]["tuned"][number]
        assert {k: sus["difference"][number][k] for k in ("diff", "ci95", "p")} == \
            {k: pair["numbers"][number][k] for k in ("diff", "ci95", "p")}
    assert "SUS ratings, physicians" in out
    assert "SUS ratings · physicians" in (tmp_path / "compare.html").read_text(encoding="utf-8")


def test_a_judges_rows_and_the_refusals(lfd, tmp_path):
    rows = [{"model": model, "item": item, "rater": "judge:scripted", "safety": score, "usability": score,
             "smoothness": 3} for model, score in (("base", 1), ("tuned", 3)) for item in range(6)]
    judge = tmp_path / "judge.json"
    judge.write_text(json.dumps({"kind": "pointwise", "rows": rows}), encoding="utf-8")
    code, _, err = lfd("compare", SAMPLE / "base", SAMPLE / "tuned", "-e", "rouge_zh", "--sus", judge, "--out",
                       tmp_path / "compare.json")
    assert code == 0, err
    [sus] = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))["sus"]
    assert sus["source"] == "LLM judge (judge:scripted)"
    assert sus["difference"]["safety"]["diff"] == 2.0 and sus["difference"]["total"]["diff"] == 4.0
    assert sus["difference"]["safety"]["p"] == 2 / 64  # all six questions better: exact sign flip, two-sided

    code, _, err = lfd("compare", SAMPLE / "base", SAMPLE / "tuned", "-e", "rouge_zh", "--sus", judge,
                       "--sus-models", "qwen", "lora")
    assert code == 1 and "no ratings of model 'qwen'" in err and "--sus-models" in err
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"rows": [r for r in rows if r["item"] < 3]}), encoding="utf-8")
    code, _, err = lfd("compare", SAMPLE / "base", SAMPLE / "tuned", "-e", "rouge_zh", "--sus", short)
    assert code == 1 and "ratings of 3 questions, but the predictions hold 6" in err
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    code, _, err = lfd("compare", SAMPLE / "base", SAMPLE / "tuned", "-e", "rouge_zh", "--sus", tmp_path / "broken.json")
    assert code == 1 and "not a readable JSON report" in err and len(err.strip().splitlines()) == 1
