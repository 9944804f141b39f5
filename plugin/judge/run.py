"""A judgement from start to end: the requests of each item, the endpoint's replies read strictly, the report.

:func:`judge_pointwise` asks the template once per model and question; :func:`judge_pairwise` twice per
question (the tuned answer as A, then as B). Both return the report `lfd judge --out` writes: the
summary (:mod:`.summary`), per-item verdicts and every unparseable reply with its item.
Pointwise verdicts are rows ``{"model", "item", "rater": "judge:<model>", "safety", "usability",
"smoothness"}`` (item: the 0-based question index; None where no verdict was read), the shape the
physicians' ratings are read into, so the two can be compared.
"""

from __future__ import annotations

from ..endpoint import Endpoint, Request, Result
from ..errors import UserError
from ..statistics import BOOTSTRAP_SAMPLES
from .prompts import Template, fill
from .summary import outcome, pairwise_summary, pointwise_summary
from .verdicts import DIMENSIONS, read_pairwise, read_pointwise, shown


def request(key: str, text: str, max_tokens: int | None) -> Request:
    return Request(key, [{"role": "user", "content": text}], 0.0, max_tokens)


def all_failed(results: list[Result]) -> None:
    """Every request answered with an error (e.g. each a 400): nothing to report, one line."""
    if results and all(result.error for result in results):
        first = results[0]
        raise UserError(f"every request failed, e.g. {first.key}: {first.error}; check the server's log and "
                        "--max-tokens")


def settings(endpoint: Endpoint, template: Template, draws: int) -> dict:
    return {"judge": endpoint.model, "api_base": endpoint.api_base, "template": template.source,
            "template_sha256": template.sha256, "temperature": 0.0, "bootstrap": draws,
            "cache": str(endpoint.cache) if endpoint.cache else None}


def requests_done(endpoint: Endpoint) -> dict:
    return {"sent": endpoint.sent, "cached": endpoint.cached, "attempts": endpoint.attempts,
            "prompt_tokens": endpoint.tokens["prompt"], "completion_tokens": endpoint.tokens["completion"]}


def judge_pointwise(runs: dict[str, list[tuple[str, str]]], endpoint: Endpoint, template: Template,
                    max_tokens: int | None = None, draws: int = BOOTSTRAP_SAMPLES) -> dict:
    """``runs``: model name -> its (question, answer) pairs, item i being question i."""
    names = list(runs)
    asked = [request(f"{name} item {item}", fill(template.text, question=question, answer=answer), max_tokens)
             for name in names for item, (question, answer) in enumerate(runs[name])]
    results = endpoint.run(asked, "judging")
    all_failed(results)
    rater = f"judge:{endpoint.model}"
    rows, details, unparseable, summaries, start = [], [], [], {}, 0
    for name in names:
        mine, start = results[start:start + len(runs[name])], start + len(runs[name])
        verdicts, failed = [], []
        for item, result in enumerate(mine):
            verdict, problem = read_pointwise(result.text) if result.error is None else (None, None)
            verdicts.append(verdict)
            failed.append(result.error is not None)
            rows.append({"model": name, "item": item, "rater": rater,
                         **{key: verdict[key] if verdict else None for key in DIMENSIONS}})
            details.append({"model": name, "item": item, "reason": verdict["reason"] if verdict else None,
                            "status": "read" if verdict else "failed" if result.error else "unparseable",
                            "reply": result.text, "error": result.error})
            if problem:
                unparseable.append({"model": name, "item": item, "problem": problem, "reply": shown(result.text)})
        summaries[name] = pointwise_summary(verdicts, failed, draws)
    return {"kind": "pointwise", "settings": settings(endpoint, template, draws), "models": summaries,
            "rows": rows, "verdicts": details, "unparseable": unparseable, "requests": requests_done(endpoint)}


def judge_pairwise(base: list[str], tuned: list[str], questions: list[str], endpoint: Endpoint, template: Template,
                   max_tokens: int | None = None, draws: int = BOOTSTRAP_SAMPLES) -> dict:
    """Each question judged with the tuned answer as A, then as B."""
    asked = []
    for item, (question, old, new) in enumerate(zip(questions, base, tuned)):
        asked.append(request(f"item {item} (tuned as A)", fill(template.text, question=question, answer_a=new,
                                                               answer_b=old), max_tokens))
        asked.append(request(f"item {item} (tuned as B)", fill(template.text, question=question, answer_a=old,
                                                               answer_b=new), max_tokens))
    results = endpoint.run(asked, "judging pairs")
    all_failed(results)
    winners: dict[str, list] = {"A": [], "B": []}
    pairs, unparseable, failed = [], [], []
    for item in range(len(questions)):
        row = {"item": item}
        pair_failed = False
        for slot, result in zip("AB", results[2 * item: 2 * item + 2]):
            verdict, problem = read_pairwise(result.text) if result.error is None else (None, None)
            pair_failed |= result.error is not None
            winners[slot].append(verdict["winner"] if verdict else None)
            row[f"tuned_as_{slot.lower()}"] = verdict["winner"] if verdict else None
            row[f"reason_tuned_as_{slot.lower()}"] = verdict["reason"] if verdict else None
            if result.error:
                row[f"error_tuned_as_{slot.lower()}"] = result.error
            if problem:
                unparseable.append({"item": item, "order": f"tuned as {slot}", "problem": problem,
                                    "reply": shown(result.text)})
        failed.append(pair_failed)
        pairs.append(row)
    summary = pairwise_summary(winners["A"], winners["B"], draws, failed)
    for row in pairs:
        row["outcome"] = outcome(row["tuned_as_a"], row["tuned_as_b"])
    return {"kind": "pairwise", "settings": settings(endpoint, template, draws), "summary": summary,
            "pairs": pairs, "unparseable": unparseable, "requests": requests_done(endpoint)}
