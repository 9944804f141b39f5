import json

import pytest
from llamafactory_domains.evaluators.base import Prediction, evaluators
from llamafactory_domains.evaluators.choice import (
    Choice,
    Reading,
    extract,
    label_letters,
    partial_credit,
    prompt_options,
    read,
)

BOOTS = {"A": "雨鞋", "B": "绝缘靴", "C": "绝缘手套", "D": "安全帽"}
JUDGE = {"A": "正确", "B": "错误"}
TESTS = {"A": "CT", "B": "B超", "C": "DNA检测", "D": "ABO血型鉴定"}
FIVE = {**BOOTS, "E": "绝缘垫"}
MEDICAL = {"A": "青霉素", "B": "DNA聚合酶", "C": "B族维生素", "D": "ABO血型不合", "E": "以上都不是"}
DRUGS = {"A": "肝素", "B": "华法林", "C": "阿司匹林", "D": "尿激酶", "E": "链激酶"}
NO_ANSWER = ""
KEYS = ["choice_accuracy", "choice_partial_credit", "choice_no_answer_rate", "choice_ambiguous_rate"]


@pytest.mark.parametrize(
    "predict, options, chosen",
    [
        # the whole reply is letters
        ("B", BOOTS, "B"),
        ("(A)", BOOTS, "A"),
        ("【D】", BOOTS, "D"),
        ("Ｂ", BOOTS, "B"),
        ("A、C", BOOTS, "AC"),
        ("CA", BOOTS, "AC"),
        ("A, C and D", BOOTS, "ACD"),
        ("b", BOOTS, "B"),
        # explicit markers
        ("答案：B", BOOTS, "B"),
        ("正确答案为 B。", BOOTS, "B"),
        ("选C", BOOTS, "C"),
        ("答案是AC", BOOTS, "AC"),
        ("答案为：选项D", BOOTS, "D"),
        ("答案：（Ｃ）", BOOTS, "C"),
        ("答案是b。", BOOTS, "B"),
        ("答案是A和C", BOOTS, "AC"),
        ("答案是B项", BOOTS, "B"),
        ("The answer is (B)", BOOTS, "B"),
        ("The correct answer is C because the patient needs it", BOOTS, "C"),
        ("Answer: c", BOOTS, "C"),
        ("I would choose D.", BOOTS, "D"),
        ("选择题答案B", BOOTS, "B"),
        ("【答案】D【解析】略", BOOTS, "D"),
        ("答案：**D**", BOOTS, "D"),
        ("本题考查ABO血型。新生儿溶血病最常见的原因是ABO血型不合，故选D。", MEDICAL, "D"),
        ("B族维生素缺乏可引起……本题答案E", MEDICAL, "E"),
        ("解析：A项的雨鞋不绝缘……因此选B。", BOOTS, "B"),
        ("答案：A\nB选项错误，因为……", BOOTS, "A"),
        ("答案：B。若选A，则不能防止跨步电压。", BOOTS, "B"),
        ("A项雨鞋不绝缘，故选B，答案不是A", BOOTS, "B"),
        ("答案是绝缘靴，因为它绝缘", BOOTS, "B"),
        ("正确答案：错", JUDGE, "B"),
        ("这个说法看似正确，正确答案是：错误", JUDGE, "B"),
        # a leading letter, or lines repeating options
        ("B. 绝缘靴", BOOTS, "B"),
        ("B、绝缘靴", BOOTS, "B"),
        ("b. 绝缘靴", BOOTS, "B"),
        ("B绝缘靴", BOOTS, "B"),
        ("AC。解析：雨鞋和绝缘手套……", BOOTS, "AC"),
        ("A. 雨鞋\nC. 绝缘手套", BOOTS, "AC"),
        ("A. 雨鞋\nC. 绝缘手套", {}, "AC"),
        ("A. 雨鞋\nC. 绝缘手套\n解析：二者都需要。", BOOTS, "AC"),
        ("B. 绝缘靴\n解析：A. 雨鞋不绝缘。", BOOTS, "B"),
        # option texts
        ("绝缘靴", BOOTS, "B"),
        ("绝缘靴。", BOOTS, "B"),
        ("绝缘靴、绝缘手套", BOOTS, "BC"),
        ("应穿戴绝缘靴。", BOOTS, "B"),
        ("B超", TESTS, "B"),
        ("应做B超检查", TESTS, "B"),
        ("DNA聚合酶", MEDICAL, "B"),
        ("ABO血型不合导致溶血", MEDICAL, "D"),
        # judge questions
        ("正确", JUDGE, "A"),
        ("错误", JUDGE, "B"),
        ("对", JUDGE, "A"),
        ("×", JUDGE, "B"),
        ("该说法不正确，应先验电。", JUDGE, "B"),
        ("这种说法是对的。", JUDGE, "A"),
        ("正确", {"A": "错", "B": "对"}, "B"),
        ("False", {"A": "对", "B": "错"}, "B"),
        # standalone letters in running text
        ("我认为是B", BOOTS, "B"),
        ("A和C都对", BOOTS, "AC"),
        ("B项正确", BOOTS, "B"),
        ("A patient should wear insulated boots, so B.", BOOTS, "B"),
        # a negated option is never the chosen one; these four were no answer before issue 15
        ("A不对，B对", BOOTS, "B"),
        ("选项A错误，选项B正确", BOOTS, "B"),
        ("答案不是A，是C", BOOTS, "C"),
        ("不是雨鞋而是绝缘靴", BOOTS, "B"),
        # no answer: letters inside words, negations only, letters that are not options
        ("", BOOTS, NO_ANSWER),
        ("无法判断", BOOTS, NO_ANSWER),
        ("DNA", BOOTS, NO_ANSWER),
        ("ABO血型", BOOTS, NO_ANSWER),
        ("答案：B超", BOOTS, NO_ANSWER),
        ("维生素B12缺乏", BOOTS, NO_ANSWER),
        ("A型血患者", BOOTS, NO_ANSWER),
        ("ACE抑制剂", FIVE, NO_ANSWER),
        ("ACE inhibitors are first-line", FIVE, NO_ANSWER),
        ("A patient with chest pain", BOOTS, NO_ANSWER),
        ("the answer is a bit unclear", BOOTS, NO_ANSWER),
        ("不是B", BOOTS, NO_ANSWER),
        ("B不对，C也不对", BOOTS, NO_ANSWER),
        ("答案：F", BOOTS, NO_ANSWER),
        ("E", BOOTS, NO_ANSWER),
        ("AAB", BOOTS, NO_ANSWER),
        ("A. 雨鞋：不绝缘，错误\nB. 绝缘靴：可以", BOOTS, NO_ANSWER),
    ],
)
def test_extract(predict, options, chosen):
    assert extract(predict, options) == chosen


