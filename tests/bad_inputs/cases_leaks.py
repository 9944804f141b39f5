"""Leaks between train and test, MCQ shapes, and `lfd eval` on predictions that do not line up.

Every converter that can have a test split is given training data that holds test items again:
exactly, in traditional characters, with full-width letters and other punctuation or spaces, with
the options of a question reordered, listed twice in one bank (``--test-size``), a Pair and a
Triplet of one question (disc_law), and ``--shuffle-options`` copies. Each convert case runs with
``leak_check`` (no test or validation prompt in train, and no validation record a test item, after the
project's normalization) and names the counted reason it expects. The MCQ shape cases are real CMExam / competition-bank damage; the eval cases
are predictions reordered so that every label still matches.
"""

from __future__ import annotations

import json

from corpus import (
    CHIP,
    DISC,
    HUATUO,
    MED_CHATGLM,
    MODELSCOPE,
    F,
    array,
    case,
    convert,
    evaluate,
    jsonl,
    table,
    xlsx,
)

EXACT = "prompt also in the test split"
NORMALIZED = "same question as a test item after normalization"
SAME_ITEM = "same question and answer as a test item"


def traditional(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


def wide(text: str) -> str:
    """Full-width letters and digits, ASCII punctuation for Chinese, a space inside: the same question."""
    text = "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)
    text = text.replace("，", ", ").replace("？", "?").replace("。", ".").replace("：", ":").replace("、", ",")
    return text[:2] + " " + text[2:]


def spaced(text: str) -> str:
    return text[:3] + "  " + text[3:].replace("，", ",")


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


# ---------------------------------------------------------------- free-text converters

# name -> (converter, file suffix, writer of a record list, records, the fields that hold the question)
TEXT = {
    "med_norm": ("med_norm", "json", array, [*CHIP, {"text": "右膝关节置换术后", "normalized_result": "膝关节置换术后"}],
                 ("text",)),
    "med_dialog": ("med_dialog", "json", array, [*MODELSCOPE, {"instruction": "头痛怎么办", "input": "最近经常头痛，晚上睡不好。",
                                                                "output": "注意休息，必要时就医。", "history": None}],
                   ("instruction", "input")),
    "huatuo": ("huatuo", "jsonl", jsonl, [*HUATUO, {"instruction": "肝硬化能治愈吗？", "input": "", "output": "早期可控制进展。"}],
               ("instruction",)),
    # the question between Med-ChatGLM's 问题： and 回答: markers, which the variants keep
    "med_chatglm": ("med_chatglm", "jsonl", jsonl, [*MED_CHATGLM, {"context": "问题：高血压患者饮食要注意什么？\n回答: ",
                                                                   "target": "低盐低脂饮食。"}], ("context",)),
    "general_mix": ("general_mix", "json", array, [{"instruction": "用一句话介绍北京。", "input": "", "output": "北京是中国的首都。"},
                                                   {"instruction": "把下面的句子翻译成英文。", "input": "今天天气很好。",
                                                    "output": "The weather is nice today."},
                                                   {"instruction": "写一句关于春天的诗。", "input": "", "output": "春风又绿江南岸。"}],
                    ("instruction", "input")),
    "disc_law": ("disc_law", "jsonl", jsonl, [DISC[0], {"id": "pair_2", "input": "借款到期不还，可以起诉吗？", "output": "可以向法院起诉。"},
                                              {"id": "pair_3", "input": "劳动合同到期不续签有补偿吗？", "output": "一般有经济补偿。"}],
                 ("input",)),
}
TOYHOM_HEADER = ["department", "title", "ask", "answer"]
TOYHOM = [["心血管科", "高血压患者能吃党参吗？", "我有高血压，您好高血压可以吃党参吗？", "高血压病人可以口服党参的。"],
          ["内科", "头痛怎么办", "最近经常头痛，晚上睡不好。", "注意休息，必要时就医。"],
          ["外科", "手术后多久能洗澡", "阑尾炎手术后多久能洗澡？", "一般拆线后一周左右。"]]
LAWZHIDAO_HEADER = ["title", "question", "reply", "is_best"]
LAWZHIDAO = [["被打伤了怎么办？", "", "你好，可以报警处理，要求对方赔偿医疗费。", "1"],
             ["欠款不还怎么办", "朋友借我一万元，到期不还，怎么办？", "可以向法院起诉。", "1"],
             ["离婚后孩子归谁", "协议离婚，孩子两岁，归谁抚养？", "两周岁以下一般随母亲生活。", "1"]]


def varied(record, fields, how):
    marked = lambda text: (f"问题：{how(text[3:-5])}\n回答: " if text.startswith("问题：") and text.endswith("\n回答: ")
                           else how(text))
    if isinstance(record, list):  # a CSV row: fields are column numbers
        return [how(value) if index in fields and value else value for index, value in enumerate(record)]
    return {key: marked(value) if key in fields and isinstance(value, str) and value else value for key, value in record.items()}


def text_cases() -> list[dict]:
    cases = []
    sources = {name: spec for name, spec in TEXT.items()}
    sources["med_dialog_toyhom"] = ("med_dialog", "csv", lambda rows: utf8(table(TOYHOM_HEADER, rows)), TOYHOM, (1, 2))
    sources["law_qa"] = ("law_qa", "csv", lambda rows: utf8(table(LAWZHIDAO_HEADER, rows)), LAWZHIDAO, (0, 1))
    for name, (converter, suffix, write, records, fields) in sources.items():
        test_file = f"leak_{name}_test.{suffix}"
        test = write(records[:2])
        for how, label in ((traditional, "traditional"), (wide, "width"), (spaced, "spaces")):
            train = [*records, *(varied(r, fields, how) for r in records[:2])]
            cases.append(case(f"leak_{name}_{label}", write(train),
                              convert(converter, F + f"leak_{name}_{label}.{suffix}", "--test", F + test_file), 0,
                              f"skipped 2: {NORMALIZED}", f"{label} variants of two test items are the same questions",
                              extra_files={test_file: test}, leak_check=True))
        twice = [*records, *(varied(r, fields, spaced) for r in records)]
        cases.append(case(f"leak_{name}_listed_twice", write(twice),
                          convert(converter, F + f"leak_{name}_twice.{suffix}", "--test-size", "2", "--seed", "3"), 0,
                          "test: wrote 2", "each record listed twice (the copy re-spaced): one held out, the other not in train",
                          leak_check=True))
    cases.append(case("leak_med_norm_exact_rejects", array([*CHIP, CHIP[0]]),
                      convert("med_norm", F + "leak_med_norm_exact.json", "--test", F + "leak_med_norm_test.json",
                              "--rejects", "{tmp}/rejects.jsonl"), 0, f"skipped 3: {EXACT}",
                      "exact test prompts in train go to the rejects with their file, location and record",
                      extra_files={"leak_med_norm_test.json": array(CHIP[:2])}, leak_check=True))
    return cases


def cmedqa2_cases() -> list[dict]:
    header_q, header_a = ["question_id", "content"], ["ans_id", "question_id", "content"]
    questions = [["1", "月经推迟十天，肚子疼，怎么回事？"], ["2", "孩子发烧三天不退怎么办？"], ["3", "胃疼吃什么药？"]]
    answers = [["11", "1", "建议先查尿妊娠试验。"], ["12", "2", "及时就医查血常规。"], ["13", "3", "先明确病因再用药。"]]
    test_q = utf8(table(header_q, questions[:2]))
    test_a = utf8(table(header_a, answers[:2]))
    cases = []
    for how, label in ((traditional, "traditional"), (wide, "width")):
        train_q = [*questions, *([str(int(i) + 10), how(text)] for i, text in questions[:2])]
        train_a = [*answers, *([str(int(a) + 10), str(int(q) + 10), text] for a, q, text in answers[:2])]
        cases.append(case(f"leak_cmedqa2_{label}", utf8(table(header_q, train_q)),
                          ["convert", "cmedqa2", F + f"leak_cmedqa2_{label}_q.csv", F + f"leak_cmedqa2_{label}_a.csv",
                           "--test", F + "leak_cmedqa2_test_q.csv", F + "leak_cmedqa2_test_a.csv", "--out-dir", "{out}"],
                          0, f"skipped 2: {NORMALIZED}", f"{label} variants of cMedQA2 test questions",
                          extra_files={f"leak_cmedqa2_{label}_a.csv": utf8(table(header_a, train_a)),
                                       "leak_cmedqa2_test_q.csv": test_q, "leak_cmedqa2_test_a.csv": test_a},
                          leak_check=True))
    return cases


def med_mrg_cases() -> list[dict]:
    from corpus import IMCS

    (key, base), cases = next(iter(IMCS.items())), []
    other = {**base, "self_report": "孩子发烧两天", "dialogue": [{**turn, "sentence": turn["sentence"] + "，发烧"} for turn in base["dialogue"]]}
    test = array({key: base})
    for how, label in ((traditional, "traditional"), (spaced, "spaces")):
        variant = {**base, "self_report": how(base["self_report"]),
                   "dialogue": [{**turn, "sentence": how(turn["sentence"])} for turn in base["dialogue"]]}
        cases.append(case(f"leak_med_mrg_{label}", array({"1": variant, "2": other}),
                          convert("med_mrg", F + f"leak_med_mrg_{label}.json", "--test", F + "leak_med_mrg_test.json"), 0,
                          f"skipped 2: {NORMALIZED}", f"an IMCS dialogue of the test split with its sentences {label} "
                          "(one example per reference report)",
                          extra_files={"leak_med_mrg_test.json": test}, leak_check=True))
    return cases


# ---------------------------------------------------------------- multiple choice

STEMS = ["雷雨天气，需要巡视室外高压设备时，应穿（　　）。", "经调查证实出现医院感染流行时，医院应报告当地卫生行政部门的时间是（　　）。",
         "工作票签发人可以由（　　）担任。", "下列哪一选项是正确的？"]
OPTIONS = [["雨鞋", "绝缘靴", "橡胶鞋", "绝缘鞋"], ["2小时", "4小时内", "12小时内", "24小时内"],
           ["工作负责人", "熟悉人员技术水平的生产领导人", "工作许可人", "任意人员"], ["甲说法", "乙说法", "丙说法", "丁说法"]]
ANSWERS = [1, 3, 1, 2]
L = "ABCD"


def questions():
    return [(stem, options, answer) for stem, options, answer in zip(STEMS, OPTIONS, ANSWERS)]


def rotated(question, stem_how=lambda s: s):
    stem, options, answer = question
    order = options[1:] + options[:1]
    return stem_how(stem), order, order.index(options[answer])


def mcq_sources() -> dict:
    """name -> (converter, suffix, writer of (stem, options, answer index) questions, extra args)."""
    seed_header = ["专业", "题型", "题目内容", "题目依据条款", "选项", "正确答案"]
    choice_header = ["题目（必填）：", "考核点：", "难度：", "试题解析：", "正确答案（必填）", "选项A（必填）", "选项B（必填）", "选项C", "选项D"]
    gb_header = ["序号", "题目", "A", "B", "C", "D", "答案", "题型", "解析"]
    return {
        "med_mcq_mcmle": ("med_mcq", "jsonl", lambda qs: jsonl(
            {"question": s, "options": dict(zip(L, o)), "answer": o[a], "meta_info": "卫生法规", "answer_idx": L[a]} for s, o, a in qs)),
        "med_mcq_cmb": ("med_mcq", "json", lambda qs: array([
            {"exam_type": "医师考试", "question": s, "answer": L[a], "question_type": "单项选择题", "option": {**dict(zip(L, o)), "E": ""}}
            for s, o, a in qs])),
        "med_mcq_cmexam": ("med_mcq", "csv", lambda qs: utf8(table(["Question", "Options", "Answer", "Explanation"], [
            [s, "\n".join(f"{k} {t}" for k, t in zip(L, o)), L[a], ""] for s, o, a in qs]))),
        "med_mcq_ceval": ("med_mcq", "csv", lambda qs: utf8(table(["id", "question", "A", "B", "C", "D", "answer", "explanation"], [
            [str(i), s, *o, L[a], ""] for i, (s, o, a) in enumerate(qs)]))),
        "law_mcq_jec": ("law_mcq", "jsonl", lambda qs: jsonl(
            {"answer": [L[a]], "id": f"3_{i}", "option_list": dict(zip(L, o)), "statement": s, "type": "1"}
            for i, (s, o, a) in enumerate(qs))),
        "law_mcq_disc_eval": ("law_mcq", "csv", lambda qs: utf8(table(
            ["input", "output", "A", "B", "C", "D", "source", "multichoice"],
            [[s, L[a], *o, "2018 national judical examination", "False"] for s, o, a in qs]))),
        "safety_exam_seed": ("safety_exam", "csv", lambda qs: utf8(table(seed_header, [
            ["变电专业", "单选题", s, "来自安规", ",".join(f"{k}. {t}" for k, t in zip(L, o)), f"{L[a]}. {o[a]}"] for s, o, a in qs]))),
        "safety_exam_competition": ("safety_exam", "xlsx", lambda qs: xlsx({"单选题": [choice_header, *(
            [s, None, "易", "安规类", L[a], *o] for s, o, a in qs)]})),
        "safety_exam_gb26860": ("safety_exam", "xlsx", lambda qs: xlsx({"题库": [gb_header, *(
            [i, s, *o, L[a], "填空题", None] for i, (s, o, a) in enumerate(qs, 1))]})),
    }


def mcq_cases() -> list[dict]:
    cases = []
    for name, (converter, suffix, write) in mcq_sources().items():
        qs = questions()
        test_file = f"leak_{name}_test.{suffix}"
        test = write(qs[:2])
        for label, how in (("reordered", lambda s: s), ("reordered_traditional", traditional), ("reordered_width", wide)):
            train = [*qs[2:], *(rotated(q, how) for q in qs[:2])]
            cases.append(case(f"leak_{name}_{label}", write(train),
                              convert(converter, F + f"leak_{name}_{label}.{suffix}", "--test", F + test_file), 0,
                              f"skipped 2: {NORMALIZED}", f"two test questions again with their options {label.replace('_', ', ')}",
                              extra_files={test_file: test}, leak_check=True))
        cases.append(case(f"leak_{name}_listed_twice", write([*qs, *(rotated(q) for q in qs)]),
                          convert(converter, F + f"leak_{name}_twice.{suffix}", "--test-size", "2", "--seed", "5"), 0,
                          "test: wrote 2", "a bank that lists each question twice (options reordered): neither copy "
                          "of a held-out question in train", leak_check=True))
        shuffled = ["--shuffle-options", "3"] if converter == "safety_exam" else []
        cases.append(case(f"leak_{name}_listed_twice_val", write([*qs, *(rotated(q) for q in qs)]),
                          convert(converter, F + f"leak_{name}_twice_val.{suffix}", "--test-size", "1", "--val-size", "1",
                                  *shuffled, "--seed", "5"), 0,
                          "val: wrote 1", "a bank that lists each question twice, with a validation split: neither copy "
                          "of a validation question in train, and it is no test question", leak_check=True))
    for source in ("safety_exam_seed", "safety_exam_competition"):
        _, suffix, write = mcq_sources()[source]
        qs = questions()
        cases.append(case(f"leak_{source}_shuffled_copies", write(qs),
                          convert("safety_exam", F + f"leak_{source}_shuffle.{suffix}", "--test", F + f"leak_{source}_test.{suffix}",
                                  "--shuffle-options", "5"), 0, f"skipped 2: {EXACT}",
                          "--shuffle-options copies of a test question never reach train (the original is left out first)",
                          extra_files={f"leak_{source}_test.{suffix}": write(qs[:2])}, leak_check=True))
        cases.append(case(f"leak_{source}_shuffle_test_size", write([*qs, *(rotated(q) for q in qs)]),
                          convert("safety_exam", F + f"leak_{source}_shuffle_twice.{suffix}", "--test-size", "3",
                                  "--shuffle-options", "3", "--seed", "9"), 0, "test: wrote 3",
                          "shuffled copies with a held-out split of a bank listing each question twice", leak_check=True))
    return cases


def shape_cases() -> list[dict]:
    header = ["Question", "Options", "Answer", "Explanation"]
    return [
        case("leak_cmexam_skipped_letter", utf8(table(header, [
            ["男，45岁。反复上腹痛3年，最可能的诊断是", "A 胃溃疡\nB 十二指肠溃疡\nD 胃癌\nE 慢性胃炎", "B", ""],
            ["下列属于糖皮质激素不良反应的有", "A 骨质疏松\nB 低血压\nC 满月脸", "AC", ""]])),
             convert("med_mcq", F + "leak_cmexam_skipped_letter.csv"), 0, "skipped 1: options skip a letter",
             "a real CMExam question whose options skip C: not merged into B"),
        case("leak_cmexam_skipped_two_letters", utf8(table(header, [
            ["最可能的诊断是", "A 胃溃疡\nB 十二指肠溃疡\nE 慢性胃炎", "B", ""],
            ["下列属于糖皮质激素不良反应的有", "A 骨质疏松\nB 低血压\nC 满月脸", "AC", ""]])),
             convert("med_mcq", F + "leak_cmexam_skipped_two.csv"), 0, "skipped 1: options skip a letter",
             "options A, B, E: two letters lost"),
        case("leak_seed_table_skipped_letter", utf8(table(["专业", "题型", "题目内容", "题目依据条款", "选项", "正确答案"], [
            ["变电专业", "单选题", "应穿（　　）。", "来自安规", "A. 雨鞋,B. 绝缘靴,D. 绝缘鞋", "B. 绝缘靴"],
            ["变电专业", "单选题", "应戴（　　）。", "来自安规", "A. 手套,B. 绝缘手套", "B. 绝缘手套"]])),
             convert("safety_exam", F + "leak_seed_skipped_letter.csv"), 0, "skipped 1: options skip a letter",
             "the seed table's joined options skip a letter"),
        case("leak_cmexam_literal_newline_csv", utf8(table(header, [
            ["最可能的诊断是", r"A 胃溃疡\nB 十二指肠溃疡\nC 慢性胃炎", "B", ""],
            ["下列属于糖皮质激素不良反应的有", r"A 骨质疏松\nB 低血压\nC 满月脸", "AC", ""]])),
             convert("med_mcq", F + "leak_cmexam_literal_newline.csv"), 0, "wrote 2",
             "options separated by a literal backslash-n are read"),
        case("leak_cmexam_literal_newline_xlsx", xlsx({"Sheet1": [header,
                                                                   ["最可能的诊断是", r"A 胃溃疡\nB 十二指肠溃疡\nC 慢性胃炎", "B", "空腹痛。"],
                                                                   ["不良反应有", r"A 骨质疏松\r\nB 低血压\r\nC 满月脸", "AC", ""]]}),
             convert("med_mcq", F + "leak_cmexam_literal_newline.xlsx"), 0, "wrote 2",
             "the CMExam xlsx whose options are separated by a literal backslash-n"),
        case("leak_competition_fill_markers", xlsx({"填空题": [
            ["题目（必填）：", "考核点", "难度：", "试题解析：", "填空顺序", "答案A", "答案B", "答案C", "答案D", "答案E"],
            ["工作票签发人、工作负责人（_（1）_）、_（2）_、_（3）_、_（4）_和_（5）_应履行各自的职责。", None, "易", "安规类", None,
             "监护人", "工作许可人", "专责监护人", "工作班成员", "安全职责"],
            ["电气工作人员应具备必要的（1）和技能，应掌握(2)等救护法。", None, "易", "安规类", None, "安全生产知识", "触电急救"],
            ["作业人员应被告知其作业现场存在的      和防范措施。", None, "易", "安规类", None, "危险因素"]]}),
             convert("safety_exam", F + "leak_competition_fill_markers.xlsx"), 0, "wrote 3",
             "_（1）_, (1)/（1） and runs of spaces are blanks: the 5-answer row is kept"),
        case("leak_competition_wrapped_option", xlsx({"单选题": [
            ["题目（必填）：", "考核点：", "难度：", "试题解析：", "正确答案（必填）", "选项A（必填）", "选项B（必填）"],
            ["用人单位（  ）的，劳动者可以解除劳动合同。", None, "易", "安规类", "A", "拒绝支\n付报酬", "按时支付"]]}),
             convert("safety_exam", F + "leak_competition_wrapped_option.xlsx"), 0, "wrote 1",
             "a PDF line break inside an option's Chinese word is joined"),
    ]


def disc_law_cases() -> list[dict]:
    pair = {"id": "pair_1", "input": "魏某某醉酒驾驶机动车，应如何处罚？", "output": "魏某某构成危险驾驶罪。"}
    return [
        case("leak_disc_law_triplet_of_a_test_pair", jsonl([DISC[1], DISC[0]]),
             convert("disc_law", F + "leak_disc_law_triplets.jsonl", "--test", F + "leak_disc_law_pair_test.jsonl"), 0,
             f"skipped 1: {SAME_ITEM}", "the Triplet (statutes prepended) of a test Pair is the same item",
             extra_files={"leak_disc_law_pair_test.jsonl": jsonl([pair])}, leak_check=True),
        case("leak_disc_law_pair_of_a_test_triplet", jsonl([pair, DISC[0]]),
             convert("disc_law", F + "leak_disc_law_pairs.jsonl", "--test", F + "leak_disc_law_triplet_test.jsonl"), 0,
             f"skipped 1: {SAME_ITEM}", "the Pair of a test Triplet is the same item",
             extra_files={"leak_disc_law_triplet_test.jsonl": jsonl([DISC[1]])}, leak_check=True),
        case("leak_disc_law_pair_and_triplet_test_size", jsonl([pair, DISC[1], DISC[0],
                                                               {"id": "p9", "input": "借款不还可以起诉吗？", "output": "可以。"}]),
             convert("disc_law", F + "leak_disc_law_mixed.jsonl", "--test-size", "1", "--seed", "2"), 0, "test: wrote 1",
             "a Pair and a Triplet of one question in one held-out run", leak_check=True),
    ]


def limit_cases() -> list[dict]:
    records = [{"text": f"原始词{i}", "normalized_result": "标准词"} for i in range(40)]
    records += [{"text": traditional(f"原始詞{i}"), "normalized_result": "标准词"} for i in range(40)]
    return [case("leak_limit_counts_written", array(records),
                 convert("med_norm", F + "leak_limit.json", "--test-size", "10", "--limit", "30", "--seed", "4"), 0,
                 "wrote 30 ->", "--limit counts what is written, after the test items are left out", leak_check=True),
            case("leak_limit_with_test_file", array(records),
                 convert("med_norm", F + "leak_limit.json", "--test", F + "leak_limit_test.json", "--limit", "30"), 0,
                 "wrote 30 ->", "--limit with a --test file samples among what deduplication keeps",
                 extra_files={"leak_limit_test.json": array(records[:20])}, leak_check=True),
            case("leak_limit_with_val", array(records),
                 convert("med_norm", F + "leak_limit.json", "--test-size", "10", "--val-size", "8", "--limit", "30",
                         "--seed", "4"), 0, "wrote 30 ->",
                 "--limit counts what is written once the test and validation items (and their traditional "
                 "variants) are out", leak_check=True)]


# ---------------------------------------------------------------- lfd eval: predictions out of order

def chatml(question: str) -> str:
    return f"<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"


ALPACA_ENTRY = {"formatting": "alpaca", "columns": {"prompt": "instruction", "query": "input", "response": "output"},
                "lfd": {"converter": "med_norm", "split": "test", "evaluators": ["exact_match"]}}
TERMS = [("房颤", "心房颤动"), ("心房纤颤", "心房颤动"), ("高血压", "高血压"), ("高血压病", "高血压")]


def eval_case(case_id, predictions, records, status, expect, why, entry=ALPACA_ENTRY):
    test_name, info_name = f"{case_id}_test.jsonl", f"{case_id}_info.json"
    info = json.dumps({"terms_test": {**entry, "file_name": test_name}}, ensure_ascii=False).encode("utf-8")
    return case(case_id, jsonl(predictions),
                evaluate(F + f"{case_id}_pred.jsonl", "--dataset", "terms_test", "--dataset-info", F + info_name),
                status, expect, why, extra_files={test_name: jsonl(records), info_name: info})


def eval_cases() -> list[dict]:
    records = [{"instruction": "原始词:", "input": q, "output": a} for q, a in TERMS]
    preds = [{"prompt": chatml(f"原始词:\n{r['input']}"), "predict": r["output"], "label": r["output"] + "\n"} for r in records]
    swapped = [preds[1], preds[0], preds[3], preds[2]]
    long_q = "问诊对话历史:\n患者:" + "宝宝拉稀三天了，一天五六次，" * 12
    long_records = [{"instruction": long_q, "input": "", "output": "腹泻"}, {"instruction": "原始词:\n房颤", "input": "", "output": "腹泻"}]
    sharegpt = {"formatting": "sharegpt", "columns": {"messages": "conversations"},
                "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
                "lfd": {"evaluators": ["exact_match"]}}
    conv = [{"conversations": [{"role": "user", "content": q}, {"role": "assistant", "content": "可以起诉。"}]}
            for q in ("欠款不还怎么办", "借钱不还怎么办")]
    conv_preds = [{"prompt": chatml(c["conversations"][0]["content"]), "predict": "可以起诉。", "label": "可以起诉。\n"} for c in conv]
    return [
        eval_case("leak_eval_in_order", preds, records, 0, "exact_match", "predictions in test-split order are scored"),
        eval_case("leak_eval_swapped_pairs", swapped, records, 1, "line 1: the prompt does not hold the question of record 1",
                  "reordered predictions whose labels still match are refused"),
        eval_case("leak_eval_swapped_names_the_other", [preds[0], preds[1], preds[3], preds[2]], records, 1,
                  "line 3: the prompt does not hold the question of record 3 of", "one question is the start of another: the "
                  "prompt's last user turn decides"),
        eval_case("leak_eval_names_the_record_asked", [preds[0], preds[1], preds[3], preds[2]], records, 1,
                  "it asks the question of record 4", "the error names the record the prompt asks"),
        eval_case("leak_eval_other_dataset", [{**p, "prompt": chatml(f"原始词:\n{q}病")} for p, q in zip(preds, "甲乙丙丁")], records,
                  1, "line 1: the prompt does not hold the question", "prompts of another test file with matching labels"),
        eval_case("leak_eval_placeholder_prompts", [{**p, "prompt": "…"} for p in preds], records, 0, "exact_match",
                  "prompts without text cannot be checked: labels only"),
        eval_case("leak_eval_cutoff_truncated", [{"prompt": chatml(long_q[:90]), "predict": "腹泻", "label": "腹泻\n"},
                                                 {"prompt": chatml("原始词:\n房颤"), "predict": "腹泻", "label": "腹泻\n"}],
                  long_records, 0, "exact_match", "a long prompt cut by cutoff_len still holds its question's start"),
        eval_case("leak_eval_sharegpt_swapped", conv_preds[::-1], conv, 1, "line 1: the prompt does not hold the question",
                  "chatglm3 conversations: the last user turn must be in the prompt", entry=sharegpt),
        eval_case("leak_eval_sharegpt_in_order", conv_preds, conv, 0, "exact_match", "chatglm3 conversations in order",
                  entry=sharegpt),
    ]


CHOICE_ENTRY = {"formatting": "alpaca", "columns": {"prompt": "instruction", "query": "input", "response": "output"},
                "lfd": {"converter": "safety_exam", "split": "test_circular", "evaluators": ["choice"],
                        "primary_metric": "choice_circular_accuracy", "circular": 2}}


def circular_cases() -> list[dict]:
    """`lfd eval` of a circular split whose records were edited after `lfd convert --circular`."""
    def record(rotation, circular="keep"):
        order = "AB" if rotation == 0 else "BA"
        options = {"A": "绝缘靴", "B": "雨鞋"} if rotation == 0 else {"A": "雨鞋", "B": "绝缘靴"}
        answer = "A" if rotation == 0 else "B"
        text = "\n".join(["以下是一道单选题，只有一个正确答案。", "应穿？", *(f"{k}. {v}" for k, v in options.items())])
        made = {"question": 1, "rotation": rotation, "order": order, "rotations": 2}
        return {"instruction": text, "input": "", "output": answer, "options": options, "answer": answer,
                "question_type": "single", "circular": made if circular == "keep" else circular}

    def preds(records):
        return [{"prompt": chatml(r["instruction"]), "predict": r["output"], "label": r["output"] + "\n"} for r in records]

    whole = [record(0), record(1)]
    broken = {
        "rotation_missing": [record(0), record(1, {"question": 1, "order": "BA", "rotations": 2})],
        "huge_rotations": [record(0, {"question": 1, "rotation": 0, "order": "AB", "rotations": 10**30}), record(1)],
        "order_not_letters": [record(0, {"question": 1, "rotation": 0, "order": "甲乙", "rotations": 2}), record(1)],
    }
    deep = eval_case("leak_eval_circular_deep_nesting", preds(whole), whole, 1, "line 1: not JSON (nested too deeply)",
                     "a circular record nested 5,000 deep", entry=CHOICE_ENTRY)
    nested = json.dumps(record(0, "NESTED"), ensure_ascii=False).replace('"NESTED"', '{"question": ' * 5000 + "1" + "}" * 5000)
    deep["extra_files"]["leak_eval_circular_deep_nesting_test.jsonl"] = (nested + "\n").encode() + jsonl([record(1)])
    return [
        eval_case("leak_eval_circular_whole", preds(whole), whole, 0, "choice_circular_accuracy",
                  "a circular split is scored by question", entry=CHOICE_ENTRY),
        eval_case("leak_eval_circular_one_rotation_left", preds(whole[:1]), whole[:1], 1,
                  "record 1: question 1 of the circular split has rotations 0 of its 2 in the file",
                  "a rotation deleted from the circular split by hand", entry=CHOICE_ENTRY),
        *(eval_case(f"leak_eval_circular_{name}", preds(records), records, 1, "record ",
                    f"a circular record edited by hand ({name.replace('_', ' ')})", entry=CHOICE_ENTRY)
          for name, records in broken.items()),
        deep,
    ]


CASES = [*text_cases(), *cmedqa2_cases(), *med_mrg_cases(), *mcq_cases(), *shape_cases(), *disc_law_cases(),
         *limit_cases(), *eval_cases(), *circular_cases()]
