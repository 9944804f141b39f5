import random

import pytest
from llamafactory_domains.evaluators.base import Prediction
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.predictions import (
    pair_by_prompt,
    prompt_excerpt,
    reference,
)

LABELS = ["高血压", "糖尿病", "COPD", "肺炎", "慢性胃炎", "冠心病", "哮喘", "贫血"]
BASE = ["高血压", "糖尿", "COP", "肺炎", "胃炎", "冠心病", "哮", "贫"]  # right: lines 1, 4, 6
TUNED = ["高血压", "糖尿病", "COPD", "肺", "慢性胃炎", "冠心病", "哮喘", "贫"]  # fixed 2, 3, 5, 7; broken 4


def chatml(question: str) -> str:
    return f"<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"


def predictions(predicts, labels=LABELS):
    pairs = enumerate(zip(predicts, labels), 1)
    return [Prediction(chatml(f"原始词:{x}"), p, x + "\n", line=i) for i, (p, x) in pairs]


def test_sharegpt_reference_is_the_last_message():
    entry = {"formatting": "sharegpt", "columns": {"messages": "conversations"}}
    record = {"conversations": [{"from": "human", "value": "原始词:x"}, {"from": "gpt", "value": "高血压"}]}
    assert reference(record, entry) == "高血压"


def test_pairing_by_prompt_survives_shuffling_and_duplicates():
    base = predictions(BASE + ["高"], LABELS + ["高血压"])  # a duplicated item
    tuned = predictions(TUNED + ["高血压"], LABELS + ["高血压"])
    shuffled = tuned[:]
    random.Random(1).shuffle(shuffled)
    paired = pair_by_prompt(base, shuffled, "base.jsonl", "tuned.jsonl")
    assert [p.prompt for p in paired] == [b.prompt for b in base]
    assert sorted(p.line for p in paired) == list(range(1, 10))
    assert [p.predict for p in paired[:8]] == TUNED


def test_pairing_refuses_blank_prompts_directly():
    base = predictions(BASE)
    with pytest.raises(UserError, match="base.jsonl: line 1: no prompt"):
        pair_by_prompt([Prediction("", "x", "x", line=1)], base, "base.jsonl", "tuned.jsonl")


@pytest.mark.parametrize(
    "prompt",
    [
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n原始词:高血压<|im_end|>\n<|im_start|>assistant\n",
        ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nsys<|eot_id|><|start_header_id|>user"
         "<|end_header_id|>\n\n原始词:高血压<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
        "[gMASK]<sop><|system|>\nsys<|user|>\n原始词:高血压<|assistant|>",
        "<s>[INST] 原始词:高血压 [/INST]",
        "Human: 原始词:高血压\nAssistant:",
        "<|im_start|>user\n原始词:高血压<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
    ],
)
def test_prompt_excerpt_finds_the_question_in_common_templates(prompt):
    assert prompt_excerpt(prompt) == "原始词:高血压"


def test_prompt_excerpt_keeps_the_last_user_turn_and_cuts_long_text():
    prompt = "<|im_start|>user\n第一问<|im_end|>\n<|im_start|>assistant\n答<|im_end|>\n<|im_start|>user\n" + "咳" * 500
    excerpt = prompt_excerpt(prompt, width=50)
    assert excerpt == "咳" * 49 + "…"