@pytest.mark.parametrize(
    "predict, options, letters, status",
    [
        # the misreadings of issue 15
        ("不是E", DRUGS, "", "none"),
        ("答案不是B", DRUGS, "", "none"),
        ("E是错误的", DRUGS, "", "none"),
        ("不是肝素", DRUGS, "", "none"),
        ("我不确定是B还是E", DRUGS, "", "ambiguous"),
        ("The answer is C or A", DRUGS, "", "ambiguous"),
        ("我选E，不选A", DRUGS, "E", "answer"),
        ("A不对，E对", DRUGS, "E", "answer"),
        ("我认为是ACDE", DRUGS, "ACDE", "answer"),
        ("无法判断是否正确", JUDGE, "", "none"),
        ("说法正确吗？不正确。", JUDGE, "B", "answer"),
        ("错。应先验电。", JUDGE, "B", "answer"),
        # explicit answers outrank mentions; the last explicit answer is a correction
        ("答案是A。不对，应该是C。", BOOTS, "C", "answer"),
        ("A项错误；B项正确；C项错误；故选B", BOOTS, "B", "answer"),
        ("A正确，B错误，C正确", BOOTS, "AC", "answer"),
        # hedges and competing candidates
        ("可能是B也可能是C", BOOTS, "", "ambiguous"),
        ("B或C", BOOTS, "", "ambiguous"),
        ("either A or C", BOOTS, "", "ambiguous"),
        ("B还是C呢？", BOOTS, "", "ambiguous"),
        ("答案是D，但我不太确定。", BOOTS, "", "ambiguous"),
        ("我不太确定，但我认为答案是D。", BOOTS, "D", "answer"),
        ("雨鞋，绝缘手套", None, "", "none"),
        ("不确定", BOOTS, "", "none"),
        ("可能正确，也可能错误", JUDGE, "", "ambiguous"),
        ("看似正确，实则错误。", JUDGE, "B", "answer"),
        ("该说法错误。正确的做法是先验电。", JUDGE, "B", "answer"),
        ("除了B，其余都不对。", BOOTS, "B", "answer"),
        ("若选A，则不能防止跨步电压。", BOOTS, "", "none"),
        ("", BOOTS, "", "none"),
        # found by the second annotator's replies (choice_corpus.jsonl, notes "2nd annotator")
        ("答案：\nA\nC\nD", BOOTS, "ACD", "answer"),
        ("1. A\n2. C", BOOTS, "AC", "answer"),
        ("B\nC", BOOTS, "", "ambiguous"),
        ("- A. 雨鞋\n- C. 绝缘手套", BOOTS, "AC", "answer"),
        ("正确选项：\n- **A. 雨鞋**\n- **C. 绝缘手套**", BOOTS, "AC", "answer"),
        ("答案为A；B；C", BOOTS, "ABC", "answer"),
        ("A（×）B（√）C（×）D（×）", BOOTS, "B", "answer"),
        ("| 选项 | 是否正确 |\n|---|---|\n| A. 雨鞋 | 否 |\n| B. 绝缘靴 | 是 |\n| C. 绝缘手套 | 否 |", BOOTS, "B", "answer"),
        ("B. 绝缘靴\n\n解析：\nA. 雨鞋：不绝缘。\nC. 绝缘手套：用于手部。\nD. 安全帽：防护头部。", BOOTS, "B", "answer"),
        ("选项C：绝缘手套", BOOTS, "C", "answer"),
        ("应穿绝缘靴，严禁穿雨鞋和安全帽代替。", BOOTS, "B", "answer"),
        ("严禁使用雨鞋。", BOOTS, "", "none"),
        ("除C以外，其余选项都正确。", BOOTS, "ABD", "answer"),
        ("除了B，其他选项都是错误的。", BOOTS, "B", "answer"),
        ("All except D.", BOOTS, "ABC", "answer"),
        ("A、C、D可以排除。", BOOTS, "B", "answer"),
        ("A、C可以排除。", BOOTS, "", "none"),
        ("安全距离为0.7米。", {"A": "1.0m", "B": "0.7m", "C": "0.35m"}, "B", "answer"),
        ("安全距离为10.7m。", {"A": "1.0m", "B": "0.7m", "C": "0.35m"}, "", "none"),
        ("Fever, night sweats and hemoptysis.", {"A": "Fever", "B": "Night sweats", "C": "Hemoptysis", "D": "Rash"},
         "ABC", "answer"),
        ("❌", JUDGE, "B", "answer"),
        ("对对对", JUDGE, "A", "answer"),
        ("这句话没有问题。", JUDGE, "A", "answer"),
        ("Yes, this statement is accurate.", JUDGE, "A", "answer"),
        ("I cannot determine whether this is true or false.", JUDGE, "", "none"),
        ("溶栓药物应选择尿激酶（D），不应选择肝素（A）。", DRUGS, "D", "answer"),
        ("不应选择肝素（A）", DRUGS, "", "none"),
        ("安全距离不得小于0.7m。", {"A": "1.0m", "B": "0.7m", "C": "0.35m"}, "B", "answer"),
    ],
)
def test_read(predict, options, letters, status):
    assert read(predict, options) == Reading(letters, status)
    assert extract(predict, options) == letters


