import csv
import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "samples"
INDEFINITE = "以下是一道不定项选择题，正确答案可能有一个或多个。"
ASK_ALL = "请直接给出所有正确答案的字母，按字母顺序连写。"
JEC = {"answer": ["B", "A"], "id": "3_8132",
       "option_list": {"A": "化肥厂依法可以向该市政府申请行政复议", "B": "化肥厂依法可以向甲区政府提出行政复议申请",
                       "C": "对复议决定不服的，依法可以申请国务院作出最终裁决", "D": "该市土地局依法应将该复议申请转送给该市政府"},
       "statement": "甲区环保局和乙区土地局以共同名义对化肥厂作出罚款3万元的处罚决定。下列哪项说法正确?",
       "subject": "行政法与行政诉讼法", "type": "1"}
DISC_HEADER = ["input", "output", "A", "B", "C", "D", "source", "multichoice"]
SOURCE = "2018 national judical examination"


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def disc_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(DISC_HEADER)
        writer.writerows(rows)
    return path


def test_jec_qa_jsonl_as_indefinite_questions(lfd, tmp_path):
    single = {k: v for k, v in JEC.items() if k != "subject"} | {"answer": ["C"], "id": "4_2476"}
    src = jsonl(tmp_path / "0_train.json", [  # JEC-QA's .json files are JSONL
        JEC, single, JEC | {"answer": ["E"]}, JEC | {"answer": []}, JEC | {"statement": ""}])
    code, _, err = lfd("convert", "law_mcq", src, "--out-dir", tmp_path)
    assert code == 0, err
    multi, one = lines(tmp_path / "law_mcq_train.jsonl")
    assert multi == {
        "instruction": "\n".join([INDEFINITE, JEC["statement"], *(f"{k}. {v}" for k, v in JEC["option_list"].items()),
                                  ASK_ALL]),
        "input": "", "output": "AB", "options": JEC["option_list"], "answer": "AB", "question_type": "multi"}
    # the prompt does not reveal the answer count; the record's question_type does, for scoring
    assert one["instruction"].startswith(INDEFINITE) and (one["output"], one["question_type"]) == ("C", "single")
    for reason in ("answer letter not among the options", "no answer", "empty question"):
        assert f"skipped 1: {reason}" in err


def test_jec_qa_test_file_without_answers_is_refused(lfd, tmp_path):
    train = jsonl(tmp_path / "0_train.json", [JEC])
    test = jsonl(tmp_path / "0_test.json", [{k: v for k, v in JEC.items() if k != "answer"}] * 2)
    code, _, err = lfd("convert", "law_mcq", train, "--test", test, "--out-dir", tmp_path)
    assert code == 1 and "0_test.json: line 1: JEC-QA record without an answer" in err and "--test-size" in err


def test_disc_law_eval_single_and_multi_csvs_with_a_test_split(lfd, tmp_path):
    single = disc_csv(tmp_path / "DISC-Law-Eval_mcq_sing_nje.csv", [
        ["关于马锡五审判，以下哪一说法是错误的？\n", "D", "群众不能理解的判决，很难具有公信力", "司法裁判要坚持走群众路线",
         "马锡五知民情知民意", "只要群众满意，不必恪守法律", SOURCE, "False"],
        ["单选却有两个答案？\n", "AB", "甲", "乙", "丙", "丁", SOURCE, "False"],
    ])
    multi = disc_csv(tmp_path / "DISC-Law-Eval_mcq_mult_nje.csv", [
        ["下列属于国家赔偿范围的是？\n", "ACD", "医疗费", "未成年子女生活费", "残疾生活辅助具费", "残疾赔偿金", SOURCE, "True"],
    ])
    code, _, err = lfd("convert", "law_mcq", single, "--test", multi, "--out-dir", tmp_path)
    assert code == 0, err
    (train,) = lines(tmp_path / "law_mcq_train.jsonl")
    assert train["instruction"].split("\n")[:2] == ["以下是一道单选题，只有一个正确答案。", "关于马锡五审判，以下哪一说法是错误的？"]
    assert train["output"] == "D" and train["options"]["D"] == "只要群众满意，不必恪守法律"
    (test,) = lines(tmp_path / "law_mcq_test.jsonl")
    assert test["instruction"].startswith("以下是一道多选题") and (test["output"], test["question_type"]) == ("ACD", "multi")
    assert "skipped 1: several answers to a single-answer question" in err
    info = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["law_mcq_test"]["lfd"]["evaluators"] == ["choice"]


def test_short_answer_json_is_not_multiple_choice(lfd, tmp_path):
    src = tmp_path / "DISC-Law-Eval_qa_short_answer.json"
    src.write_text(json.dumps([{"input": "什么是缓刑？", "output": "对被判处拘役…", "id": 0}], ensure_ascii=False),
                   encoding="utf-8")
    code, _, err = lfd("convert", "law_mcq", src, "--out-dir", tmp_path)
    assert code == 1 and "short-answer record" in err and "convert them with disc_law" in err


@pytest.mark.skipif(not SHARED.exists(), reason="the real samples are only on the developers' machines")
def test_real_jec_qa_and_disc_law_eval_records(lfd, tmp_path):
    code, _, err = lfd("convert", "law_mcq", SHARED / "jec_qa" / "example.jsonl",
                       SHARED / "disc_law" / "DISC-Law-Eval_mcq_sing_nje.head11.csv",
                       SHARED / "disc_law" / "DISC-Law-Eval_mcq_mult_nje.head11.csv", "--out-dir", tmp_path)
    assert code == 0 and "read 25, wrote 25" in err
    outputs = [r["output"] for r in lines(tmp_path / "law_mcq_train.jsonl")]
    assert outputs[:5] == ["ABCD", "C", "D", "AB", "ABCD"] and outputs[5] == "D" and outputs[15] == "ABCD"


def test_circular_disc_law_eval_single_and_multi(lfd, tmp_path):
    test = disc_csv(tmp_path / "mcq.csv", [
        ["甲的行为构成何罪？", "B", "盗窃罪", "抢劫罪", "诈骗罪", "侵占罪", SOURCE, "False"],
        ["下列哪些属于行政处罚？", "AD", "罚款", "记过", "降级", "拘留", SOURCE, "True"]])
    out = tmp_path / "out"
    code, _, err = lfd("convert", "law_mcq", jsonl(tmp_path / "train.jsonl", [JEC, JEC | {"id": "2"}]), "--test", test,
                       "--circular", "2", "--out-dir", out)
    assert code == 0, err
    variants = lines(out / "law_mcq_test_circular.jsonl")
    assert [(v["circular"]["question"], v["circular"]["order"], v["answer"], v["question_type"]) for v in variants] == [
        (1, "ABCD", "B", "single"), (1, "BCDA", "A", "single"), (2, "ABCD", "AD", "multi"), (2, "BCDA", "CD", "multi")]
    assert variants[3]["options"] == {"A": "记过", "B": "降级", "C": "拘留", "D": "罚款"}
