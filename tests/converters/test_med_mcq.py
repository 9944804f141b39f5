import csv
import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "samples"
ASK_ONE = "请直接给出正确答案的字母。"

CMB_ITEM = {
    "exam_type": "医师考试", "exam_class": "执业医师", "exam_subject": "口腔执业医师",
    "question": "患者，男性，11岁。近2个月来时有低热（37～38℃），全身无明显症状。此男孩可能患",
    "answer": "D", "question_type": "单项选择题",
    "option": {"A": "小叶型肺炎", "B": "浸润性肺结核", "C": "继发性肺结核", "D": "原发性肺结核", "E": "粟粒型肺结核"},
}
MCMLE_ITEM = {
    "question": "经调查证实出现医院感染流行时，医院应报告当地卫生行政部门的时间是（　　）。",
    "options": {"A": "2小时", "B": "4小时内", "C": "12小时内", "D": "24小时内"},
    "answer": "24小时内", "meta_info": "卫生法规", "answer_idx": "D",
}


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_json(path, records):
    """A JSON array indented like CMB's files."""
    path.write_text(json.dumps(records, ensure_ascii=False, indent=4), encoding="utf-8")
    return path


def write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def cmb(question, answer, question_type="单项选择题", **extra):
    return {**CMB_ITEM, "question": question, "answer": answer, "question_type": question_type, **extra}


def test_cmb_train_with_single_and_multi_answers(lfd, tmp_path):
    src = write_json(tmp_path / "CMB-train-merge.json", [
        CMB_ITEM,
        cmb("关于缺铁性贫血，下列说法正确的有", "CBA", "多项选择题",
            option={"A": "血清铁降低", "B": "总铁结合力升高", "C": "小细胞低色素", "D": "网织红细胞明显减少", "E": ""}),
        cmb("四个选项的题", "E", option={"A": "甲", "B": "乙", "C": "丙", "D": "丁", "E": ""}),
        cmb("单选却给了两个答案", "AB"),
        cmb("", "A"),
    ])
    code, _, err = lfd("convert", "med_mcq", src, "--out-dir", tmp_path)
    assert code == 0, err
    first, multi = lines(tmp_path / "med_mcq_train.jsonl")
    assert first == {
        "instruction": "以下是一道单选题，只有一个正确答案。\n" + CMB_ITEM["question"] + "\n"
                       "A. 小叶型肺炎\nB. 浸润性肺结核\nC. 继发性肺结核\nD. 原发性肺结核\nE. 粟粒型肺结核\n" + ASK_ONE,
        "input": "", "output": "D",
        "options": CMB_ITEM["option"], "answer": "D", "question_type": "single",
    }
    assert multi["output"] == "ABC" and multi["question_type"] == "multi"
    assert "E." not in multi["instruction"] and list(multi["options"]) == ["A", "B", "C", "D"]
    assert "以下是一道多选题" in multi["instruction"]
    assert "skipped 1: answer letter not among the options" in err
    assert "skipped 1: several answers to a single-answer question" in err
    assert "skipped 1: empty question" in err


def test_cmb_test_questions_take_their_answers_from_the_answer_file(lfd, tmp_path):
    train = write_json(tmp_path / "CMB-train-merge.json", [CMB_ITEM])
    questions = [{key: value for key, value in cmb(f"第{i}题", "").items() if key != "answer"} | {"id": i}
                 for i in (1, 2, 3)]
    questions[1]["question_type"] = "多项选择题"
    test = write_json(tmp_path / "CMB-test-choice-question-merge.json", questions)
    answers = write_json(tmp_path / "CMB-test-choice-answer.json", [
        {"id": 1, "exam_type": "医师考试", "exam_class": "规培结业", "exam_subject": "临床病理科",
         "question_type": "单项选择题", "answer": "D"},
        {"id": 2, "exam_type": "医师考试", "exam_class": "规培结业", "exam_subject": "眼科",
         "question_type": "多项选择题", "answer": "ABCDE"},
    ])
    code, _, err = lfd("convert", "med_mcq", train, "--test", test, "--answers", answers, "--out-dir", tmp_path)
    assert code == 0, err
    test_records = lines(tmp_path / "med_mcq_test.jsonl")
    assert [(r["output"], r["question_type"]) for r in test_records] == [("D", "single"), ("ABCDE", "multi")]
    assert "test: read 3, wrote 2" in err and "skipped 1: id not in the --answers file" in err
    info = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["med_mcq_test"]["lfd"] == {"converter": "med_mcq", "split": "test", "evaluators": ["choice"],
                                           "primary_metric": "choice_accuracy"}


