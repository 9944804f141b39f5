"""HTML building blocks of every report page: escaping, number formatting, sections and SVG charts.

Inline CSS and SVG charts drawn here: no script, font, stylesheet or image to fetch, so a page can
be mailed or opened offline. Scores are shown ×100; the JSON reports keep them in [0, 1].
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from ..scoring import Change, lower_is_better, reliably

TEXT_CHARS = 2000  # of each label and prediction shown: huge outputs stay readable
BASE_COLOR, TUNED_COLOR = "#a1a1aa", "#4f46e5"
REFERENCE_COLOR = "#f59e0b"  # a reference drawn beside the runs (the labels' letter shares)
TEXT_COLORS = {BASE_COLOR: "#71717a", TUNED_COLOR: "#4338ca", REFERENCE_COLOR: "#b45309"}  # value labels beside the bars
BETTER, WORSE, UNSURE = "#059669", "#dc2626", "#6b7280"
CHART_WIDTH = 980
CHANGE_NOTE = ("Dots are the difference on the items both runs score; whiskers its paired 95% interval. "
               "Green: reliably better, red: reliably worse (p < 0.05: the primary metric's own p, the exploratory "
               "metrics' Holm-adjusted), grey: not shown to differ. ↓: lower is better.")
SCORES_NOTE = ("Bars: score ×100; whiskers: 95% interval (exact Clopper-Pearson for 0/1 metrics, percentile "
               "bootstrap otherwise).")


def clip(text: str, width: int = TEXT_CHARS) -> str:
    """``text`` stripped and cut to ``width`` characters, saying how many were left out.

    >>> clip(" 咳嗽发热 ", 2)
    '咳嗽… (2 more characters)'
    """
    text = text.strip()
    return text if len(text) <= width else f"{text[:width]}… ({len(text) - width} more characters)"


@dataclass
class Run:
    name: str
    source: str
    metrics: dict[str, float]
    ci95: dict[str, tuple[float, float]]
    counts: dict[str, int]
    decimals: dict[str, int] = field(default_factory=dict)  # stable decimals of each interval's ends


def escape(text) -> str:
    return html.escape(str(text), quote=True)


def percent(value: float | None, signed: bool = False, places: int = 1) -> str:
    """``value`` ×100 with ``places`` decimals, a real minus sign; "—" for None.

    >>> percent(0.4256), percent(-0.031, signed=True), percent(0.4256, places=0), percent(-1e-17), percent(None)
    ('42.6', '−3.1', '43', '0.0', '—')
    """
    if value is None:
        return "—"
    text = f"{100 * value:+.{places}f}" if signed else f"{100 * value:.{places}f}"
    if not float(text):  # -0.0001 shows as 0.0, not −0.0
        text = text.replace("-", "+" if signed else "")
    return text.replace("-", "−")


def percent_places(decimals: int | None) -> int:
    """Decimals of an interval end shown ×100: one, or fewer when fewer are stable (``decimals`` of a fraction).

    >>> percent_places(4), percent_places(2), percent_places(1), percent_places(None)
    (1, 0, 0, 1)
    """
    return 1 if decimals is None else max(0, min(1, decimals - 2))


def _tick(value: float) -> str:
    return f"{100 * value:+g}".replace("-", "−") if value else "0"


def metric_label(metric: str) -> str:
    """The metric's name as shown: lower-is-better metrics carry a ↓."""
    return f"{metric} ↓" if lower_is_better(metric) else metric


def ci_text(ci, signed: bool = False, decimals: int | None = None) -> str:
    """``[lo, hi]`` ×100, with only the stable digits when ``decimals`` (of the fractions) says how many are."""
    places = percent_places(decimals)
    return f"[{percent(ci[0], signed, places)}, {percent(ci[1], signed, places)}]" if ci else ""


def p_text(p: float | None) -> str:
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def verdict(change: Change) -> str:
    """better | worse | unsure, by the p-value decisions use (:func:`..scoring.reliably`), never by the interval alone."""
    return reliably(change) or "unsure"


def decision_p(change: Change) -> str:
    """The p-value a verdict rests on: the primary metric's own, an exploratory metric's Holm-adjusted one."""
    if change.p is None:
        return "—"
    return p_text(change.p) if change.primary else f"{p_text(change.p_adjusted)} Holm"


