"""Medical multiple-choice exams (CMB, CMExam, MedQA-MCMLE, C-Eval) in one shape: question, options, answer letters.

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert med_mcq --help`, checked by tests/converters/test_examples.py).

Each record's keys tell its source: ``option`` (CMB JSON), ``options`` (MedQA-MCMLE JSONL),
``Question``/``Options``/``Answer`` columns (CMExam CSV, one "A 文本" option a line) or
``question``/``A``/``B``/… /``answer`` columns (C-Eval CSV). CMB says 单项/多项选择题; MedQA and
C-Eval are single-answer; CMExam does not say, so its prompt reads 不定项 (one or more answers)
rather than leak the answer count. CMB's test questions come without answers: ``--answers
CMB-test-choice-answer.json`` joins them by ``id``. C-Eval's test CSVs have no answers: use its val.
``--circular K`` also writes each test question with its options rotated (plugin/circular.py).
"""

from __future__ import annotations

from pathlib import Path

from ..plugin.circular import add_circular_argument
from ..plugin.mcq import (
    LETTERS,
    Question,
    letter_of,
    options_from_mapping,
    options_from_text,
    with_question,
)
from .base import (
    Converter,
    Shape,
    Skip,
    UserError,
    iter_rows,
    register_converter,
    require_object,
    where,
)


def load_answers(path: Path, encoding: str | None = None) -> dict[str, object]:
    """``id`` -> ``answer`` of an answer file like CMB-test-choice-answer.json (small: read whole)."""
    answers = {}
    for row in iter_rows(path, encoding, [("id", "answer")]):
        record = row.data
        if isinstance(record, Skip):  # NaN, a too long number, a broken line: a wrong answer key, never a skip
            raise UserError(f"{where(path, row.location)}: {record.reason}; fix that --answers record")
        if not isinstance(record, dict) or "id" not in record or "answer" not in record:
            found = ", ".join(map(str, record)) if isinstance(record, dict) else type(record).__name__
            raise UserError(f"{where(path, row.location)}: --answers records need id and answer "
                            f"(found: {found}); give CMB's CMB-test-choice-answer.json")
        answers[str(record["id"])] = record["answer"]
    return answers


@register_converter("med_mcq")
class MedMcq(Converter):
    """Medical multiple-choice exams (CMB, CMExam, MedQA-MCMLE, C-Eval) -> answer letters, scored by choice."""

    example_command = "lfd convert med_mcq train.jsonl --test test.jsonl --out-dir data"
    example_raw = {
        "question": "经调查证实出现医院感染流行时，医院应报告当地卫生行政部门的时间是（\u3000\u3000）。",
        "options": {"A": "2小时", "B": "4小时内", "C": "12小时内", "D": "24小时内"},
        "answer": "24小时内",
        "meta_info": "卫生法规",
        "answer_idx": "D",
    }
    example_output = {
        "instruction": "以下是一道单选题，只有一个正确答案。\n"
        "经调查证实出现医院感染流行时，医院应报告当地卫生行政部门的时间是（\u3000\u3000）。\n"
        "A. 2小时\n"
        "B. 4小时内\n"
        "C. 12小时内\n"
        "D. 24小时内\n"
        "请直接给出正确答案的字母。",
        "input": "",
        "output": "D",
        "options": {"A": "2小时", "B": "4小时内", "C": "12小时内", "D": "24小时内"},
        "answer": "D",
        "question_type": "single",
    }

    evaluators = ("choice",)
    primary_metric = "choice_accuracy"
    circular_split = True
    columns = [("Question", "Options"), ("question", "A", "B")]
    expects = (
        "multiple-choice records: CMB (question/option/answer), MedQA-MCMLE (question/options/answer_idx), "
        "CMExam CSV (Question/Options/Answer) or C-Eval CSV (question/A/B/…/answer)"
    )

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument(
            "--answers",
            type=Path,
            metavar="FILE",
            help="CMB test answers (CMB-test-choice-answer.json), joined to the questions by id",
        )
        add_circular_argument(parser)

    def __init__(self, options):
        super().__init__(options)
        path = getattr(options, "answers", None)
        self.answers = load_answers(path, getattr(options, "encoding", None)) if path else None

    def convert(self, record, split):
        require_object(record)
        if isinstance(record.get("option"), dict):
            question = self.cmb(record)
        elif isinstance(record.get("options"), dict):
            question = self.medqa(record)
        elif "Options" in record:
            question = self.cmexam(record)
        elif "question" in record and "A" in record:
            question = self.ceval(record)
        else:
            found = ", ".join(map(str, record)) or "none"
            raise Shape(f"record has no option, options, Options or A/B fields (found: {found})")
        return with_question(question.example(), question)

    def cmb(self, record) -> Question:
        answer = record.get("answer")
        if not answer and self.answers is not None:
            if record.get("id") is None:
                raise Skip("no id to look up in --answers")
            answer = self.answers.get(str(record["id"]))
            if answer is None:
                raise Skip("id not in the --answers file")
        elif "answer" not in record:
            raise Shape(
                "CMB record without an answer (a test question): give its answer file with "
                "--answers CMB-test-choice-answer.json"
            )
        options = options_from_mapping(record["option"])
        return Question.build(record.get("question"), options, answer, record.get("question_type"))

    @staticmethod
    def medqa(record) -> Question:
        options = options_from_mapping(record["options"])
        answer = record.get("answer_idx")
        if not answer and record.get("answer"):
            answer = letter_of(options, record["answer"])
        return Question.build(record.get("question"), options, answer, "single")

    @staticmethod
    def cmexam(record) -> Question:
        if "Answer" not in record:
            raise Shape("no Answer column")
        return Question.build(record.get("Question"), options_from_text(record["Options"]), record["Answer"])

    @staticmethod
    def ceval(record) -> Question:
        if "answer" not in record:
            raise Shape("no answer column (C-Eval's test CSVs have no answers: use its val or dev CSVs)")
        options = options_from_mapping({key: record[key] for key in LETTERS if key in record})
        return Question.build(record.get("question"), options, record["answer"], "single")
