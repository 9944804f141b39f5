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


ALPACA = {"formatting": "alpaca", "columns": {"prompt": "instruction", "query": "input", "response": "output"}}


def test_reordered_predictions_with_matching_labels_are_refused():
    """Two records share a label: swapping their predictions keeps every label right, but not the prompts."""
    from pathlib import Path

    from llamafactory_domains.plugin.predictions import attach_records

    records = [{"instruction": "原始词:", "input": q, "output": a}
               for q, a in [("房颤", "心房颤动"), ("心房纤颤", "心房颤动"), ("高血压", "高血压")]]
    items = [Prediction(chatml(f"原始词:\n{r['input']}"), r["output"], r["output"] + "\n", line=i)
             for i, r in enumerate(records, 1)]
    attach_records(items, Path("pred.jsonl"), records, ALPACA, Path("test.jsonl"))  # in order: fine
    items[0], items[1] = items[1], items[0]
    with pytest.raises(UserError) as raised:
        attach_records(items, Path("pred.jsonl"), records, ALPACA, Path("test.jsonl"))
    message = str(raised.value)
    assert message.startswith("pred.jsonl: line 2: the prompt does not hold the question of record 1 of test.jsonl")
    assert "it asks the question of record 2" in message and "\n" not in message


def test_prompt_checks_allow_placeholders_truncation_and_sharegpt():
    from llamafactory_domains.plugin.predictions import asks, question_of

    long_question = "问诊对话历史:\n患者:" + "宝宝拉稀三天了，" * 20
    assert asks(chatml(long_question[:100]), long_question)  # cut by cutoff_len
    assert not asks(chatml("问诊对话历史:\n患者:宝宝发烧"), long_question)
    assert asks("", "原始词:x") and asks("<|im_start|>…", "原始词:x")
    entry = {"formatting": "sharegpt", "columns": {"messages": "conversations"},
             "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}}
    record = {"conversations": [{"role": "user", "content": "一"}, {"role": "assistant", "content": "二"},
                                {"role": "user", "content": "欠款不还怎么办"}, {"role": "assistant", "content": "起诉"}]}
    assert question_of(record, entry) == "欠款不还怎么办"
    assert question_of({"instruction": "原始词:", "input": "房颤"}, ALPACA) == "原始词:\n房颤"


def test_a_question_that_starts_another_is_not_taken_for_it():
    """原始词:高血压 is inside the prompt of 原始词:高血压病: the prompt's last user turn decides."""
    from pathlib import Path

    from llamafactory_domains.plugin.predictions import attach_records

    records = [{"instruction": "原始词:", "input": q, "output": "高血压"} for q in ("高血压", "高血压病")]
    items = [Prediction(chatml(f"原始词:\n{r['input']}"), "高血压", "高血压\n", line=i) for i, r in enumerate(records, 1)]
    with pytest.raises(UserError, match=r"line 2: the prompt does not hold the question of record 1 .*record 2"):
        attach_records(items[::-1], Path("pred.jsonl"), records, ALPACA, Path("test.jsonl"))
