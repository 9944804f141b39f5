"""Option-order robustness: the `choice` metrics of a circular split (`lfd convert --circular K`).

A circular split holds each test question several times, its options rotated (OpenCompass's
CircularEval): each record's ``circular`` says which question it is (``question``: its line in the
plain test split), which rotation (``rotation``, 0 = the original order), which original letter
stands in each slot (``order``, "BCDA": slot A shows the original B) and how many rotations the
question has (``rotations``; 1 when it keeps its order because its options refer to others).

Per rotated copy (an item), beside the plain `choice` metrics:

- ``choice_original_order_accuracy``: accuracy on rotation 0 only (what the plain split measures);
- by the slot of the right answer (position bias), per question type: ``choice_slot_accuracy_single/B``
  is the accuracy of the single-answer copies whose answer sits in slot B, ``choice_slot_accuracy_multi/B``
  that of the multiple-answer copies with a right answer in slot B;
- ``choice_letter_share_single/B``: among the copies that got an answer, the share answered with B,
  beside ``choice_label_share_single/B``, the share of those copies whose answer is B (a model that
  favours a letter answers it more often than the labels hold it); ``_multi``: the share whose chosen
  (label) letters include B.

Per question (on its rotation-0 item, None on the other copies, and None for a question with one rotation):

- ``choice_circular_accuracy``: right under every rotation;
- ``choice_answer_consistency``: the same original options chosen under every rotation, right or
  wrong (a rotation with no answer, or an ambiguous one, is not consistent);
- ``choice_flip_rate``: right under one rotation and wrong under another (so circular accuracy +
  flip rate + never right = 1).

When the split holds both single- and multiple-answer questions, ``choice_single_select/...`` and
``choice_multi_select/...`` give accuracy, original-order accuracy and the three per-question metrics
for each type alone. Every one of these is a mean over items; the intervals count questions, not
copies (:func:`..scoring.question_units`; Korn-Graubard for a 0/1 metric of the copies).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import UserError, where
from .mcq import LETTERS

PER_QUESTION = ("choice_circular_accuracy", "choice_answer_consistency", "choice_flip_rate")
ORIGINAL = "choice_original_order_accuracy"
KINDS = ("single", "multi")
TYPE_GROUPS = {"single": "choice_single_select", "multi": "choice_multi_select"}
# chart titles of the metric groups (prefix before "/"), for the report pages
GROUP_TITLES = {
    "choice_single_select": "Single-answer questions alone",
    "choice_multi_select": "Multiple-answer questions alone",
    "choice_slot_accuracy_single": "Accuracy by the slot of the right answer, single-answer questions",
    "choice_slot_accuracy_multi": "Accuracy by a slot holding a right answer, multiple-answer questions",
    "choice_letter_share_single": "Letters answered against the labels' letters, single-answer questions",
    "choice_label_share_single": "Share of right answers per letter (labels), single-answer questions",
    "choice_letter_share_multi": "Letters chosen against the labels' letters, multiple-answer questions",
    "choice_label_share_multi": "Share of labels holding each letter, multiple-answer questions",
}
# the labels' shares are drawn beside the answers' in one chart
GROUP_REFERENCES = {"choice_letter_share_single": "choice_label_share_single",
                    "choice_letter_share_multi": "choice_label_share_multi"}


@dataclass(frozen=True)
class Rotation:
    """Where one item stands in its question's rotations (a test record's ``circular``)."""

    question: int | str
    rotation: int
    order: str  # the original letter in each slot
    rotations: int

    def original(self, letters: str) -> str:
        """The original letters of the slots ``letters`` (sorted).

        >>> Rotation(1, 1, "BCDA", 4).original("AD")
        'AB'
        """
        return "".join(sorted(self.order[LETTERS.index(x)] if LETTERS.index(x) < len(self.order) else x
                              for x in letters))


def rotation_of(record: dict | None, line: int | str) -> Rotation | None:
    """The record's ``circular`` as a :class:`Rotation`; None for a record of a plain split. ``line``:
    the prediction's line, or where the record is (for the error).

    >>> rotation_of({"circular": {"question": 3, "rotation": 1, "order": "BCA", "rotations": 3}}, 1)
    Rotation(question=3, rotation=1, order='BCA', rotations=3)
    >>> rotation_of({"circular": {"question": 3}}, 7)
    Traceback (most recent call last):
    llamafactory_domains.plugin.errors.UserError: line 7: its test record's "circular" is not {question, rotation, order, rotations} (lfd convert --circular writes it); convert the test split again
    """
    circular = (record or {}).get("circular")
    if circular is None:
        return None
    fields = circular if isinstance(circular, dict) else {}
    question, rotation, order, rotations = (fields.get(k) for k in ("question", "rotation", "order", "rotations"))
    if (isinstance(question, (int, str)) and not isinstance(question, bool) and _count(rotation, 0)
            and _count(rotations, 1) and rotation < rotations and isinstance(order, str) and order.isascii()
            and order.isalpha() and order.isupper() and len(set(order)) == len(order) and rotations <= len(order)):
        return Rotation(question, rotation, order, rotations)
    here = f"line {line}" if isinstance(line, int) else line
    raise UserError(f'{here}: its test record\'s "circular" is not {{question, rotation, order, rotations}} '
                    "(lfd convert --circular writes it); convert the test split again")


def check_records(records: list[dict], test_file) -> None:
    """A circular split's records read before scoring, so a broken one is named by file and record: each
    ``circular`` well-formed, each question with all its rotations 0…m−1 once.

    >>> check_records([{"circular": {"question": 1, "rotation": 1, "order": "BA", "rotations": 2}}], "t.jsonl")
    Traceback (most recent call last):
    llamafactory_domains.plugin.errors.UserError: t.jsonl: record 1: question 1 of the circular split has rotations 1 of its 2 in the file, which changed after `lfd convert --circular`: convert the test split again
    """
    rotations = [rotation_of(record, where(test_file, f"record {number}")) for number, record in enumerate(records, 1)]
    questions: dict[object, list[int]] = {}
    for index, rotation in enumerate(rotations):
        if rotation is not None:
            questions.setdefault(rotation.question, []).append(index)
    labels = [where(test_file, f"record {number}") for number in range(1, len(records) + 1)]
    for members in questions.values():
        _check_complete(members, rotations, labels, IN_FILE)


def _count(value, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


@dataclass(frozen=True)
class Judged:
    """One item read: its answer letters, what the reply chose and whether it read as an answer."""

    answer: str
    chosen: str
    options: str  # the item's option letters
    kind: str  # "single" | "multi"
    status: str = "answer"  # the reading's: "answer", "none" or "ambiguous"

    @property
    def answered(self) -> bool:
        """The reply chose letters (no refusal, no hedge)."""
        return self.status == "answer" and bool(self.chosen)


def add_metrics(rotations: Sequence[Rotation | None], judged: Sequence[Judged | None], lines: Sequence[int],
                per_item: list[dict[str, float | None]]) -> None:
    """Adds the metrics of the module's docstring to ``per_item`` (in place), for items with a rotation.

    >>> rot = [Rotation(1, r, "ABCD"[r:] + "ABCD"[:r], 4) for r in range(4)]
    >>> always_a = [Judged(answer, "A", "ABCD", "single") for answer in "BADC"]  # the answer B, rotated
    >>> scores = [{} for _ in rot]
    >>> add_metrics(rot, always_a, [1, 2, 3, 4], scores)
    >>> {k: v for k, v in scores[0].items() if "/" not in k}
    {'choice_original_order_accuracy': 0.0, 'choice_circular_accuracy': 0.0, 'choice_answer_consistency': 0.0, 'choice_flip_rate': 1.0}
    >>> scores[1]["choice_slot_accuracy_single/A"], scores[1]["choice_letter_share_single/A"]
    (1.0, 1.0)
    """
    questions: dict[object, list[int]] = {}
    for index, rotation in enumerate(rotations):
        if rotation is not None and judged[index] is not None:
            questions.setdefault(rotation.question, []).append(index)
    if not questions:
        return
    members_of = [i for members in questions.values() for i in members]
    kinds = [kind for kind in KINDS if any(judged[i].kind == kind for i in members_of)]
    letters = {kind: sorted({x for i in members_of if judged[i].kind == kind for x in judged[i].options})
               for kind in kinds}
    keys = [ORIGINAL, *PER_QUESTION]  # every item gets every key, so the metrics come in this order
    if len(kinds) > 1:
        keys += [f"{TYPE_GROUPS[kind]}/{name}" for kind in kinds for name in
                 ("accuracy", "original_order_accuracy", *(n.removeprefix("choice_") for n in PER_QUESTION))]
    keys += [f"choice_{what}_{kind}/{x}" for kind in kinds for what in ("slot_accuracy", "letter_share", "label_share")
             for x in letters[kind]]
    for members in questions.values():
        _check_complete(members, rotations, lines)
        first = min(members, key=lambda i: rotations[i].rotation)
        values = _question_values(members, rotations, judged)
        for index in members:
            item, scores = judged[index], per_item[index]
            scores.update(dict.fromkeys(keys))
            right = float(item.chosen == item.answer)
            scores[ORIGINAL] = right if index == first else None
            for name in PER_QUESTION:
                scores[name] = values[name] if index == first else None
            if len(kinds) > 1:
                group = TYPE_GROUPS[item.kind]
                scores[f"{group}/accuracy"] = right
                scores[f"{group}/original_order_accuracy"] = scores[ORIGINAL]
                for name in PER_QUESTION:
                    scores[f"{group}/{name.removeprefix('choice_')}"] = scores[name]
            _slot_metrics(item, scores)


IN_PREDICTIONS = "in the predictions; score the whole split as it was converted (predict without max_samples)"
IN_FILE = "in the file, which changed after `lfd convert --circular`: convert the test split again"


def _check_complete(members: list[int], rotations: Sequence[Rotation | None], lines: Sequence[int | str],
                    fix: str = IN_PREDICTIONS) -> None:
    first = rotations[members[0]]
    seen = sorted(rotations[i].rotation for i in members)
    if (len(seen) != first.rotations or seen != list(range(len(seen)))
            or any(rotations[i].rotations != first.rotations for i in members)):
        here = lines[members[0]]
        here = f"line {here}" if isinstance(here, int) else here
        raise UserError(f"{here}: question {first.question} of the circular split has rotations "
                        f"{', '.join(map(str, seen))} of its {first.rotations} {fix}")


def _question_values(members: list[int], rotations: Sequence[Rotation | None],
                     judged: Sequence[Judged | None]) -> dict[str, float | None]:
    """Circular accuracy, consistency and flip of one question; None when it was not rotated."""
    if rotations[members[0]].rotations < 2:
        return dict.fromkeys(PER_QUESTION)
    right = [judged[i].chosen == judged[i].answer for i in members]
    picked = {rotations[i].original(judged[i].chosen) if judged[i].answered else None
              for i in members}
    return {
        "choice_circular_accuracy": float(all(right)),
        "choice_answer_consistency": float(len(picked) == 1 and None not in picked),
        "choice_flip_rate": float(any(right) and not all(right)),
    }


def _slot_metrics(item: Judged, scores: dict[str, float | None]) -> None:
    """Position bias: accuracy by the slot of the right answer, and the letters answered against the labels'."""
    right = float(item.chosen == item.answer)
    for letter in item.options:
        scores[f"choice_slot_accuracy_{item.kind}/{letter}"] = right if letter in item.answer else None
    for letter in item.options:
        scores[f"choice_letter_share_{item.kind}/{letter}"] = (
            float(letter in item.chosen) if item.answered else None)
    for letter in item.options:
        scores[f"choice_label_share_{item.kind}/{letter}"] = (
            float(letter in item.answer) if item.answered else None)


