"""``--circular K`` of the exam converters: each test question again with its options rotated, as OpenCompass's CircularEval.

With n options, rotation r shows old option (j + r) mod n in slot j (:meth:`.mcq.Question.rotated`);
:func:`circular_variants` gives rotations 0…min(K, n)−1 (all n for ``all``), rotation 0 the
original order, without a rotation that shows the same options as an earlier one; a 判断题 keeps
both orders and a question whose options refer to others (以上都对, "A和B") only rotation 0. The
pipeline writes the variants of each test question, as it writes the question to the test split,
to ``<name>_test_circular``, each record's ``extra["circular"]`` = {"question": its 1-based line
in ``<name>_test.jsonl``, "rotation": r, "order": the original letters now in slots A, B, C…,
"rotations": the number of variants written for the question}.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from .errors import UserError
from .mcq import Question, options_refer
from .records import Example

POSITIONAL_REASON = "options refer to other options (以上…)"
NOT_CHOICE_REASON = "not a choice question"


@dataclass(frozen=True)
class Variant:
    """One circular variant: ``rotation`` r, ``order`` (the original letters now in slots A, B, C…)."""

    rotation: int
    order: str
    question: Question


def circular_count(text: str) -> int | str:
    """``--circular K``: a positive whole number, or ``all`` (1 is refused by the run, in one line:
    :func:`refuse_one_rotation`).

    >>> circular_count("4"), circular_count("ALL")
    (4, 'all')
    >>> circular_count("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a whole number of at least 2, or all; got '0'
    """
    if text.strip().lower() == "all":
        return "all"
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 2, or all; got {text!r}")
    return int(text)


def refuse_one_rotation(k) -> None:
    """``--circular 1`` would write the test split again: a :class:`UserError`.

    >>> refuse_one_rotation(1)
    Traceback (most recent call last):
    ...
    llamafactory_domains.plugin.errors.UserError: --circular 1 writes each test question once, in its own order: the test split itself; give K >= 2 rotations, or all
    """
    if k == 1:
        raise UserError("--circular 1 writes each test question once, in its own order: the test split itself; "
                        "give K >= 2 rotations, or all")


def circular_variants(question: Question, k: int | str) -> list[Variant]:
    """The circular variants of ``question`` for ``--circular K``: rotations r = 0…min(K, n)−1 (every
    one of the n for "all"), rotation 0 the original order; a rotation that shows the same
    arrangement of option texts as an earlier one is dropped. A 判断题 keeps both orders (正确/错误
    and 错误/正确); a question whose options refer to others (:func:`options_refer`) only rotation 0.

    >>> from llamafactory_domains.plugin.mcq import true_false
    >>> q = Question.build("应穿？", {"A": "雨鞋", "B": "绝缘靴", "C": "橡胶鞋"}, "B")
    >>> [(v.rotation, v.order, v.question.answer) for v in circular_variants(q, "all")]
    [(0, 'ABC', 'B'), (1, 'BCA', 'A'), (2, 'CAB', 'C')]
    >>> [v.order for v in circular_variants(q, 2)]
    ['ABC', 'BCA']
    >>> twice = Question.build("？", {"A": "甲", "B": "乙", "C": "甲", "D": "乙"}, "A")
    >>> [v.rotation for v in circular_variants(twice, "all")]
    [0, 1]
    >>> [v.question.options["A"] for v in circular_variants(true_false("可以兼任。", "错"), 5)]
    ['正确', '错误']
    >>> len(circular_variants(Question.build("？", {"A": "甲", "B": "乙", "C": "以上都对"}, "C"), "all"))
    1
    """
    letters = "".join(question.options)
    n = len(letters)
    if question.kind == "judge":
        count = n
    elif options_refer(question):
        count = 1
    else:
        count = n if k == "all" else min(int(k), n)
    variants, seen = [], set()
    for r in range(count):
        rotated = question.rotated(r)
        shown = tuple(rotated.options.values())
        if shown in seen:
            continue
        seen.add(shown)
        variants.append(Variant(r, "".join(letters[(j + r) % n] for j in range(n)), rotated))
    return variants


def add_circular_argument(parser, note: str = "") -> None:
    """The exam converters' ``--circular K`` option."""
    parser.add_argument(
        "--circular",
        type=circular_count,
        metavar="K",
        help="also write <name>_test_circular: each test question K times with its options rotated "
        "(CircularEval: rotation r puts option r+1 first; all: one rotation per option), rotation 0 "
        "the original order, rotations showing the same options twice dropped, 判断题 in both orders, "
        "a question whose options refer to others (以上都对, A和B) once; needs --test or --test-size; "
        "train and val are not changed" + (f"; {note}" if note else ""),
    )


def circular_examples(example: Example, render, k: int | str, number: int) -> tuple[list[Example], str | None]:
    """The ``--circular K`` records of test ``example`` (line ``number`` of the test split), each
    rendered by ``render(question)`` with ``extra["circular"]``; and why it is not rotated, if so
    (:data:`NOT_CHOICE_REASON`: none are made; :data:`POSITIONAL_REASON`: rotation 0 only).

    >>> from llamafactory_domains.plugin.mcq import with_question
    >>> q = Question.build("应穿？", {"A": "雨鞋", "B": "绝缘靴", "C": "以上都对"}, "C")
    >>> made, why = circular_examples(with_question(q.example(), q), Question.example, "all", 7)
    >>> [m.extra["circular"] for m in made], why
    ([{'question': 7, 'rotation': 0, 'order': 'ABC', 'rotations': 1}], 'options refer to other options (以上…)')
    >>> circular_examples(Example("请写出___。", "安全"), Question.example, 2, 1)
    ([], 'not a choice question')
    """
    question = getattr(example, "question", None)
    if question is None:
        return [], NOT_CHOICE_REASON
    variants = circular_variants(question, k)
    made = []
    for variant in variants:
        rendered = render(variant.question)
        rendered.extra = {**rendered.extra, "circular": {
            "question": number, "rotation": variant.rotation, "order": variant.order, "rotations": len(variants)}}
        made.append(rendered)
    positional = len(variants) == 1 and question.kind != "judge" and options_refer(question)
    return made, POSITIONAL_REASON if positional else None
