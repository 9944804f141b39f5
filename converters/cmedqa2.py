"""cMedQA2 medical QA: ``question.csv`` (``question_id,content``) and ``answer.csv`` (``ans_id,question_id,content``).

Name the question file(s) before the answer file(s): each answer becomes one question -> answer
example (a question with two answers gives two). An answer whose question was not given is a
counted skip.
"""

from __future__ import annotations

from .base import Converter, Example, Row, Skip, register_converter, require_fields, text_of


@register_converter("cmedqa2")
class CMedQA2(Converter):
    """cMedQA2 medical QA (question.csv + answer.csv, joined by question_id) -> alpaca."""

    example_command = "lfd convert cmedqa2 question.csv answer.csv --test-size 1000 --out-dir data"
    # an answer.csv row, with the text of its question joined in by rows()
    example_raw = {"ans_id": "1", "question_id": "45619783", "content": "月经推迟可能与压力有关，建议先查尿妊娠试验。",
                   "question": "月经推迟十天，肚子疼，怎么回事？"}
    example_output = {"instruction": "月经推迟十天，肚子疼，怎么回事？", "input": "",
                      "output": "月经推迟可能与压力有关，建议先查尿妊娠试验。"}

    evaluators = ("rouge_zh", "bleu_zh")
    primary_metric = "rouge-l"
    columns = [("ans_id", "question_id", "content"), ("question_id", "content")]
    expects = "cMedQA2 rows: question.csv (question_id,content), then answer.csv (ans_id,question_id,content)"
    parallel = False  # answers need the questions read before them

    def __init__(self, options):
        super().__init__(options)
        self.questions: dict[str, str] = {}

    def rows(self, path, split):
        for row in super().rows(path, split):
            record = row.data
            try:
                if isinstance(record, dict) and "ans_id" not in record:  # question.csv: remembered, not converted
                    self.questions[text_of(record.get("question_id"))] = text_of(record.get("content"))
                    continue
                if isinstance(record, dict):
                    record["question"] = self.questions.get(text_of(record.get("question_id")))
            except Skip as skip:  # a JSON list or object for an id or a text: counted where it is
                row = Row(row.location, skip)
            yield row

    def convert(self, record, split):
        require_fields(record, "ans_id", "question_id", "content")
        if record.get("question") is None:
            raise Skip("no question with this question_id (give question.csv before answer.csv)")
        question, answer = text_of(record["question"]), text_of(record["content"])
        if not question or not answer:
            raise Skip("empty question or answer")
        return Example(instruction=question, output=answer)