def test_without_options_the_letters_a_to_e_count():
    assert extract("答案：E") == "E"
    assert extract("答案：F") == NO_ANSWER
    assert extract("答案：F", valid="ABCDEF") == "F"


def test_huge_reply():
    assert extract("解析：" + "答案不是A，雨鞋不绝缘，" * 20000 + "故答案为B。", BOOTS) == "B"
    assert extract("A patient with DNA damage. " * 20000, BOOTS) == NO_ANSWER


@pytest.mark.parametrize(
    "label, options, letters",
    [
        ("ACD\n", {}, "ACD"),
        ("A、C", BOOTS, "AC"),
        ("B. 绝缘靴\n", BOOTS, "B"),
        ("A. 雨鞋\nC. 绝缘手套", {}, "AC"),
        ("绝缘靴", BOOTS, "B"),
        ("正确", JUDGE, "A"),
        ("绝缘靴", {}, ""),
        ("COPD", {}, ""),
        ("E", BOOTS, ""),
    ],
)
def test_label_letters(label, options, letters):
    assert label_letters(label, options) == letters


def test_prompt_options_are_the_last_lettered_run():
    prompt = "示例：\nA. 甲\nB. 乙\n答案：A\n\n题目：\nA、雨鞋\nB、绝缘靴\n这是 A 型\nC、绝缘手套\n请作答。"
    assert prompt_options(prompt) == {"A": "雨鞋", "B": "绝缘靴", "C": "绝缘手套"}
    assert prompt_options("高血压的诊断标准是什么？") == {}


