"""Legal multiple-choice exams (JEC-QA JSONL, DISC-Law-Eval objective CSVs) in one shape: question, options, answer letters.

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert law_mcq --help`, checked by tests/converters/test_examples.py).

JEC-QA does not say how many answers a question has (its wording does not either: "下列哪项" can
have two), so its prompt reads 不定项; the answer is scored as an exact letter set by `choice`.
DISC-Law-Eval's objective CSVs (``input,output,A,B,C,D,source,multichoice``, ``output`` "D" or
"ABCD") are 单选 when ``multichoice`` is False and 多选 when True. JEC-QA's test files have no
answers: hold out part of a train file with ``--test-size``. DISC-Law-Eval's short-answer JSON is
free text, not multiple choice: convert it with ``disc_law``. ``--circular K`` also writes each test
question with its options rotated (plugin/circular.py).
"""

from __future__ import annotations

from ..plugin.circular import add_circular_argument
from ..plugin.mcq import LETTERS, Question, options_from_mapping, with_question
from .base import Converter, Shape, register_converter, require_object, text_of

MULTICHOICE = {"true": "multi", "1": "multi", "false": "single", "0": "single"}


def disc_kind(multichoice) -> str:
    """DISC-Law-Eval's ``multichoice`` flag as a kind; not saying means 不定项.

    >>> disc_kind("True"), disc_kind(" false"), disc_kind("")
    ('multi', 'single', 'indefinite')
    """
    return MULTICHOICE.get(text_of(multichoice).lower(), "indefinite")


@register_converter("law_mcq")
class LawMcq(Converter):
    """Legal multiple-choice exams (JEC-QA, DISC-Law-Eval objective CSVs) -> answer letters, scored by choice."""

    example_command = "lfd convert law_mcq 0_train.json 1_train.json --test-size 500 --out-dir data"
    example_raw = {
        "answer": ["A", "B"],
        "id": "3_8132",
        "option_list": {
            "A": "化肥厂可以向该市政府申请行政复议",
            "B": "化肥厂可以向甲区政府申请行政复议",
            "C": "化肥厂应当先申请行政复议",
            "D": "化肥厂只能提起行政诉讼",
        },
        "statement": "甲区环保局对化肥厂作出罚款决定。对于此案，下列哪项说法正确?",
        "subject": "行政法与行政诉讼法",
        "type": "1",
    }
    example_output = {
        "instruction": "以下是一道不定项选择题，正确答案可能有一个或多个。\n"
        "甲区环保局对化肥厂作出罚款决定。对于此案，下列哪项说法正确?\n"
        "A. 化肥厂可以向该市政府申请行政复议\n"
        "B. 化肥厂可以向甲区政府申请行政复议\n"
        "C. 化肥厂应当先申请行政复议\n"
        "D. 化肥厂只能提起行政诉讼\n"
        "请直接给出所有正确答案的字母，按字母顺序连写。",
        "input": "",
        "output": "AB",
        "options": {
            "A": "化肥厂可以向该市政府申请行政复议",
            "B": "化肥厂可以向甲区政府申请行政复议",
            "C": "化肥厂应当先申请行政复议",
            "D": "化肥厂只能提起行政诉讼",
        },
        "answer": "AB",
        "question_type": "multi",
    }

    evaluators = ("choice",)
    primary_metric = "choice_accuracy"
    circular_split = True
    columns = [("input", "output", "A", "B")]
    expects = (
        "multiple-choice records: JEC-QA (statement/option_list/answer) or "
        "DISC-Law-Eval objective CSV (input/output/A/B/C/D/source/multichoice)"
    )

    @classmethod
    def add_arguments(cls, parser):
        add_circular_argument(parser)

    def convert(self, record, split):
        require_object(record)
        if "option_list" in record:
            question = self.jec_qa(record)
        elif "A" in record and "input" in record:
            question = self.disc_law_eval(record)
        elif "input" in record and "output" in record:
            raise Shape(
                "a short-answer record (input/output, no options A/B/…): DISC-Law-Eval's subjective "
                "questions are free text, not multiple choice; convert them with disc_law"
            )
        else:
            found = ", ".join(map(str, record)) or "none"
            raise Shape(f"record has no option_list or A/B fields (found: {found})")
        return with_question(question.example(), question)

    @staticmethod
    def jec_qa(record) -> Question:
        if "answer" not in record:
            raise Shape(
                "JEC-QA record without an answer (its test files have none): "
                "hold out part of a train file with --test-size"
            )
        if not isinstance(record["option_list"], dict):
            raise Shape("option_list is not an object of letter -> option")
        options = options_from_mapping(record["option_list"])
        return Question.build(record.get("statement"), options, record["answer"], "indefinite")

    @staticmethod
    def disc_law_eval(record) -> Question:
        options = options_from_mapping({key: record[key] for key in LETTERS if key in record})
        return Question.build(
            record.get("input"), options, record.get("output"), disc_kind(record.get("multichoice"))
        )