def pairs_text(change: Change) -> str:
    """``120`` pairs, or ``120 of 134 / 169`` when a conditional metric covers different items in each run."""
    if not (change.base_only or change.tuned_only):
        return f"{change.n:,}"
    return f"{change.n:,} of {change.n + change.base_only:,} / {change.n + change.tuned_only:,}"


def change_cells(change: Change | None) -> list[str]:
    """The difference (with its interval), p and fixed / broken cells of a summary row."""
    if not change or change.diff is None:
        return ['<td class="num">—</td>'] * 3
    flips = f"{change.fixed} / {change.broken}" if change.fixed is not None else "—"
    test = ", ".join(filter(None, [change.test, "" if change.primary else "Holm-adjusted over the exploratory metrics"]))
    return [(f'<td class="num {verdict(change)}">{percent(change.diff, True)} '
             f'<span class="ci">{ci_text(change.ci95, True, change.decimals)}</span></td>'),
            f'<td class="num" title="{escape(test)}">{decision_p(change)}</td>',
            f'<td class="num">{flips}</td>']


def pill(change: Change | None) -> str:
    """The coloured ``Δ … · p …`` badge of a card; "" without a change."""
    if not change or change.diff is None:
        return ""
    p = f" · p {decision_p(change)}" if change.p is not None else ""
    return f'<span class="pill {verdict(change)}">Δ {percent(change.diff, True)}{p}</span>'


def section(title: str, content: str, note: str = "") -> str:
    note = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{note}{content}</section>"


def legend_keys(runs: list[Run], colors: list[str]) -> str:
    keys = "".join(f'<span><i class="swatch" style="background:{c}"></i>{escape(r.name)}</span>'
                   for r, c in zip(runs, colors))
    return f'<div class="legend">{keys}</div>'


def _text_width(text: str, size: float = 12) -> float:
    """Rough rendered width: CJK characters are square, Latin ones about 0.6 em."""
    return sum(size if ord(ch) >= 0x2E80 else 0.6 * size for ch in text)


def _fit(text: str, width: float) -> str:
    while len(text) > 1 and _text_width(text) > width:
        text = text[:-2] + "…"
    return text


def _label_width(labels: list[str], widest: float = 250.0) -> float:
    return min(widest, max(80.0, max((_text_width(label) for label in labels), default=0) + 16))


def svg(width: float, height: float, parts: list[str], label: str) -> str:
    return (f'<svg viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(label)}" '
            f'style="max-width:{width:.0f}px">{"".join(parts)}</svg>')


def _label(x: float, y: float, text: str, width: float) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="end" dominant-baseline="central">'
            f"<title>{escape(text)}</title>{escape(_fit(text, width))}</text>")


def bar_chart(runs: list[Run], names: list[str], colors: list[str], label_of, widest: float = 250.0) -> str:
    """Horizontal bars on a 0–100 axis, one group per metric, one bar per run, with interval whiskers."""
    bar, gap, group_gap = (12, 3, 16) if len(runs) > 1 else (16, 0, 12)
    labels = [metric_label(label_of(name)) for name in names]
    x0 = _label_width(labels, widest)
    x1, top = CHART_WIDTH - 44, 24
    group = len(runs) * bar + (len(runs) - 1) * gap
    height = top + len(names) * (group + group_gap)
    scale = (x1 - x0) / 1.0
    parts = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = x0 + tick * scale
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{height - 4}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{top - 14}" text-anchor="middle" class="tick">{tick * 100:.0f}</text>')
    for row, (name, label) in enumerate(zip(names, labels)):
        y = top + row * (group + group_gap) + group_gap / 2
        parts.append(_label(x0 - 10, y + group / 2, label, x0 - 16))
        for index, (run, color) in enumerate(zip(runs, colors)):
            by, value, ci = y + index * (bar + gap), run.metrics.get(name), run.ci95.get(name)
            mid = by + bar / 2
            if value is None:
                parts.append(f'<text x="{x0 + 6:.1f}" y="{mid:.1f}" dominant-baseline="central" class="tick">'
                             "not reported</text>")
                continue
            tip = f"{run.name}: {percent(value)} {ci_text(ci, decimals=run.decimals.get(name))}"
            parts.append(f'<rect x="{x0:.1f}" y="{by:.1f}" width="{max(1.5, value * scale):.1f}" height="{bar}" '
                         f'rx="2" fill="{color}"><title>{escape(tip)}</title></rect>')
            if ci:
                lo, hi = x0 + ci[0] * scale, x0 + ci[1] * scale
                ends = f"M{lo:.1f} {mid - 4:.1f}v8M{hi:.1f} {mid - 4:.1f}v8"
                parts.append(f'<path d="M{lo:.1f} {mid:.1f}H{hi:.1f}{ends}" class="whisker"/>')
            end = x0 + max(value, ci[1] if ci else 0) * scale + 6
            parts.append(f'<text x="{end:.1f}" y="{mid:.1f}" dominant-baseline="central" class="value" '
                         f'fill="{TEXT_COLORS.get(color, color)}">{percent(value)}</text>')
    return svg(CHART_WIDTH, height, parts, "scores with 95% intervals")


