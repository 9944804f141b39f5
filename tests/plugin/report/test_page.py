import json

from llamafactory_domains.plugin.report.html import Run
from llamafactory_domains.plugin.report.page import Example, Page, render
from llamafactory_domains.plugin.scoring import Change

FIELDS = ["主诉", "现病史", "诊断"]


def assert_self_contained(page: str):
    """One file a browser shows offline: UTF-8, inline SVG, nothing fetched from elsewhere."""
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "<svg" in page
    for external in ("http://", "https://", "<script", "<link", "<img", "<iframe", "@import", "url("):
        assert external not in page, external


def run(name, shift):
    metrics = {"json_parse_rate": 0.5 + shift, "choice_no_answer_rate": 0.3 - shift}
    metrics |= {f"json_field_exact_match/{f}": 0.2 + shift for f in FIELDS}
    return Run(name, f"saves/{name}/generated_predictions.jsonl", metrics,
               {m: (v - 0.1, v + 0.1) for m, v in metrics.items()}, {m: 40 for m in metrics})


def compare_page(**changes):
    return Page(
        title="med_mrg_test: base vs tuned",
        runs=[run("base", 0.0), run("tuned", 0.2)],
        n=40,
        evaluators=["json_fields:fields=主诉"],
        dataset="med_mrg_test",
        draws=1000,
        examples=[Example("3", "对话：患者：咳嗽", '{"主诉": "咳嗽"}', ["<script>alert(1)</script>", '{"主诉": "咳嗽"}'],
                          [("fixed", "fixed: json_parse_rate")])],
        examples_title="Items, flipped first",
        changes=changes or {
            "json_parse_rate": Change(0.2, (0.05, 0.35), 0.01, 9, 1, metric="json_parse_rate", n=40, primary=True,
                                      p_adjusted=0.01),
            "choice_no_answer_rate": Change(-0.2, (-0.3, -0.1), 0.001, 1, 9, metric="choice_no_answer_rate", n=40,
                                            p_adjusted=0.002)},
        primary="json_parse_rate",
    )


def test_compare_page_is_self_contained_with_charts_per_field_and_escaped_text():
    page = render(compare_page())
    assert_self_contained(page)
    assert page.count("<svg") == 3  # change, scores, json_field_exact_match by field
    assert "json_field_exact_match, by field" in page and ">主诉</text>" in page
    assert "med_mrg_test" in page and "json_fields:fields=主诉" in page and "40 paired items" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "choice_no_answer_rate ↓" in page
    # both changes have p < 0.05 (the exploratory one Holm-adjusted) and are improvements (fewer unanswered
    # questions is better): green
    assert page.count('r="5.5" fill="#059669"') == 2 and 'fill="#dc2626"' not in page
    assert "0.002 Holm" in page and "Primary metric" in page


def test_an_interval_excluding_zero_is_not_reliable_when_its_p_says_otherwise():
    # choice_accuracy +0.2 on 15 items: the bootstrap interval excludes 0, the exact McNemar p (3 vs 0) is 0.25
    change = Change(0.2, (0.0667, 0.3333), 0.25, 3, 0, metric="json_parse_rate", n=15, primary=True, p_adjusted=0.25)
    page = render(compare_page(json_parse_rate=change))
    assert 'r="5.5" fill="#6b7280"' in page and 'fill="#059669"' not in page
    assert 'class="pill unsure">Δ +20.0 · p 0.250</span>' in page


def test_a_change_whose_interval_holds_zero_is_grey():
    page = render(compare_page(json_parse_rate=Change(0.02, (-0.05, 0.09))))
    assert 'r="5.5" fill="#6b7280"' in page and 'fill="#059669"' not in page


def test_single_run_page():
    page = render(Page("med_norm_test", [run("predictions", 0.1)], 40, ["exact_match"], "med_norm_test", 500,
                       [], "Items, lowest-scoring first"))
    assert_self_contained(page)
    assert "500 resamples" in page and "Change, tuned" not in page and "Items, lowest" not in page


