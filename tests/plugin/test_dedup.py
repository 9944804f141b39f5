"""Train/test deduplication: normalized prompts, option order, same items, augmented copies, counts, rejects."""

import csv
import json
import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from llamafactory_domains.plugin.dedup import (
    EXACT,
    NORMALIZED,
    SAME_ITEM,
    TestItems,
    normalized,
    prompt_key,
)
from llamafactory_domains.plugin.records import Example
from llamafactory_domains.plugin.run import COPY_REASON, Run

SEED_HEADER = ["专业", "题型", "题目内容", "题目依据条款", "选项", "正确答案"]


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def chip(path, records):
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def seed_csv(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([SEED_HEADER, *rows])
    return path


def question(text, options, answer, kind="单选题"):
    return ["变电专业", kind, text, "来自安规", ",".join(f"{k}. {v}" for k, v in options), answer]


def test_normalized_forms_are_equal():
    same = ["雷雨天气，需要巡视室外高压设备时，应穿（　　）。", "雷雨天氣,需要巡視室外高壓設備時,應穿( )。",
            "雷雨天气， 需要巡视室外高压设备时， 应穿____.", "雷雨天气、需要巡视室外高压设备时、应穿（）。"]
    assert len({normalized(text) for text in same}) == 1
    assert normalized("ＣＴ检查  100 mg") == normalized("CT检查 100 mg") != normalized("CT检查 1000 mg")
    assert normalized("《民法典》“第一条”") == normalized("「民法典」 \"第一条\"")
    assert normalized("头痛") != normalized("头疼")  # different words stay different


# the comparison form as it was first written: the noise deleted (normalized() now joins what it keeps)
NOISE = re.compile(r"[^\w+<>=±×÷≤≥%‰＋＜＞＝％]+|_+")


def deleting_noise(text):
    text = NOISE.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = NOISE.sub("", unicodedata.normalize("NFKC", text))
    return text


TEXTS = st.text(st.one_of(st.characters(), st.sampled_from("_＿ 　\n.．A-B+＋<>＝%‰×÷≤≥①²½ｍｇ頭痛醫院㎎")), max_size=60)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_the_kept_characters_are_what_deleting_the_noise_leaves(text):
    from llamafactory_domains.plugin.dedup import simplified

    assert normalized(text) == simplified(deleting_noise(text))


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXTS, max_size=5))
def test_an_option_free_prompt_skips_the_option_pattern_with_the_same_key(lines):
    from llamafactory_domains.plugin import dedup

    prompt = "\n".join(lines)
    expected = normalized(prompt) if not dedup._HAS_OPTION.search(prompt) else None
    if expected is not None:
        assert prompt_key(prompt) == expected


def test_option_lines_are_a_set_but_stay_in_place():
    a = "题头\n问题是？\nA. 甲\nB. 乙\nC. 丙\n请直接给出正确答案的字母。"
    assert prompt_key(a) == prompt_key("题头\n问题是？\nA. 丙\nB. 甲\nC. 乙\n请直接给出正确答案的字母。")
    assert prompt_key(a) != prompt_key("题头\n问题是？\nA. 甲\nB. 乙\nC. 丁\n请直接给出正确答案的字母。")
    assert prompt_key(a) != prompt_key("题头\n另一个问题？\nA. 甲\nB. 乙\nC. 丙\n请直接给出正确答案的字母。")


def test_test_items_say_why():
    test = TestItems()
    test.add(Example(instruction="参考法条：\n某条\n\n醉驾如何处罚？", output="处拘役。", dedup_key="醉驾如何处罚？\n处拘役。"))
    assert test and len(test) == 1
    assert test.match(Example(instruction="参考法条：\n某条\n\n醉驾如何处罚？", output="x")) == EXACT
    assert test.match(Example(instruction="参考法条:\n某條\n\n醉駕如何處罰?", output="x")) == NORMALIZED
    assert test.match(Example(instruction="醉驾如何处罚？", output="处拘役。", dedup_key="醉驾如何处罚？\n处拘役。")) == SAME_ITEM
    assert test.match(Example(instruction="醉驾如何处罚？", output="罚款。", dedup_key="醉驾如何处罚？\n罚款。")) is None
    assert TestItems().match(Example(instruction="x", output="y")) is None


