"""Medical QA of Med-ChatGLM: ``data/train.txt``, JSONL ``{"context": "问题：…\\n回答: ", "target": …}``.

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert med_chatglm --help`, checked by tests/converters/test_examples.py).

A context without the wrapper is taken whole as the question.
"""

from __future__ import annotations

import re

from .base import (
    Converter,
    Example,
    Skip,
    iter_json,
    register_converter,
    require_fields,
    text_of,
)

QUESTION_CUE = re.compile(r"^\s*问题\s*[:：]\s*")
ANSWER_CUE = re.compile(r"\s*\n\s*回答\s*[:：]\s*$")


def question_of(context: str) -> str:
    """The question inside the ``问题：…\\n回答: `` wrapper.

    >>> question_of("问题：头痛怎么办？\\n回答: ")
    '头痛怎么办？'
    >>> question_of("问题: 头痛怎么办？\\n回答：")
    '头痛怎么办？'
    """
    return QUESTION_CUE.sub("", ANSWER_CUE.sub("", context)).strip()


@register_converter("med_chatglm")
class MedChatGLM(Converter):
    """Med-ChatGLM medical QA (data/train.txt, JSONL context/target) -> alpaca."""

    example_command = "lfd convert med_chatglm train.txt --test-size 500 --out-dir data"
    example_raw = {
        "context": "问题：两岁女童出现发热、呼吸浅而快等症状，经过检查诊断为毛细支气管炎，治疗措施是什么？\n回答: ",
        "target": "给予鼻导管吸氧等方式进行支持治疗，并视情况使用抗生素治疗",
    }
    example_output = {
        "instruction": "两岁女童出现发热、呼吸浅而快等症状，经过检查诊断为毛细支气管炎，治疗措施是什么？",
        "input": "",
        "output": "给予鼻导管吸氧等方式进行支持治疗，并视情况使用抗生素治疗",
    }

    expects = "records with context/target (Med-ChatGLM train.txt)"
    evaluators = ("rouge_zh", "bleu_zh")  # free text: add BERTScore with `lfd eval --bertscore-model PATH`
    primary_metric = "rouge-l"

    def rows(self, path, split):
        if path.suffix.lower() == ".txt":  # train.txt is JSONL, detected by its content
            return iter_json(path, getattr(self.options, "encoding", None))
        return super().rows(path, split)

    def convert(self, record, split):
        require_fields(record, "context", "target")
        question = question_of(text_of(record["context"], "context"))
        if not question:
            raise Skip("empty question")
        answer = text_of(record["target"], "target")
        if not answer:
            raise Skip("empty target")
        return Example(instruction=question, output=answer)
