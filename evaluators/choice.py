"""Choice questions: the letters a model chose, scored against the answer letters.

The reply is read by :mod:`..plugin.choice_reader` (its docstring has the rules: final answers over
mentions, negation scope, hedges and competing candidates as ``ambiguous``, true/false questions and
their negated forms) as letters, no answer, or ambiguous; this module finds the question's options
and answer and scores the reading.
"""

from __future__ import annotations

import re
from typing import ClassVar

from ..plugin.choice_reader import (
    FALLBACK_LETTERS,
    LETTER_LABEL,
    LETTERED_LINE,
    Reader,
    Reading,
    extract,
    normalize,
    read,
)
from ..plugin.io.rows import Skip
from ..plugin.mcq import answer_letters
from ..plugin.order_robustness import GROUP_REFERENCES, GROUP_TITLES, Judged, add_metrics, rotation_of
from .base import Evaluator, Prediction, register_evaluator

__all__ = ["Choice", "Reader", "Reading", "extract", "label_letters", "partial_credit", "prompt_options", "read",
           "record_options"]

KEYS = ("choice_accuracy", "choice_partial_credit", "choice_no_answer_rate", "choice_ambiguous_rate")
NOT_CHOICE = ("fill", "open")  # record question_types that are not choice questions

def record_options(record: dict | None) -> dict[str, str]:
    """The record's ``options`` keyed by upper-case letter; {} when it has none."""
    options = (record or {}).get("options")
    if not isinstance(options, dict):
        return {}
    keyed = {normalize(str(k)).upper(): normalize(str(v)) for k, v in options.items() if v is not None}
    return keyed if all(len(k) == 1 and k.isalpha() and k.isascii() for k in keyed) else {}


def prompt_options(prompt: str) -> dict[str, str]:
    """The last run of lettered lines A, B, C… in the prompt (the rendered options); {} when none.

    >>> prompt_options("<|im_start|>user\\n以下是一道单选题。\\n题干\\nA. 2小时\\nB. 4小时内\\n请直接给出字母。")
    {'A': '2小时', 'B': '4小时内'}
    """
    runs: list[dict[str, str]] = []
    for match in LETTERED_LINE.finditer(normalize(prompt)):
        letter, text = match.groups()
        if letter == "A":
            runs.append({})
        elif not runs or chr(ord(letter) - 1) not in runs[-1] or letter in runs[-1]:
            continue
        runs[-1][letter] = text
    return next((run for run in reversed(runs) if len(run) >= 2), {})


def label_letters(label: str, options: dict[str, str]) -> str:
    """Answer letters of a rendered label: ``ACD``, ``A、C``, lines ``B. 绝缘靴``, or an option's text."""
    text = normalize(label)
    if LETTER_LABEL.fullmatch(text):
        letters = re.sub(r"[^A-Z]", "", text)
        allowed = set(options) or set("ABCDEFGH")  # without options, "COPD" is not an answer
        return letters if len(set(letters)) == len(letters) and set(letters) <= allowed else ""
    lines = [line for line in text.splitlines() if line.strip()]
    lettered = [LETTERED_LINE.fullmatch(line) for line in lines]
    if lines and all(lettered) and (not options or all(m[1] in options for m in lettered)):
        return "".join(sorted({m[1] for m in lettered}))
    return Reader(options).text_answer(text) if options else ""


def partial_credit(chosen: str, answer: str) -> float:
    """1 for the exact set; the share of the answer found when only right letters are chosen; else 0.

    >>> [partial_credit(chosen, "ACD") for chosen in ("ACD", "AC", "ACE", "")]
    [1.0, 0.6666666666666666, 0.0, 0.0]
    """
    return len(chosen) / len(answer) if chosen and set(chosen) <= set(answer) else 0.0


