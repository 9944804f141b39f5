"""The overview page of `lfd demo` and its summary.md, from made-up `lfd compare --out` reports."""

from llamafactory_domains.plugin.report.markdown import render_markdown
from llamafactory_domains.plugin.report.overview import Overview, Split, render_overview


def report(dataset, base, tuned, flips=None, n=10, p=None, primary=None):
    """An `lfd compare --out` report: metric -> (base, tuned) values, intervals ±0.1 around them (±0.05 for
    the differences), ``p`` metric -> its raw p (the primary keeps it, the others' Holm-adjusted p is doubled)."""
    def run(values):
        return {"predictions": f"saves/{dataset}.jsonl", "metrics": values,
                "ci95": {m: [v - 0.1, v + 0.1] for m, v in values.items()}, "counts": {m: n for m in values},
                "ci_decimals": {m: 4 for m in values}}

    primary = primary or next(iter(base))
    diff = {m: tuned[m] - base[m] for m in base}
    changes = {}
    for m, d in diff.items():
        raw = (p or {}).get(m)
        changes[m] = {"n": n, "base_only": 0, "tuned_only": 0, "base": base[m], "tuned": tuned[m], "diff": d,
                      "ci95": [d - 0.05, d + 0.05], "ci_method": "paired percentile bootstrap, B=10000, seed 0",
                      "decimals": 4, "test": "exact McNemar", "p": raw,
                      "p_adjusted": None if raw is None else raw if m == primary else min(1, 2 * raw),
                      "primary": m == primary, "fixed": 5 if m in (flips or {}) else None,
                      "broken": 0 if m in (flips or {}) else None}
    return {"n": n, "dataset": dataset, "primary_metric": primary, "base": run(base), "tuned": run(tuned),
            "changes": changes, "diff": diff, "diff_ci95": {m: c["ci95"] for m, c in changes.items()},
            "mcnemar": {m: {"fixed": 5, "broken": 0, "p": 0.0625} for m in flips or {}}, "flips": flips or {}}


def test_overview_page_and_summary_show_every_split():
    flip = {"prompt": "问诊对话历史:\n患者:<b>咳嗽</b>", "label": '{"诊断": "感冒。"}', "base": "\n\n", "tuned": '{"诊断": "'}
    fields = {f"json_field_exact_match/{f}": 0.0 for f in ("主诉", "诊断")}
    splits = [
        Split("med_mrg_test", "full fine-tune · `recipes/safety_full.yaml`",
              report("med_mrg_test", {"json_parse_rate": 0.0, **fields}, {"json_parse_rate": 0.9, **fields},
                     {"json_parse_rate": {"fixed": [flip], "broken": []}}, p={"json_parse_rate": 0.0625}),
              ["json_parse_rate"],
              "med_mrg/compare.html"),
        Split("safety_exam_test", "full fine-tune",
              report("safety_exam_test", {"choice_accuracy": 0.3, "choice_no_answer_rate": 1.0},
                     {"choice_accuracy": 0.3, "choice_no_answer_rate": 0.2},
                     p={"choice_accuracy": 1.0, "choice_no_answer_rate": 0.0002}),
              ["choice_accuracy", "choice_no_answer_rate"]),
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
    # json_parse_rate's interval excludes 0 but its p (0.0625) does not say reliable: grey, not green; fewer
    # unanswered questions (p 0.0002, Holm 0.0004) is reliably better: green; accuracy did not move: grey
    assert page.count('r="5.5" fill="#059669"') == 1 and page.count('r="5.5" fill="#6b7280"') == 2
    # each split's card is its primary metric, not the metric that moved most
    cards = page.split('<div class="cards wide">', 1)[1].split("<section>", 1)[0]
    assert "json_parse_rate" in cards and "choice_accuracy" in cards and "choice_no_answer_rate" not in cards

    summary = render_markdown(view, [("LoRA", "med_norm_lora.yaml", 2, [(1, 7.4), (2, 3.0)], 9.0)])
    assert "> Formats, not medicine." in summary
    assert "| med_mrg_test | json_parse_rate (primary) | 0.0 | 90.0 | +90.0 [+85.0, +95.0] | 0.062 | 10 |" in summary
    assert "| safety_exam_test | choice_accuracy (primary) | 30.0 | 30.0 | +0.0 [-5.0, +5.0] | 1.000 | 10 |" in summary
    assert ("| safety_exam_test | choice_no_answer_rate ↓ (exploratory) | 100.0 | 20.0 | -80.0 [-85.0, -75.0] "
            "| <0.001 Holm | 10 |") in summary
    assert "| 诊断 | 0.0 → 0.0 |" in summary and "| LoRA | `recipes/med_norm_lora.yaml` | 2 | 3.00 | 9 s |" in summary
