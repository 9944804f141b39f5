"""Chinese-medical-dialogue: the ModelScope JSON array or Toyhom's department CSVs -> doctor answers.

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert med_dialog --help`, checked by tests/converters/test_examples.py).
ModelScope's ``train_0001_of_0001.json`` is one JSON array (~634 MB, read as a stream) of
``{instruction, input, output, history}`` records holding title, ask and answer; Toyhom's CSVs are
GB18030 with the header ``department,title,ask,answer`` (the department is kept in the record).

The seed's recipe: instruction = ``主题:{title}\\n内容:{ask}``, output = answer. Texts lose only
their surrounding whitespace (U+3000 included); newlines inside a quoted CSV field are kept.
Asks that are just ``无`` and empty titles/asks/answers are skipped with their reason counted.
"""

from __future__ import annotations

from .base import (
    Converter,
    Example,
    Shape,
    Skip,
    register_converter,
    require_object,
    text_of,
)

NO_ASK = "无"
FIELDS = (("instruction", "input", "output"), ("title", "ask", "answer"))  # ModelScope, Toyhom CSV


def prompt(title: str, ask: str) -> str:
    """The seed's instruction.

    >>> print(prompt("高血压该治疗什么？", "最近体检发现高血压，应当怎样治疗？"))
    主题:高血压该治疗什么？
    内容:最近体检发现高血压，应当怎样治疗？
    """
    return f"主题:{title}\n内容:{ask}"


@register_converter("med_dialog")
class MedDialog(Converter):
    """Chinese-medical-dialogue (ModelScope JSON array or Toyhom GB18030 CSVs) -> 主题/内容 -> doctor's answer."""

    example_command = "lfd convert med_dialog train_0001_of_0001.json --limit 100000 --test-size 1000 --out-dir data"
    example_raw = {
        "department": "心血管科",
        "title": "高血压患者能吃党参吗？",
        "ask": "我有高血压这两天女婿来的时候给我拿了些党参泡水喝，您好高血压可以吃党参吗？",
        "answer": "高血压病人可以口服党参的。",
    }
    example_output = {
        "instruction": "主题:高血压患者能吃党参吗？\n内容:我有高血压这两天女婿来的时候给我拿了些党参泡水喝，您好高血压可以吃党参吗？",
        "input": "",
        "output": "高血压病人可以口服党参的。",
        "department": "心血管科",
    }

    evaluators = ("rouge_zh", "bleu_zh")  # free text: add BERTScore with `lfd eval --bertscore-model PATH`
    primary_metric = "rouge-l"
    columns = [("title", "ask", "answer")]
    expects = "ModelScope records with instruction/input/output, or Toyhom CSV rows with department,title,ask,answer"

    def convert(self, record, split):
        try:  # the ModelScope record, by far the most common
            title, ask, answer = record["instruction"], record["input"], record["output"]
        except (KeyError, TypeError, IndexError):
            title, ask, answer = fields(record)
        title, ask, answer = text_of(title), text_of(ask), text_of(answer)
        if not title:
            raise Skip("empty title")
        if ask == NO_ASK:
            raise Skip(f"ask is just {NO_ASK} (no question)")
        if not ask:
            raise Skip("empty ask")
        if not answer:
            raise Skip("empty answer")
        department = record.get("department")
        if department is None or not (department := text_of(department)):
            return Example(prompt(title, ask), answer)
        return Example(prompt(title, ask), answer, extra={"department": department})


def fields(record) -> tuple:
    """The title, ask and answer of a record with Toyhom's CSV columns (or a Shape error)."""
    require_object(record)
    keys = next((names for names in FIELDS if all(k in record for k in names)), None)
    if keys is None:
        raise Shape(f"record has keys {', '.join(map(str, record)) or '(none)'}")
    return tuple(record[k] for k in keys)
