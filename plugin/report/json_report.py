"""The ``--out`` JSON of `lfd eval` and `lfd compare`: what was scored, how, and every number (scores in [0, 1])."""

from __future__ import annotations

from pathlib import Path

from ...evaluators.base import Evaluator, Prediction
from ..predictions import prompt_excerpt
from ..scoring import Change, Comparison, Scores
from ..statistics import MCNEMAR, SEED
from .html import clip


def eval_report(items: list[Prediction], scores: Scores, chosen: list[Evaluator], predictions: Path, dataset,
                draws: int) -> dict:
    """`lfd eval --out`: what was scored, with which evaluators, and the metrics with their 95% CIs."""
    return {
        "n": len(items),
        "primary_metric": scores.primary,
        "metrics": scores.metrics,
        "ci95": {name: list(ci) for name, ci in scores.ci95.items()},
        "ci_methods": scores.ci_methods,
        "ci_decimals": scores.decimals,
        "counts": scores.counts,
        "evaluators": [e.spec for e in chosen],
        "predictions": str(predictions),
        "dataset": dataset,
        "bootstrap": {"draws": draws, "seed": SEED},
    }


def flip_row(base: Prediction, tuned: Prediction) -> dict:
    return {
        "base_line": base.line,
        "tuned_line": tuned.line,
        "prompt": prompt_excerpt(base.prompt, base.record),
        "label": clip(base.label),
        "base": clip(base.predict),
        "tuned": clip(tuned.predict),
    }


def _run_report(path: Path, scores: Scores) -> dict:
    return {
        "predictions": str(path),
        "metrics": scores.metrics,
        "ci95": {name: list(ci) for name, ci in scores.ci95.items()},
        "ci_methods": scores.ci_methods,
        "ci_decimals": scores.decimals,
        "counts": scores.counts,
    }


CHANGE_FIELDS = ("n", "base_only", "tuned_only", "base", "tuned", "diff", "ci_method", "decimals", "test", "p",
                 "p_adjusted", "primary", "fixed", "broken")


def change_row(change: Change) -> dict:
    """One metric's change: the pairs it is computed on, both means there, the test and both p-values."""
    row = {key: getattr(change, key) for key in CHANGE_FIELDS}
    row["ci95"] = list(change.ci95) if change.ci95 else None
    return row


def compare_report(context: dict, base: list[Prediction], tuned: list[Prediction], scores,
                   comparison: Comparison) -> dict:
    """`lfd compare --out`: both runs, each metric's change on its paired items (interval, test, raw and
    Holm-adjusted p) and the primary metric's flipped items."""
    changes = comparison.changes
    flipped = comparison.flipped
    return {
        **context,
        "primary_metric": comparison.primary,
        "base": _run_report(context["base"], scores[0]),
        "tuned": _run_report(context["tuned"], scores[1]),
        "changes": {name: change_row(change) for name, change in changes.items()},
        "diff": {name: change.diff for name, change in changes.items()},
        "diff_ci95": {name: list(change.ci95) for name, change in changes.items() if change.ci95},
        "mcnemar": {name: {"fixed": c.fixed, "broken": c.broken, "p": c.p}
                    for name, c in changes.items() if c.test == MCNEMAR},
        "flips": {} if not flipped else {flipped[0]: {
            "fixed": [flip_row(base[i], tuned[i]) for i in flipped[1]],
            "broken": [flip_row(base[i], tuned[i]) for i in flipped[2]],
        }},
    }
