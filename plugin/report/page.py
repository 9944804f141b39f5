"""The page of `lfd eval --html` (one run) and of `lfd compare --html` (base and tuned), built and rendered.

:func:`eval_page` and :func:`compare_page` turn scores into a :class:`Page`: metric cards, charts,
every number, and example items (lowest-scoring first, or flipped first); :func:`render` writes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from ...evaluators.base import Evaluator, Prediction
from ..order_robustness import answers_by_rotation, rotation_of
from ..predictions import prompt_excerpt
from ..scoring import Change, Comparison, Scores, lower_is_better
from ..statistics import unit_count
from .html import (
    BASE_COLOR,
    REFERENCE_COLOR,
    CHANGE_NOTE,
    CSS,
    PAGE,
    SCORES_NOTE,
    TUNED_COLOR,
    Run,
    bar_chart,
    change_cells,
    change_chart,
    ci_text,
    clip,
    escape,
    legend_keys,
    metric_label,
    pairs_text,
    percent,
    pill,
    section,
)

MAX_EXAMPLES = 60  # rows in the example table


def score_tags(item_scores: dict[str, float | None]) -> list[tuple[str, str]]:
    """Tags for one item's scores: ✓/✗ for 0/1 values (flipped for lower-is-better metrics), else ×100.

    >>> score_tags({"exact_match": 0.0, "rouge-l": 0.425, "exact_match_set": None})
    [('broken', '✗ exact_match'), ('score', 'rouge-l 42.5')]
    """
    tags = []
    for name, value in item_scores.items():
        if value in (0, 1):
            good = bool(value) != lower_is_better(name)
            tags.append(("fixed" if good else "broken", f"{'✓' if good else '✗'} {name}"))
        elif value is not None:
            tags.append(("score", f"{name} {percent(value)}"))
    return tags


@dataclass
class Example:
    where: str  # line number(s) in the predictions file(s)
    prompt: str
    label: str
    predictions: list[str]  # one per run
    tags: list[tuple[str, str]]  # (kind, text), kind: fixed | broken | score


@dataclass
class Page:
    title: str
    runs: list[Run]  # one (eval) or base and tuned (compare)
    n: int
    evaluators: list[str]
    dataset: str | None
    draws: int
    examples: list[Example]
    examples_title: str
    changes: dict[str, Change] = field(default_factory=dict)
    paired_by: str | None = None
    primary: str = ""  # the metric the page is about: first card, first row; the others are exploratory
    group_titles: dict[str, str] = field(default_factory=dict)  # chart title of a metric group (its evaluator's)
    group_references: dict[str, str] = field(default_factory=dict)  # group → group drawn beside it as reference
    order_dependent: str = ""  # the table of questions answered right in one option order and wrong in another
    expert: str = ""  # `lfd compare --sus`: the physicians' or a judge's SUS ratings of base and tuned
    questions: int | None = None  # a circular split: how many questions its items (rotated copies) hold


def render(page: Page) -> str:
    compare = len(page.runs) == 2
    colors = [BASE_COLOR, TUNED_COLOR] if compare else [TUNED_COLOR]
    names = list(dict.fromkeys(name for run in page.runs for name in run.metrics))
    if page.primary in names:
        names = [page.primary, *(name for name in names if name != page.primary)]
    main = [name for name in names if "/" not in name]
    groups: dict[str, list[str]] = {}
    for name in names:
        if "/" in name:
            groups.setdefault(name.split("/", 1)[0], []).append(name)

    body = [_header(page), _cards(page, main or names)]
    changed = [name for name in main if name in page.changes]
    if changed:
        body.append(section("Change, tuned − base", change_chart(page.changes, changed), CHANGE_NOTE))
    legend = legend_keys(page.runs, colors) if compare else ""
    if main:
        body.append(section("Scores", legend + bar_chart(page.runs, main, colors, lambda n: n), SCORES_NOTE))
    referenced = {reference for prefix, reference in page.group_references.items() if prefix in groups}
    for prefix, members in groups.items():
        if prefix in referenced:
            continue  # drawn beside the group that refers to it
        runs, run_colors = list(page.runs), list(colors)
        reference = page.group_references.get(prefix)
        if reference in groups:  # e.g. the labels' letter shares beside the answers'
            last = page.runs[-1]
            renamed = {f"{prefix}/{name.split('/', 1)[1]}": name for name in groups[reference]}
            runs.append(Run("labels", last.source, *({new: table[old] for new, old in renamed.items() if old in table}
                                                      for table in (last.metrics, last.ci95, last.counts, last.decimals))))
            run_colors.append(REFERENCE_COLOR)
        chart = bar_chart(runs, members, run_colors, lambda n: n.split("/", 1)[1])
        keys = legend_keys(runs, run_colors) if len(runs) > 1 else ""
        body.append(section(page.group_titles.get(prefix, f"{prefix}, by field"), keys + chart))
    grouped = [name for members in groups.values() for name in members]
    body.append(section("All numbers", _numbers_table(page, main + grouped)))
    if page.expert:
        body.append(page.expert)
    if page.order_dependent:
        body.append(page.order_dependent)
    if page.examples:
        note = "Line: the line in base / tuned predictions when they differ." if compare else ""
        body.append(section(page.examples_title, _examples_table(page), note))
    command = "lfd compare" if compare else "lfd eval"
    body.append(f"<footer>{command} · llamafactory-domains</footer>")
    return PAGE.format(title=escape(page.title), css=CSS, body="\n".join(body))


def _header(page: Page) -> str:
    compare = len(page.runs) == 2
    kicker = "lfd compare" if compare else "lfd eval"
    items = f"{page.n:,}" if page.questions is None else f"{page.n:,} (rotated copies of {page.questions:,} questions)"
    meta = [("Dataset", escape(page.dataset or "not checked (no --dataset)")), ("Items", items)]
    if page.paired_by:
        meta.append(("Paired by", escape(page.paired_by)))
    meta.append(("Evaluators", " ".join(f"<code>{escape(spec)}</code>" for spec in page.evaluators)))
    meta += [(run.name.capitalize(), f"<code>{escape(run.source)}</code>") for run in page.runs]
    if page.primary:
        meta.insert(2, ("Primary metric", f"<code>{escape(page.primary)}</code>"))
    rows = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in meta)
    intervals = ("its 95% interval: exact (Clopper-Pearson) for 0/1 metrics, else a percentile bootstrap "
                 f"({page.draws:,} resamples, seed 0) printed to its stable digits")
    if compare:
        lede = (f"Each score is the mean over the {page.n:,} paired items (those a metric applies to), shown ×100, with "
                f"{intervals}. Δ is tuned − base on the items both runs score, with a paired interval (Agresti-Min for 0/1 metrics, "
                "a paired bootstrap otherwise); "
                "p is the exact McNemar test for 0/1 metrics and a sign-flip permutation test otherwise. "
                f"The primary metric ({escape(page.primary or '—')}) is the comparison's claim; the other metrics "
                "are exploratory, their p-values Holm-adjusted, and only the primary metric's flipped items are "
                "listed.")
    else:
        lede = (f"Each score is the mean over the {page.n:,} items (those it applies to), shown ×100, with "
                f"{intervals}: rerunning on another sample of the same size would usually land inside it.")
    if page.questions is not None:
        lede += (f" The items are {page.questions:,} questions, each in several orders of its options: the intervals "
                 "count questions (a 0/1 metric of the copies gets Korn-Graubard's interval at the effective number "
                 "of questions, a graded one a bootstrap of questions), and the per-question metrics (circular "
                 "accuracy, consistency, flip rate) count each question once." + (" Runs pair by question: McNemar on the per-question metrics, a sign-flip "
                                          "test of questions for the metrics of the copies." if compare else ""))
    return (f'<header><p class="kicker">{kicker}</p><h1>{escape(page.title)}</h1>'
            f'<dl class="meta">{rows}</dl><p class="lede">{lede}</p></header>')


def _cards(page: Page, names: list[str]) -> str:
    """Metric cards, the primary metric's first (marked), never reordered by how flattering a change is."""
    cards = []
    for name in names[:8]:
        values = [run.metrics.get(name) for run in page.runs]
        role = "primary metric" if name == page.primary else ("exploratory" if page.primary else "")
        sub = f'<div class="sub">{role}</div>' if role else ""
        card = "card primary" if name == page.primary else "card"
        if len(page.runs) == 2:
            value = f'<span class="was">{percent(values[0])}</span> → {percent(values[1])}'
            cards.append(f'<div class="{card}"><div class="name">{escape(metric_label(name))}</div>{sub}'
                         f'<div class="value">{value}</div>{pill(page.changes.get(name))}</div>')
        else:
            ci = ci_text(page.runs[0].ci95.get(name), decimals=page.runs[0].decimals.get(name))
            cards.append(f'<div class="{card}"><div class="name">{escape(metric_label(name))}</div>{sub}'
                         f'<div class="value">{percent(values[0])}'
                         f'</div><div class="ci">95% CI {ci}</div></div>')
    return f'<div class="cards">{"".join(cards)}</div>'


