"""The overview page of `lfd demo`: several base-vs-tuned comparisons (their `lfd compare --out` reports) at once.

A summary table, the changes and scores of every split's headline metrics, the training loss, the
per-field scores, some flipped items and the llamafactory-cli runs behind it, on one offline page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..scoring import Change
from .html import (
    BASE_COLOR,
    CHANGE_NOTE,
    CHART_WIDTH,
    CSS,
    PAGE,
    SCORES_NOTE,
    TUNED_COLOR,
    Run,
    bar_chart,
    change_cells,
    change_chart,
    escape,
    legend_keys,
    metric_label,
    pairs_text,
    percent,
    pill,
    section,
    svg,
)
from .json_report import CHANGE_FIELDS

LOSS_COLORS = ("#4f46e5", "#0d9488", "#d97706", "#db2777")
SHOWN_FLIPS = 3  # flipped items per split on the overview


@dataclass
class Split:
    """One test split on an overview page: its `lfd compare --out` report and the link to its own page."""

    dataset: str
    tuned_by: str  # how the tuned model was made, one line (`backticks` become code)
    report: dict
    headline: list[str]  # metrics for the summary table and charts, in order
    link: str = ""  # the split's `lfd compare --html` page, relative to the overview
    task: str = ""  # what the split asks, a few words


@dataclass
class Overview:
    """Several base-vs-tuned comparisons on one page (`lfd demo`): summary table, charts, flipped items."""

    title: str
    notes: list[str]  # paragraphs under the title, the first one highlighted; `backticks` become code
    meta: list[tuple[str, str]]
    splits: list[Split]
    losses: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # training run → (step, loss)
    jobs: list[tuple[str, str, float]] = field(default_factory=list)  # (job, command, seconds)


def _inline(text: str) -> str:
    """Escaped text whose `backticked` parts are code."""
    return "".join(f"<code>{escape(part)}</code>" if i % 2 else escape(part) for i, part in enumerate(text.split("`")))


def split_runs(report: dict) -> list[Run]:
    """Base and tuned :class:`Run` of a compare report."""
    return [Run(name, report[name]["predictions"], report[name]["metrics"],
                {metric: tuple(ci) for metric, ci in report[name]["ci95"].items()}, report[name]["counts"],
                report[name].get("ci_decimals", {}))
            for name in ("base", "tuned")]


def split_changes(report: dict) -> dict[str, Change]:
    """Metric → :class:`Change` of a compare report (its ``changes``)."""
    changes = {}
    for name, row in report["changes"].items():
        fields = {key: row[key] for key in CHANGE_FIELDS if key not in ("diff", "p", "fixed", "broken")}
        ci = tuple(row["ci95"]) if row["ci95"] else None
        changes[name] = Change(row["diff"], ci, row["p"], row["fixed"], row["broken"], metric=name, **fields)
    return changes


def primary_of(split: Split) -> str | None:
    """The split's primary metric: its compare report's, else its first headline metric."""
    return split.report.get("primary_metric") or next(iter(split.headline), None)


def _qualified(split: Split, metric: str) -> str:
    return f"{split.dataset.removesuffix('_test')} · {metric}"


def render_overview(view: Overview) -> str:
    colors = [BASE_COLOR, TUNED_COLOR]
    runs = [Run(name, "", {}, {}, {}) for name in ("base", "tuned")]
    changes: dict[str, Change] = {}
    for split in view.splits:
        sources, split_change = split_runs(split.report), split_changes(split.report)
        for metric in split.headline:
            label = _qualified(split, metric)
            for run, source in zip(runs, sources):
                if metric in source.metrics:
                    run.metrics[label] = source.metrics[metric]
                    if metric in source.ci95:
                        run.ci95[label] = source.ci95[metric]
            if metric in split_change:
                changes[label] = split_change[metric]
    names = list(runs[0].metrics)
    legend = legend_keys(runs, colors)
    body = [_overview_header(view), _overview_cards(view), section("Summary", _summary_table(view))]
    if changes:
        body.append(section("Change, tuned − base", change_chart(changes, list(changes), 330), CHANGE_NOTE))
    if names:
        body.append(section("Scores", legend + bar_chart(runs, names, colors, lambda n: n, 330), SCORES_NOTE))
    if view.losses:
        body.append(section("Training loss", _loss_chart(view.losses),
                            "Loss against training step for each fine-tune, as LLaMA-Factory logged it "
                            "(trainer_log.jsonl)."))
    body += [_fields_section(split, legend) for split in view.splits if any("/" in m for m in split.report["diff"])]
    body.append(_flips_section(view))
    body.append(_details_section(view))
    body.append("<footer>lfd demo · llamafactory-domains</footer>")
    return PAGE.format(title=escape(view.title), css=CSS, body="\n".join(body))


def _overview_header(view: Overview) -> str:
    rows = "".join(f"<div><dt>{escape(k)}</dt><dd>{_inline(v)}</dd></div>" for k, v in view.meta)
    notes = "".join(f'<p class="{"callout" if i == 0 else "lede"}">{_inline(note)}</p>'
                    for i, note in enumerate(view.notes))
    return (f'<header><p class="kicker">lfd demo</p><h1>{escape(view.title)}</h1>{notes}'
            f'<dl class="meta">{rows}</dl></header>')


def _overview_cards(view: Overview) -> str:
    """One card per split, showing its primary metric: never the secondary metric that moved most."""
    cards = []
    for split in view.splits:
        base, tuned = split_runs(split.report)
        changes = split_changes(split.report)
        metric = primary_of(split)
        if metric not in tuned.metrics:
            continue
        cards.append(f'<div class="card"><div class="name">{escape(split.dataset)}</div>'
                     f'<div class="sub">{escape(metric_label(metric))}</div>'
                     f'<div class="value"><span class="was">{percent(base.metrics.get(metric))}</span> → '
                     f'{percent(tuned.metrics[metric])}</div>{pill(changes.get(metric))}</div>')
    return f'<div class="cards wide">{"".join(cards)}</div>'


def _summary_table(view: Overview) -> str:
    head = ["Test split", "Metric", "Base", "Tuned", "Δ tuned − base [95% CI]", "p", "Fixed / broken", "Pairs"]
    rows = []
    for split in view.splits:
        base, tuned = split_runs(split.report)
        changes = split_changes(split.report)
        primary = primary_of(split)
        metrics = [m for m in dict.fromkeys([primary, *split.headline]) if m in base.metrics or m in tuned.metrics]
        for index, metric in enumerate(metrics):
            cells = []
            if index == 0:
                link = f'<br><a href="{escape(split.link)}">every metric and item</a>' if split.link else ""
                task = f'<div class="task">{escape(split.task)}</div>' if split.task else ""
                cells.append(f'<td rowspan="{len(metrics)}" class="split"><strong>{escape(split.dataset)}</strong>{task}'
                             f'<div class="ci">{_inline(split.tuned_by)}{link}</div></td>')
            role = "primary" if metric == primary else "exploratory"
            cells.append(f'<td>{escape(metric_label(metric))} <span class="ci">{role}</span></td>')
            cells += [f'<td class="num">{percent(run.metrics.get(metric))}</td>' for run in (base, tuned)]
            cells += change_cells(changes.get(metric))
            pairs = pairs_text(changes[metric]) if metric in changes else f'{split.report["n"]:,}'
            cells.append(f'<td class="num">{pairs}</td>')
            rows.append(f'<tr{" class=first" if index == 0 else ""}>{"".join(cells)}</tr>')
    header = "".join(f'<th{" class=num" if i > 1 else ""}>{escape(h)}</th>' for i, h in enumerate(head))
    return (f'<div class="scroll"><table class="summary"><thead><tr>{header}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _loss_chart(curves: dict[str, list[tuple[int, float]]]) -> str:
    """Loss against step, one line per training run, labelled at its end."""
    points = [p for curve in curves.values() for p in curve]
    last_step = max(step for step, _ in points) or 1
    top_loss = max(1.0, float(int(max(loss for _, loss in points)) + 1))
    x0, x1, y0, y1 = 48, CHART_WIDTH - 40, 14, 214
    height = y1 + 30

    def x(step: float) -> float:
        return x0 + step / last_step * (x1 - x0)

    def y(loss: float) -> float:
        return y1 - loss / top_loss * (y1 - y0)

    parts = []
    for tick in range(5):
        value = top_loss * tick / 4
        parts.append(f'<line x1="{x0}" x2="{x1}" y1="{y(value):.1f}" y2="{y(value):.1f}" class="grid"/>'
                     f'<text x="{x0 - 8}" y="{y(value):.1f}" text-anchor="end" dominant-baseline="central" '
                     f'class="tick">{value:g}</text>')
    for tick in range(5):
        step = round(last_step * tick / 4)
        parts.append(f'<text x="{x(step):.1f}" y="{y1 + 18}" text-anchor="middle" class="tick">{step}</text>')
    for (name, curve), color in zip(curves.items(), LOSS_COLORS * 4):
        if not curve:
            continue
        line = " ".join(f"{x(step):.1f},{y(loss):.1f}" for step, loss in curve)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2.2" '
                     f'stroke-linejoin="round"><title>{escape(name)}</title></polyline>')
        parts += [f'<circle cx="{x(s):.1f}" cy="{y(v):.1f}" r="2.6" fill="{color}"/>' for s, v in curve]
    keys = "".join(f'<span><i class="swatch" style="background:{color}"></i>{escape(name)}: '
                   f"{curve[0][1]:.2f} → {curve[-1][1]:.2f}</span>"
                   for (name, curve), color in zip(curves.items(), LOSS_COLORS * 4) if curve)
    return f'<div class="legend">{keys}</div>' + svg(CHART_WIDTH, height, parts, "training loss by step")


def _fields_section(split: Split, legend: str) -> str:
    runs = split_runs(split.report)
    groups: dict[str, list[str]] = {}
    for name in split.report["diff"]:
        if "/" in name:
            groups.setdefault(name.split("/", 1)[0], []).append(name)
    charts = "".join(f"<h3>{escape(prefix)}</h3>" + bar_chart(runs, members, [BASE_COLOR, TUNED_COLOR],
                                                             lambda n: n.split("/", 1)[1])
                     for prefix, members in groups.items())
    return section(f"{split.dataset}, by field", legend + charts,
                   "Each field of the report scored on its own (exploratory): bars ×100, whiskers the 95% interval.")


def _flip_metric(split: Split) -> str | None:
    """The primary metric when it has flipped items (a compare report lists no other metric's flips)."""
    metric = primary_of(split)
    kinds = split.report.get("flips", {}).get(metric, {})
    return metric if any(kinds.values()) else None


def _flips_section(view: Overview) -> str:
    rows, quiet = [], []
    for split in view.splits:
        metric = _flip_metric(split)
        if metric is None:
            quiet.append(split.dataset)
            continue
        kinds = split.report["flips"][metric]
        chosen = [("fixed", row) for row in kinds["fixed"]][:SHOWN_FLIPS]
        chosen += [("broken", row) for row in kinds["broken"]][: SHOWN_FLIPS - len(chosen) or 1]
        for kind, row in chosen:
            texts = [row["prompt"], row["label"], row["base"], row["tuned"]]
            tags = [(f"tag {kind}", kind), ("tag", split.dataset), ("tag", metric_label(metric))]
            cells = ['<td><div class="tags">' + "".join(f'<span class="{c}">{escape(t)}</span>' for c, t in tags)
                     + "</div></td>"]
            cells += [f'<td><div class="text">{escape(text)}</div></td>' if text.strip() else
                      '<td><div class="text blank">(blank: whitespace only)</div></td>' for text in texts]
            rows.append(f"<tr>{''.join(cells)}</tr>")
    note = (f"Up to {SHOWN_FLIPS} items per split whose primary metric (0/1) flipped between base and tuned: fixed "
            "(base wrong, tuned right) first. Every item is on the split's own page.")
    if quiet:
        note += f" No item flipped in {', '.join(quiet)}."
    if not rows:
        return section("Flipped items", "", note)
    widths = ["19%", "23%", "19%", "19%", "20%"]
    cols = "".join(f'<col style="width:{w}">' for w in widths)
    header = "".join(f"<th>{h}</th>" for h in ("Flip", "Prompt", "Label", "Base", "Tuned"))
    table = (f'<div class="scroll"><table class="examples"><colgroup>{cols}</colgroup><thead><tr>{header}</tr>'
             f'</thead><tbody>{"".join(rows)}</tbody></table></div>')
    return section("Flipped items", table, note)


def _details_section(view: Overview) -> str:
    links = "".join(f'<li><a href="{escape(s.link)}">{escape(s.dataset)}</a>: every metric, with the items that moved most'
                    "</li>" for s in view.splits if s.link)
    parts = [f'<ul class="links">{links}</ul>'] if links else []
    if view.jobs:
        rows = "".join(f'<tr><td>{escape(job)}</td><td><code class="cmd">{escape(command)}</code></td>'
                       f'<td class="num">{seconds:.0f}&nbsp;s</td></tr>' for job, command, seconds in view.jobs)
        parts.append(f"<details><summary>The {len(view.jobs)} llamafactory-cli runs: commands and times</summary>"
                     '<div class="scroll"><table class="jobs"><thead><tr><th>Job</th><th>Command</th>'
                     f'<th class="num">Time</th></tr></thead><tbody>{rows}</tbody></table></div></details>')
    return section("How it was made", "".join(parts),
                    "The real llamafactory-cli runs behind the numbers, two at a time; their logs are in the "
                    "work folder.")