def _nice_span(largest: float) -> float:
    for span in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5):
        if largest <= span:
            return span
    return 1.0


def change_chart(changes_by_name: dict[str, Change], names: list[str], widest: float = 250.0) -> str:
    """Forest plot: each metric's difference as a dot, its paired interval as whiskers, around 0."""
    names = [name for name in names if changes_by_name[name].diff is not None]
    changes = [changes_by_name[name] for name in names]
    ends = [abs(v) for c in changes for v in (c.diff, *(c.ci95 or ()))]
    span = _nice_span(max(ends, default=0))
    x0, value_width, top, row_h = _label_width([metric_label(n) for n in names], widest), 150, 24, 30
    x1 = CHART_WIDTH - value_width
    center, half = (x0 + x1) / 2, (x1 - x0) / 2
    height = top + len(names) * row_h

    def x(value: float) -> float:
        return center + value / span * half

    parts = []
    for tick in (-span, -span / 2, 0, span / 2, span):
        cls = "zero" if tick == 0 else "grid"
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 6}" y2="{height - 4}" class="{cls}"/>'
                     f'<text x="{x(tick):.1f}" y="{top - 14}" text-anchor="middle" class="tick">'
                     f"{_tick(tick)}</text>")
    for row, (name, change) in enumerate(zip(names, changes)):
        y = top + row * row_h + row_h / 2
        color = {"better": BETTER, "worse": WORSE, "unsure": UNSURE}[verdict(change)]
        parts.append(_label(x0 - 10, y, metric_label(name), x0 - 16))
        if change.ci95:
            lo, hi = x(change.ci95[0]), x(change.ci95[1])
            parts.append(f'<path d="M{lo:.1f} {y:.1f}H{hi:.1f}M{lo:.1f} {y - 5:.1f}v10M{hi:.1f} {y - 5:.1f}v10" '
                         f'stroke="{color}" stroke-width="2"/>')
        parts.append(f'<circle cx="{x(change.diff):.1f}" cy="{y:.1f}" r="5.5" fill="{color}"/>')
        text = f"{percent(change.diff, True)}  {ci_text(change.ci95, True, change.decimals)}"
        parts.append(f'<text x="{CHART_WIDTH - 4}" y="{y:.1f}" text-anchor="end" dominant-baseline="central" '
                     f'class="value" fill="{color}">{escape(text)}</text>')
    return svg(CHART_WIDTH, height, parts, "differences with paired 95% intervals")


PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


