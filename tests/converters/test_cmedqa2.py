import json

QUESTIONS = "question_id,content\n45619783,月经推迟十天，肚子疼，怎么回事？\n34721550,小孩咳嗽有痰怎么办？\n"
ANSWERS = ("ans_id,question_id,content\n1,45619783,月经推迟可能与压力有关，建议先查尿妊娠试验。\n"
           "2,34721550,多喝水，拍背排痰。\n3,34721550,\"咳嗽超过一周请就医，\n查血常规。\"\n4,99999999,没有对应问题的回答。\n")


def test_answers_join_their_questions(lfd, tmp_path):
    (tmp_path / "question.csv").write_text(QUESTIONS, encoding="utf-8")
    (tmp_path / "answer.csv").write_text(ANSWERS, encoding="utf-8")
    code, _, err = lfd("convert", "cmedqa2", tmp_path / "question.csv", tmp_path / "answer.csv",
                       "--out-dir", tmp_path / "out")
    assert code == 0, err
    records = [json.loads(line) for line in (tmp_path / "out" / "cmedqa2_train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records == [
        {"instruction": "月经推迟十天，肚子疼，怎么回事？", "input": "", "output": "月经推迟可能与压力有关，建议先查尿妊娠试验。"},
        {"instruction": "小孩咳嗽有痰怎么办？", "input": "", "output": "多喝水，拍背排痰。"},
        {"instruction": "小孩咳嗽有痰怎么办？", "input": "", "output": "咳嗽超过一周请就医，\n查血常规。"},
    ]
    assert "read 4, wrote 3" in err and "skipped 1: no question with this question_id" in err


def test_answers_before_their_questions_are_counted_skips(lfd, tmp_path):
    (tmp_path / "question.csv").write_text(QUESTIONS, encoding="utf-8")
    (tmp_path / "answer.csv").write_text(ANSWERS, encoding="utf-8")
    code, _, err = lfd("convert", "cmedqa2", tmp_path / "answer.csv", tmp_path / "question.csv",
                       "--out-dir", tmp_path / "out")
    assert code == 1 and "no usable train records" in err and "give question.csv before answer.csv" in err


def test_listed_at_once(lfd):
    code, out, _ = lfd("list")
    assert code == 0 and "  cmedqa2 " in out
