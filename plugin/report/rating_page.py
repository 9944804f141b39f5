"""What `lfd rate import` shows: the terminal table and the HTML page of the physicians' SUS ratings.

Both present :func:`..rating.sus.summarize`'s numbers as they are: means on the 1–3 scale (total
3–9), never ×100, each with its 95% interval printed to its stable decimals.
"""

from __future__ import annotations

import sys

from ..rating.rubric import DIMENSION_NAMES, RATING_COLUMNS, TOTAL
from ..rating.sus import NUMBERS
from .html import CSS, PAGE, escape, p_text, section
from .terminal import print_table

TITLES = {**{name: f"{DIMENSION_NAMES[name]} ({RATING_COLUMNS[name]})" for name in RATING_COLUMNS},
          TOTAL: "Total (3–9)"}


def value_text(value: float | None, ci, decimals: int | None, signed: bool = False) -> str:
    """``2.40 [2.10, 2.70]``: two decimals, the interval to its stable ones (at most two).

    >>> value_text(2.4, (2.1, 2.7), 4), value_text(0.5, (-0.123, 1.0), 1, signed=True), value_text(None, None, None)
    ('2.40 [2.10, 2.70]', '+0.50 [-0.1, +1.0]', '-')
    """
    if value is None:
        return "-"
    places = 2 if decimals is None else min(2, decimals)
    ends = f" [{number(ci[0], places, signed)}, {number(ci[1], places, signed)}]" if ci else ""
    return f"{number(value, 2, signed)}{ends}"


def number(value: float, places: int, signed: bool = False) -> str:
    """``value`` to ``places`` decimals, never "-0".

    >>> number(-0.004, 2, signed=True), number(-0.2, 0), number(1.5, 1, signed=True)
    ('+0.00', '0', '+1.5')
    """
    rounded = round(value, places) or 0.0
    return f"{rounded:{'+' if signed else ''}.{places}f}"


def alpha_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_summary(summary: dict, out=None) -> None:
    """Means per model, the paired differences and the agreement, as plain tables."""
    out = out or sys.stdout
    means = summary["means"]
    print_table(["model", *(DIMENSION_NAMES[n] for n in NUMBERS)],
                [[model, *(value_text(means[model][n]["mean"], means[model][n]["ci95"], means[model][n]["decimals"])
                           for n in NUMBERS)] for model in summary["models"]], right={1, 2, 3, 4}, out=out)
    if summary["comparisons"]:
        print(file=out)
        rows = []
        for comparison in summary["comparisons"]:
            numbers = comparison["numbers"]
            rows.append([f"{comparison['second']} − {comparison['first']}",
                         *(f"{value_text(numbers[n]['diff'], numbers[n]['ci95'], numbers[n]['decimals'], True)} "
                           f"p {p_text(numbers[n]['p'])}" for n in NUMBERS)])
        print_table(["paired by question", *(DIMENSION_NAMES[n] for n in NUMBERS)], rows, right={1, 2, 3, 4}, out=out)
    agreement = summary["agreement"]
    print(file=out)
    print("Krippendorff's alpha (ordinal, raters × answers): " + ", ".join(
        f"{DIMENSION_NAMES[d]} {alpha_text(agreement[d]['alpha'])}" for d in agreement), file=out)
    print(f"{summary['questions']} questions × {len(summary['models'])} models, {len(summary['raters'])} raters; "
          f"95% intervals: {summary['bootstrap']['method']} (raters kept); p: sign-flip test of questions", file=out)


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f'<th class="num">{escape(h)}</th>' if i else f"<th>{escape(h)}</th>" for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i else f"<td>{c}</td>" for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return f'<div class="scroll"><table class="numbers"><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table></div>'


def _cell(value, ci, decimals, signed: bool = False) -> str:
    text = value_text(value, ci, decimals, signed)
    if " [" not in text:
        return escape(text)
    head, ends = text.split(" [", 1)
    return f'{escape(head)} <span class="ci">[{escape(ends)}</span>'


