"""The ``--out`` JSON of `lfd eval` and `lfd compare`: what was scored, how, and every number (scores in [0, 1])."""

from __future__ import annotations

from pathlib import Path

from ...evaluators.base import Evaluator, Prediction
from ..predictions import prompt_excerpt
from ..scoring import FLIP_KINDS, Scores
from ..statistics import SEED
from .html import clip


def eval_report(items: list[Prediction], scores: Scores, chosen: list[Evaluator], predictions: Path, dataset,
                draws: int) -> dict:
    """`lfd eval --out`: what was scored, with which evaluators, and the metrics with their 95% CIs."""
    return {
        "n": len(items),
        "metrics": scores.metrics,
        "ci95": {name: list(ci) for name, ci in scores.ci95.items()},
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
        "counts": scores.counts,
    }


def compare_report(context: dict, base: list[Prediction], tuned: list[Prediction], scores, changes) -> dict:
    """`lfd compare --out`: both runs, the differences with their paired intervals, McNemar and the flipped items."""
    binary = {name: (change, flipped) for name, (change, flipped) in changes.items() if flipped}
    return {
        **context,
        "base": _run_report(context["base"], scores[0]),
        "tuned": _run_report(context["tuned"], scores[1]),
        "diff": {name: change.diff for name, (change, _) in changes.items()},
        "diff_ci95": {name: list(change.ci95) for name, (change, _) in changes.items() if change.ci95},
        "mcnemar": {name: {"fixed": c.fixed, "broken": c.broken, "p": c.p} for name, (c, _) in binary.items()},
        "flips": {
            name: {kind: [flip_row(base[i], tuned[i]) for i in indices] for kind, indices in zip(FLIP_KINDS, f)}
            for name, (_, f) in binary.items()
        },
    }