@pytest.mark.parametrize(
    "chosen, answer, credit",
    [("ACD", "ACD", 1.0), ("AC", "ACD", 2 / 3), ("A", "ACD", 1 / 3), ("ACDE", "ACD", 0.0), ("AB", "ACD", 0.0),
     ("", "ACD", 0.0), ("B", "B", 1.0), ("C", "B", 0.0)],
)
def test_partial_credit(chosen, answer, credit):
    assert partial_credit(chosen, answer) == pytest.approx(credit)


def record(answer, options=BOOTS, kind=None):
    return {"instruction": "…", "input": "", "output": answer, "options": options, "answer": answer,
            "question_type": kind or ("multi" if len(answer) > 1 else "single")}


def scores(predict, label, rec=None, prompt=""):
    return Choice().score(Prediction(prompt=prompt, predict=predict, label=label, record=rec))


def test_entry_point_finds_the_class():
    assert evaluators.get("choice") is Choice
    assert evaluators.describe("choice").startswith("Choice questions")


def test_score_with_a_record():
    assert scores("答案：BC", "BC\n", record("BC")) == {
        "choice_accuracy": 1.0, "choice_partial_credit": 1.0, "choice_no_answer_rate": 0.0, "choice_ambiguous_rate": 0.0}
    assert scores("答案：ABC", "BC\n", record("BC"))["choice_partial_credit"] == 0.0
    assert scores("绝缘靴", "B", record("B")) == {
        "choice_accuracy": 1.0, "choice_partial_credit": 1.0, "choice_no_answer_rate": 0.0, "choice_ambiguous_rate": 0.0}


@pytest.mark.parametrize(
    "predict, no_answer, ambiguous",
    [("答案：B或C", 0.0, 1.0), ("我不确定是B还是C", 0.0, 1.0), ("不是A", 1.0, 0.0), ("作为AI我无法回答", 1.0, 0.0)],
)
def test_no_answer_and_ambiguous_score_zero_and_only_their_own_rate(predict, no_answer, ambiguous):
    assert scores(predict, "BC", record("BC")) == {
        "choice_accuracy": 0.0, "choice_partial_credit": 0.0, "choice_no_answer_rate": no_answer,
        "choice_ambiguous_rate": ambiguous}


def test_primary_metric():
    assert Choice.primary == "choice_accuracy"


def test_the_records_answer_wins_over_the_label():
    assert scores("B", "绝缘靴", record("B"))["choice_accuracy"] == 1.0


