"""`lfd convert med_mcq|law_mcq|safety_exam ... --circular K`: the circular test split, its entry, the refusals."""

import json

import pytest
from llamafactory_domains.plugin.dedup import prompt_key

SEED_HEADER = ["专业", "题型", "题目内容", "题目依据条款", "选项", "正确答案"]


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def medqa(i, n=4, answer="B"):
    return {"question": f"第{i}题：下列哪项正确？", "options": {"ABCDE"[j]: f"选项{i}-{j}" for j in range(n)},
            "answer_idx": answer}


def bank(path, rows):
    """The 安规 seed table as a Markdown table."""
    table = [f"| {' | '.join(SEED_HEADER)} |", "| " + " | ".join("---" for _ in SEED_HEADER) + " |",
             *(f"| {' | '.join(row)} |" for row in rows)]
    path.write_text("\n".join(table) + "\n", encoding="utf-8")
    return path


def seed_row(kind, text, options, answer):
    return ["变电专业", kind, text, "来自安规", options, answer]


SAFETY_ROWS = [
    seed_row("单选题", "雷雨天气应穿（　　）。", "A. 雨鞋,B. 绝缘靴,C. 橡胶鞋,D. 绝缘鞋", "B. 绝缘靴"),
    seed_row("判断题", "工作票签发人可以兼任工作负责人。", "A. 正确,B. 错误", "B. 错误"),
    seed_row("多选题", "线路的停、送电均应按照（　　）的指令执行。", "A. 值班调控人员,B. 专责监护人,C. 线路工作负责人",
             "A. 值班调控人员,C. 线路工作负责人"),
    seed_row("单选题", "选项指向其他选项（　　）。", "A. 甲,B. 乙,C. 以上都对", "C. 以上都对"),
    seed_row("单选题", "高压设备是指电压等级在（　　）者。", "A. 1000V以上,B. 250V以下,C. 36V", "A. 1000V以上"),
    seed_row("填空题", "安全生产方针是安全第一、（　　）。", "", "预防为主"),
]
TRAIN_ROWS = [seed_row("单选题", f"训练题{i}（　　）。", "A. 甲,B. 乙,C. 丙", "A. 甲") for i in range(6)]


def test_med_mcq_writes_the_circular_split_beside_an_unchanged_test_split(lfd, tmp_path):
    train = jsonl(tmp_path / "train.jsonl", [medqa(i) for i in range(10)])
    test = jsonl(tmp_path / "test.jsonl", [medqa(100), medqa(101, n=3, answer="C"), medqa(102, n=5, answer="A")])
    plain, rotated = tmp_path / "plain", tmp_path / "rotated"
    assert lfd("convert", "med_mcq", train, "--test", test, "--out-dir", plain)[0] == 0
    code, _, err = lfd("convert", "med_mcq", train, "--test", test, "--circular", "4", "--out-dir", rotated)
    assert code == 0, err
    for split in ("train", "test"):  # byte-identical to a run without --circular
        assert (rotated / f"med_mcq_{split}.jsonl").read_bytes() == (plain / f"med_mcq_{split}.jsonl").read_bytes()
    records = lines(rotated / "med_mcq_test_circular.jsonl")
    assert [(r["circular"]["question"], r["circular"]["rotation"], r["circular"]["rotations"]) for r in records] == [
        (1, 0, 4), (1, 1, 4), (1, 2, 4), (1, 3, 4), (2, 0, 3), (2, 1, 3), (2, 2, 3), (3, 0, 4), (3, 1, 4), (3, 2, 4), (3, 3, 4)]
    first = records[1]
    assert first["circular"]["order"] == "BCDA" and first["answer"] == "A" and first["output"] == "A"
    assert first["options"] == {"A": "选项100-1", "B": "选项100-2", "C": "选项100-3", "D": "选项100-0"}
    assert first["instruction"].splitlines()[2:6] == ["A. 选项100-1", "B. 选项100-2", "C. 选项100-3", "D. 选项100-0"]
    assert first["question_type"] == "single" and first["input"] == ""
    tests = lines(rotated / "med_mcq_test.jsonl")
    for record in records:
        original = tests[record["circular"]["question"] - 1]
        if record["circular"]["rotation"] == 0:
            assert {k: v for k, v in record.items() if k != "circular"} == original
        assert [original["options"][letter] for letter in record["circular"]["order"]] == list(record["options"].values())
    assert f"test_circular: wrote 11 variants of 3 questions -> {rotated / 'med_mcq_test_circular.jsonl'}" in err
    info = json.loads((rotated / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["med_mcq_test_circular"] == {
        "file_name": "med_mcq_test_circular.jsonl", "formatting": "alpaca",
        "columns": {"prompt": "instruction", "query": "input", "response": "output"},
        "lfd": {"converter": "med_mcq", "split": "test_circular", "evaluators": ["choice"],
                "primary_metric": "choice_circular_accuracy", "circular": 4}}
    assert info["med_mcq_test"] == json.loads((plain / "dataset_info.json").read_text(encoding="utf-8"))["med_mcq_test"]


def test_law_mcq_test_size_rotations_never_reach_train_and_runs_are_deterministic(lfd, tmp_path):
    """The bank lists some questions again with their options rotated: whichever copy is drawn into the
    test split, no variant of it (compared as dedup compares prompts) is in train."""
    def jec(i, options, answer):
        return {"statement": f"第{i}题，下列说法正确的是?", "option_list": dict(zip("ABCD", options)), "answer": answer}

    records = []
    for i in range(20):
        texts = [f"说法{i}-{j}" for j in range(4)]
        records.append(jec(i, texts, ["A", "C"]))
        if i % 2:
            records.append(jec(i, texts[1:] + texts[:1], ["B", "D"]))  # rotated copy in the same bank
    src = jsonl(tmp_path / "0_train.json", records)
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        code, _, err = lfd("convert", "law_mcq", src, "--test-size", "8", "--circular", "all", "--seed", "3",
                           "--out-dir", out)
        assert code == 0, err
        outs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outs[0] == outs[1]
    out = tmp_path / "a"
    plain = tmp_path / "plain"
    assert lfd("convert", "law_mcq", src, "--test-size", "8", "--seed", "3", "--out-dir", plain)[0] == 0
    for split in ("train", "test"):
        assert (out / f"law_mcq_{split}.jsonl").read_bytes() == (plain / f"law_mcq_{split}.jsonl").read_bytes()
    train = {prompt_key(r["instruction"]) for r in lines(out / "law_mcq_train.jsonl")}
    variants = lines(out / "law_mcq_test_circular.jsonl")
    assert len(variants) == 8 * 4 and all(r["question_type"] == "multi" for r in variants)
    assert not {prompt_key(r["instruction"]) for r in variants} & train
    assert json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))["law_mcq_test_circular"]["lfd"][
        "circular"] == "all"