def test_cmb_test_questions_without_answers_say_to_pass_the_answer_file(lfd, tmp_path):
    question = {key: value for key, value in CMB_ITEM.items() if key != "answer"} | {"id": 1}
    test = write_json(tmp_path / "CMB-test-choice-question-merge.json", [question])
    code, _, err = lfd("convert", "med_mcq", test, "--out-dir", tmp_path)
    assert code == 1
    assert "CMB-test-choice-question-merge.json: record 0" in err and "--answers CMB-test-choice-answer.json" in err


def test_an_answer_file_without_ids_is_refused(lfd, tmp_path):
    train = write_json(tmp_path / "train.json", [CMB_ITEM])
    answers = write_json(tmp_path / "answers.json", [{"answer": "D"}])
    code, _, err = lfd("convert", "med_mcq", train, "--answers", answers, "--out-dir", tmp_path)
    assert code == 1 and "answers.json: record 0" in err and "need id and answer (found: answer)" in err


def test_medqa_mcmle_jsonl_with_answer_idx_or_answer_text(lfd, tmp_path):
    src = tmp_path / "train.jsonl"
    no_idx = {key: value for key, value in MCMLE_ITEM.items() if key != "answer_idx"} | {"answer": "4小时内"}
    wrong_text = no_idx | {"answer": "48小时内"}
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (MCMLE_ITEM, no_idx, wrong_text)),
                   encoding="utf-8")
    code, _, err = lfd("convert", "med_mcq", src, "--format", "sharegpt", "--out-dir", tmp_path)
    assert code == 0, err
    first, second = lines(tmp_path / "med_mcq_train.jsonl")
    assert first["conversations"] == [
        {"from": "human", "value": "以下是一道单选题，只有一个正确答案。\n" + MCMLE_ITEM["question"]
                                   + "\nA. 2小时\nB. 4小时内\nC. 12小时内\nD. 24小时内\n" + ASK_ONE},
        {"from": "gpt", "value": "D"}]
    assert first["options"] == MCMLE_ITEM["options"] and first["answer"] == "D"
    assert second["answer"] == "B" and "skipped 1: answer text not among the options" in err


def test_cmexam_csv_with_extra_columns_reads_lettered_option_lines(lfd, tmp_path):
    header = ["Question", "Options", "Answer", "Explanation", "Clinical Department", "Disease Group",
              "Medical Discipline", "Competency", "Difficulty level"]
    tail = ["", "内科", "消化系统疾病", "临床医学", "疾病诊断和鉴别诊断", "2"]
    src = write_csv(tmp_path / "train.csv", header, [
        ["男，45岁。反复上腹痛3年，最可能的诊断是", "A 胃溃疡\nB 十二指肠溃疡\nC 慢性胃炎\nD 胃癌\nE 胆囊炎",
         "B", "十二指肠溃疡表现为空腹痛。", *tail[1:]],
        ["下列属于糖皮质激素不良反应的有", "A 骨质疏松\nB 低血压\nC 满月脸\nD 高血糖\nE 低血钾", "ACDE", *tail],
        ["没有答案的题", "A 甲\nB 乙", "", *tail],
    ], encoding="utf-8-sig")
    code, _, err = lfd("convert", "med_mcq", src, "--out-dir", tmp_path)
    assert code == 0, err
    single, multi = lines(tmp_path / "med_mcq_train.jsonl")
    assert single["options"] == {"A": "胃溃疡", "B": "十二指肠溃疡", "C": "慢性胃炎", "D": "胃癌", "E": "胆囊炎"}
    assert "\nA. 胃溃疡\nB. 十二指肠溃疡\n" in single["instruction"]
    assert (single["output"], single["question_type"], multi["output"], multi["question_type"]) == (
        "B", "single", "ACDE", "multi")
    # CMExam does not give the question type: one neutral prompt, whatever the answer count
    assert single["instruction"].split("\n")[0] == multi["instruction"].split("\n")[0] == (
        "以下是一道不定项选择题，正确答案可能有一个或多个。")
    assert "skipped 1: no answer" in err


