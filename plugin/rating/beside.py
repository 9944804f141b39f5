"""SUS ratings beside the automatic metrics of `lfd compare --sus REPORT.json`.

A report is what `lfd rate import --out` writes (the physicians' unblinded ratings, ``ratings_rows``)
or what `lfd judge pointwise --out` writes (the judge's verdicts, ``rows``); both hold rows
``{"model", "item", "rater", "safety", "usability", "smoothness"}``. For the base and the tuned run
(named as `lfd rate export` and `lfd judge` name them: the run's folder, or ``--sus-models``) the
comparison gives each one's means with the bootstrap of questions (raters kept) and the difference
tuned − base paired by question with its interval and sign-flip test: :mod:`.sus`'s numbers, on the
same questions the predictions hold.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from .rubric import DIMENSION_NAMES
from .sus import NUMBERS, model_means, paired_difference


def read_rows(path: Path) -> tuple[str, list[dict]]:
    """(who rated, the rows) of a rating or judge report."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise UserError(f"--sus {path}: not a readable JSON report ({type(err).__name__}); pass what `lfd rate "
                        "import --out` or `lfd judge pointwise --out` wrote") from None
    rows = report.get("ratings_rows", report.get("rows")) if isinstance(report, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and {"model", "item"} <= set(r) for r in rows):
        raise UserError(f"--sus {path}: holds no rating rows; pass what `lfd rate import --out` or `lfd judge "
                        "pointwise --out` wrote")
    if "ratings_rows" in report:
        raters = sorted({str(r.get("rater")) for r in rows})
        return f"physicians ({len(raters)} raters)", rows
    judge = sorted({str(r.get("rater")) for r in rows})
    return f"LLM judge ({', '.join(judge)})", rows


def beside(paths: list[Path], names: list[str], items: int, draws: int) -> list[dict]:
    """Per report: who rated, the base and tuned means, and the paired difference tuned − base."""
    out = []
    for path in paths:
        who, rows = read_rows(path)
        models = sorted({str(r["model"]) for r in rows})
        missing = [name for name in names if name not in models]
        if missing:
            raise UserError(f"--sus {path}: no ratings of model {missing[0]!r} (it rates {', '.join(models)}); name "
                            "the base and tuned runs as the report does with --sus-models BASE TUNED")
        questions = max((int(r["item"]) for r in rows if str(r["model"]) in names), default=-1) + 1
        if questions != items:
            raise UserError(f"--sus {path}: ratings of {questions} questions, but the predictions hold {items}; rate "
                            "the same test split's predictions")
        rows = [{**r, "model": str(r["model"]), "item": int(r["item"])} for r in rows if str(r["model"]) in names]
        means = model_means(rows, names, questions, draws)
        out.append({"source": who, "file": str(path), "models": {"base": names[0], "tuned": names[1]},
                    "means": {"base": means[names[0]], "tuned": means[names[1]]},
                    "difference": paired_difference(rows, names[0], names[1], questions, draws)})
    return out


def print_beside(comparisons: list[dict], out) -> None:
    from ..report.rating_page import value_text
    from ..report.terminal import print_table
    from ..report.html import p_text

    for found in comparisons:
        print(f"\nSUS ratings, {found['source']}: {found['file']}", file=out)
        rows = [[DIMENSION_NAMES[n], *(value_text(found["means"][run][n]["mean"], found["means"][run][n]["ci95"],
                                                  found["means"][run][n]["decimals"]) for run in ("base", "tuned")),
                 value_text(found["difference"][n]["diff"], found["difference"][n]["ci95"],
                            found["difference"][n]["decimals"], True), p_text(found["difference"][n]["p"])]
                for n in NUMBERS]
        print_table(["SUS", "base", "tuned", "tuned − base", "p"], rows, right={1, 2, 3, 4}, out=out)


def beside_html(comparisons: list[dict]) -> str:
    """The page's section: each report's means and paired difference, one table each."""
    from ..report.html import escape, p_text, section
    from ..report.rating_page import TITLES, _cell, _table

    parts = []
    for found in comparisons:
        rows = [[escape(TITLES[n]), *(_cell(found["means"][run][n]["mean"], found["means"][run][n]["ci95"],
                                            found["means"][run][n]["decimals"]) for run in ("base", "tuned")),
                 _cell(found["difference"][n]["diff"], found["difference"][n]["ci95"], found["difference"][n]["decimals"],
                       True), p_text(found["difference"][n]["p"])] for n in NUMBERS]
        note = (f"{found['file']}: mean [95% interval, bootstrap of questions, raters kept]; tuned − base paired "
                "by question, p: sign-flip permutation test of questions. 1 unacceptable, 2 acceptable, 3 good.")
        parts.append(section(f"SUS ratings · {found['source']}",
                             _table(["", "base", "tuned", "tuned − base", "p"], rows), note))
    return "\n".join(parts)
