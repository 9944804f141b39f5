"""Medical QA of Huatuo-Llama-Med-Chinese: ``llama_data.json`` (JSONL) and the multi-turn ``liver_cancer.json``.

Raw ``liver_cancer.json`` record (a JSON array element; earlier turns are packed into ``instruction``)::

    {"instruction": " <user>: 我听说免疫疗法是治疗晚期肝癌的一种很有效的方法，真的吗？ <bot>: 是的，免疫疗法是…
                     <user>: 但是，这是否适用于所有的肝癌患者？",
     "output": "不是所有的肝癌患者都适合进行免疫疗法。…", "input": ""}

Produced record (sharegpt): the packed turns become a real conversation::

    {"conversations": [{"from": "human", "value": "我听说免疫疗法是治疗晚期肝癌的一种很有效的方法，真的吗？"},
                       {"from": "gpt", "value": "是的，免疫疗法是…"},
                       {"from": "human", "value": "但是，这是否适用于所有的肝癌患者？"},
                       {"from": "gpt", "value": "不是所有的肝癌患者都适合进行免疫疗法。…"}]}

A ``llama_data.json`` line (``{"instruction", "input": "", "output"}``) has no markers and becomes a
single exchange. In alpaca the earlier turns go into ``history``. Consecutive turns of one speaker
are joined by a newline; a conversation that does not end with a ``<user>`` turn is skipped.
"""

from __future__ import annotations

import re

from .base import Converter, Example, Shape, Skip, register_converter

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

    formats = ("sharegpt", "alpaca", "chatglm3")
    evaluators = ("rouge_zh", "bleu_zh")  # free text: add BERTScore with `lfd eval --bertscore-model PATH`
    with_history = True
    expects = "records with instruction/output (Huatuo llama_data.json or liver_cancer.json)"

    def convert(self, record, split):
        if not isinstance(record, dict):
            raise Shape(f"record is a {type(record).__name__}, not an object")
        if "instruction" not in record or "output" not in record:
            raise Shape(f"record has no instruction/output fields (found: {', '.join(map(str, record)) or 'none'})")
        output = str(record["output"] or "").strip()
        if not output:
            raise Skip("empty output")
        turns = split_turns(str(record["instruction"] or ""))
        if not turns:
            raise Skip("empty instruction")
        if turns[-1][0] != "user" or turns[0][0] != "user":
            raise Skip("turns do not run <user> … <user> (packed conversation starts or ends with <bot>)")
        history = [(turns[i][1], turns[i + 1][1]) for i in range(0, len(turns) - 1, 2)]
        return Example(instruction=turns[-1][1], input=str(record.get("input") or "").strip(),
                       output=output, history=history)