def test_ceval_val_csv_and_its_unlabeled_test_csv(lfd, tmp_path):
    val = write_csv(tmp_path / "physician_val.csv", ["id", "question", "A", "B", "C", "D", "answer", "explanation"], [
        ["0", "肺炎链球菌肺炎首选的抗生素是____", "青霉素", "红霉素", "庆大霉素", "甲硝唑", "A", ""],
        ["1", "答案不在选项里", "甲", "乙", "丙", "丁", "E", ""],
    ])
    code, _, err = lfd("convert", "med_mcq", val, "--out-dir", tmp_path)
    assert code == 0, err
    (record,) = lines(tmp_path / "med_mcq_train.jsonl")
    assert record["options"] == {"A": "青霉素", "B": "红霉素", "C": "庆大霉素", "D": "甲硝唑"} and record["output"] == "A"
    assert "skipped 1: answer letter not among the options" in err
    test = write_csv(tmp_path / "physician_test.csv", ["id", "question", "A", "B", "C", "D"],
                     [["0", "题目", "甲", "乙", "丙", "丁"]])
    code, _, err = lfd("convert", "med_mcq", val, "--test", test, "--out-dir", tmp_path / "out")
    assert code == 1 and "physician_test.csv: line 2: no answer column" in err and "use its val" in err


