"""Medical QA of Huatuo-Llama-Med-Chinese: ``llama_data.json`` (JSONL) and the multi-turn ``liver_cancer.json``.

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert huatuo --help`, checked by tests/converters/test_examples.py).

A ``llama_data.json`` line (``{"instruction", "input": "", "output"}``) has no markers and becomes a
single exchange. In alpaca the earlier turns go into ``history``. Consecutive turns of one speaker
are joined by a newline; a conversation that does not end with a ``<user>`` turn is skipped.
"""

from __future__ import annotations

import re

from .base import Converter, Example, Skip, register_converter, require_fields, text_of

TURN_MARKER = re.compile(r"\s*<(user|bot)>\s*[:：]\s*")


def split_turns(packed: str) -> list[tuple[str, str]]:
    """``(role, text)`` turns of a packed instruction; text before the first marker is the user's.

    >>> split_turns(" <user>: 你好 <bot>: 您好 <user>: 肝癌怎么治？")
    [('user', '你好'), ('bot', '您好'), ('user', '肝癌怎么治？')]
    >>> split_turns("肝癌怎么治？")
    [('user', '肝癌怎么治？')]
    """
    parts = TURN_MARKER.split(packed)
    turns: list[tuple[str, str]] = []
    for role, text in [("user", parts[0]), *zip(parts[1::2], parts[2::2])]:
        text = text.strip()
        if not text:
            continue
        if turns and turns[-1][0] == role:
            turns[-1] = (role, f"{turns[-1][1]}\n{text}")
        else:
            turns.append((role, text))
    return turns


@register_converter("huatuo")
class Huatuo(Converter):
    """Huatuo-Llama-Med-Chinese medical QA (llama_data.json, multi-turn liver_cancer.json) -> real conversations."""

    example_command = "lfd convert huatuo llama_data.json liver_cancer.json --test-size 200 --out-dir data"
    example_raw = {
        "instruction": " <user>: 我听说免疫疗法是治疗晚期肝癌的一种很有效的方法，真的吗？ <bot>: 是的，免疫疗法是一种新兴的治疗方法。 <user>: "
        "但是，这是否适用于所有的肝癌患者？",
        "output": "不是所有的肝癌患者都适合进行免疫疗法。",
        "input": "",
    }
    example_output = {
        "conversations": [
            {"from": "human", "value": "我听说免疫疗法是治疗晚期肝癌的一种很有效的方法，真的吗？"},
            {"from": "gpt", "value": "是的，免疫疗法是一种新兴的治疗方法。"},
            {"from": "human", "value": "但是，这是否适用于所有的肝癌患者？"},
            {"from": "gpt", "value": "不是所有的肝癌患者都适合进行免疫疗法。"},
        ]
    }

    formats = ("sharegpt", "alpaca", "chatglm3")
    evaluators = ("rouge_zh", "bleu_zh")  # free text: add BERTScore with `lfd eval --bertscore-model PATH`
    primary_metric = "rouge-l"
    with_history = True
    expects = "records with instruction/output (Huatuo llama_data.json or liver_cancer.json)"

    def convert(self, record, split):
        require_fields(record, "instruction", "output")
        output = text_of(record["output"], "output")
        if not output:
            raise Skip("empty output")
        turns = split_turns(text_of(record["instruction"], "instruction"))
        if not turns:
            raise Skip("empty instruction")
        if turns[-1][0] != "user" or turns[0][0] != "user":
            raise Skip("turns do not run <user> … <user> (packed conversation starts or ends with <bot>)")
        history = [(turns[i][1], turns[i + 1][1]) for i in range(0, len(turns) - 1, 2)]
        return Example(
            instruction=turns[-1][1], input=text_of(record.get("input"), "input"), output=output, history=history
        )
