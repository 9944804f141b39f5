import argparse

import pytest
from llamafactory_domains.plugin.circular import (
    NOT_CHOICE_REASON,
    POSITIONAL_REASON,
    circular_count,
    circular_examples,
    circular_variants,
    refuse_one_rotation,
)
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.mcq import Question, true_false, with_question
from llamafactory_domains.plugin.records import Example

FIVE = {"A": "甲", "B": "乙", "C": "丙", "D": "丁", "E": "戊"}


def orders(question, k):
    return [(v.rotation, v.order, v.question.answer) for v in circular_variants(question, k)]


def test_rotations_up_to_k_or_all_and_at_most_one_per_option():
    question = Question.build("？", FIVE, "B")
    assert orders(question, 2) == [(0, "ABCDE", "B"), (1, "BCDEA", "A")]
    assert [rotation for rotation, _, _ in orders(question, "all")] == [0, 1, 2, 3, 4]
    assert orders(question, 9) == orders(question, "all")
    assert orders(question, "all")[3] == (3, "DEABC", "D")


def test_rotation_zero_is_the_question_itself():
    question = Question.build("？", FIVE, "AC", "multi")
    assert circular_variants(question, 3)[0].question is question


def test_a_rotation_showing_the_same_options_as_an_earlier_one_is_dropped():
    question = Question.build("？", {"A": "甲", "B": "乙", "C": "甲", "D": "乙"}, "AC", "multi")
    assert orders(question, "all") == [(0, "ABCD", "AC"), (1, "BCDA", "BD")]
    same = Question.build("？", {"A": "甲", "B": "甲"}, "A")
    assert orders(same, "all") == [(0, "AB", "A")]


def test_a_judge_question_keeps_both_orders():
    for word, answers in (("对", ["A", "B"]), ("错", ["B", "A"])):
        variants = circular_variants(true_false("可以兼任。", word), 2)
        assert [v.question.options for v in variants] == [{"A": "正确", "B": "错误"}, {"A": "错误", "B": "正确"}]
        assert [v.question.answer for v in variants] == answers


def test_multiple_select_rotates_too():
    question = Question.build("？", {"A": "甲", "B": "乙", "C": "丙", "D": "丁"}, "AD", "multi")
    assert [answer for _, _, answer in orders(question, "all")] == ["AD", "CD", "BC", "AB"]


def test_a_question_whose_options_refer_to_others_keeps_rotation_zero_only():
    question = Question.build("？", {"A": "甲", "B": "乙", "C": "以上都对"}, "C")
    made, reason = circular_examples(with_question(question.example(), question), Question.example, "all", 3)
    assert reason == POSITIONAL_REASON and len(made) == 1
    assert made[0].extra["circular"] == {"question": 3, "rotation": 0, "order": "ABC", "rotations": 1}
    assert made[0].instruction == question.example().instruction


def test_ordinary_voltage_options_are_rotated():
    question = Question.build("？", {"A": "35kV及以上", "B": "10kV", "C": "1000V以上"}, "A")
    made, reason = circular_examples(with_question(question.example(), question), Question.example, "all", 1)
    assert reason is None and len(made) == 3


def test_an_example_without_a_question_is_not_a_choice_question():
    assert circular_examples(Example("请写出___。", "安全"), Question.example, 2, 1) == ([], NOT_CHOICE_REASON)


def test_each_variant_carries_rotated_options_answer_and_its_place():
    question = Question.build("？", {"A": "甲", "B": "乙", "C": "丙"}, "C")
    made, _ = circular_examples(with_question(question.example(), question), Question.example, "all", 5)
    assert [m.extra["options"] for m in made] == [{"A": "甲", "B": "乙", "C": "丙"}, {"A": "乙", "B": "丙", "C": "甲"},
                                                  {"A": "丙", "B": "甲", "C": "乙"}]
    assert [(m.extra["answer"], m.output) for m in made] == [("C", "C"), ("B", "B"), ("A", "A")]
    assert [m.extra["circular"] for m in made] == [
        {"question": 5, "rotation": r, "order": order, "rotations": 3} for r, order in enumerate(["ABC", "BCA", "CAB"])]
    assert {m.extra["question_type"] for m in made} == {"single"}


@pytest.mark.parametrize("text, value", [("2", 2), ("10", 10), ("all", "all"), ("All", "all"), ("1", 1)])
def test_circular_count(text, value):
    assert circular_count(text) == value


@pytest.mark.parametrize("text", ["0", "-2", "two", "", "2.5"])
def test_circular_count_refuses_what_is_no_count(text):
    with pytest.raises(argparse.ArgumentTypeError):
        circular_count(text)


def test_one_rotation_is_refused():
    with pytest.raises(UserError, match="--circular 1"):
        refuse_one_rotation(1)
    refuse_one_rotation(2)
    refuse_one_rotation("all")
    refuse_one_rotation(None)