def test_safety_exam_judge_both_orders_positional_once_open_left_out(lfd, tmp_path):
    test = bank(tmp_path / "test.md", SAFETY_ROWS)
    train = bank(tmp_path / "train.md", TRAIN_ROWS)
    out = tmp_path / "out"
    code, _, err = lfd("convert", "safety_exam", train, "--test", test, "--circular", "all", "--shuffle-options", "2",
                       "--out-dir", out)
    assert code == 0, err
    records = lines(out / "safety_exam_test_circular.jsonl")
    by_question: dict[int, list[dict]] = {}
    for record in records:
        by_question.setdefault(record["circular"]["question"], []).append(record)
    assert {q: len(group) for q, group in by_question.items()} == {1: 4, 2: 2, 3: 3, 4: 1, 5: 3}  # line 6: 填空
    judge = by_question[2]
    assert [r["options"] for r in judge] == [{"A": "正确", "B": "错误"}, {"A": "错误", "B": "正确"}]
    assert [(r["answer"], r["output"]) for r in judge] == [("B", "B. 错误"), ("A", "A. 错误")]
    assert by_question[4][0]["circular"] == {"question": 4, "rotation": 0, "order": "ABC", "rotations": 1}
    multi = by_question[3][1]
    assert multi["answer"] == "BC" and multi["output"] == "B. 线路工作负责人\nC. 值班调控人员"
    assert multi["instruction"] == "以下是一道多选题，请选出所有正确答案。\n线路的停、送电均应按照___的指令执行。\n" \
                                   "A. 专责监护人\nB. 线路工作负责人\nC. 值班调控人员"
    tests = lines(out / "safety_exam_test.jsonl")
    assert len(tests) == 6
    for group in by_question.values():
        assert group[0]["instruction"] == tests[group[0]["circular"]["question"] - 1]["instruction"]
    assert "test_circular: wrote 13 variants of 5 questions" in err
    assert "  original order only, options refer to other options (以上…): 1" in err
    assert "  left out, not a choice question: 1" in err
    train_prompts = {prompt_key(r["instruction"]) for r in lines(out / "safety_exam_train.jsonl")}
    assert not {prompt_key(r["instruction"]) for r in records} & train_prompts


@pytest.mark.parametrize("extra, message", [
    (["--circular", "1", "--test-size", "2"], "--circular 1 writes each test question once"),
    (["--circular", "3"], "--circular 3 rotates the options of the test questions, and this run has no test split"),
    (["--circular", "all", "--test-size", "2", "--style", "plain"], "--circular rotates the options shown in the prompt"),
])
def test_refusals_are_one_line_and_write_nothing(lfd, tmp_path, extra, message):
    src = bank(tmp_path / "bank.md", [*SAFETY_ROWS, *TRAIN_ROWS])
    out = tmp_path / "out"
    code, _, err = lfd("convert", "safety_exam", src, *extra, "--out-dir", out)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize("name", ["med_mcq", "law_mcq", "safety_exam"])
