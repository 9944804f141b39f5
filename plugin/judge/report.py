"""What `lfd judge` prints and writes: a table on stdout; counts, unparseable replies and files on stderr;
the --out JSON (written whole, or not at all).

>>> mean_text(2.4, [1.8, 3.0], 1), mean_text(None, None, 4)
('2.40 [1.8, 3.0]', '—')
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..io.atomic import write_json
from .summary import TOTAL
from .verdicts import DIMENSIONS

SHOWN_UNPARSEABLE = 10  # replies listed on stderr; --out keeps them all
MAX_SHOWN_DECIMALS = 2


def write(out: Path | None, report: dict) -> None:
    if out is not None:
        write_json(out, report)


def mean_text(mean: float | None, ci: list | None, decimals: int) -> str:
    """A mean and its interval, the interval to the decimals its Monte-Carlo error leaves stable (at most 2)."""
    if mean is None:
        return "—"
    digits = min(decimals, MAX_SHOWN_DECIMALS)
    return f"{mean:.2f}" + (f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if ci else "")


def percent(part: int, whole: int) -> str:
    return f"{part} ({100 * part / whole:.0f}%)" if whole else str(part)


def print_pointwise(report: dict) -> None:
    from ..report.terminal import print_table

    settings = report["settings"]
    print(f"judge {settings['judge']} at {settings['api_base']}, template {settings['template']}; means over the "
          f"verdicts read, 95% {next(iter(report['models'].values()))['ci_method']}")
    columns = ["model", "judged", "unparseable", "failed", *[f"{d} (1-3)" for d in DIMENSIONS], "total (3-9)"]
    rows = []
    for name, s in report["models"].items():
        unread = s["unparseable"]
        rows.append([name, f"{s['judged']}/{s['items']}", percent(unread["count"], unread["n"]), str(s["failed"]),
                     *[mean_text(s["means"][d], s["ci"][d], s["ci_decimals"].get(d, 0)) for d in (*DIMENSIONS, TOTAL)]])
    print_table(columns, rows, right={1, 2, 3})
    for name, s in report["models"].items():
        if not s["judged"]:
            print(f"{name}: no score: none of its {s['items']} verdicts could be read "
                  f"({s['unparseable']['count']} unparseable, {s['failed']} failed)")
    if "agreement" in report:
        print_agreement(report["agreement"])
    show_unparseable(report["unparseable"], lambda u: f"{u['model']} item {u['item']}")


def number(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def print_agreement(agreement: dict) -> None:
    """plugin/rating/agreement.py's judge_agreement: a row per dimension (as JSON when shaped otherwise)."""
    from ..report.terminal import print_table

    dimensions = [d for d in DIMENSIONS if isinstance(agreement.get(d), dict)]
    if not dimensions:
        print("agreement with the physicians:\n" + json.dumps(agreement, ensure_ascii=False, indent=2, default=str))
        return
    raters = agreement.get("raters")
    print("agreement with the physicians" + (f" ({', '.join(map(str, raters))})" if isinstance(raters, list) else "")
          + ": Spearman of the judge's score with the physicians' mean; Krippendorff's ordinal alpha")
    columns = ["dimension", "spearman", "p", "answers", "alpha (physicians)", "alpha (with the judge)"]
    keys = ["spearman", "spearman_p", "pairs", "alpha_humans", "alpha_with_judge"]
    print_table(columns, [[d, *[number(agreement[d].get(k)) for k in keys]] for d in dimensions], right={1, 2, 3, 4, 5})


def print_pairwise(report: dict) -> None:
    s, settings = report["summary"], report["settings"]
    print(f"judge {settings['judge']} at {settings['api_base']}, template {settings['template']}")
    print(f"{s['judged']} of {s['questions']} questions judged in both orders (tuned as A, then as B); "
          f"unparseable: {s['unparseable']['verdicts']} verdicts in {s['unparseable']['questions']} questions; "
          f"failed: {s['failed']}")
    if not s["judged"]:
        print("no score: no question has a readable verdict in both orders")
    else:
        rates = s["win_tie_loss_rates"]
        print(f"tuned vs base: {s['wins']} wins, {s['ties']} ties, {s['losses']} losses "
              f"({' / '.join(f'{100 * r:.1f}%' for r in rates)})")
        ci = s["win_rate_ci"]
        digits = min(s.get("win_rate_ci_decimals", 4), 4)
        print(f"win rate (wins + ties/2)/n: {s['win_rate']:.4f}" + (
            f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}] ({s['win_rate_ci_method']})" if ci else ""))
        d = s["disagreement"]
        print(f"orders disagree (position bias): {d['count']} of {d['n']} ({100 * d['rate']:.1f}%) "
              f"[{d['ci'][0]:.4f}, {d['ci'][1]:.4f}] (Clopper-Pearson)")
        first = s["first_position_rate"]
        if first["n"]:
            print(f"answer A chosen in {first['count']} of {first['n']} decisive verdicts ({100 * first['rate']:.1f}%)")
    show_unparseable(report["unparseable"], lambda u: f"item {u['item']} ({u['order']})")


def show_unparseable(unparseable: list[dict], name) -> None:
    for entry in unparseable[:SHOWN_UNPARSEABLE]:
        print(f"unparseable: {name(entry)}: {entry['problem']}: {entry['reply']!r}", file=sys.stderr)
    if len(unparseable) > SHOWN_UNPARSEABLE:
        print(f"unparseable: … and {len(unparseable) - SHOWN_UNPARSEABLE} more (all in --out)", file=sys.stderr)


def print_requests(report: dict, out: Path | None) -> None:
    done, cache = report["requests"], report["settings"]["cache"]
    print(f"{done['sent']} requests sent ({done['attempts']} attempts), {done['cached']} answered from the cache "
          f"{cache}; tokens {done['prompt_tokens']} prompt + {done['completion_tokens']} completion", file=sys.stderr)
    if out is not None:
        print(f"wrote {out}", file=sys.stderr)