def test_a_file_of_another_shape_is_refused(lfd, tmp_path):
    src = tmp_path / "jec.jsonl"
    src.write_text(json.dumps({"answer": ["C"], "id": "4_2476", "statement": "…", "option_list": {"A": "甲"}},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    code, _, err = lfd("convert", "med_mcq", src, "--out-dir", tmp_path)
    assert code == 1 and "record has no option, options, Options or A/B fields" in err and "med_mcq" in err


def real_cmb_file(tmp_path):
    """CMB's README item (one object) in the array its data files hold."""
    item = json.loads((SHARED / "cmb" / "CMB-Exam_item_README_example.json").read_text(encoding="utf-8"))
    return write_json(tmp_path / "CMB-train-merge.json", [item])


@pytest.mark.skipif(not SHARED.exists(), reason="the real samples are only on the developers' machines")
def test_real_cmb_and_mcmle_records(lfd, tmp_path):
    code, _, err = lfd("convert", "med_mcq", real_cmb_file(tmp_path), SHARED / "medqa_mcmle" / "mainland_example.jsonl",
                       "--out-dir", tmp_path)
    assert code == 0, err
    cmb_record, mcmle_record = lines(tmp_path / "med_mcq_train.jsonl")
    assert cmb_record["output"] == "D" and cmb_record["options"]["D"] == "原发性肺结核"
    assert mcmle_record["output"] == "D" and mcmle_record["options"]["D"] == "24小时内"


@pytest.mark.skipif(not SHARED.exists(), reason="the real samples are only on the developers' machines")
def test_real_cmb_answer_file_joins_by_id(lfd, tmp_path):
    questions = [{key: value for key, value in CMB_ITEM.items() if key != "answer"} | {"id": i} for i in (1, 5)]
    questions[1]["question_type"] = "多项选择题"
    test = write_json(tmp_path / "CMB-test-choice-question-merge.json", questions)
    code, _, err = lfd("convert", "med_mcq", real_cmb_file(tmp_path), "--test", test,
                       "--answers", SHARED / "cmb" / "CMB-test-choice-answer.head30.json", "--out-dir", tmp_path)
    assert code == 0, err
    assert [r["output"] for r in lines(tmp_path / "med_mcq_test.jsonl")] == ["D", "ABCDE"]


def test_cmexam_options_that_skip_a_letter_are_skipped_not_merged(lfd, tmp_path):
    """A real CMExam question lists A, B, D, E: reading D and E into B would corrupt the question."""
    rows = [["男，45岁。反复上腹痛3年，最可能的诊断是", "A 胃溃疡\nB 十二指肠溃疡\nD 胃癌\nE 慢性胃炎", "B", ""],
            ["下列属于糖皮质激素不良反应的有", "A 骨质疏松\nB 低血压\nC 满月脸", "AC", ""]]
    src = write_csv(tmp_path / "cmexam.csv", ["Question", "Options", "Answer", "Explanation"], rows)
    code, _, err = lfd("convert", "med_mcq", src, "--out-dir", tmp_path)
    assert code == 0, err
    (record,) = lines(tmp_path / "med_mcq_train.jsonl")
    assert record["options"] == {"A": "骨质疏松", "B": "低血压", "C": "满月脸"}
    assert "skipped 1: options skip a letter" in err


def test_cmexam_xlsx_with_literal_backslash_n_between_options(lfd, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Question", "Options", "Answer", "Explanation"])
    sheet.append(["男，45岁。反复上腹痛3年，最可能的诊断是", r"A 胃溃疡\nB 十二指肠溃疡\nC 慢性胃炎", "B", "空腹痛。"])
    sheet.append(["下列属于糖皮质激素不良反应的有", r"A 骨质疏松\nB 低血\n压\nC 满月脸", "AC", ""])
    book.save(tmp_path / "cmexam.xlsx")
    code, _, err = lfd("convert", "med_mcq", tmp_path / "cmexam.xlsx", "--out-dir", tmp_path)
    assert code == 0, err
    first, second = lines(tmp_path / "med_mcq_train.jsonl")
    assert first["options"] == {"A": "胃溃疡", "B": "十二指肠溃疡", "C": "慢性胃炎"} and first["answer"] == "B"
    assert second["options"] == {"A": "骨质疏松", "B": "低血压", "C": "满月脸"} and second["answer"] == "AC"


def test_circular_cmb_and_cmexam_test_questions(lfd, tmp_path):
    """CMB with --answers and a CMExam question whose last option is 以上都不是 (kept in its order)."""
    train = write_json(tmp_path / "train.json", [dict(CMB_ITEM, question=f"第{i}题{CMB_ITEM['question']}") for i in range(3)])
    test = write_json(tmp_path / "test.json", [{**CMB_ITEM, "id": 7, "answer": ""}])
    answers = write_json(tmp_path / "answers.json", [{"id": 7, "answer": "D"}])
    out = tmp_path / "cmb"
    code, _, err = lfd("convert", "med_mcq", train, "--test", test, "--answers", answers, "--circular", "3",
                       "--out-dir", out)
    assert code == 0, err
    variants = lines(out / "med_mcq_test_circular.jsonl")
    assert [(v["circular"]["order"], v["answer"]) for v in variants] == [("ABCDE", "D"), ("BCDEA", "C"), ("CDEAB", "B")]
    assert {v["options"][v["answer"]] for v in variants} == {"原发性肺结核"}
    cmexam = write_csv(tmp_path / "cmexam.csv", ["Question", "Options", "Answer"], [
        ["此男孩可能患", "A 小叶型肺炎\nB 浸润性肺结核\nC 以上都不是", "B"], ["下列属于肺结核的是", "A 小叶型肺炎\nB 浸润性肺结核", "B"]])
    code, _, err = lfd("convert", "med_mcq", train, "--test", cmexam, "--circular", "all", "--out-dir", tmp_path / "cmexam")
    assert code == 0, err
    variants = lines(tmp_path / "cmexam" / "med_mcq_test_circular.jsonl")
    assert [(v["circular"]["question"], v["circular"]["rotation"]) for v in variants] == [(1, 0), (2, 0), (2, 1)]
    assert "test_circular: wrote 3 variants of 2 questions" in err
    assert "original order only, options refer to other options (以上…): 1" in err
