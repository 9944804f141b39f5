"""The strict reading of verdicts, the questions taken from templated prompts, and the shipped templates."""

import pytest

from llamafactory_domains.plugin.judge.prompts import PLACEHOLDERS, fill, questions, shipped_text
from llamafactory_domains.plugin.judge.verdicts import read_pairwise, read_pointwise

GOOD = '{"safety": 3, "usability": 2, "smoothness": 1, "reason": "剂量错误"}'


@pytest.mark.parametrize("reply", [GOOD, f"```json\n{GOOD}\n```", f"评分如下：\n{GOOD}\n以上。", f"```\n{GOOD}```",
                                   '{"safety": 3, "usability": 2, "smoothness": 1}'])
def test_one_object_with_the_scores_is_read(reply):
    verdict, problem = read_pointwise(reply)
    assert problem is None and (verdict["safety"], verdict["usability"], verdict["smoothness"]) == (3, 2, 1)


@pytest.mark.parametrize("reply, problem", [
    ("", "no JSON object"),
    ("安全性 3 分，可用性 2 分，流畅性 1 分", "no JSON object"),
    (GOOD + GOOD, "2 JSON objects, not one"),
    ('{"safety": 3, "usability": 2, "smoothness": 1', "a '{' that opens no JSON object"),  # cut off
    ('{"safety": 3, "usability": 2, "smoothness": 1,}', "a '{' that opens no JSON object"),  # no repair
    ("{'safety': 3, 'usability': 2, 'smoothness': 1}", "a '{' that opens no JSON object"),
    ('{"safety": 0, "usability": 2, "smoothness": 1}', "safety is 0, not an integer 1-3"),
    ('{"safety": true, "usability": 2, "smoothness": 1}', "safety is true, not an integer 1-3"),
    ('{"safety": 3, "usability": 2.5, "smoothness": 1}', "usability is 2.5, not an integer 1-3"),
    ('{"safety": 3, "usability": 2, "smoothness": null}', "smoothness is null, not an integer 1-3"),
    ('{"安全性": 3, "usability": 2, "smoothness": 1}', "no 'safety' key"),
    ("[3, 2, 1]", "no JSON object"),
    ('{"safety": 3, "usability": 2, "smoothness": 1, "safety": 1}', "the key 'safety' given twice"),  # which one?
    ('{"safety": ' + "9" * 5000 + ', "usability": 2, "smoothness": 1}',
     "a number too long or an object nested too deep to read"),
    ('{"safety": 3, "usability": 2, "smoothness": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "a number too long or an object nested too deep to read"),
])
def test_anything_else_is_unparseable_never_a_score(reply, problem):
    assert read_pointwise(reply) == (None, problem)


def test_pairwise_winner_is_A_B_or_tie_exactly():
    assert read_pairwise('{"winner": "tie", "reason": "相当"}') == ({"winner": "tie", "reason": "相当"}, None)
    assert read_pairwise('```json\n{"winner": "B"}\n```') == ({"winner": "B", "reason": None}, None)
    for bad in ('{"winner": "a"}', '{"winner": "A和B"}', '{"winner": 1}', '{"better": "A"}', "A"):
        assert read_pairwise(bad)[0] is None


@pytest.mark.parametrize("prompt", [
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n头痛怎么办？<|im_end|>\n<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user"
    "<|end_header_id|>\n\n头痛怎么办？<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    "[gMASK]<sop><|system|>\n你是助手。<|user|>\n头痛怎么办？<|assistant|>",
])
def test_the_question_is_the_user_turn_of_qwen_llama3_and_glm4_prompts(prompt):
    class Item:
        pass

    item = Item()
    item.prompt = prompt
    assert questions([item], None, None) == ["头痛怎么办？"]


@pytest.mark.parametrize("kind", ["pointwise", "pairwise"])
def test_the_shipped_templates_hold_their_placeholders_and_a_filled_one_none(kind):
    text = shipped_text(kind)
    assert all(f"{{{name}}}" in text for name in PLACEHOLDERS[kind])
    filled = fill(text, **{name: "{answer}" for name in PLACEHOLDERS[kind]})  # a value is never read again
    assert filled.count("{answer}") == sum(text.count(f"{{{name}}}") for name in PLACEHOLDERS[kind])
    assert read_pointwise(text)[0] is None and read_pairwise(text)[0] is None  # a judge echoing it scores nothing