class Copier:
    """A converter whose augment() makes one copy: the prompt with its last character dropped."""

    name, parallel, with_system, with_history = "copier", False, False, False

    def augment(self, example):
        return [Example(instruction=example.instruction[:-1], output=example.output)]


def test_augmented_copies_that_are_test_items_are_left_out(tmp_path):
    from llamafactory_domains.converters.base import Converter

    conv = type("C", (Copier, Converter), {})(None)
    run = Run(conv, "alpaca")
    test = TestItems()
    test.add(Example(instruction="问题一", output="答"))
    out = tmp_path / "train.jsonl"
    with out.open("w", encoding="utf-8") as handle:
        run.write_train(handle, [Example(instruction="问题一甲", output="答"), Example(instruction="问题二甲", output="答")], test)
    written = [r["instruction"] for r in lines(out)]
    assert written == ["问题一甲", "问题二甲", "问题二"]
    tally = run.tallies["train"]
    assert tally.written == 3 and tally.augmented == 1
    assert tally.skipped == {COPY_REASON.format(EXACT): 1}


def test_traditional_and_width_variants_of_test_prompts_leave_train(lfd, tmp_path):
    train = chip(tmp_path / "train.json", [
        {"text": "左膝退變伴游離體", "normalized_result": "膝骨关节病"},  # traditional
        {"text": "右側輸尿管結石", "normalized_result": "输尿管结石"},
        {"text": "糖尿病腎病", "normalized_result": "2型糖尿病性肾病"},
        {"text": "ＩｇＡ肾病", "normalized_result": "IgA肾病"},  # full width
        {"text": "IgA 肾病", "normalized_result": "IgA肾病"},  # a space
        {"text": "高血压", "normalized_result": "高血压"},  # exact
        {"text": "肺炎", "normalized_result": "肺炎"},  # kept
    ])
    test = chip(tmp_path / "dev.json", [
        {"text": "左膝退变伴游离体", "normalized_result": "膝骨关节病"}, {"text": "右侧输尿管结石", "normalized_result": "输尿管结石"},
        {"text": "糖尿病肾病", "normalized_result": "2型糖尿病性肾病"}, {"text": "IgA肾病", "normalized_result": "IgA肾病"},
        {"text": "高血压", "normalized_result": "高血压"}])
    out = tmp_path / "out"
    code, _, stderr = lfd("convert", "med_norm", train, "--test", test, "--out-dir", out)
    assert code == 0, stderr
    (kept,) = lines(out / "med_norm_train.jsonl")
    assert "原始词:肺炎\n" in kept["instruction"]
    assert f"skipped 1: {EXACT}" in stderr and f"skipped 5: {NORMALIZED}" in stderr


def test_a_question_with_its_options_reordered_is_the_same_question(lfd, tmp_path):
    options = [("A", "雨鞋"), ("B", "绝缘靴"), ("C", "橡胶鞋"), ("D", "绝缘鞋")]
    text = "雷雨天气，需要巡视室外高压设备时，应穿（　　）。"
    test = seed_csv(tmp_path / "test.csv", [question(text, options, "B. 绝缘靴")])
    reordered = [("A", "绝缘靴"), ("B", "橡胶鞋"), ("C", "雨鞋"), ("D", "绝缘鞋")]
    train = seed_csv(tmp_path / "train.csv", [
        question(text, reordered, "A. 绝缘靴"),
        question("雷雨天气,需要巡视室外高压设备时,应穿(  ).", [(k, v) for (k, _), (_, v) in zip(options, options[::-1])],
                 "C. 绝缘靴"),
        question("线路的停、送电均应按照（　　）的指令执行。", options, "A. 雨鞋")])
    out = tmp_path / "out"
    code, _, stderr = lfd("convert", "safety_exam", train, "--test", test, "--shuffle-options", "3", "--out-dir", out)
    assert code == 0, stderr
    kept = lines(out / "safety_exam_train.jsonl")
    assert {r["instruction"].split("\n")[1] for r in kept} == {"线路的停、送电均应按照___的指令执行。"}
    assert len(kept) == 4  # the one other question and its 3 reordered copies
    assert f"skipped 2: {NORMALIZED}" in stderr


