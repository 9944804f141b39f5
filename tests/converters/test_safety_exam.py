import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

SHARED = Path(__file__).resolve().parents[3] / "shared" / "samples" / "power_safety_anquan"
SINGLE = "以下是一道单选题，只有一个正确答案。"
MULTI = "以下是一道多选题，请选出所有正确答案。"
JUDGE = "以下是一道判断题，请判断下面的说法是否正确。"

SEED_HEADER = ["专业", "题型", "题目内容", "题目依据条款", "选项", "正确答案"]
SEED_ROWS = [
    ["变电专业", "单选题", "雷雨天气，需要巡视室外高压设备时，应穿（　　），并不准靠近避雷器和避雷针。", "来自安规",
     "A. 雨鞋,B. 绝缘靴,C. 橡胶鞋,D. 绝缘鞋", "B. 绝缘靴"],
    ["变电专业", "判断题", "禁止在只经断路器（开关）断开电源或只经换流器闭锁隔离电源的设备上工作。", "来自安规",
     "A. 正确,B. 错误", "A. 正确"],
    ["变电专业", "多选题", "线路的停、送电均应按照（　　）的指令执行。", "来自安规",
     "A. 值班调控人员,B. 专责监护人,C. 线路工作负责人,D. 线路工作许可人", "A. 值班调控人员,D. 线路工作许可人"],
]
CHOICE_HEADER = ["题目（必填）：", "考核点：", "难度：", "试题解析：", "正确答案（必填）", "选项A（必填）", "选项B（必填）",
                 *(f"选项{letter}" for letter in "CDEFGHIJKL")]
FILL_HEADER = ["题目（必填）：", "考核点", "难度：", "试题解析：", "填空顺序", *(f"答案{letter}" for letter in "ABCDEFGHIJKL")]
GB_HEADER = ["序号", "题目", "A", "B", "C", "D", "答案", "题型", "解析"]


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def markdown(path, header, rows):
    """The blog post's layout: a pipe table between prose."""
    table = [f"| {' | '.join(header)} |", "| " + " | ".join("---" for _ in header) + " |",
             *(f"| {' | '.join(row)} |" for row in rows)]
    path.write_text("<!-- 题库 -->\n" + "\n".join(table) + "\n\n### 训练集\n", encoding="utf-8")
    return path


