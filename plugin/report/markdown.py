"""The Markdown summary of `lfd demo` (summary.md): the overview's numbers as tables, scores ×100."""

from __future__ import annotations

from .html import decision_p, metric_label, pairs_text, percent_places
from .overview import Overview, Split, primary_of, split_changes


def pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def signed(diff, ci, decimals: int | None = None) -> str:
    """Δ ×100 and its interval, the interval to its stable digits.

    >>> signed(0.1234, (0.05, 0.2), decimals=2)
    '+12.3 [+5, +20]'
    """
    places = percent_places(decimals)
    text = f"{100 * diff:+.1f}"
    return f"{text} [{100 * ci[0]:+.{places}f}, {100 * ci[1]:+.{places}f}]" if ci else text


def summary_rows(splits: list[Split]) -> list[list[str]]:
    """Split, metric (primary first), base, tuned, Δ [95% CI], p (Holm for exploratory ones), pairs; ×100."""
    rows = []
    for split in splits:
        report, changes, primary = split.report, split_changes(split.report), primary_of(split)
        for metric in dict.fromkeys([primary, *split.headline]):
            change = changes.get(metric)
            if metric not in report["base"]["metrics"] or change is None or change.diff is None:
                continue
            role = "primary" if metric == primary else "exploratory"
            rows.append([split.dataset, f"{metric_label(metric)} ({role})", pct(report["base"]["metrics"][metric]),
                         pct(report["tuned"]["metrics"].get(metric)), signed(change.diff, change.ci95, change.decimals),
                         decision_p(change), pairs_text(change)])
    return rows


def render_markdown(view: Overview, tunings: list[tuple[str, str, int, list, float]]) -> str:
    """summary.md of ``view``; ``tunings`` are (label, recipe, steps, loss curve, seconds) of each fine-tune."""
    def table(head, rows, right):
        lines = ["| " + " | ".join(head) + " |",
                 "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|"]
        return "\n".join(lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows])

    parts = [f"# {view.title}", "", f"> {view.notes[0]}", "", *[f"{note}\n" for note in view.notes[1:]]]
    parts += ["## Summary", "", table(["Test split", "Metric", "Base", "Tuned", "Δ tuned − base [95% CI]",
                                       "p", "Pairs"], summary_rows(view.splits), {2, 3, 4, 5, 6}), "",
              "Scores ×100. Δ: tuned − base on the items both runs score, with its paired 95% interval. "
              "p: exact McNemar (0/1 metrics) or sign-flip permutation test; each split is judged by its primary "
              "metric, the exploratory metrics' p-values are Holm-adjusted. ↓: lower is better.", ""]
    for split in view.splits:
        fields = [name for name in split.report["diff"] if "/" in name]
        if not fields:
            continue
        base, tuned = split.report["base"]["metrics"], split.report["tuned"]["metrics"]
        members: dict[str, list[str]] = {}
        for name in fields:
            prefix, member = name.split("/", 1)
            members.setdefault(prefix, []).append(member)
        tables: dict[tuple[str, ...], list[str]] = {}  # groups with the same members (fields, slots) side by side
        for prefix, names in members.items():
            tables.setdefault(tuple(names), []).append(prefix)
        for names, prefixes in tables.items():
            rows = [[member] + [f"{pct(base.get(f'{p}/{member}'))} → {pct(tuned.get(f'{p}/{member}'))}"
                                for p in prefixes] for member in names]
            what = "by field" if all(p.startswith("json_field") for p in prefixes) else "by " + (
                "slot" if all(len(n) == 1 for n in names) else "part")
            parts += [f"## {split.dataset}, {what} (base → tuned)", "",
                      table(["Field" if what == "by field" else "", *prefixes], rows, set(range(1, len(prefixes) + 1))), ""]
    rows = [[label, f"`recipes/{recipe}`", str(steps), f"{curve[-1][1]:.2f}" if curve else "—", f"{seconds:.0f} s"]
            for label, recipe, steps, curve, seconds in tunings]
    parts += ["## Fine-tunes", "", table(["Run", "Recipe", "Steps", "Last logged loss", "Time"], rows, {2, 3, 4}), ""]
    pages = ", ".join(f"[{s.dataset}]({s.link})" for s in view.splits)
    parts += ["## Files", "", "- [index.html](index.html): the charts, the flipped items and how it was made",
              f"- every metric and item of a split: {pages}", ""]
    return "\n".join(parts)
