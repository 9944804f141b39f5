"""What `lfd eval`, `lfd compare` and `lfd demo` print: tables (rich on a terminal, plain columns when piped)."""

from __future__ import annotations

import sys
import unicodedata

from ...evaluators.base import Prediction
from ..predictions import prompt_excerpt, short
from ..scoring import FLIP_KINDS, Comparison, Scores

SHOWN_FLIPS = 5  # flipped items printed per direction


def print_table(columns: list[str], rows: list[list[str]], right: set[int] = frozenset(), out=None) -> None:
    """A rich table on a terminal; plain aligned columns when piped (greppable, stable). ``out``: default stdout."""
    out = out or sys.stdout
    if out.isatty():
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            pass
        else:
            table = Table(*columns, header_style="bold")
            for index, column in enumerate(table.columns):
                column.justify = "right" if index in right else "left"
            for row in rows:
                table.add_row(*row)
            Console(file=out).print(table)
            return
    widths = [max(_display_width(cells[i]) for cells in [columns, *rows]) for i in range(len(columns))]
    for cells in [columns, *rows]:
        gaps = [" " * (w - _display_width(c)) for c, w in zip(cells, widths)]
        print("  ".join(g + c if i in right else c + g for i, (c, g) in enumerate(zip(cells, gaps))).rstrip(), file=out)


def _display_width(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_ci(ci: tuple[float, float] | None, decimals: int = 4, signed: bool = False) -> str:
    """``[lo, hi]`` to ``decimals`` places (the stable ones), "-" without an interval.

    >>> format_ci((0.0, 0.16843), 4), format_ci((-0.0523, 0.2017), 2, signed=True)
    ('[0.0000, 0.1684]', '[-0.05, +0.20]')
    """
    sign = "+" if signed else ""
    return f"[{ci[0]:{sign}.{decimals}f}, {ci[1]:{sign}.{decimals}f}]" if ci else "-"


def interval_note(scores: Scores) -> str:
    """Which interval each metric has: exact for 0/1 metrics, bootstrap for the others."""
    methods: dict[str, list[str]] = {}
    for name, method in scores.ci_methods.items():
        methods.setdefault(method, []).append(name)
    parts = [f"{method} ({', '.join(names)})" for method, names in methods.items()]
    return "95% intervals, printed to their stable digits: " + "; ".join(parts) if parts else ""


def print_scores(scores: Scores, out=None) -> None:
    rows = [
        [name, f"{value:.4f}", format_ci(scores.ci95.get(name), scores.decimals.get(name, 4)),
         str(scores.counts.get(name, 0))]
        for name, value in scores.metrics.items()
    ]
    print_table(["metric", "value", "95% CI", "n"], rows, right={1, 3}, out=out)
    print(f"primary metric: {scores.primary}. {interval_note(scores)}", file=out or sys.stdout)


def print_comparison(scores, comparison: Comparison, out=None) -> None:
    rows = []
    for name in dict.fromkeys([*scores[0].metrics, *scores[1].metrics]):
        values = [f"{s.metrics[name]:.4f} {format_ci(s.ci95.get(name), s.decimals.get(name, 4))}"
                  if name in s.metrics else "-" for s in scores]
        change = comparison.changes.get(name)
        if change and change.diff is not None:
            p = "-" if change.p is None else f"{change.p:.4g}" if change.primary else f"{change.p_adjusted:.4g} Holm"
            flipped = f"{change.fixed} / {change.broken}" if change.fixed is not None else "-"
            pairs = str(change.n) if not (change.base_only or change.tuned_only) else \
                f"{change.n} of {change.n + change.base_only} / {change.n + change.tuned_only}"
            diff = f"{change.diff:+.4f} {format_ci(change.ci95, change.decimals, signed=True)}"
            rows.append([name, *values, diff, p, flipped, pairs])
        else:
            rows.append([name, *values, "-", "-", "-", "0"])
    print_table(["metric", "base [95% CI]", "tuned [95% CI]", "tuned - base [95% CI]", "p",
                 "fixed / broken", "pairs"], rows, right={4, 5, 6}, out=out)
    by_question = (" On this circular split a question's rotated copies are one unit: its intervals resample "
                   "questions and its tests flip questions, so a 0/1 metric over the copies gets the sign-flip "
                   "test.") if scores[0].unit else ""
    print(f"primary metric: {comparison.primary} (its p decides); the other metrics are exploratory, their p "
          "Holm-adjusted. p: exact McNemar for 0/1 metrics, sign-flip permutation test otherwise. "
          f"Differences are on the items both runs score.{by_question}", file=out or sys.stdout)


def print_flips(base: list[Prediction], tuned: list[Prediction], comparison: Comparison, out=None) -> None:
    """The first flipped items of the primary metric (when it is 0/1)."""
    if not comparison.flipped:
        return
    name, *flipped = comparison.flipped
    for kind, indices in zip(FLIP_KINDS, flipped):
        if indices:
            print(f"\n{kind} by tuned ({name}), {min(len(indices), SHOWN_FLIPS)} of {len(indices)}:", file=out or sys.stdout)
        for i in indices[:SHOWN_FLIPS]:
            prompt = short(prompt_excerpt(base[i].prompt, base[i].record))
            print(f"  line {base[i].line}: {prompt!r}  label {short(base[i].label)!r}  "
                  f"base {short(base[i].predict)!r}  tuned {short(tuned[i].predict)!r}", file=out or sys.stdout)
