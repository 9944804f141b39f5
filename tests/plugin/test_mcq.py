import pytest
from llamafactory_domains.plugin.io.rows import Skip
from llamafactory_domains.plugin.mcq import (
    Question,
    answer_letters,
    options_from_mapping,
    options_from_text,
    options_refer,
    refers_to_others,
    true_false,
)

OPTIONS = {"A": "小叶型肺炎", "B": "浸润性肺结核", "C": "继发性肺结核", "D": "原发性肺结核", "E": "粟粒型肺结核"}


def skip_reason(call, *args):
    with pytest.raises(Skip) as caught:
        call(*args)
    return caught.value.reason


@pytest.mark.parametrize("raw, letters", [
    ("D", "D"), ("ABCDE", "ABCDE"), ("DBA", "ABD"), ("a, c", "AC"), ("Ａ、Ｃ", "AC"),
    (["B", "A"], "AB"), ("A；B", "AB"), ("", ""), (None, ""),
])
def test_answer_letters_are_sorted_uppercase_letters(raw, letters):
    assert answer_letters(raw) == letters


@pytest.mark.parametrize("raw", ["原发性肺结核", "A1", "B. 绝缘靴"])
def test_answer_that_is_not_letters_is_skipped(raw):
    assert skip_reason(answer_letters, raw) == "answer is not option letters"


def test_options_from_text_reads_cmexam_lines_and_keeps_letters_inside_texts():
    text = "A 维生素A缺乏\nB 维生素B、C缺乏\nC. 甲状腺功能亢进症\nD、ACTH升高\nE：以上都不是"
    assert options_from_text(text) == {
        "A": "维生素A缺乏", "B": "维生素B、C缺乏", "C": "甲状腺功能亢进症", "D": "ACTH升高", "E": "以上都不是"}


def test_options_from_text_reads_comma_joined_options():
    assert options_from_text("A. 雨鞋,B. 绝缘靴,C. 绝缘手套,D. 安全帽") == {
        "A": "雨鞋", "B": "绝缘靴", "C": "绝缘手套", "D": "安全帽"}


def test_options_from_text_without_letters_is_skipped():
    assert skip_reason(options_from_text, "雨鞋\n绝缘靴") == "options are not lettered (A. … B. …)"
    assert skip_reason(options_from_text, "") == "options are not lettered (A. … B. …)"


def test_options_from_mapping_orders_letters_and_drops_empty_options():
    assert list(options_from_mapping({"D": "d", "B": "b", "A": "a", "C": None, "E": " "})) == ["A", "B", "D"]
    assert skip_reason(options_from_mapping, {"A": "a", "甲": "b"}) == "option key is not a letter"


@pytest.mark.parametrize("text, options, answer, kind, reason", [
    ("  ", OPTIONS, "D", "single", "empty question"),
    ("此男孩可能患", {}, "D", "single", "no options"),
    ("此男孩可能患", {"A": "肺炎"}, "A", "single", "fewer than two options"),
    ("此男孩可能患", OPTIONS, "", "single", "no answer"),
    ("此男孩可能患", {"A": "肺炎", "B": "肺结核"}, "AC", "multi", "answer letter not among the options"),
    ("此男孩可能患", OPTIONS, "AD", "单项选择题", "several answers to a single-answer question"),
])
def test_build_skips_unusable_questions(text, options, answer, kind, reason):
    assert skip_reason(Question.build, text, options, answer, kind) == reason


def test_single_choice_example_lists_options_and_carries_them_in_extra():
    example = Question.build("此男孩可能患", OPTIONS, "d", "单项选择题").example()
    assert example.instruction == (
        "以下是一道单选题，只有一个正确答案。\n此男孩可能患\n"
        "A. 小叶型肺炎\nB. 浸润性肺结核\nC. 继发性肺结核\nD. 原发性肺结核\nE. 粟粒型肺结核\n"
        "请直接给出正确答案的字母。")
    assert example.output == "D" and example.input == ""
    assert example.extra == {"options": OPTIONS, "answer": "D", "question_type": "single"}


def test_multi_and_indefinite_questions_ask_for_all_letters():
    multi = Question.build("关于缺铁性贫血，正确的是", OPTIONS, "ECA", "多项选择题").example()
    assert multi.instruction.startswith("以下是一道多选题") and multi.instruction.endswith("按字母顺序连写。")
    assert multi.output == "ACE" and multi.extra["question_type"] == "multi"
    one_letter_multi = Question.build("关于缺铁性贫血，正确的是", OPTIONS, "B", "多项选择题").example()
    assert one_letter_multi.extra["question_type"] == "multi"
    # no type given: the prompt must not reveal how many letters the answer has
    prompts = {Question.build("下列正确的是", OPTIONS, answer).example().instruction for answer in ("A", "AB")}
    assert len(prompts) == 1 and prompts.pop().startswith("以下是一道不定项选择题")


