"""What `lfd eval`, `lfd compare` and `lfd demo` print: tables (rich on a terminal, plain columns when piped)."""

from __future__ import annotations

import sys
import unicodedata

from ...evaluators.base import Prediction
from ..predictions import prompt_excerpt, short
from ..scoring import FLIP_KINDS, Scores

SHOWN_FLIPS = 5  # flipped items printed per direction


def print_table(columns: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> None:
    """A rich table on a terminal; plain aligned columns when piped (greppable, stable)."""
    if sys.stdout.isatty():
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
            Console().print(table)
            return
    widths = [max(_display_width(cells[i]) for cells in [columns, *rows]) for i in range(len(columns))]
    for cells in [columns, *rows]:
        gaps = [" " * (w - _display_width(c)) for c, w in zip(cells, widths)]
        print("  ".join(g + c if i in right else c + g for i, (c, g) in enumerate(zip(cells, gaps))).rstrip())


def _display_width(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_ci(ci: tuple[float, float] | None) -> str:
    return f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "-"


def _signed(ci) -> str:
    return f"[{ci[0]:+.4f}, {ci[1]:+.4f}]" if ci else "-"


def print_scores(scores: Scores) -> None:
    rows = [
        [name, f"{value:.4f}", format_ci(scores.ci95.get(name)), str(scores.counts.get(name, 0))]
        for name, value in scores.metrics.items()
    ]
    print_table(["metric", "value", "95% CI", "n"], rows, right={1, 3})


def print_comparison(scores, changes) -> None:
    rows = []
    for name in dict.fromkeys([*scores[0].metrics, *scores[1].metrics]):
        values = [f"{s.metrics[name]:.4f} {format_ci(s.ci95.get(name))}" if name in s.metrics else "-" for s in scores]
        change, _ = changes.get(name, (None, None))
        counts = " / ".join(str(c) for c in sorted({s.counts.get(name, 0) for s in scores}))
        if change:
            p = f"{change.p:.4g}" if change.p is not None else "-"
            flipped = f"{change.fixed} / {change.broken}" if change.fixed is not None else "-"
            rows.append([name, *values, f"{change.diff:+.4f} {_signed(change.ci95)}", p, flipped, counts])
        else:
            rows.append([name, *values, "-", "-", "-", counts])
    print_table(["metric", "base [95% CI]", "tuned [95% CI]", "tuned - base [95% CI]", "McNemar p",
                 "fixed / broken", "n"], rows, right={4, 5, 6})


def print_flips(base: list[Prediction], tuned: list[Prediction], changes) -> None:
    """The first flipped items of the first 0/1 metric."""
    name, flipped = next(((name, f) for name, (_, f) in changes.items() if f and any(f)), (None, None))
    if not name:
        return
    for kind, indices in zip(FLIP_KINDS, flipped):
        if indices:
            print(f"\n{kind} by tuned ({name}), {min(len(indices), SHOWN_FLIPS)} of {len(indices)}:")
        for i in indices[:SHOWN_FLIPS]:
            prompt = short(prompt_excerpt(base[i].prompt, base[i].record))
            print(f"  line {base[i].line}: {prompt!r}  label {short(base[i].label)!r}  "
                  f"base {short(base[i].predict)!r}  tuned {short(tuned[i].predict)!r}")