CSS = """
:root {
  --ink: #111827; --soft: #374151; --muted: #6b7280; --line: #e5e7eb; --bg: #f6f7f9; --accent: #4f46e5;
  --font: -apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
          "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.6 var(--font);
       -webkit-font-smoothing: antialiased; }
main { max-width: 1100px; margin: 0 auto; padding: 36px 28px 56px; }
header h1 { font-size: 30px; line-height: 1.2; margin: 4px 0 18px; letter-spacing: -0.01em; }
.kicker { margin: 0; color: var(--accent); font-size: 12px; font-weight: 650; letter-spacing: .08em;
          text-transform: uppercase; }
.meta { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 10px 28px; margin: 0; }
.meta dt { color: var(--muted); font-size: 12px; }
.meta dd { margin: 0; overflow-wrap: anywhere; }
code { font-family: var(--mono); font-size: 13px; background: #eef0f4; padding: 1px 6px; border-radius: 5px; }
.lede { color: var(--soft); max-width: 88ch; margin: 18px 0 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 14px; margin: 26px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 14px 18px; }
.card .name { color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
.card.primary { border-color: var(--accent); box-shadow: inset 3px 0 0 var(--accent); }
.card .value { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; line-height: 1.3; }
.card .was { color: var(--muted); font-weight: 500; }
.card .ci { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.pill { display: inline-block; margin-top: 4px; padding: 1px 9px; border-radius: 999px; font-size: 12px;
        font-weight: 600; font-variant-numeric: tabular-nums; }
.pill.better { color: #047857; background: #d1fae5; } .pill.worse { color: #b91c1c; background: #fee2e2; }
.pill.unsure { color: #4b5563; background: #eef0f4; }
section { background: #fff; border: 1px solid var(--line); border-radius: 14px; padding: 22px 26px; margin: 22px 0; }
section h2 { font-size: 17px; margin: 0 0 4px; }
.note { color: var(--muted); font-size: 13px; margin: 0 0 14px; }
section h2 + :not(.note) { margin-top: 14px; }
.legend { display: flex; gap: 18px; font-size: 13px; color: var(--soft); margin: 0 0 6px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 3px; margin-right: 6px;
          vertical-align: -1px; }
svg { display: block; width: 100%; height: auto; }
svg text { font-family: var(--font); font-size: 12px; fill: var(--soft); }
svg text.tick { fill: #9ca3af; font-size: 11px; }
svg text.value { font-variant-numeric: tabular-nums; font-weight: 600; }
svg .grid { stroke: #eceef2; } svg .zero { stroke: #9ca3af; stroke-dasharray: 3 3; }
svg .whisker { stroke: #111827; stroke-opacity: .55; stroke-width: 1.4; fill: none; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
table.numbers { width: auto; min-width: min(100%, 520px); }
table.numbers td, table.numbers th { padding-left: 22px; }
table.numbers td:first-child, table.numbers th:first-child { padding-left: 10px; }
table.examples { table-layout: fixed; min-width: 860px; }
th { text-align: left; color: var(--muted); font-size: 12px; font-weight: 600; letter-spacing: .03em;
     padding: 8px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th.num { text-align: right; }
td { padding: 9px 10px; border-bottom: 1px solid #f0f1f4; vertical-align: top; }
tbody tr:hover { background: #fafafb; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.better { color: #047857; font-weight: 600; } td.worse { color: #b91c1c; font-weight: 600; }
.ci { color: var(--muted); font-size: 12px; font-weight: 400; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 10.5em; overflow-y: auto; line-height: 1.5; }
.tags { display: flex; flex-wrap: wrap; gap: 4px; }
.tag { font-size: 12px; line-height: 1.45; padding: 2px 8px; border-radius: 6px; background: #eef0f4;
       color: var(--soft); overflow-wrap: anywhere; }
.tag.fixed { background: #d1fae5; color: #047857; } .tag.broken { background: #fee2e2; color: #b91c1c; }
footer { color: #9ca3af; font-size: 12px; text-align: center; margin-top: 28px; }
.callout { background: #fef9c3; border: 1px solid #fde68a; color: #713f12; border-radius: 10px; padding: 10px 16px;
           margin: 0 0 14px; max-width: 88ch; }
header .lede + .meta, header .callout + .meta { margin-top: 18px; }
header .callout + .lede { margin-top: 0; }
.cards.wide { grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); }
.card .sub { color: var(--soft); font-size: 13px; font-weight: 600; overflow-wrap: anywhere; }
section h3 { font-size: 14px; color: var(--soft); margin: 18px 0 2px; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
table.summary tr.first td { border-top: 1px solid var(--line); }
table.summary td.split { width: 30%; }
table.summary td.split .ci { line-height: 1.5; margin-top: 2px; }
table.summary td.split .task { color: var(--soft); font-size: 13px; }
.text.blank { color: #9ca3af; font-style: italic; }
details summary { cursor: pointer; color: var(--soft); font-size: 14px; margin: 4px 0 10px; }
table.jobs td { font-size: 13px; }
code.cmd { display: block; white-space: pre-wrap; overflow-wrap: anywhere; background: none; padding: 0;
           font-size: 12px; }
ul.links { margin: 0 0 14px; padding-left: 20px; }
"""
