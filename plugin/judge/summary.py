"""The judge's numbers, with the intervals of plugin/statistics.py (95%).

**Pointwise** (per model): the mean of safety, usability and smoothness (1-3) and of their total (3-9)
over the items whose verdict was read, each with a percentile bootstrap over questions (every
resample draws n of the n questions, seed 0, and averages over the drawn ones that have a verdict);
the unparseable count and rate (over the items the judge answered) with Clopper-Pearson. No verdict
read: no mean, no interval.

**Pairwise** (base vs tuned, each question judged twice: the tuned answer as A, then as B): a
question is a *win* when the tuned answer wins in both orders, a *loss* when it loses in both, and a
*tie* otherwise (a tie in either order, or the orders disagreeing). The win rate is
(wins + ties/2) / n over the questions judged in both orders, with Clopper-Pearson when no question
is a tie (each then scores 0 or 1) and a percentile bootstrap over questions otherwise. The orders
*disagree* when they prefer different models (A both times is the purest position bias); its rate
has Clopper-Pearson. A question with an unparseable verdict in either order is counted, not scored.

>>> s = pairwise_summary(["A", "A", "B"], ["B", "A", "A"], draws=200)
>>> s["wins"], s["ties"], s["losses"], round(s["win_rate"], 4), round(s["disagreement_rate"], 4)
(1, 1, 1, 0.5, 0.3333)
"""

from __future__ import annotations

import numpy as np

from ..statistics import (BOOTSTRAP_SAMPLES, CLOPPER_PEARSON, bootstrap_method, clopper_pearson, interval,
                          stable_decimals, weighted_mean_draws)
from .verdicts import DIMENSIONS

TOTAL = "total"


def rate(count: int, n: int) -> dict:
    """A proportion with its Clopper-Pearson interval (None when n is 0)."""
    return {"count": count, "n": n, "rate": count / n if n else None,
            "ci": list(clopper_pearson(count, n)) if n else None}


def pointwise_summary(verdicts: list[dict | None], failed: list[bool], draws: int = BOOTSTRAP_SAMPLES) -> dict:
    """One model's means and intervals; ``verdicts[i]`` is item i's read verdict (None: unparseable or failed)."""
    n = len(verdicts)
    answered = n - sum(failed)
    unparseable = sum(1 for verdict, fail in zip(verdicts, failed) if verdict is None and not fail)
    read = [verdict is not None for verdict in verdicts]
    names = [*DIMENSIONS, TOTAL]
    values = np.array([[float(v[d]) for d in DIMENSIONS] + [float(sum(v[d] for d in DIMENSIONS))] if v else
                       [0.0] * len(names) for v in verdicts]).reshape(n, len(names))
    present = np.repeat(np.array(read, dtype=bool)[:, None], len(names), axis=1)
    summary = {"items": n, "judged": sum(read), "unparseable": rate(unparseable, answered),
               "failed": sum(failed), "means": {}, "ci": {}, "ci_decimals": {},
               "ci_method": bootstrap_method(draws, unit="question")}
    if not any(read):
        summary["means"] = {name: None for name in names}
        summary["ci"] = {name: None for name in names}
        return summary
    drawn = weighted_mean_draws(values, present, draws)
    for column, name in enumerate(names):
        summary["means"][name] = float(values[present[:, column], column].mean())
        ci = interval(drawn[:, column])
        summary["ci"][name] = list(ci) if ci else None
        summary["ci_decimals"][name] = stable_decimals(drawn[:, column])
    return summary


def preference(winner: str, tuned_slot: str) -> str:
    """Which model a verdict prefers: "tuned", "base" or "tie"."""
    return "tie" if winner == "tie" else "tuned" if winner == tuned_slot else "base"


def outcome(tuned_as_a: str | None, tuned_as_b: str | None) -> str | None:
    """A question's outcome from its two verdicts' winners ("A", "B", "tie"; None: unparseable).

    >>> outcome("A", "B"), outcome("B", "A"), outcome("A", "A"), outcome("tie", "B"), outcome(None, "B")
    ('win', 'loss', 'tie', 'tie', None)
    """
    if tuned_as_a is None or tuned_as_b is None:
        return None
    first, second = preference(tuned_as_a, "A"), preference(tuned_as_b, "B")
    return "win" if first == second == "tuned" else "loss" if first == second == "base" else "tie"


def pairwise_summary(tuned_as_a: list[str | None], tuned_as_b: list[str | None], draws: int = BOOTSTRAP_SAMPLES,
                     failed: list[bool] | None = None) -> dict:
    """Win/tie/loss, the win rate and the orders' disagreement over the questions judged in both orders;
    ``failed[i]``: a request of question i failed (its None winners are then not unparseable)."""
    failed = failed or [False] * len(tuned_as_a)
    unread = [(a is None) + (b is None) for a, b, fail in zip(tuned_as_a, tuned_as_b, failed) if not fail]
    outcomes = [outcome(a, b) for a, b in zip(tuned_as_a, tuned_as_b)]
    both = [(a, b) for a, b, o in zip(tuned_as_a, tuned_as_b, outcomes) if o is not None]
    n = len(both)
    wins, ties, losses = (outcomes.count(name) for name in ("win", "tie", "loss"))
    disagree = sum(preference(a, "A") != preference(b, "B") for a, b in both)
    verdicts = [w for w in [*tuned_as_a, *tuned_as_b] if w is not None]
    decisive = [w for w in verdicts if w != "tie"]
    summary = {"questions": len(outcomes), "judged": n, "failed": sum(failed),
               "unparseable": {"verdicts": sum(unread), "questions": sum(1 for count in unread if count)},
               "wins": wins, "ties": ties, "losses": losses,
               "win_tie_loss_rates": [x / n for x in (wins, ties, losses)] if n else None,
               "win_rate": (wins + ties / 2) / n if n else None, "win_rate_ci": None, "win_rate_ci_method": None,
               "disagreement": rate(disagree, n), "disagreement_rate": disagree / n if n else None,
               "first_position_rate": rate(decisive.count("A"), len(decisive))}
    if not n:
        return summary
    if not ties:
        summary["win_rate_ci"], summary["win_rate_ci_method"] = list(clopper_pearson(wins, n)), CLOPPER_PEARSON
    else:
        scores = np.array([{"win": 1.0, "tie": 0.5, "loss": 0.0}[o] for o in outcomes if o is not None])[:, None]
        drawn = weighted_mean_draws(scores, np.ones_like(scores, dtype=bool), draws)[:, 0]
        ci = interval(drawn)
        summary["win_rate_ci"] = list(ci) if ci else None
        summary["win_rate_ci_method"] = bootstrap_method(draws, unit="question")
        summary["win_rate_ci_decimals"] = stable_decimals(drawn)
    return summary