def render(summary: dict, context: dict) -> str:
    """The self-contained page (no script, no fetched file)."""
    means, models = summary["means"], summary["models"]
    meta = [("Questions", f"{summary['questions']:,}"), ("Models", ", ".join(f"<code>{escape(m)}</code>" for m in models)),
            ("Raters", f"{len(summary['raters'])} ({escape(', '.join(summary['raters']))})"),
            ("Ratings", f"{summary['ratings']:,}"),
            ("Sheets", " ".join(f"<code>{escape(s)}</code>" for s in context.get("sheets", []))),
            ("Key", f"<code>{escape(context.get('key', ''))}</code>")]
    rows = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in meta)
    lede = ("Physicians rated every answer on HuaTuo's SUS scale: Safety, Usability, Smoothness, each 1 (unacceptable), "
            "2 (acceptable) or 3 (good), without knowing which model wrote it. Each mean is over all ratings (questions × "
            f"raters); its 95% interval is a {escape(summary['bootstrap']['method'])} in which every drawn question keeps "
            "all its raters' ratings. Differences are paired by question (each question's mean over raters), with a paired "
            "bootstrap of questions and a sign-flip permutation test.")
    cards = "".join(f'<div class="card"><div class="name">{escape(model)} · total</div><div class="value">'
                    f'{value_text(means[model][TOTAL]["mean"], None, None)}</div><div class="ci">'
                    f'{escape(value_text(means[model][TOTAL]["mean"], means[model][TOTAL]["ci95"], means[model][TOTAL]["decimals"]).split(" ", 1)[-1])}'
                    "</div></div>" for model in models)
    body = [f'<header><p class="kicker">lfd rate import</p><h1>{escape(context.get("title", "Physicians’ SUS ratings"))}</h1>'
            f'<dl class="meta">{rows}</dl><p class="lede">{lede}</p></header>', f'<div class="cards">{cards}</div>']
    body.append(section("Mean ratings", _table(["model", *(TITLES[n] for n in NUMBERS)], [
        [escape(model), *(_cell(means[model][n]["mean"], means[model][n]["ci95"], means[model][n]["decimals"])
                          for n in NUMBERS)] for model in models]), "Mean [95% interval]; 1 unacceptable, 2 acceptable, 3 good."))
    if summary["comparisons"]:
        rows_html = []
        for comparison in summary["comparisons"]:
            numbers = comparison["numbers"]
            rows_html.append([escape(f"{comparison['second']} − {comparison['first']}"), *(
                f"{_cell(numbers[n]['diff'], numbers[n]['ci95'], numbers[n]['decimals'], True)} "
                f"<span class=\"ci\">p {p_text(numbers[n]['p'])} · Holm {p_text(numbers[n].get('p_holm'))}</span>"
                for n in NUMBERS)])
        body.append(section("Paired differences", _table(["models", *(TITLES[n] for n in NUMBERS)], rows_html),
                            "Later − earlier model, on the questions both were rated on; p: sign-flip permutation test of "
                            "the per-question differences, Holm: adjusted over every difference on this page."))
    agreement = summary["agreement"]
    body.append(section("Agreement between raters", _table(["dimension", "Krippendorff's alpha (ordinal)", "raters", "answers"], [
        [escape(TITLES[d]), alpha_text(agreement[d]["alpha"]), str(agreement[d]["raters"]), str(agreement[d]["units"])]
        for d in agreement]), "1 is perfect agreement, 0 what chance gives; below about 0.667 the ratings are usually "
                              "taken as too unreliable to draw conclusions from (Krippendorff 2004)."))
    body.append("<footer>lfd rate import · llamafactory-domains</footer>")
    return PAGE.format(title=escape(context.get("title", "Physicians’ SUS ratings")), css=CSS, body="\n".join(body))