def test_eval_html_shows_the_lowest_scoring_items_first(tmp_path, lfd):
    rows = [{"prompt": f"<|im_start|>user\n原始词:{x}<|im_end|>\n", "predict": p, "label": x + "\n"}
            for p, x in [("高血压", "高血压"), ("糖尿", "糖尿病"), ("肺炎", "肺炎")]]
    (tmp_path / "pred.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    code, _, err = lfd("eval", tmp_path / "pred.jsonl", "-e", "exact_match", "--bootstrap", "200",
                       "--html", tmp_path / "out/report.html", "--out", tmp_path / "out/report.json")
    assert code == 0 and err.startswith(f"3 predictions from {tmp_path / 'pred.jsonl'}\n"
                                        "note: 3 items were not checked against a test split")
    page = (tmp_path / "out/report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert page.index("原始词:糖尿病") < page.index("原始词:高血压")  # the miss first
    assert "✗ exact_match" in page and "66.7" in page
    assert json.loads((tmp_path / "out/report.json").read_text(encoding="utf-8"))["bootstrap"]["draws"] == 200


def circular_runs():
    """Base answers the original letter (right only in the original order); tuned knows the answer, but
    for question 2 only in two of its four orders."""
    from llamafactory_domains.evaluators.base import Prediction
    from llamafactory_domains.evaluators.choice import Choice
    from llamafactory_domains.plugin.scoring import compare_scores, score_all

    base, tuned = [], []
    for q in (1, 2, 3):
        for r in range(4):
            order = "ABCD"[r:] + "ABCD"[:r]
            answer = "ABCD"[(1 - r) % 4]  # the original B
            record = {"instruction": f"第{q}题", "options": {x: f"选项{order[j]}" for j, x in enumerate("ABCD")},
                      "answer": answer, "question_type": "single",
                      "circular": {"question": q, "rotation": r, "order": order, "rotations": 4}}
            line = len(base) + 1
            base.append(Prediction(f"第{q}题", "B", answer, record=record, line=line))
            tuned.append(Prediction(f"第{q}题", "C" if q == 2 and r % 2 else answer, answer, record=record, line=line))
    scores = (score_all(base, [Choice()], 300), score_all(tuned, [Choice()], 300))
    return base, tuned, scores, compare_scores(*scores, primary="choice_circular_accuracy")


def test_compare_page_of_a_circular_split_charts_answer_slots_and_lists_order_dependent_questions():
    from llamafactory_domains.plugin.report.page import compare_page

    base, tuned, scores, comparison = circular_runs()
    context = {"n": len(base), "paired_by": "test-split order", "dataset": "safety_exam_test_circular",
               "evaluators": ["choice"], "bootstrap": {"draws": 300, "seed": 0}, "base": "b.jsonl", "tuned": "t.jsonl"}
    page = render(compare_page(context, base, tuned, scores, comparison))
    assert_self_contained(page)
    assert "12 (rotated copies of 3 questions)" in page and "the intervals count questions" in page
    assert "Accuracy by the slot of the right answer, single-answer questions" in page
    assert "Letters answered against the labels&#x27; letters" in page and ">labels<" in page
    assert "Share of right answers per letter (labels)" not in page.split("All numbers")[0]  # drawn beside, not alone
    section = page.split("Questions the tuned model gets right in one option order and wrong in another: 1")[1]
    row = section.split("<tbody>")[1].split("</tr>")[0]
    assert "第2题" in row and ">5<" in row  # line of question 2's original order
    # tuned answers C in rotations 1 (BCDA: slot C shows the original D) and 3 (DABC: slot C is the original B)
    assert "B ✓ · D ✗ · B ✓ · B ✓" in row
    assert "B ✓ · C ✗ · D ✗ · A ✗" in row  # base: the letter B stands for another option in each order