def test_a_bank_listing_a_question_twice_does_not_leak_with_test_size(lfd, tmp_path):
    rows = [question(f"第{i}题：工作票应由（　　）签发。", [("A", f"甲{i}"), ("B", f"乙{i}")], "A") for i in range(30)]
    rows += [question(f"第{i}题：工作票应由（ ）签发。", [("A", f"乙{i}"), ("B", f"甲{i}")], "B") for i in range(30)]  # again
    src = seed_csv(tmp_path / "bank.csv", rows)
    out = tmp_path / "out"
    code, _, stderr = lfd("convert", "safety_exam", src, "--test-size", "10", "--shuffle-options", "1",
                          "--seed", "3", "--out-dir", out)
    assert code == 0, stderr
    test = {prompt_key(r["instruction"]) for r in lines(out / "safety_exam_test.jsonl")}
    train = lines(out / "safety_exam_train.jsonl")
    assert not [r for r in train if prompt_key(r["instruction"]) in test]
    held = {r["instruction"].split("\n")[1][:4] for r in lines(out / "safety_exam_test.jsonl")}
    assert not {r["instruction"].split("\n")[1][:4] for r in train} & held


def test_disc_law_pair_and_triplet_of_one_question_are_one_item(lfd, tmp_path):
    pair = tmp_path / "pair.jsonl"
    pair.write_text(json.dumps({"id": "pair_1", "input": "醉酒驾驶机动车应如何处罚？", "output": "构成危险驾驶罪，处拘役。"},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    triplet = tmp_path / "triplet.jsonl"
    triplet.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"id": "t1", "reference": ["《刑法》第一百三十三条之一：醉酒驾驶机动车的，处拘役。"],
         "input": "醉酒驾驶机动车应如何处罚？", "output": "构成危险驾驶罪，处拘役。"},
        {"id": "t2", "reference": ["《刑法》第一百三十三条之一"], "input": "醉酒驾驶机动车应如何处罚？", "output": "另一个回答。"},
    ]), encoding="utf-8")
    out = tmp_path / "out"
    code, _, stderr = lfd("convert", "disc_law", triplet, "--test", pair, "--out-dir", out, "--rejects", tmp_path / "r.jsonl")
    assert code == 0, stderr
    assert [r["output"] for r in lines(out / "disc_law_train.jsonl")] == ["另一个回答。"]
    assert f"skipped 1: {SAME_ITEM}" in stderr
    (reject,) = lines(tmp_path / "r.jsonl")
    assert reject["file"] == str(triplet) and reject["location"] == "line 1" and reject["record"]["id"] == "t1"


def test_rejects_of_test_items_name_file_location_and_record(lfd, tmp_path):
    train = chip(tmp_path / "train.json", [{"text": "房颤", "normalized_result": "心房颤动"},
                                           {"text": "高血压", "normalized_result": "高血压"}])
    test = chip(tmp_path / "dev.json", [{"text": "高血压", "normalized_result": "高血压"}])
    rejects = tmp_path / "rejects.jsonl"
    code, _, stderr = lfd("convert", "med_norm", train, "--test", test, "--out-dir", tmp_path / "out", "--rejects", rejects)
    assert code == 0, stderr
    (reject,) = lines(rejects)
    assert reject == {"split": "train", "file": str(train), "location": "record 1 (line 1)", "reason": EXACT,
                      "record": {"text": "高血压", "normalized_result": "高血压"}}


def test_limit_counts_what_is_written_after_deduplication(lfd, tmp_path):
    records = [{"text": f"原始词{i}", "normalized_result": "标准词"} for i in range(60)]
    records += [{"text": f"原始詞{i}", "normalized_result": "标准词"} for i in range(60)]  # the same in traditional
    src = chip(tmp_path / "all.json", records)
    outputs = []
    for run in range(2):
        out = tmp_path / f"out{run}"
        code, _, stderr = lfd("convert", "med_norm", src, "--test-size", "20", "--limit", "60", "--seed", "1",
                              "--out-dir", out)
        assert code == 0, stderr
        outputs.append((out / "med_norm_train.jsonl").read_bytes())
        assert "train: read 120, wrote 60 ->" in stderr, stderr
    assert outputs[0] == outputs[1]
    train = lines(tmp_path / "out0" / "med_norm_train.jsonl")
    test = {prompt_key(r["instruction"]) for r in lines(tmp_path / "out0" / "med_norm_test.jsonl")}
    assert len(train) == 60 and not [r for r in train if prompt_key(r["instruction"]) in test]