@register_evaluator("choice")
class Choice(Evaluator):
    """Choice questions: letters read from the reply; accuracy, partial credit, no-answer and ambiguous rates.

    The answer is the record's ``answer`` letters (``lfd eval --dataset``), else the label: letters
    (``ACD``), lines ``B. 绝缘靴``, or an option's text. Options come from the record, else from the
    prompt's lettered lines. The reply is read as the module describes: letters, no answer, or
    ambiguous. Per item, for choice questions only (records whose ``question_type`` is fill or open,
    and labels that are no answer letters, score None):

    - ``choice_accuracy``: 1 when the chosen letters are exactly the answer's (one letter for a
      single-choice question, the whole set for a multiple-choice one);
    - ``choice_partial_credit``: the usual exam rule, 1 for the exact set, |chosen| / |answer| when
      every chosen letter is right but some are missing, 0 when any chosen letter is wrong;
    - ``choice_no_answer_rate``: 1 when the reply gives no answer (nothing chosen, a refusal, only
      negations);
    - ``choice_ambiguous_rate``: 1 when the reply hedges or names competing candidates.

    A no-answer or ambiguous item scores 0 in accuracy and partial credit and counts only in its own
    rate; it is never mapped to some option.

    >>> choice = Choice()
    >>> record = {"options": {"A": "雨鞋", "B": "绝缘靴", "C": "绝缘手套"}, "answer": "BC", "question_type": "multi"}
    >>> choice.score(Prediction(prompt="", predict="答案：C", label="BC\\n", record=record))
    {'choice_accuracy': 0.0, 'choice_partial_credit': 0.5, 'choice_no_answer_rate': 0.0, 'choice_ambiguous_rate': 0.0}
    >>> choice.score(Prediction(prompt="", predict="The answer is (B)", label="B"))
    {'choice_accuracy': 1.0, 'choice_partial_credit': 1.0, 'choice_no_answer_rate': 0.0, 'choice_ambiguous_rate': 0.0}
    >>> choice.score(Prediction(prompt="", predict="无法判断", label="D"))
    {'choice_accuracy': 0.0, 'choice_partial_credit': 0.0, 'choice_no_answer_rate': 1.0, 'choice_ambiguous_rate': 0.0}
    >>> choice.score(Prediction(prompt="", predict="可能是B，也可能是D", label="D"))
    {'choice_accuracy': 0.0, 'choice_partial_credit': 0.0, 'choice_no_answer_rate': 0.0, 'choice_ambiguous_rate': 1.0}
    >>> choice.score(Prediction(prompt="", predict="高血压", label="高血压"))
    {'choice_accuracy': None, 'choice_partial_credit': None, 'choice_no_answer_rate': None, 'choice_ambiguous_rate': None}
    """

    options: ClassVar = {}
    primary: ClassVar[str] = "choice_accuracy"
    group_titles: ClassVar[dict[str, str]] = GROUP_TITLES
    group_references: ClassVar[dict[str, str]] = GROUP_REFERENCES

    def judge(self, item: Prediction) -> Judged | None:
        """The item's answer letters and what its reply chose; None when it is not a choice question."""
        record = item.record or {}
        if record.get("question_type") in NOT_CHOICE:
            return None
        options = record_options(record) or prompt_options(item.prompt)
        try:
            answer = answer_letters(record.get("answer"))
        except Skip:
            answer = ""
        answer = answer or label_letters(item.label, options)
        if not answer:
            return None
        reading = read(item.predict, options, "".join(options or FALLBACK_LETTERS) + answer)
        kind = "multi" if record.get("question_type") == "multi" or len(answer) > 1 else "single"
        return Judged(answer, reading.letters, "".join(options), kind, reading.status)

    def score(self, item: Prediction) -> dict[str, float | None]:
        return _scores(self.judge(item))

    def score_batch(self, items: list[Prediction]) -> list[dict[str, float | None]]:
        """Each item's scores; on a circular split (records with ``circular``) also the option-order
        metrics of :mod:`..plugin.order_robustness`, which need every rotation of a question."""
        judged = [self.judge(item) for item in items]
        per_item = [_scores(one) for one in judged]
        rotations = [rotation_of(item.record, item.line) for item in items]
        if any(rotations):
            add_metrics(rotations, judged, [item.line for item in items], per_item)
        return per_item


def _scores(judged: Judged | None) -> dict[str, float | None]:
    if judged is None:
        return dict.fromkeys(KEYS)
    return {
        "choice_accuracy": float(judged.chosen == judged.answer),
        "choice_partial_credit": partial_credit(judged.chosen, judged.answer),
        "choice_no_answer_rate": float(judged.status == "none"),
        "choice_ambiguous_rate": float(judged.status == "ambiguous"),
    }