def test_options_come_from_the_prompt_without_a_record():
    prompt = "<|im_start|>user\n以下是一道单选题。\n作业时应穿\nA. 雨鞋\nB. 绝缘靴\n请作答。<|im_end|>\n"
    assert scores("绝缘靴", "B. 绝缘靴\n", prompt=prompt)["choice_accuracy"] == 1.0
    assert scores("答案：B", "绝缘靴", prompt=prompt)["choice_accuracy"] == 1.0
    assert scores("答案：C", "B", prompt=prompt)["choice_no_answer_rate"] == 1.0  # C is no option here


def test_judge_question_with_text_labels():
    assert scores("该说法错误。", "错误\n", {"options": JUDGE, "answer": "B"})["choice_accuracy"] == 1.0
    assert scores("对", "错误", {"options": JUDGE})["choice_accuracy"] == 0.0


@pytest.mark.parametrize(
    "rec, label",
    [
        ({"output": "绝缘", "question_type": "fill", "answer": "绝缘"}, "绝缘"),
        ({"output": "…", "question_type": "open"}, "…"),
        ({"output": "高血压"}, "高血压"),
        (None, "高血压"),
        (None, "COPD"),
    ],
)
def test_not_a_choice_question_is_not_applicable(rec, label):
    assert scores("A", label, rec) == dict.fromkeys(KEYS)


def test_aggregate_counts_no_answer_apart_and_skips_other_questions():
    choice = Choice()
    items = [
        Prediction("", "答案：B", "B", record("B")),
        Prediction("", "A", "B", record("B")),
        Prediction("", "我不知道", "B", record("B")),
        Prediction("", "AC", "ACD", record("ACD")),
        Prediction("", "B或C", "B", record("B")),
        Prediction("", "绝缘", "绝缘", {"question_type": "fill", "answer": "绝缘"}),
    ]
    metrics = choice.aggregate([choice.score(item) for item in items])
    assert metrics == pytest.approx(
        {"choice_accuracy": 1 / 5, "choice_partial_credit": (1 + 0 + 0 + 2 / 3 + 0) / 5, "choice_no_answer_rate": 1 / 5,
         "choice_ambiguous_rate": 1 / 5}
    )


def test_lfd_eval_on_a_choice_test_split(tmp_path, lfd):
    questions = [
        ("B", "答案：B", BOOTS),
        ("AC", "答案是A、C", BOOTS),
        ("ACD", "AC", BOOTS),
        ("D", "我不确定", BOOTS),
        ("A", "正确", JUDGE),
    ]
    records = [record(answer, options) for answer, _, options in questions]
    (tmp_path / "med_mcq_test.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    entry = {"file_name": "med_mcq_test.jsonl", "formatting": "alpaca",
             "columns": {"prompt": "instruction", "query": "input", "response": "output"},
             "lfd": {"converter": "med_mcq", "split": "test", "evaluators": ["choice"]}}
    (tmp_path / "info.json").write_text(json.dumps({"med_mcq_test": entry}), encoding="utf-8")
    predictions = [{"prompt": "…", "predict": predict, "label": answer + "\n"} for answer, predict, _ in questions]
    (tmp_path / "preds.jsonl").write_text(
        "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions), encoding="utf-8")

    code, out, err = lfd("eval", tmp_path / "preds.jsonl", "--dataset", "med_mcq_test",
                         "--dataset-info", tmp_path / "info.json", "--out", tmp_path / "report.json")
    assert (code, err) == (0, f"5 predictions from {tmp_path / 'preds.jsonl'}, checked against med_mcq_test\n")
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["evaluators"] == ["choice"]
    assert report["metrics"] == pytest.approx(
        {"choice_accuracy": 3 / 5, "choice_partial_credit": (3 + 2 / 3) / 5, "choice_no_answer_rate": 1 / 5,
         "choice_ambiguous_rate": 0.0})
    assert report["counts"] == dict.fromkeys(KEYS, 5)
    assert set(report["ci95"]) == set(report["metrics"])
    assert "choice_no_answer_rate" in out