def test_help_says_what_circular_does(capsys, name):
    from llamafactory_domains.plugin.cli import main

    with pytest.raises(SystemExit):
        main(["convert", name, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--circular K" in text and "<name>_test_circular" in text and "needs --test or --test-size" in text


def test_circular_is_an_option_of_the_exam_converters_only(capsys):
    from llamafactory_domains.plugin.cli import main

    with pytest.raises(SystemExit):
        main(["convert", "med_norm", "a.json", "--test-size", "2", "--circular", "2", "--out-dir", "x"])
    assert "unrecognized arguments: --circular 2" in capsys.readouterr().err


@pytest.mark.parametrize("row, message", [
    (seed_row("填空题", "安全第一、（　　）。", "", "预防为主"),
     "no test question is a choice question (not a choice question: 1)"),
    (seed_row("单选题", "选项指向其他选项（　　）。", "A. 甲,B. 乙,C. 以上都对", "C. 以上都对"),
     "no test question could be rotated (options refer to other options (以上…): 1)"),
], ids=["no_choice_question", "none_rotates"])
def test_a_test_split_without_a_question_to_rotate_is_refused_and_nothing_is_written(lfd, tmp_path, row, message):
    test = bank(tmp_path / "test.md", [row])
    train = bank(tmp_path / "train.md", TRAIN_ROWS)
    out = tmp_path / "out"
    code, _, err = lfd("convert", "safety_exam", train, "--test", test, "--circular", "2", "--out-dir", out)
    assert code == 1 and message in err, err
    assert not out.exists() or not list(out.iterdir())


def test_a_rerun_without_circular_refuses_or_removes_the_earlier_circular_split(lfd, tmp_path):
    src = bank(tmp_path / "bank.md", [*SAFETY_ROWS, *TRAIN_ROWS])
    out = tmp_path / "out"
    assert lfd("convert", "safety_exam", src, "--test-size", "4", "--circular", "2", "--out-dir", out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, err = lfd("convert", "safety_exam", src, "--test-size", "4", "--out-dir", out)
    assert code == 1 and "safety_exam_test_circular.jsonl: the circular test split of an earlier conversion" in err
    assert "pass --circular K with the test split to write it again, or --force" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # the entry alone is stale too
    (out / "safety_exam_test_circular.jsonl").unlink()
    code, _, err = lfd("convert", "safety_exam", src, "--test-size", "4", "--out-dir", out)
    assert code == 1 and "entry safety_exam_test_circular of" in err
    code, _, err = lfd("convert", "safety_exam", src, "--test-size", "4", "--out-dir", out, "--force")
    assert code == 0 and "removed the earlier circular test split (entry safety_exam_test_circular)" in err
    assert "safety_exam_test_circular" not in json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in out.iterdir()) == ["dataset_info.json", "safety_exam_test.jsonl",
                                                     "safety_exam_train.jsonl"]


def test_an_earlier_circular_split_of_another_k_needs_force(lfd, tmp_path):
    src = bank(tmp_path / "bank.md", [*SAFETY_ROWS, *TRAIN_ROWS])
    out = tmp_path / "out"
    assert lfd("convert", "safety_exam", src, "--test-size", "4", "--circular", "2", "--out-dir", out)[0] == 0
    code, _, err = lfd("convert", "safety_exam", src, "--test-size", "4", "--circular", "all", "--out-dir", out)
    assert code == 1 and "safety_exam_test_circular" in err and "--force" in err
    code, _, err = lfd("convert", "safety_exam", src, "--test-size", "4", "--circular", "all", "--out-dir", out, "--force")
    assert code == 0, err
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["safety_exam_test_circular"]["lfd"]["circular"] == "all"


def test_the_circular_split_is_an_output_no_input_may_be(lfd, tmp_path):
    src = bank(tmp_path / "bank.md", [*SAFETY_ROWS, *TRAIN_ROWS])
    out = tmp_path / "out"
    out.mkdir()
    as_input = bank(out / "safety_exam_test_circular.jsonl", SAFETY_ROWS)
    before = as_input.read_bytes()
    code, _, err = lfd("convert", "safety_exam", src, "--test", as_input, "--circular", "2", "--out-dir", out)
    assert code == 1 and "circular test split" in err, err
    assert as_input.read_bytes() == before and sorted(p.name for p in out.iterdir()) == ["safety_exam_test_circular.jsonl"]
    code, _, err = lfd("convert", "safety_exam", src, "--test-size", "3", "--circular", "2", "--rejects",
                       out / "safety_exam_test_circular.jsonl", "--out-dir", out)
    assert code == 1 and "--rejects" in err, err
