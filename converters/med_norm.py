"""Clinical term normalization: Yidu-N7K (xlsx ``原始词 | 标准词``) and CHIP-CDN (JSON ``text``/``normalized_result``).

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert med_norm --help`, checked by tests/converters/test_examples.py).

Several standard terms stay joined by ``##`` in their source order (duplicates and stray ``"``/``\\``
removed), so the `exact_match` evaluator can also score them as a set. CHIP-CDN's test file has no
answers: its records are skipped ("no standard term") and it cannot serve as a test split.
"""

from __future__ import annotations

from .base import (
    Converter,
    Example,
    Shape,
    Skip,
    keys_of,
    register_converter,
    require_object,
    text_of,
)

# The seed's prompt; its middle sentence (elided in our reference) states the task's output convention.
PROMPT = (
    "你是一个医疗专家,你的任务是临床术语标准化。"
    "请给出下面原始词对应的标准术语(ICD-10 北京临床版),有多个标准术语时用##连接。\n"
    "原始词:{word}\n该词的标准术语为:"
)
FIELDS = (("text", "normalized_result"), ("原始词", "标准词"))


def clean_terms(value: str) -> str:
    """Standard terms joined by ``##``: stray quotes/backslashes and repeats removed, order kept.

    >>> clean_terms(' 膝骨关节病## 膝关节游离体\\\\"##膝骨关节病')
    '膝骨关节病##膝关节游离体'
    """
    terms = (t.strip() for t in value.replace('"', "").replace("\\", "").split("##"))
    return "##".join(dict.fromkeys(t for t in terms if t))


@register_converter("med_norm")
class MedNorm(Converter):
    """Clinical term normalization (Yidu-N7K xlsx, CHIP-CDN JSON) -> alpaca, scored by exact/set match."""

    example_command = "lfd convert med_norm train.xlsx --test val.xlsx --out-dir data"
    example_raw = {"text": "左膝退变伴游离体", "normalized_result": "膝骨关节病##膝关节游离体"}
    example_output = {
        "instruction": "你是一个医疗专家,你的任务是临床术语标准化。请给出下面原始词对应的标准术语(ICD-10 北京临床版),有多个标准术语时用##连接。\n"
        "原始词:左膝退变伴游离体\n"
        "该词的标准术语为:",
        "input": "",
        "output": "膝骨关节病##膝关节游离体",
    }

    evaluators = ("exact_match",)
    primary_metric = "exact_match"
    columns = [("原始词", "标准词")]
    expects = "records with text/normalized_result (CHIP-CDN) or 原始词/标准词 (Yidu-N7K)"

    def convert(self, record, split):
        require_object(record)
        keys = next((pair for pair in FIELDS if pair[0] in record), None)
        if keys is None:
            raise Shape(f"record has no text or 原始词 field (found: {keys_of(record)})")
        raw, standard = (record.get(k) for k in keys)
        raw = text_of(raw, keys[0])
        if not raw:
            raise Skip("empty raw term")
        terms = clean_terms(text_of(standard, keys[1]))
        if not terms:
            raise Skip("no standard term")
        return Example(instruction=PROMPT.format(word=raw), output=terms)
