import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "samples" / "disc_law"
DRUNK = "魏某某醉酒驾驶机动车，逃避依法检查，应如何处罚？"
ART_133 = "《中华人民共和国刑法》第一百三十三条之一：在道路上驾驶机动车，有下列情形之一的，处拘役，并处罚金：（二）醉酒驾驶机动车的；"
ART_67 = "《中华人民共和国刑法》第六十七条：犯罪以后自动投案，如实供述自己的罪行的，是自首。"


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_pair_and_triplet_jsonl(lfd, tmp_path):
    pair = jsonl(tmp_path / "DISC-Law-SFT-Pair.jsonl", [
        {"id": "judgement_predict-1", "input": "请根据案情给出判决：张某盗窃他人手机一部，价值3000元。",
         "output": "张某犯盗窃罪，判处拘役三个月，并处罚金。"},
        {"id": "legal_question_answering-2", "input": "  ", "output": "无问之答"},
        {"id": "legal_question_answering-3", "input": "离婚后房贷谁还？", "output": ""},
    ])
    triplet = jsonl(tmp_path / "DISC-Law-SFT-Triplet-released.jsonl", [
        {"id": "triplet_1", "reference": [ART_133, ART_67], "input": DRUNK, "output": "魏某某构成危险驾驶罪，应从重处罚。"},
        {"id": "triplet_2", "reference": [], "input": "醉驾会被判刑吗？", "output": "会，构成危险驾驶罪。"},
    ])
    code, _, err = lfd("convert", "disc_law", pair, triplet, "--out-dir", tmp_path)
    assert code == 0, err
    first, with_statutes, without = lines(tmp_path / "disc_law_train.jsonl")
    assert first == {"instruction": "请根据案情给出判决：张某盗窃他人手机一部，价值3000元。", "input": "",
                     "output": "张某犯盗窃罪，判处拘役三个月，并处罚金。"}
    assert with_statutes["instruction"] == f"参考法条：\n{ART_133}\n{ART_67}\n\n{DRUNK}"
    assert without["instruction"] == "醉驾会被判刑吗？"  # an empty reference adds nothing
    assert "skipped 1: empty input" in err and "skipped 1: empty output" in err


def test_short_answer_eval_json_as_the_test_split(lfd, tmp_path):
    train = jsonl(tmp_path / "pair.jsonl", [{"id": "1", "input": "什么是正当防卫？", "output": "为了使国家、公共利益…"}])
    test = tmp_path / "DISC-Law-Eval_qa_short_answer.json"
    test.write_text(json.dumps([{"input": "什么是缓刑？", "output": "对被判处拘役、三年以下有期徒刑的犯罪分子…", "id": 0}],
                               ensure_ascii=False, indent=2), encoding="utf-8")
    code, _, err = lfd("convert", "disc_law", train, "--test", test, "--out-dir", tmp_path)
    assert code == 0, err
    assert [r["instruction"] for r in lines(tmp_path / "disc_law_test.jsonl")] == ["什么是缓刑？"]
    info = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["disc_law_test"]["formatting"] == "alpaca"
    assert info["disc_law_test"]["lfd"]["evaluators"] == ["rouge_zh", "bleu_zh"]


def test_a_multiple_choice_csv_points_to_law_mcq(lfd, tmp_path):
    src = tmp_path / "DISC-Law-Eval_mcq_sing_nje.csv"
    src.write_text("input,output,A,B,C,D,source,multichoice\n\"哪一说法是正确的？\n\",D,甲,乙,丙,丁,"
                   "2018 national judical examination,False\n", encoding="utf-8")
    code, _, err = lfd("convert", "disc_law", src, "--out-dir", tmp_path)
    # the record spans lines 2-3: named by its first line (issue 14)
    assert code == 1 and "DISC-Law-Eval_mcq_sing_nje.csv: line 2" in err and "with law_mcq" in err


@pytest.mark.skipif(not SHARED.exists(), reason="the real samples are only on the developers' machines")
def test_real_short_answer_records(lfd, tmp_path):
    code, _, err = lfd("convert", "disc_law", SHARED / "DISC-Law-Eval_qa_short_answer.head5.json", "--out-dir", tmp_path)
    assert code == 0, err
    records = lines(tmp_path / "disc_law_train.jsonl")
    assert len(records) == 5 and records[0]["instruction"].startswith("请对以下案件做出分析并给出可能的判决")
