"""Legal instructions of DISC-Law-SFT: Pair JSONL ``{id, input, output}`` and Triplet JSONL (adds ``reference``).

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert disc_law --help`, checked by tests/converters/test_examples.py).

The files are large (~580 MB in all) and read as a stream. DISC-Law-Eval's short-answer JSON
(an array of ``{input, output, id}``) has the Pair shape, so it converts here too, e.g. as ``--test``.
"""

from __future__ import annotations

from .base import Converter, Example, Shape, Skip, register_converter, require_fields, text_of

REFERENCE_HEADER = "参考法条："


def statutes_of(reference) -> list[str]:
    """The non-empty statute texts of ``reference``: a list of strings, or one string.

    >>> statutes_of([" 《民法典》第一千零四十二条：禁止包办、买卖婚姻。", ""]), statutes_of(None)
    (['《民法典》第一千零四十二条：禁止包办、买卖婚姻。'], [])
    """
    if reference is None:
        return []
    if isinstance(reference, str):
        reference = [reference]
    if not isinstance(reference, list):
        raise Skip("reference is not a list of statutes")
    return [text for text in map(text_of, reference) if text]


def with_statutes(question: str, statutes: list[str]) -> str:
    """The question under its statutes (参考法条：, one a line, blank line), or alone without any.

    >>> print(with_statutes("结婚需要彩礼吗？", ["《民法典》第一千零四十二条：禁止借婚姻索取财物。"]))
    参考法条：
    《民法典》第一千零四十二条：禁止借婚姻索取财物。
    <BLANKLINE>
    结婚需要彩礼吗？
    """
    if not statutes:
        return question
    return "\n".join([REFERENCE_HEADER, *statutes]) + "\n\n" + question


@register_converter("disc_law")
class DiscLaw(Converter):
    """DISC-Law-SFT legal instructions (Pair and Triplet JSONL, statutes as 参考法条) -> alpaca."""

    example_command = "lfd convert disc_law DISC-Law-SFT-Pair.jsonl DISC-Law-SFT-Triplet-released.jsonl --test-size 1000 --out-dir data"
    example_raw = {
        "id": "triplet_1",
        "reference": [
            "《中华人民共和国刑法》第一百三十三条之一：在道路上驾驶机动车，醉酒驾驶机动车的，处拘役，并处罚金。"
        ],
        "input": "魏某某醉酒驾驶机动车，应如何处罚？",
        "output": "魏某某构成危险驾驶罪，应处拘役，并处罚金。",
    }
    example_output = {
        "instruction": "参考法条：\n《中华人民共和国刑法》第一百三十三条之一：在道路上驾驶机动车，醉酒驾驶机动车的，处拘役，并处罚金。\n\n魏某某醉酒驾驶机动车，应如何处罚？",
        "input": "",
        "output": "魏某某构成危险驾驶罪，应处拘役，并处罚金。",
    }

    columns = [("input", "output")]
    evaluators = ("rouge_zh", "bleu_zh")  # free text: add BERTScore with `lfd eval --bertscore-model PATH`
    primary_metric = "rouge-l"
    expects = "DISC-Law-SFT records with input/output (Triplet: also reference)"

    def convert(self, record, split):
        require_fields(record, "input", "output")
        if "A" in record and "B" in record:
            raise Shape(
                "a multiple-choice record (options A/B/…): convert DISC-Law-Eval's objective CSVs with law_mcq"
            )
        for key in ("input", "output"):
            if not isinstance(record[key], str | None):
                raise Skip(f"{key} is a {type(record[key]).__name__}, not text")
        question = (record["input"] or "").strip()
        if not question:
            raise Skip("empty input")
        answer = (record["output"] or "").strip()
        if not answer:
            raise Skip("empty output")
        # a Pair and a Triplet of the same question and answer are one item, statutes or not
        return Example(instruction=with_statutes(question, statutes_of(record.get("reference"))), output=answer,
                       dedup_key=f"{question}\n{answer}")
