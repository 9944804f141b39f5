"""The statistics of physicians' SUS ratings: each model's means, paired differences, inter-rater agreement.

Every number comes from the rating rows of :func:`.sheets.read_ratings`. The unit of resampling is
the question: raters rate the same questions, so their ratings of one question are not independent.

- A model's **mean** of a dimension is the mean of all its ratings (question × rater); the **total**
  is safety + usability + smoothness of one rating (3–9), over the ratings that have all three.
  Its 95% interval is a percentile bootstrap of questions (:data:`..statistics.BOOTSTRAP_SAMPLES`
  resamples, seed 0): each resample draws Q of the Q questions with replacement and each drawn
  question keeps all its raters' ratings. Every model gets the same drawn questions.
- A **paired difference** B − A is the mean over questions of (B's mean over raters − A's) on the
  questions both have; its interval is the paired bootstrap of those questions, its p-value the
  sign-flip permutation test of the per-question differences (exact up to 16 nonzero differences,
  else 10,000 random sign vectors, seed 0). Holm adjusts the p-values of all the differences.
- **Agreement** is Krippendorff's alpha, ordinal, of raters × units, a unit being one (model,
  question) answer (:func:`.agreement.alpha`).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ..statistics import (BOOTSTRAP_SAMPLES, bootstrap_method, bootstrap_weights, holm, interval, sign_flip_pvalues,
                          stable_decimals, weighted_mean_draws)
from .agreement import alpha, reliability_data
from .rubric import DIMENSIONS, TOTAL

NUMBERS = (*DIMENSIONS, TOTAL)


def rating_values(row: dict) -> list[float]:
    """A row's safety, usability, smoothness and total (NaN where not rated; the total needs all three).

    >>> rating_values({"safety": 1, "usability": 2, "smoothness": 3}), rating_values({"safety": 1, "usability": None, "smoothness": 3})[1:]
    ([1.0, 2.0, 3.0, 6.0], [nan, 3.0, nan])
    """
    values = [np.nan if row.get(d) is None else float(row[d]) for d in DIMENSIONS]
    return [*values, float(sum(values))]


def question_sums(rows: list[dict], model: str, questions: int) -> tuple[np.ndarray, np.ndarray]:
    """(questions, 4) sums and counts of one model's ratings per question, for :data:`NUMBERS`."""
    sums, counts = np.zeros((questions, len(NUMBERS))), np.zeros((questions, len(NUMBERS)))
    for row in rows:
        if row["model"] == model:
            values = np.array(rating_values(row))
            present = ~np.isnan(values)
            sums[row["item"]] += np.where(present, values, 0.0)
            counts[row["item"]] += present
    return sums, counts


def model_means(rows: list[dict], models: list[str], questions: int,
                draws: int = BOOTSTRAP_SAMPLES) -> dict[str, dict[str, dict]]:
    """model → number → {"mean", "ci95", "decimals", "ratings"}: means of all ratings, with the bootstrap of
    questions (raters kept) as interval.

    >>> rows = [{"model": "m", "item": q, "rater": r, "safety": s, "usability": 3, "smoothness": 3}
    ...         for q, r, s in [(0, "a", 1), (0, "b", 2), (1, "a", 3), (1, "b", 3)]]
    >>> means = model_means(rows, ["m"], 2, draws=200)["m"]
    >>> means["safety"]["mean"], means["total"]["mean"], means["safety"]["ratings"]
    (2.25, 8.25, 4)
    """
    out = {}
    for model in models:
        sums, counts = question_sums(rows, model, questions)
        drawn_sums = np.empty((draws, len(NUMBERS)))
        drawn_counts = np.empty((draws, len(NUMBERS)))
        row = 0
        for weights in bootstrap_weights(questions, draws):  # the same questions drawn for every model
            drawn_sums[row:row + len(weights)] = weights @ sums
            drawn_counts[row:row + len(weights)] = weights @ counts
            row += len(weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            drawn = drawn_sums / drawn_counts
        total_counts = counts.sum(axis=0)
        out[model] = {name: {"mean": float(sums[:, i].sum() / total_counts[i]) if total_counts[i] else None,
                             "ci95": interval(drawn[:, i]), "decimals": stable_decimals(drawn[:, i]),
                             "ratings": int(total_counts[i])}
                      for i, name in enumerate(NUMBERS)}
    return out


def question_means(rows: list[dict], model: str, questions: int) -> np.ndarray:
    """(questions, 4) mean over raters of one model's ratings of each question (NaN: not rated)."""
    sums, counts = question_sums(rows, model, questions)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def paired_difference(rows: list[dict], first: str, second: str, questions: int,
                      draws: int = BOOTSTRAP_SAMPLES) -> dict[str, dict]:
    """number → {"diff", "ci95", "decimals", "p", "test", "questions"}: ``second`` − ``first``, paired by question.

    >>> rows = [{"model": m, "item": q, "rater": "a", "safety": s, "usability": 2, "smoothness": 2}
    ...         for m, q, s in [("A", 0, 1), ("A", 1, 2), ("A", 2, 2), ("B", 0, 3), ("B", 1, 3), ("B", 2, 2)]]
    >>> change = paired_difference(rows, "A", "B", 3, draws=200)["safety"]
    >>> change["diff"], change["p"], change["questions"]
    (1.0, 0.5, 3)
    """
    a, b = question_means(rows, first, questions), question_means(rows, second, questions)
    out = {}
    for i, name in enumerate(NUMBERS):
        both = ~np.isnan(a[:, i]) & ~np.isnan(b[:, i])
        differences = (b[both, i] - a[both, i])[:, None]
        if not len(differences):
            out[name] = {"diff": None, "ci95": None, "decimals": None, "p": None, "test": None, "questions": 0}
            continue
        drawn = weighted_mean_draws(differences, np.ones_like(differences, dtype=bool), draws)[:, 0]
        p, test = sign_flip_pvalues(differences, draws, unit="question")[0]
        out[name] = {"diff": float(differences.mean()), "ci95": interval(drawn), "decimals": stable_decimals(drawn),
                     "p": p, "test": test, "questions": int(both.sum()),
                     "ci_method": bootstrap_method(draws, paired=True, unit="question")}
    return out


def summarize(rows: list[dict], models: list[str], questions: int, draws: int = BOOTSTRAP_SAMPLES) -> dict:
    """Everything `lfd rate import` reports: means, the differences of every pair of models (later − earlier,
    Holm-adjusted together), and Krippendorff's alpha of each dimension."""
    raters = list(dict.fromkeys(row["rater"] for row in rows))
    comparisons = []
    for first, second in combinations(models, 2):
        comparisons.append({"first": first, "second": second,
                            "numbers": paired_difference(rows, first, second, questions, draws)})
    cells = [(c, name) for c in comparisons for name in NUMBERS if c["numbers"][name]["p"] is not None]
    for (comparison, name), adjusted in zip(cells, holm([c["numbers"][name]["p"] for c, name in cells])):
        comparison["numbers"][name]["p_holm"] = adjusted
    units = [(model, item) for model in models for item in range(questions)]
    agreement = {}
    for dimension in DIMENSIONS:
        data = reliability_data(rows, dimension, raters, units)
        agreement[dimension] = {"alpha": alpha(data), "raters": len(raters), "units": len(units)}
    return {
        "models": models, "questions": questions, "raters": raters, "ratings": len(rows),
        "bootstrap": {"draws": draws, "seed": 0, "method": bootstrap_method(draws, unit="question")},
        "means": model_means(rows, models, questions, draws),
        "comparisons": comparisons,
        "agreement": agreement,
    }
