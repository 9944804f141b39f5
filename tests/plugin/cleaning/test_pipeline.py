"""The per-record cleaner every converter can call: privacy, junk and length in one pass, on the three formats."""

import pytest
from llamafactory_domains.plugin.cleaning.length import Length
from llamafactory_domains.plugin.cleaning.pipeline import RULES, Cleaner, Options


def test_alpaca_sharegpt_and_openai_records_are_cleaned_in_every_text():
    cleaner = Cleaner()
    alpaca = {"instruction": "头痛怎么办？？？", "input": "电话13812345678\u200b", "output": "多休息！！<br>多喝水。",
              "system": "你是医生", "history": [["在吗<p>", "在的，点击咨询"]], "lfd_id": "x1"}
    result = cleaner.clean(alpaca)
    assert result.records == [{"instruction": "头痛怎么办？", "input": "电话[电话]", "output": "多休息！\n多喝水。",
                               "system": "你是医生", "history": [["在吗", "在的"]], "lfd_id": "x1"}]
    assert result.counts == {"punct": 2, "privacy:电话": 1, "zero_width": 1, "html": 2, "ads": 1}
    assert result.dropped is None and [(field, span.type) for field, span in result.spans] == [("input", "电话")]
    sharegpt = {"conversations": [{"from": "human", "value": "www.a.com 头痛"}, {"from": "gpt", "value": "多休息&nbsp;。"}]}
    assert cleaner.clean(sharegpt).records[0]["conversations"][1]["value"] == "多休息 。"
    openai = {"messages": [{"role": "user", "content": "头痛\x00"}, {"role": "assistant", "content": "多休息。。。"}]}
    result = cleaner.clean(openai)
    assert [m["content"] for m in result.records[0]["messages"]] == ["头痛", "多休息。"]
    assert result.counts == {"control": 1, "punct": 1}


@pytest.mark.parametrize("record, rule", [
    ({"instruction": "头痛怎么办", "output": "略"}, "empty_answer"),
    ({"instruction": "头痛怎么办", "output": "点击咨询"}, "empty_answer"),  # empty once the ad is gone
    ({"conversations": [{"from": "human", "value": "在吗"}, {"from": "gpt", "value": ""},
                        {"from": "human", "value": "头痛"}, {"from": "gpt", "value": "多休息"}]}, "empty_answer"),
    ({"messages": [{"role": "user", "content": "头痛怎么办？"}, {"role": "assistant", "content": "头痛怎么办"}]},
     "echo_answer"),
])
def test_record_rules_drop_with_a_reason(record, rule):
    result = Cleaner().clean(record)
    assert result.records == [] and result.dropped == rule and result.reason
    assert Cleaner(Options(rules=frozenset(RULES) - {rule})).clean(record).records != []


def test_rules_switched_off_leave_the_text_as_it_was():
    record = {"instruction": "电话13812345678！！！", "input": "", "output": "好<br>"}
    result = Cleaner(Options(rules=frozenset({"html"}))).clean(dict(record))
    assert result.records == [{**record, "output": "好"}] and result.counts == {"html": 1} and result.spans == []
    with pytest.raises(ValueError, match="unknown rule"):
        Cleaner(Options(rules=frozenset({"html", "spam"})))
    with pytest.raises(ValueError, match="neither an alpaca"):
        Cleaner().clean({"question": "头痛"})


def test_the_length_rule_runs_last_on_the_cleaned_text():
    length = Length(lambda record: len(record["output"]), 8, "truncate")
    result = Cleaner(Options(length=length)).clean({"instruction": "q", "output": "多喝水！！！！！！多休息。按时吃药。"})
    assert result.records == [{"instruction": "q", "output": "多喝水！多休息。"}]
    assert result.counts == {"punct": 1, "over_long": 1, "truncated": 1}
    dropped = Cleaner(Options(length=Length(lambda record: 99, 8, "drop"))).clean({"instruction": "q", "output": "答"})
    assert dropped.records == [] and dropped.dropped == "too_long"


def test_personal_data_hidden_by_junk_is_masked_after_the_junk_is_gone():
    result = Cleaner().clean({"instruction": "我的电话138<b>1234</b>5678，患者<b>王建国</b>", "output": "好的。"})
    assert result.records == [{"instruction": "我的电话[电话]，患者[姓名]", "output": "好的。"}]
    assert result.counts["privacy:电话"] == result.counts["privacy:姓名"] == 1
    assert [(field, span.type, span.text) for field, span in result.spans] == [
        ("instruction (after cleaning)", "电话", "13812345678"), ("instruction (after cleaning)", "姓名", "王建国")]


def test_a_number_split_by_zero_width_characters_is_masked_with_or_without_the_zero_width_rule():
    result = Cleaner().clean({"instruction": "我的电话138\u200b12345678，患者王\u200b建国", "output": "好的。"})
    assert result.records == [{"instruction": "我的电话[电话]，患者[姓名]", "output": "好的。"}]
    assert [(field, span.type, span.text) for field, span in result.spans] == [
        ("instruction", "电话", "138\u200b12345678"), ("instruction", "姓名", "王\u200b建国")]
    only_privacy = Cleaner(Options(rules=frozenset({"privacy"}))).clean(
        {"instruction": "电话138\u200b12345678\u200b。", "output": "好"})
    assert only_privacy.records[0]["instruction"] == "电话[电话]\u200b。"  # no junk rule: the rest stays as read
    assert only_privacy.counts == {"privacy:电话": 1}