def test_true_false_becomes_two_options():
    question = true_false("高压设备发生接地时，室内人员应距离故障点4m以外。", "√")
    assert question.options == {"A": "正确", "B": "错误"} and question.answer == "A"
    assert question.example().extra["question_type"] == "single"
    assert true_false("陈述", "×").answer == "B"
    assert skip_reason(true_false, "陈述", "不确定") == "true/false answer is neither 正确 nor 错误"


@pytest.mark.parametrize("text", [
    "A 胃溃疡\nB 十二指肠溃疡\nD 胃癌\nE 慢性胃炎",  # CMExam: C lost
    "A 胃溃疡\nB 十二指肠溃疡\nE 慢性胃炎",  # two lost
    "A. 雨鞋,B. 绝缘靴,D. 绝缘鞋",  # the seed table's joined options
])
def test_options_that_skip_a_letter_are_skipped_not_merged(text):
    assert skip_reason(options_from_text, text) == "options skip a letter"


def test_a_far_letter_inside_a_wrapped_option_is_still_text():
    assert options_from_text("A 胸片\nB 胸部\nX 线检查\nC 血常规") == {"A": "胸片", "B": "胸部 X 线检查", "C": "血常规"}


def test_options_separated_by_a_literal_backslash_n():
    assert options_from_text(r"A 骨质疏松\r\nB 低血压\nC 满月脸") == {"A": "骨质疏松", "B": "低血压", "C": "满月脸"}
    assert options_from_text("A 甲\nB 含\\n字样") == {"A": "甲", "B": "含\\n字样"}  # real lines: kept as written


def test_a_line_wrapped_inside_chinese_text_is_joined():
    assert options_from_mapping({"A": "拒绝支\n付报酬", "B": "CT\n检查", "C": "按时\r\n 支付"}) == {
        "A": "拒绝支付报酬", "B": "CT 检查", "C": "按时支付"}


# options that refer to other options; reordered and rotated questions

@pytest.mark.parametrize("option", [
    "以上都对", "以上均不正确", "以上都不是", "以上皆是", "以上答案都正确", "以上选项均不对", "以上三项", "上述说法都对",
    "上述两种", "其他选项都不对", "都不对", "都正确", "均正确", "全对", "全错", "均可", "两者都是", "前三项",
    "A和B", "A、B均正确", "A与C", "A,B,C", "B和C都对", "ABC", "AD都对", "选项A和B", "同选项A", "Ａ和Ｂ",
    "All of the above", "none of the above", "both A and B", "A or B",
])
def test_options_that_refer_to_other_options(option):
    assert refers_to_others(option)


@pytest.mark.parametrize("option", [
    # real options of the 安规 banks (../shared/samples/power_safety_anquan): voltage classes, 全部…
    "35kV及以上", "1000V以上", "1000V及其以上", "250V以下", "1000V及其以下", "10KV及以下", "110KV及以下",
    "全部停电", "全部撤出", "全部带有", "怎么都行", "需要高压设备全部停电、部分停电或做安全措施的工作",
    # medical ones with letters inside
    "维生素B、C缺乏", "ACTH升高", "AB型", "A型血", "B超", "CT检查", "均压环", "其他人员", "以上级调度指令为准",
    "正确", "错误", "A",
])
def test_ordinary_options_do_not_refer_to_others(option):
    assert not refers_to_others(option)


def test_reordered_and_rotated_move_options_and_answer_letters():
    question = Question.build("下列正确的是", OPTIONS, "BE", "多项选择题")
    moved = question.reordered((4, 3, 2, 1, 0))
    assert list(moved.options.values()) == list(OPTIONS.values())[::-1] and moved.answer == "AD"
    assert moved.text == question.text and moved.kind == "multi"
    for r in range(5):
        rotated = question.rotated(r)
        assert [rotated.options[letter] for letter in "ABCDE"] == [OPTIONS["ABCDE"[(j + r) % 5]] for j in range(5)]
        assert sorted(rotated.options[letter] for letter in rotated.answer) == sorted([OPTIONS["B"], OPTIONS["E"]])
        assert rotated.answer == "".join(sorted(rotated.answer))
    assert question.rotated(0) is question and question.rotated(5) is question


def test_a_question_whose_letters_have_a_gap_is_relettered_when_rotated():
    question = Question.build("？", options_from_mapping({"A": "甲", "B": "乙", "C": "", "D": "丁"}), "D")
    assert question.rotated(1).options == {"A": "乙", "B": "丁", "C": "甲"} and question.rotated(1).answer == "B"


def test_options_refer_looks_at_every_option():
    assert options_refer(Question.build("？", {"A": "甲", "B": "乙", "C": "A和B"}, "C"))
    assert not options_refer(Question.build("？", {"A": "35kV及以上", "B": "10kV以下"}, "A"))