def workbook(path, sheets):
    """An xlsx with one sheet per name: header row first."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def padded(row, header):
    return row + [None] * (len(header) - len(row))


def competition_bank(path):
    """Variant B: five sheets; empty cells are None or '' as in the real bank."""
    return workbook(path, {
        "单选题": [CHOICE_HEADER, padded(["根据规定，带电作业应设（  ）。", None, "易", "安规类", "A", "专责监护人", "临时监护人",
                                         "兼职安全员", "专职安全员", "", ""], CHOICE_HEADER),
                  padded(["单选题却有两个答案（  ）。", None, "易", "安规类", "AB", "甲", "乙"], CHOICE_HEADER)],
        "多选题": [CHOICE_HEADER, padded(["配电箱、开关箱应有名称、（  ）、（  ）及（  ）。", "", "易", "安规类", "BCD",
                                         "尺寸", "用途", "分路标记", "系统接线图"], CHOICE_HEADER),
                  padded(["选项缺了B的题（  ）。", "", "易", "安规类", "A", "甲", None, "丙"], CHOICE_HEADER)],
        "判断题": [["题目（必填）：", "考核点", "难度：", "试题解析：", "正确答案（必填）："],
                  ["现场使用的安全工具和器具应合格并符合有关要求。", None, "易", "安规类", "正确"],
                  ["作业人员每三年必须进行一次体格检查。", "", "易", "安规类", "错误"]],
        "填空题": [FILL_HEADER,
                  padded(["在电气设备上进行_(1)_或_(2)_工作时，应提出停电申请。", None, "易", "安规类", "无序",
                          "全部停电", "部分停电", ""], FILL_HEADER),
                  padded(["作业人员应被告知其作业现场存在的_(1)_和_(2)_。", None, "易", "安规类", None, "危险因素"],
                         FILL_HEADER)],
        "问答题": [["题目（必填）：", "考核点", "难度：", "答案：", "关键词：", "试题解析："],
                  ["工作许可人的安全责任？", None, "易", "(1)确认安全措施正确完备;\n(2)确认无突然来电的危险。", None, "安规类"]],
    })


def gb26860_bank(path, rows):
    """Variant C: sheet 题库, 题型 saying 填空题 on every row."""
    return workbook(path, {"题库": [GB_HEADER, *([i, *row[:5], row[5], "填空题", None] for i, row in enumerate(rows, 1))]})


def test_seed_table_in_markdown_with_options_in_the_prompt(lfd, tmp_path):
    src = markdown(tmp_path / "blog.md", SEED_HEADER, SEED_ROWS)
    code, _, err = lfd("convert", "safety_exam", src, "--out-dir", tmp_path)
    assert code == 0, err
    single, judge, multi = lines(tmp_path / "safety_exam_train.jsonl")
    assert single == {
        "instruction": f"{SINGLE}\n雷雨天气，需要巡视室外高压设备时，应穿___，并不准靠近避雷器和避雷针。\n"
                       "A. 雨鞋\nB. 绝缘靴\nC. 橡胶鞋\nD. 绝缘鞋",
        "input": "", "output": "B. 绝缘靴",
        "options": {"A": "雨鞋", "B": "绝缘靴", "C": "橡胶鞋", "D": "绝缘鞋"}, "answer": "B", "question_type": "single"}
    assert judge["instruction"].startswith(JUDGE + "\n禁止在只经断路器（开关）") and judge["output"] == "A. 正确"
    assert judge["instruction"].endswith("\nA. 正确\nB. 错误")
    assert multi["output"] == "A. 值班调控人员\nD. 线路工作许可人"
    assert (multi["answer"], multi["question_type"]) == ("AD", "multi")
    entry = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))["safety_exam_train"]
    assert entry["lfd"]["converter"] == "safety_exam"


def test_seed_table_plain_style_matches_the_seed(lfd, tmp_path):
    src = tmp_path / "anquan.csv"
    with open(src, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([SEED_HEADER, *SEED_ROWS])
    code, _, err = lfd("convert", "safety_exam", src, "--style", "plain", "--test-size", "1", "--out-dir", tmp_path)
    assert code == 0, err
    records = lines(tmp_path / "safety_exam_train.jsonl") + lines(tmp_path / "safety_exam_test.jsonl")
    seed = {"雷雨天气，需要巡视室外高压设备时，应穿___，并不准靠近避雷器和避雷针。": "绝缘靴",
            "禁止在只经断路器（开关）断开电源或只经换流器闭锁隔离电源的设备上工作。": "正确",
            "线路的停、送电均应按照___的指令执行。": "值班调控人员; 线路工作许可人"}
    assert {r["instruction"]: r["output"] for r in records} == seed
    assert all(r["options"] and r["answer"] for r in records)  # the choice evaluator can still score them
    entry = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))["safety_exam_test"]
    assert entry["lfd"]["evaluators"] == ["choice", "exact_match"]


def test_seed_table_bad_rows_are_counted_skips(lfd, tmp_path):
    rows = [
        *SEED_ROWS[:1],
        ["变电专业", "案例分析题", "未知题型的题（　　）。", "来自安规", "A. 甲,B. 乙", "A. 甲"],
        ["变电专业", "单选题", "选项写不出字母的题（　　）。", "来自安规", "雨鞋,绝缘靴", "绝缘靴"],
        ["变电专业", "单选题", "答案不在选项里（　　）。", "来自安规", "A. 甲,B. 乙", "E. 戊"],
        ["变电专业", "单选题", "答案字母与内容不符（　　）。", "来自安规", "A. 甲,B. 乙", "B. 甲"],
        ["变电专业", "多选题", "多选题", "来自安规", "A. 甲,B. 乙", "A. 甲", "多出来的一格"],
    ]
    src = markdown(tmp_path / "bank.md", SEED_HEADER, rows)
    code, _, err = lfd("convert", "safety_exam", src, "--out-dir", tmp_path, "--rejects", tmp_path / "rejects.jsonl")
    assert code == 0, err
    assert len(lines(tmp_path / "safety_exam_train.jsonl")) == 1
    for reason in ("unknown 题型 (案例分析题)", "options are not lettered (A. … B. …)", "answer letter not among the options",
                   "answer text differs from its option", "ragged row (7 cells, header has 6)"):
        assert f"skipped 1: {reason}" in err
    ragged = lines(tmp_path / "rejects.jsonl")[-1]
    assert ragged["location"] == "line 9" and ragged["reason"].startswith("ragged row")


def test_seed_table_xlsx_with_a_merged_type_cell(lfd, tmp_path):
    path = workbook(tmp_path / "anquan.xlsx", {"Sheet1": [SEED_HEADER, *SEED_ROWS]})
    from openpyxl import load_workbook

    book = load_workbook(path)
    book["Sheet1"].merge_cells("B3:B4")  # 题型 merged over the judge and multi rows: the lower cell reads empty
    book["Sheet1"].merge_cells("A2:A4")  # 专业 merged: not needed, no harm
    book.save(path)
    code, _, err = lfd("convert", "safety_exam", path, "--out-dir", tmp_path)
    assert code == 0, err
    assert [r["answer"] for r in lines(tmp_path / "safety_exam_train.jsonl")] == ["B", "A"]
    assert "skipped 1: unknown 题型 (empty)" in err


def test_competition_bank_reads_every_sheet_with_its_own_header(lfd, tmp_path):
    src = competition_bank(tmp_path / "新员工一级竞赛题库.xlsx")
    code, _, err = lfd("convert", "safety_exam", src, "--out-dir", tmp_path)
    assert code == 0, err
    single, multi, judge_true, judge_false, fill, open_ = lines(tmp_path / "safety_exam_train.jsonl")
    assert single["instruction"] == (f"{SINGLE}\n根据规定，带电作业应设___。\n"
                                     "A. 专责监护人\nB. 临时监护人\nC. 兼职安全员\nD. 专职安全员")
    assert single["output"] == "A. 专责监护人"
    assert multi["instruction"].startswith(f"{MULTI}\n配电箱、开关箱应有名称、___、___及___。")
    assert multi["output"] == "B. 用途\nC. 分路标记\nD. 系统接线图" and multi["question_type"] == "multi"
    assert judge_true["output"] == "A. 正确" and judge_false["output"] == "B. 错误"
    assert fill == {"instruction": "在电气设备上进行___或___工作时，应提出停电申请。", "input": "",
                    "output": "全部停电、部分停电", "question_type": "fill"}
    assert open_["output"] == "(1)确认安全措施正确完备;\n(2)确认无突然来电的危险。" and open_["question_type"] == "open"
    for reason in ("several answers to a single-answer question", "options skip a letter",
                   "number of blanks and answers differ"):
        assert f"skipped 1: {reason}" in err


def test_competition_bank_csv_extracts_take_the_kind_from_the_file_name(lfd, tmp_path):
    src = tmp_path / "新员工一级竞赛题库_多选题.csv"
    with open(src, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([CHOICE_HEADER, padded(["只有一个正确项的多选题（  ）。", "", "易", "安规类", "C",
                                                        "甲", "乙", "丙", "丁"], CHOICE_HEADER)])
    code, _, err = lfd("convert", "safety_exam", src, "--style", "plain", "--out-dir", tmp_path)
    assert code == 0, err
    [record] = lines(tmp_path / "safety_exam_train.jsonl")
    assert (record["instruction"], record["output"], record["question_type"]) == ("只有一个正确项的多选题___。", "丙", "multi")


def test_a_workbook_without_a_question_sheet_names_its_sheets(lfd, tmp_path):
    src = workbook(tmp_path / "bank.xlsx", {"说明": [["本题库共五个工作表"]], "Sheet2": [["题干", "答案"], ["x", "y"]]})
    code, _, err = lfd("convert", "safety_exam", src, "--out-dir", tmp_path)
    assert code == 1 and "no sheet has a 题型/题目内容/选项/正确答案 or 题目（必填）：" in err
    assert "(sheet 说明: 本题库共五个工作表; sheet Sheet2: 题干, 答案)" in err and "Traceback" not in err


def test_a_file_of_another_shape_is_refused_on_its_first_record(lfd, tmp_path):
    src = tmp_path / "qa.json"
    src.write_text(json.dumps([{"question": "什么是安规？", "answer": "安全工作规程"}], ensure_ascii=False), encoding="utf-8")
    code, _, err = lfd("convert", "safety_exam", src, "--out-dir", tmp_path)
    assert code == 1 and "record 0 (line 1): row has no 题目内容" in err and "right file for `safety_exam`" in err


def test_gb26860_bank_infers_the_kind_and_skips_damaged_rows(lfd, tmp_path):
    src = gb26860_bank(tmp_path / "题库.xlsx", [
        ["携带型短路接地线的试验周期为____", "五年", "三年", "一年", "两年", "A"],
        ["低压不停电工作，应____", "站在干燥的绝缘物上", "使用有绝缘柄的工具", "穿绝缘鞋", None, "ABC"],
        ["备用的旁路开关不是运用中的电气 设备。____", None, None, None, None, "×"],
        ["工作票一式两份，一份交____，一份交____。", "", None, None, None, "工作负责人、工作 许可人"],
        ["接受倒闸操作命令时____", "监护人接受", "操作人接受", "值班员接受", "任何人", "A、所"],
        ["填用一张____工作票。", "线路一种工作票 B． 电气第一种工作票", None, "带电作业工作票", None, "B"],
        ["选项串了一格____", "2m", "4m", "6m", "8m E、10m", "BD"],
        ["电气设备的双重名称是____.", "甲", "乙", "丙", "丁", "AB、BCD"],
        ["在进行高处工作时,不准在工作地点的____通行。", None, None, None, None, "C"],
    ])
    code, _, err = lfd("convert", "safety_exam", src, "--style", "plain", "--out-dir", tmp_path)
    assert code == 0, err
    single, multi, judge, fill = lines(tmp_path / "safety_exam_train.jsonl")
    assert (single["output"], single["question_type"]) == ("五年", "single")
    assert (multi["output"], multi["answer"], multi["question_type"]) == (
        "站在干燥的绝缘物上; 使用有绝缘柄的工具; 穿绝缘鞋", "ABC", "multi")
    assert (judge["instruction"], judge["output"]) == ("备用的旁路开关不是运用中的电气设备。", "错误")
    assert fill == {"instruction": "工作票一式两份，一份交___，一份交___。", "input": "",
                    "output": "工作负责人、工作许可人", "question_type": "fill"}
    for reason in ("answer is not option letters", "options skip a letter", "an option cell holds several options",
                   "answer gives a letter group per blank", "answer letters but no options"):
        assert f"skipped 1: {reason}" in err


def shuffle_bank(path, rows):
    return markdown(path, SEED_HEADER, rows)


def test_shuffled_copies_remap_answers_and_never_repeat_an_order(lfd, tmp_path):
    rows = [*SEED_ROWS,
            ["变电专业", "单选题", "只有两个选项（　　）。", "来自安规", "A. 甲,B. 乙", "B. 乙"],
            ["变电专业", "单选题", "选项指向其他选项（　　）。", "来自安规", "A. 甲,B. 乙,C. 以上都对", "C. 以上都对"]]
    src = shuffle_bank(tmp_path / "bank.md", rows)
    code, _, err = lfd("convert", "safety_exam", src, "--shuffle-options", "30", "--out-dir", tmp_path)
    assert code == 0, err
    records = lines(tmp_path / "safety_exam_train.jsonl")
    by_question: dict[str, list[dict]] = {}
    for record in records:
        by_question.setdefault(record["instruction"].split("\n")[1], []).append(record)
    # 4 options: 23 other orders (< 30); 2 options: 1; judge and 以上 questions: none
    counts = {question[:6]: len(group) for question, group in by_question.items()}
    assert counts == {"雷雨天气，需": 24, "禁止在只经断": 1, "线路的停、送": 24, "只有两个选项": 2, "选项指向其他": 1}
    assert f"wrote {len(records)} ({23 + 23 + 1} of them augmented copies)" in err
    for group in by_question.values():
        assert len({r["instruction"] for r in group}) == len(group)  # no order twice, none the original
        answers = {tuple(sorted(r["options"][letter] for letter in r["answer"])) for r in group}
        assert len(answers) == 1  # the same answer texts under new letters
        for r in group:
            assert r["output"] == "\n".join(f"{letter}. {r['options'][letter]}" for letter in r["answer"])
    assert {r["answer"] for r in by_question["线路的停、送电均应按照___的指令执行。"]} > {"AD", "BC"}


def test_shuffled_copies_depend_on_seed_and_question_not_on_input_order(lfd, tmp_path):
    def copies(rows, folder, seed="42"):
        src = shuffle_bank(tmp_path / f"{folder}.md", rows)
        code, _, err = lfd("convert", "safety_exam", src, "--shuffle-options", "2", "--seed", seed,
                           "--out-dir", tmp_path / folder)
        assert code == 0, err
        return sorted(r["instruction"] for r in lines(tmp_path / folder / "safety_exam_train.jsonl"))

    forward = copies(SEED_ROWS, "forward")
    assert len(forward) == 3 + 2 + 2 + 0
    assert copies(SEED_ROWS[::-1], "backward") == forward
    assert copies(SEED_ROWS, "other_seed", seed="7") != forward


def test_shuffled_copies_stay_out_of_the_test_split(lfd, tmp_path):
    rows = [["变电专业", "单选题", f"第{i}题（　　）。", "来自安规", "A. 甲,B. 乙,C. 丙", "C. 丙"] for i in range(10)]
    src = shuffle_bank(tmp_path / "bank.md", rows)
    code, _, err = lfd("convert", "safety_exam", src, "--shuffle-options", "2", "--test-size", "4",
                       "--out-dir", tmp_path)
    assert code == 0, err
    train, test = (lines(tmp_path / f"safety_exam_{split}.jsonl") for split in ("train", "test"))
    assert len(test) == 4 and len(train) == 6 * 3
    question_lines = [{r["instruction"].split("\n")[1] for r in records} for records in (train, test)]
    assert not question_lines[0] & question_lines[1]


def test_shuffling_needs_the_options_style(lfd, tmp_path):
    src = shuffle_bank(tmp_path / "bank.md", SEED_ROWS)
    code, _, err = lfd("convert", "safety_exam", src, "--style", "plain", "--shuffle-options", "2", "--out-dir", tmp_path)
    assert code == 1 and "--shuffle-options" in err and "--style plain" in err


@pytest.mark.skipif(not SHARED.exists(), reason="the real samples are only on the developers' machines")
def test_real_seed_table_gives_the_seeds_plain_outputs(lfd, tmp_path):
    src = SHARED / "blog_post_table_专业_题型_题目依据条款.md"
    code, _, err = lfd("convert", "safety_exam", src, "--style", "plain", "--out-dir", tmp_path)
    assert code == 0 and "read 9, wrote 9" in err, err
    outputs = {r["instruction"]: r["output"] for r in lines(tmp_path / "safety_exam_train.jsonl")}
    assert outputs["雷雨天气，需要巡视室外高压设备时，应穿___，并不准靠近避雷器和避雷针。"] == "绝缘靴"
    assert outputs["线路的停、送电均应按照___的指令执行。"] == "值班调控人员; 线路工作许可人"


@pytest.mark.skipif(not SHARED.exists(), reason="the real samples are only on the developers' machines")
def test_real_competition_bank_sheet_extracts(lfd, tmp_path):
    sources = sorted(SHARED.glob("新员工一级竞赛题库_*.csv"))
    code, _, err = lfd("convert", "safety_exam", *sources, "--out-dir", tmp_path)
    assert code == 0 and "read 50, wrote 50" in err, err
    kinds = [r["question_type"] for r in lines(tmp_path / "safety_exam_train.jsonl")]
    assert {kind: kinds.count(kind) for kind in set(kinds)} == {"single": 20, "multi": 10, "fill": 10, "open": 10}


@pytest.mark.skipif(not SHARED.exists(), reason="the real samples are only on the developers' machines")
def test_real_gb26860_bank_xlsx(lfd, tmp_path):
    [src] = SHARED.glob("*GB 26860*.xlsx")
    code, _, err = lfd("convert", "safety_exam", src, "--out-dir", tmp_path)
    assert code == 0 and "read 344, wrote 314" in err, err
    for reason, count in (("answer is not option letters", 20), ("options skip a letter", 5),
                          ("an option cell holds several options", 3), ("answer gives a letter group per blank", 1),
                          ("answer letters but no options", 1)):
        assert f"skipped {count}: {reason}" in err
    kinds = [r["question_type"] for r in lines(tmp_path / "safety_exam_train.jsonl")]
    assert (kinds.count("single"), kinds.count("multi"), kinds.count("fill")) == (187, 68, 59)


def test_competition_bank_fill_in_markers_and_wrapped_options(lfd, tmp_path):
    """Numbered markers (1)/（1）, _（1）_ and runs of spaces are blanks; answers of several blanks are
    joined by 、 as in the GB 26860 bank; a line wrapped inside an option's Chinese text is joined."""
    src = workbook(tmp_path / "bank.xlsx", {
        "填空题": [FILL_HEADER,
                  padded(["电气工作人员应具备必要的（1）和技能，应掌握(2)等救护法。", None, "易", "安规类", None,
                          "安全生产知识", "触电急救"], FILL_HEADER),
                  padded(["作业人员应被告知其作业现场存在的      和防范措施。", None, "易", "安规类", None, "危险因素"],
                         FILL_HEADER),
                  padded(["工作票签发人、工作负责人（_（1）_）、_（2）_、_（3）_、_（4）_和_（5）_应履行职责。", None, "易",
                          "安规类", None, "监护人", "工作许可人", "专责监护人", "工作班成员", "安全职责"], FILL_HEADER)],
        "单选题": [CHOICE_HEADER, padded(["用人单位（  ）的，劳动者可以解除劳动合同。", None, "易", "安规类", "A",
                                         "拒绝支\n付报酬", "按时 支付"], CHOICE_HEADER)],
    })
    code, _, err = lfd("convert", "safety_exam", src, "--out-dir", tmp_path)
    assert code == 0, err
    fill_two, fill_one, fill_five, single = lines(tmp_path / "safety_exam_train.jsonl")
    assert fill_two["instruction"] == "电气工作人员应具备必要的___和技能，应掌握___等救护法。"
    assert fill_two["output"] == "安全生产知识、触电急救"
    assert fill_one["instruction"] == "作业人员应被告知其作业现场存在的___和防范措施。"
    assert fill_five["instruction"] == "工作票签发人、工作负责人（___）、___、___、___和___应履行职责。"
    assert fill_five["output"] == "监护人、工作许可人、专责监护人、工作班成员、安全职责"
    assert single["options"] == {"A": "拒绝支付报酬", "B": "按时 支付"}


def test_voltage_classes_are_ordinary_options_and_are_shuffled(lfd, tmp_path):
    """"35kV及以上" / "1000V以上" contain 以上 but do not point at other options: the question is reordered
    (the old 以上|上述 rule kept it in place); 以上都对 still keeps its order."""
    rows = [["变电专业", "单选题", "高压电气设备是指电压等级在（　　）者。", "来自安规",
             "A. 1000V以上,B. 250V以下,C. 35kV及以上", "A. 1000V以上"],
            ["变电专业", "单选题", "选项指向其他选项（　　）。", "来自安规", "A. 甲,B. 乙,C. 以上都对", "C. 以上都对"]]
    src = shuffle_bank(tmp_path / "bank.md", rows)
    code, _, err = lfd("convert", "safety_exam", src, "--shuffle-options", "10", "--out-dir", tmp_path)
    assert code == 0, err
    questions = [r["instruction"].split("\n")[1] for r in lines(tmp_path / "safety_exam_train.jsonl")]
    assert questions.count("高压电气设备是指电压等级在___者。") == 6 and questions.count("选项指向其他选项___。") == 1