def answers_by_rotation(items: Sequence, judge) -> dict[object, list[tuple[int, str, bool | None]]]:
    """Question → (rotation, what was chosen in original letters, right?) of each rotated copy, in rotation
    order; ``judge`` reads one item (``Choice.judge``). "—" is no answer, "?" an ambiguous one (right: None).

    >>> from llamafactory_domains.evaluators.base import Prediction
    >>> from llamafactory_domains.evaluators.choice import Choice
    >>> items = [Prediction("", reply, answer, record={"options": {"A": "甲", "B": "乙"}, "answer": answer,
    ...          "circular": {"question": 1, "rotation": r, "order": order, "rotations": 2}})
    ...          for reply, answer, r, order in (("A", "A", 0, "AB"), ("A", "B", 1, "BA"))]
    >>> answers_by_rotation(items, Choice().judge)
    {1: [(0, 'A', True), (1, 'B', False)]}
    """
    found: dict[object, list[tuple[int, str, bool | None]]] = {}
    for item in items:
        rotation, judged = rotation_of(item.record, item.line), judge(item)
        if rotation is None or judged is None:
            continue
        if judged.answered:
            shown, right = rotation.original(judged.chosen), judged.chosen == judged.answer
        else:
            shown, right = ("?" if judged.status == "ambiguous" else "—"), None
        found.setdefault(rotation.question, []).append((rotation.rotation, shown, right))
    return {question: sorted(rows) for question, rows in found.items()}
