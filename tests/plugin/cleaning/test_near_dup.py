"""Near-duplicates: a one-character edit caught, a different question not, the first record kept, reruns equal."""

import json

import pytest
from llamafactory_domains.plugin.cleaning.near_dup import NearDup, compared_text, layout, shingles, template_shingles

ANSWER = ("高血压患者可以适量用党参泡水，党参有一定的降压作用，但不能代替降压药。"
          "请继续按时服用医生开的药，每天早晚各测一次血压，如有头晕、胸闷要及时就医。")
QUESTION = "高血压患者能吃党参吗？我有高血压，女婿拿了些党参泡水喝。"


def alpaca(question, answer=ANSWER):
    return {"instruction": question, "input": "", "output": answer}


def edits(text):
    """Every one-character substitution of ``text``'s Chinese characters (with 药)."""
    return [text[:i] + "药" + text[i + 1:] for i, ch in enumerate(text) if "\u4e00" <= ch <= "\u9fff" and ch != "药"]


def test_every_one_character_edit_is_caught_and_names_the_first_line():
    """82 shingles, 3 changed by one edit: a similarity of 0.93, estimated within about ±0.03 (0.85 is safe)."""
    for edited in edits(ANSWER):
        stage = NearDup(0.85)
        assert stage.check(1, alpaca(QUESTION)) is None
        assert stage.check(2, alpaca(QUESTION, edited)) == 1, edited
    stage = NearDup(0.85)
    assert [stage.check(line, alpaca(QUESTION, ANSWER[:-1] + ch)) for line, ch in enumerate("。！？.", 1)] == [None, 1, 1, 1]


def test_a_different_question_or_a_different_answer_is_no_near_duplicate():
    stage = NearDup(0.85)
    assert stage.check(1, alpaca(QUESTION)) is None
    assert stage.check(2, alpaca("糖尿病患者能吃西瓜吗？", "可以少量吃，西瓜含糖量不高，但要计入每天的总热量，注意监测血糖。")) is None
    assert stage.check(3, alpaca("糖尿病患者能吃党参吗？我有糖尿病，女婿拿了些党参泡水喝。", "糖尿病患者一般可以适量服用党参，"
                                 "但党参含糖，服用后要监测血糖，最好在医生指导下使用，不能代替降糖药。")) is None
    assert len(stage) == 3


def test_normalized_forms_are_duplicates_and_the_system_prompt_is_not_compared():
    stage = NearDup(0.95)
    assert stage.check(1, {**alpaca(QUESTION), "system": "你是医生"}) is None
    traditional = {"instruction": "高血壓患者能吃黨參嗎? 我有高血壓，女婿拿了些黨參泡水喝", "input": "", "output": ANSWER,
                   "system": "你是一名经验丰富的心内科医生，回答要专业"}
    assert stage.check(7, traditional) == 1
    assert compared_text({"conversations": [{"from": "system", "value": "系统"}, {"from": "human", "value": "问"},
                                            {"from": "gpt", "value": "答"}]}) == "问答"


def test_the_earliest_of_several_matches_is_named_and_duplicates_do_not_join_the_index():
    stage = NearDup(0.85)
    assert stage.check(5, alpaca(QUESTION)) is None
    assert stage.check(9, alpaca(QUESTION, ANSWER.replace("党参泡水", "党参煮水"))) in (5, None)
    assert stage.check(12, alpaca(QUESTION, ANSWER.replace("胸闷", "胸痛"))) == 5
    assert len(stage) <= 2


def test_the_same_records_give_the_same_answers_in_every_run():
    records = [alpaca(QUESTION, edited) for edited in edits(ANSWER)[:40]] + [alpaca(f"问题{i}", f"回答{i}" * 20) for i in range(40)]

    def answers(seed):
        stage = NearDup(0.9, seed=seed)
        return [stage.check(line, json.loads(json.dumps(r))) for line, r in enumerate(records, 1)]

    first = answers(1)
    assert first == answers(1) and first[0] is None and first[40:] == [None] * 40
    assert all(kept is None or kept < line for line, kept in enumerate(first, 1))
    assert sum(kept is not None for kept in first[:40]) >= 10  # two edits apart: a similarity of about 0.86


def test_short_and_empty_texts():
    assert shingles("") == set() and len(shingles("头痛")) == 1
    stage = NearDup(0.9)
    assert stage.check(1, alpaca("", "")) is None and stage.check(2, alpaca("", "")) is None and len(stage) == 0
    assert stage.check(3, alpaca("头痛", "")) is None and stage.check(4, alpaca("頭痛？", "")) == 3


def test_bad_thresholds_and_the_band_layout():
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError):
            NearDup(bad)
    for threshold in (0.5, 0.8, 0.9, 0.95):
        bands, rows = layout(threshold, 128)
        assert bands * rows <= 128 and 1 - (1 - threshold ** rows) ** bands >= 0.99


def test_a_shared_instruction_template_does_not_make_different_terms_near_duplicates():
    head = "你是一个医疗专家,你的任务是临床术语标准化。请给出下面原始词对应的标准术语(ICD-10 北京临床版),有多个标准术语时用##连接。\n原始词:"
    terms = [("肺结节", "肺结节病"), ("肺结核", "肺结核"), ("左膝退变伴游离体", "膝骨关节病##膝关节游离体"),
             ("右侧输尿管结石", "输尿管结石"), ("糖尿病肾病", "2型糖尿病性肾病"), ("高血压3级", "高血压")]
    records = [{"instruction": f"{head}{term}\n该词的标准术语为:", "input": "", "output": answer} for term, answer in terms]
    plain = NearDup(0.85)
    assert [plain.check(line, r) for line, r in enumerate(records, 1)][1] == 1  # the template alone looks alike
    stage = NearDup(0.9, ignore=template_shingles(records))
    assert [stage.check(line, r) for line, r in enumerate(records, 1)] == [None] * len(records)
    assert stage.check(7, {**records[2], "instruction": records[2]["instruction"].replace(":", "：")}) == 3


def test_a_record_made_only_of_template_pieces_still_has_its_copies_found():
    # short answers built from the same few phrases: every 3-character piece is common, nothing would be left
    phrases = ("您好，", "建议到医院做检查，", "注意休息，", "多喝水，", "饮食清淡。")
    records = [{"instruction": "医生您好，请问怎么办？", "output": "".join(phrases[i % 5:] + phrases[:i % 5])}
               for i in range(40)]
    common = template_shingles(records, minimum=2)
    assert not shingles(compared_text(records[0])) - common
    stage = NearDup(0.9, ignore=common)
    lines = [stage.check(line, record) for line, record in enumerate(records, 1)]
    assert lines[:5] == [None] * 5 and lines[5:] == [1, 2, 3, 4, 5] * 7
