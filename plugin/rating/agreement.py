"""Agreement: among the physicians (Krippendorff's alpha), and between an LLM judge and them.

Rows are the shape :func:`.sheets.read_ratings` returns: ``{"model": str, "item": int (question index,
0-based), "rater": str, "safety": int | None, "usability": int | None, "smoothness": int | None}``.
A unit is one answer, a (model, item) pair. Alpha is ordinal (``krippendorff.alpha(reliability_data=...,
level_of_measurement="ordinal")``) over raters × units, NaN where a rater did not rate a unit; it is
None when undefined (fewer than two raters, or every rating the same value).
"""

from __future__ import annotations

import math

import numpy as np

from .rubric import DIMENSIONS


def reliability_data(rows: list[dict], dimension: str, raters: list[str], units: list[tuple[str, int]]) -> np.ndarray:
    """(raters, units) ratings of ``dimension``, NaN where missing.

    >>> reliability_data([{"model": "m", "item": 0, "rater": "a", "safety": 2}], "safety", ["a", "b"], [("m", 0), ("m", 1)])
    array([[ 2., nan],
           [nan, nan]])
    """
    row_of = {rater: index for index, rater in enumerate(raters)}
    column_of = {unit: index for index, unit in enumerate(units)}
    data = np.full((len(raters), len(units)), np.nan)
    for row in rows:
        value, column = row.get(dimension), column_of.get((row["model"], int(row["item"])))
        if value is not None and column is not None and row["rater"] in row_of:
            data[row_of[row["rater"]], column] = float(value)
    return data


def alpha(data: np.ndarray) -> float | None:
    """Krippendorff's ordinal alpha of (raters, units) ``data``; None when it is undefined.

    >>> alpha(np.array([[1, 2, 3, 3], [1, 2, 3, 2]], dtype=float)) > 0.5, alpha(np.array([[2.0, 2.0], [2.0, 2.0]]))
    (True, None)
    """
    import krippendorff

    pairable = np.sum(~np.isnan(data), axis=0) >= 2
    if data.shape[0] < 2 or not pairable.any() or len(np.unique(data[:, pairable][~np.isnan(data[:, pairable])])) < 2:
        return None
    try:
        value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal"))
    except (ValueError, ZeroDivisionError):
        return None
    return None if math.isnan(value) else value


def unit_means(rows: list[dict], dimension: str) -> dict[tuple[str, int], float]:
    """(model, item) → the mean of its ratings of ``dimension`` (units without one left out).

    >>> unit_means([{"model": "m", "item": 0, "safety": 1}, {"model": "m", "item": 0, "safety": 2}], "safety")
    {('m', 0): 1.5}
    """
    sums: dict[tuple[str, int], list[float]] = {}
    for row in rows:
        if row.get(dimension) is not None:
            sums.setdefault((row["model"], int(row["item"])), []).append(float(row[dimension]))
    return {unit: sum(values) / len(values) for unit, values in sums.items()}


def judge_agreement(judge_rows: list[dict], human_rows: list[dict]) -> dict:
    """How well a judge's scores follow the physicians', per dimension.

    Returns ``{dimension: {"spearman": rho, "spearman_p": p, "pairs": n, "alpha_humans": a,
    "alpha_with_judge": b}}`` plus ``"raters"`` (the human raters) and ``"units"``: rho is Spearman's
    correlation (scipy.stats.spearmanr) between the judge's score and the mean human score of each
    (model, item) both rated (None under 2 pairs or when either side is constant); the alphas are
    Krippendorff's ordinal alpha of the humans alone and with the judge as one more rater. The judge
    gives one score per (model, item): a second one for the same answer is a ValueError.

    >>> humans = [{"model": m, "item": i, "rater": r, "safety": s, "usability": 2, "smoothness": 3}
    ...           for m, i, r, s in [("a", 0, "x", 1), ("a", 0, "y", 1), ("a", 1, "x", 2), ("a", 1, "y", 3),
    ...                              ("b", 0, "x", 3), ("b", 0, "y", 3)]]
    >>> judge = [{"model": m, "item": i, "rater": "judge", "safety": s, "usability": 2, "smoothness": 3}
    ...          for m, i, s in [("a", 0, 1), ("a", 1, 2), ("b", 0, 3)]]
    >>> result = judge_agreement(judge, humans)
    >>> result["safety"]["spearman"], result["safety"]["pairs"], result["usability"]["spearman"]
    (1.0, 3, None)
    """
    from scipy.stats import spearmanr

    seen = set()
    for row in judge_rows:
        unit = (row["model"], int(row["item"]))
        if unit in seen:
            raise ValueError(f"the judge scored model {unit[0]!r} item {unit[1]} twice; pass one score per answer")
        seen.add(unit)
    raters = list(dict.fromkeys(row["rater"] for row in human_rows))
    units = sorted({(row["model"], int(row["item"])) for row in [*human_rows, *judge_rows]})
    judge_name = "\0judge"  # never a sheet's name
    as_rater = [{**row, "rater": judge_name} for row in judge_rows]
    out: dict = {"raters": raters, "units": len(units)}
    for dimension in DIMENSIONS:
        humans, judge = unit_means(human_rows, dimension), unit_means(judge_rows, dimension)
        both = sorted(set(humans) & set(judge))
        x, y = [judge[unit] for unit in both], [humans[unit] for unit in both]
        rho = p = None
        if len(both) >= 2 and len(set(x)) > 1 and len(set(y)) > 1:
            result = spearmanr(x, y)
            rho, p = float(result.statistic), float(result.pvalue)
        out[dimension] = {
            "spearman": rho, "spearman_p": p, "pairs": len(both),
            "alpha_humans": alpha(reliability_data(human_rows, dimension, raters, units)),
            "alpha_with_judge": alpha(reliability_data([*human_rows, *as_rater], dimension, [*raters, judge_name], units)),
        }
    return out