def _numbers_table(page: Page, names: list[str]) -> str:
    compare = len(page.runs) == 2
    if compare:
        head = ["Metric", "Base", "Tuned", "Δ tuned − base", "p", "Fixed / broken", "Pairs"]
    else:
        head = ["Metric", "Score", "n"]
    rows = []
    for name in names:
        role = " <span class=\"ci\">primary</span>" if name == page.primary and page.primary else ""
        cells = [f"<td>{escape(metric_label(name))}{role}</td>"]
        for run in page.runs:
            value = percent(run.metrics.get(name))
            ci = ci_text(run.ci95.get(name), decimals=run.decimals.get(name))
            cells.append(f'<td class="num">{value} <span class="ci">{ci}</span></td>')
        change = page.changes.get(name)
        if compare:
            cells += change_cells(change)
        if compare and change:
            cells.append(f'<td class="num">{pairs_text(change)}</td>')
        else:
            counts = sorted({run.counts.get(name, 0) for run in page.runs})
            cells.append(f'<td class="num">{" / ".join(f"{c:,}" for c in counts)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    header = "".join(f'<th{" class=num" if i else ""}>{escape(h)}</th>' for i, h in enumerate(head))
    return f'<div class="scroll"><table class="numbers"><thead><tr>{header}</tr></thead>' \
           f'<tbody>{"".join(rows)}</tbody></table></div>'


def _examples_table(page: Page) -> str:
    compare = len(page.runs) == 2
    head = ["Line", "Prompt", "Label", *([r.name.capitalize() for r in page.runs] if compare else ["Prediction"])]
    head.append("Flipped" if compare else "Scores")
    widths = ["8%", "22%", "16%", "17%", "17%", "20%"] if compare else ["6%", "26%", "18%", "28%", "22%"]
    rows = []
    for example in page.examples:
        texts = [example.prompt, clip(example.label), *map(clip, example.predictions)]
        cells = [f'<td class="num">{escape(example.where)}</td>']
        cells += [f'<td><div class="text">{escape(text)}</div></td>' for text in texts]
        tags = "".join(f'<span class="tag {kind}">{escape(text)}</span>' for kind, text in example.tags)
        cells.append(f'<td><div class="tags">{tags}</div></td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    cols = "".join(f'<col style="width:{w}">' for w in widths)
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return (f'<div class="scroll"><table class="examples"><colgroup>{cols}</colgroup><thead><tr>{header}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>')


def _questions(scores: Scores) -> int | None:
    """The questions of a circular split's items (their resampling units); None for a plain split."""
    return None if scores.units is None else unit_count(scores.units, len(scores.per_item))


def _groups(scores: list[Scores]) -> dict[str, dict[str, str]]:
    """The chart titles and references of the metric groups, as the evaluators that report them declare."""
    owners = [owner for run in scores for owner in run.owners.values()]
    return {"group_titles": {k: v for owner in owners for k, v in owner.group_titles.items()},
            "group_references": {k: v for owner in owners for k, v in owner.group_references.items()}}


def order_dependent_table(runs: list[tuple[str, list[Prediction], Scores]]) -> str:
    """The questions of a circular split the last run answers right in one option order and wrong in another,
    with every run's answer under each rotation; "" for a split without rotations."""
    name, items, scores = runs[-1]
    judges = [getattr(run.owners.get("choice_accuracy"), "judge", None) for _, _, run in runs]
    if "choice_flip_rate" not in scores.metrics or None in judges:
        return ""
    flipped = [i for i, item_scores in enumerate(scores.per_item) if item_scores.get("choice_flip_rate") == 1]
    answers = [answers_by_rotation(run_items, judge) for (_, run_items, _), judge in zip(runs, judges)]
    rows = []
    for i in flipped[:MAX_EXAMPLES]:
        question = rotation_of(items[i].record, items[i].line).question
        record = items[i].record or {}
        options = record.get("options") if isinstance(record.get("options"), dict) else {}
        answer = str(record.get("answer", items[i].label))
        cells = [str(items[i].line), prompt_excerpt(items[i].prompt, items[i].record),
                 "\n".join(f"{x}. {options[x]}" if x in options else x for x in answer)]
        for found in answers:
            cells.append(" · ".join(f"{shown}{' ✓' if right else ' ✗' if right is False else ''}"
                                    for _, shown, right in found.get(question, [])))
        rows.append("<tr>" + "".join(f'<td class="num">{escape(cells[0])}</td>' if k == 0 else
                                     f'<td><div class="text">{escape(cell)}</div></td>'
                                     for k, cell in enumerate(cells)) + "</tr>")
    head = ["Line", "Question (original order)", "Answer", *(f"{run_name.capitalize()}, by rotation" for run_name, _, _ in runs)]
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    table = (f'<div class="scroll"><table class="examples"><thead><tr>{header}</tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table></div>') if rows else "<p>None.</p>"
    shown_rows = f", the first {len(rows)}" if len(rows) < len(flipped) else ""
    note = ("Each answer is the option chosen under rotation 0, 1, 2… (0: the original order), in the original "
            "letters: ✓ right, ✗ wrong, — no answer, ? ambiguous. A model that knows the answer picks the same "
            "option in every order.")
    who = "the tuned model" if len(runs) == 2 else "the model"
    return section(f"Questions {who} gets right in one option order and wrong in another: {len(flipped)}{shown_rows}",
                   table, note)


def eval_page(items: list[Prediction], scores: Scores, chosen: list[Evaluator], predictions: Path, dataset,
              draws: int) -> Page:
    """The single-run page: metric bars and the lowest-scoring items first."""
    order = sorted(range(len(items)), key=lambda i: (_mean_score(scores.per_item[i]), i))
    examples = [
        Example(
            where=str(items[i].line),
            prompt=prompt_excerpt(items[i].prompt, items[i].record),
            label=items[i].label.strip(),
            predictions=[items[i].predict],
            tags=score_tags(scores.per_item[i]),
        )
        for i in order[:MAX_EXAMPLES]
    ]
    run = Run("predictions", str(predictions), scores.metrics, scores.ci95, scores.counts, scores.decimals)
    return Page(
        title=dataset or str(predictions),
        runs=[run],
        n=len(items),
        evaluators=[e.spec for e in chosen],
        dataset=dataset,
        draws=draws,
        examples=examples,
        examples_title="Items, lowest-scoring first",
        primary=scores.primary,
        order_dependent=order_dependent_table([("the model", items, scores)]),
        questions=_questions(scores),
        **_groups([scores]),
    )


def _mean_score(item_scores: dict) -> float:
    values = [v for v in item_scores.values() if v is not None]
    return sum(values) / len(values) if values else math.inf


def compare_page(context: dict, base: list[Prediction], tuned: list[Prediction], scores,
                 comparison: Comparison) -> Page:
    """The base-vs-tuned page: the primary metric's flipped items first, then the items whose scores moved most.

    Only the primary metric's flips are tags: an item is never "fixed" because a secondary metric
    (the no-answer rate) improved while its answer stayed wrong."""
    tags: dict[int, list[tuple[str, str]]] = {}
    if comparison.flipped:
        name, fixed, broken = comparison.flipped
        for kind, indices in (("fixed", fixed), ("broken", broken)):
            for i in indices:
                tags[i] = [(kind, f"{kind}: {name}")]

    def moved(i: int) -> float:
        pairs = [(b, scores[1].per_item[i].get(n)) for n, b in scores[0].per_item[i].items()]
        return sum(abs(t - b) for b, t in pairs if b is not None and t is not None)

    order = sorted(range(len(base)), key=lambda i: (i not in tags, -moved(i), i))
    examples = [
        Example(
            where=str(base[i].line) if base[i].line == tuned[i].line else f"{base[i].line} / {tuned[i].line}",
            prompt=prompt_excerpt(base[i].prompt, base[i].record),
            label=base[i].label.strip(),
            predictions=[base[i].predict, tuned[i].predict],
            tags=tags.get(i, []),
        )
        for i in order[:MAX_EXAMPLES]
    ]
    runs = [Run(name, str(context[name]), s.metrics, s.ci95, s.counts, s.decimals)
            for name, s in zip(("base", "tuned"), scores)]
    return Page(
        title=f"{context['dataset']}: base vs tuned" if context["dataset"] else "Base vs tuned",
        runs=runs,
        n=len(base),
        evaluators=context["evaluators"],
        dataset=context["dataset"],
        draws=context["bootstrap"]["draws"],
        examples=examples,
        examples_title="Items, flipped first",
        changes=comparison.changes,
        paired_by=context["paired_by"],
        primary=comparison.primary,
        order_dependent=order_dependent_table([("base", base, scores[0]), ("tuned", tuned, scores[1])]),
        questions=_questions(scores[0]),
        **_groups(list(scores)),
    )

