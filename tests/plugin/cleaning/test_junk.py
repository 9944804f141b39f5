"""The junk rules: what each text rule removes (and counts), what it leaves alone (medical text), the record rules."""

import pytest
from llamafactory_domains.plugin.cleaning.junk import TEXT_RULES, clean_text, echoes, placeholder

MEDICAL = [
    "血压140/90mmHg，每日3次！",
    "……",
    "1. 多喝温水；\n2. 物理降温；\n3. 体温超过38.5℃时服用布洛芬。",
    "收缩压<140mmHg且舒张压>90mmHg时，需复查。",
    "白细胞12.5×10^9/L，C反应蛋白升高——考虑细菌感染。",
    "建议到医院就诊咨询医生，必要时拨打120。",
    "用法：每次5-10mg/kg，q8h，必要时~每日4次。",
    "患者自述“头痛！”，伴恶心。\t无呕吐。",
    "Hb 90 g/L; PLT 100x10^9/L (low?)",
    "可拨打12320免费咨询卫生政策。",
]


@pytest.mark.parametrize("text", MEDICAL)
def test_medical_text_is_left_alone_by_every_junk_rule(text):
    assert clean_text(text) == (text, {})


@pytest.mark.parametrize("rule, text, cleaned, count", [
    ("control", "发热\x00三天\r\n伴咳嗽\x1b\r腹泻\x7f", "发热三天\n伴咳嗽\n腹泻", 5),
    ("zero_width", "\ufeff头\u200b痛\u200c\u200d\u2060", "头痛", 5),
    ("html", "<p>多喝水</p><br/>注意&nbsp;休息&amp;饮食<span style=\"color:red\">！</span><!-- ad -->",
     "多喝水\n\n注意 休息&饮食！", 8),
    ("punct", "疼吗？？？疼！！！！嗯。。。。好，，，ok!!!真的??", "疼吗？疼！嗯。好，ok!真的?", 6),
    ("url", "详见https://www.a.com/x?id=1&b=2，或www.b.cn/p。", "详见，或。", 2),
    ("ads", "建议就医。点击咨询，微信同号：[电话]；加微信abc12345，咨询热线：400-123-4567。", "建议就医。", 4),
])
def test_each_text_rule_changes_and_counts(rule, text, cleaned, count):
    assert clean_text(text, rules=(rule,)) == (cleaned, {rule: count})


def test_a_rule_switched_off_changes_nothing():
    text = "多喝水！！！<br>\u200b"
    assert clean_text(text, rules=()) == (text, {})
    assert clean_text(text, rules=tuple(r for r in TEXT_RULES if r != "punct")) == ("多喝水！！！", {"zero_width": 1,
                                                                                                   "html": 1})


def test_a_dangling_comma_left_by_an_ad_goes_but_the_sentence_stays():
    assert clean_text("感冒期间饮酒会加重症状，扫码关注我们的公众号，了解更多。") == ("感冒期间饮酒会加重症状，了解更多。", {"ads": 1})
    assert clean_text("建议尽早就医，点击咨询。")[0] == "建议尽早就医。"


def test_html_lookalikes_in_medical_text_are_no_tags():
    for text in ("血压<140/90", "a<b 且 c>d", "x<y and z>w", "&amp 不是实体", "<体温>"):
        assert clean_text(text, rules=("html",)) == (text, {})


@pytest.mark.parametrize("answer", ["", "  ", "。", "…", "……", "无", "暂无", "略", "同上", "见图", "N/A", "n/a", "无。", "NULL"])
def test_placeholder_answers(answer):
    assert placeholder(answer)


@pytest.mark.parametrize("answer", ["无明显异常", "0", "不", "A", "是", "略高于正常值"])
def test_short_real_answers_are_no_placeholders(answer):
    assert not placeholder(answer)


def test_echoed_questions():
    assert echoes("高血压患者能吃党参吗？", "高血压患者能吃党参吗")
    assert echoes("小儿肥胖超重该如何治疗", "请问：小儿肥胖超重该如何治疗。")
    assert echoes("頭痛怎麼辦", "头痛怎么办？")  # normalized: traditional -> simplified
    assert not echoes("B", "雷雨天气应穿（　　）。\nA. 雨鞋\nB. 绝缘靴")
    assert not echoes("输尿管结石", "原始词：右侧输尿管结石")
    assert not echoes("多休息", "头痛怎么办")
    assert not echoes("", "头痛怎么办")
