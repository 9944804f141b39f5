"""`lfd clean`: the masked records, the counts, the report (without values unless asked), the junk, length and
near-duplicate rules, rejects, errors, determinism."""

import json
import shutil
from pathlib import Path

from llamafactory_domains.plugin import ROOT

SAMPLE = ROOT / "data" / "samples" / "clean" / "dialogues.jsonl"
WEB_QA = SAMPLE.with_name("web_qa.jsonl")


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def test_every_text_of_alpaca_sharegpt_and_openai_records_is_masked(lfd, tmp_path):
    records = [
        {"instruction": "王先生问", "input": "电话13812345678", "output": "好的，李女士", "system": "你是医生",
         "history": [["我叫张伟，身份证11010519491231002X", "收到"]], "lfd_id": "13812345678"},
        {"conversations": [{"from": "human", "value": "患者孙志强，男，住院号：ZY001234"},
                           {"from": "gpt", "value": "发到a.b@qq.com"}]},
        {"messages": [{"role": "user", "content": "家住上海市浦东新区张江路88号，卡号6222021234567890128"},
                      {"role": "assistant", "content": "王氏保赤丸每次20mg"}]},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    code, _, err = lfd("clean", source, "--out", tmp_path / "out.jsonl", "--pii-report", tmp_path / "pii.jsonl")
    assert code == 0, err
    alpaca, sharegpt, openai = read_jsonl(tmp_path / "out.jsonl")
    assert alpaca == {"instruction": "[姓名]先生问", "input": "电话[电话]", "output": "好的，[姓名]女士", "system": "你是医生",
                      "history": [["我叫[姓名]，身份证[身份证号]", "收到"]], "lfd_id": "13812345678"}
    assert [t["value"] for t in sharegpt["conversations"]] == ["患者[姓名]，男，住院号：[病历号]", "发到[邮箱]"]
    assert [t["content"] for t in openai["messages"]] == ["家住[地址]，卡号[银行卡号]", "王氏保赤丸每次20mg"]
    assert "masked: 身份证号 1, 电话 1, 邮箱 1, 银行卡号 1, 病历号 1, 地址 1, 姓名 4 in 3 records" in err
    report = read_jsonl(tmp_path / "pii.jsonl")
    assert report[0] == {"line": 1, "field": "instruction", "type": "姓名", "start": 0, "end": 1}
    assert {r["field"] for r in report} >= {"history[0][0]", "conversations[1].value", "messages[0].content"}
    text = (tmp_path / "pii.jsonl").read_text(encoding="utf-8")
    assert "13812345678" not in text and "孙志强" not in text and '"value":' not in text


def test_show_values_puts_the_originals_into_the_report(lfd, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "电话13812345678", "input": "", "output": "好"}])
    code, _, err = lfd("clean", source, "--out", tmp_path / "out.jsonl", "--pii-report", tmp_path / "pii.jsonl",
                       "--show-values")
    assert code == 0, err
    assert read_jsonl(tmp_path / "pii.jsonl") == [{"line": 1, "field": "instruction", "type": "电话", "start": 2,
                                                  "end": 13, "value": "13812345678"}]
    code, _, err = lfd("clean", source, "--out", tmp_path / "out2.jsonl", "--show-values")
    assert code == 1 and "--pii-report" in err and not (tmp_path / "out2.jsonl").exists()


def test_the_sample_is_cleaned_the_same_bytes_every_run(lfd, tmp_path):
    outputs = []
    for run in ("a", "b"):
        code, _, err = lfd("clean", SAMPLE, "--out", tmp_path / run / "out.jsonl", "--pii-report", tmp_path / run / "r.jsonl")
        assert code == 0, err
        outputs.append(((tmp_path / run / "out.jsonl").read_bytes(), (tmp_path / run / "r.jsonl").read_bytes()))
    assert outputs[0] == outputs[1]
    cleaned = outputs[0][0].decode("utf-8")
    assert "13812345678" not in cleaned and "王小明" not in cleaned and "[身份证号]" in cleaned
    assert "王氏保赤丸" in cleaned and "患者男，45岁" in cleaned
    assert len(cleaned.splitlines()) == len(SAMPLE.read_text(encoding="utf-8").splitlines())


def test_the_sample_is_what_build_py_writes(tmp_path):
    shutil.copy(SAMPLE.with_name("build.py"), tmp_path / "build.py")
    import runpy

    runpy.run_path(str(tmp_path / "build.py"), run_name="__main__")
    assert (tmp_path / "dialogues.jsonl").read_bytes() == SAMPLE.read_bytes()
    assert (tmp_path / "web_qa.jsonl").read_bytes() == WEB_QA.read_bytes()


def test_bad_inputs_are_one_line_errors_and_nothing_is_written(lfd, tmp_path):
    out, report = tmp_path / "out.jsonl", tmp_path / "pii.jsonl"
    code, _, err = lfd("clean", tmp_path / "none.jsonl", "--out", out)
    assert code == 1 and "none.jsonl: no such file" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "电话13812345678", "input": "", "output": "好"}\n{"broken\n', encoding="utf-8")
    code, _, err = lfd("clean", bad, "--out", out, "--pii-report", report)
    assert code == 1 and "bad.jsonl: line 2: not JSON" in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not report.exists()
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"instruction": "a", "output": "b"}, {"question": "q"}])
    code, _, err = lfd("clean", odd, "--out", out)
    assert code == 1 and "odd.jsonl: line 2: neither an alpaca" in err and not out.exists()
    turns = write_jsonl(tmp_path / "turns.jsonl", [{"conversations": "hi"}])
    code, _, err = lfd("clean", turns, "--out", out)
    assert code == 1 and "line 1: conversations is not a list of turns" in err
    code, _, err = lfd("clean", odd, "--out", odd)
    assert code == 1 and "that is the INPUT file" in err and "question" in odd.read_text(encoding="utf-8")
    code, _, err = lfd("clean", odd, "--out", out, "--pii-report", out)
    assert code == 1 and "both --out and --pii-report" in err


def test_the_web_sample_loses_its_junk_and_three_records_with_exact_counts(lfd, tmp_path):
    runs = []
    for run in ("a", "b"):
        out, rejects = tmp_path / run / "out.jsonl", tmp_path / run / "rejects.jsonl"
        code, _, err = lfd("clean", WEB_QA, "--out", out, "--rejects", rejects, "--near-dup", "0.9")
        assert code == 0, err
        runs.append((out.read_bytes(), rejects.read_bytes(), err.replace(f"/{run}/", "/")))
    assert runs[0] == runs[1]
    _, _, err = runs[0]
    assert "masked: 电话 1 in 8 records" in err
    assert "junk removed: control 1, zero_width 1, html 5, punct 1, url 1, ads 3" in err
    assert "near-duplicates (--near-dup 0.9, the first kept): 1 dropped" in err
    assert "kept 5 records of 8; dropped empty_answer 1, echo_answer 1, near_dup 1" in err
    cleaned = read_jsonl(tmp_path / "a" / "out.jsonl")
    assert [r["output"] for r in cleaned] == [
        "高血压患者可以适量用党参泡水，党参有一定的降压作用，但不能代替降压药。请继续按时服用医生开的药，每天早晚各测一次血压，"
        "如有头晕、胸闷要及时就医。另外要注意低盐饮食，少吃腌制食品，适当运动，保证睡眠，戒烟限酒，定期复查肝肾功能和血脂。",
        "体温超过38.5℃可以用退烧药！\n1. 多喝温水；\n2. 物理降温。",
        "胃疼原因很多，先明确诊断再用药。详见。",
        "血压140/90mmHg以上即为高血压，每日3次！……请遵医嘱——按时复查。",  # medical text untouched
        "不建议。感冒期间饮酒会加重症状&影响药效，了解更多健康知识。"]
    rejects = read_jsonl(tmp_path / "a" / "rejects.jsonl")
    assert [(r["location"], r["rule"]) for r in rejects] == [("line 5", "empty_answer"), ("line 6", "echo_answer"),
                                                             ("line 7", "near_dup")]
    assert rejects[2]["duplicates"] == 1 and rejects[2]["reason"] == "a near-duplicate of line 1"
    assert rejects[0]["file"] == str(WEB_QA) and rejects[0]["record"]["output"] == "暂无"


def test_rules_can_be_chosen_or_switched_off(lfd, tmp_path):
    out = tmp_path / "out.jsonl"
    code, _, err = lfd("clean", WEB_QA, "--out", out, "--no", "echo_answer,empty_answer", "--no", "privacy")
    assert code == 0, err
    assert "masked: nothing in 8 records" in err and "kept 8 records of 8" in err and "13912345678" not in err
    assert "微信同号：13912345678" not in out.read_text(encoding="utf-8")  # the ad goes with its number
    code, _, err = lfd("clean", WEB_QA, "--out", out, "--rules", "html,url")
    assert code == 0 and "junk removed: html 5, url 1" in err and "kept 8 records of 8" in err
    assert "点击咨询" in out.read_text(encoding="utf-8") and "<p>" not in out.read_text(encoding="utf-8")


def test_a_dialogue_over_max_tokens_is_split_into_windows_lfd_stats_counts_within_it(lfd, tiny_model, tmp_path):
    turns = [("孩子发烧三天了，最高39度，怎么办？", "先物理降温，多喝温水。体温超过38.5℃可以用布洛芬。"),
             ("吃了布洛芬还是不退烧。", "两次用药要间隔6小时以上。持续不退请到医院查血常规。"),
             ("血常规白细胞偏高。", "可能是细菌感染，需要医生评估是否用抗生素。"),
             ("需要住院吗？", "一般不需要。若精神差、抽搐或呼吸急促，应立即住院。")]
    dialogue = {"conversations": [{"from": who, "value": text} for pair in turns for who, text in zip(("human", "gpt"), pair)]}
    short = {"conversations": dialogue["conversations"][:2]}
    source = write_jsonl(tmp_path / "in.jsonl", [dialogue, short])
    code, out, err = lfd("stats", source, "--tokenizer", tiny_model, "--json")
    longest = json.loads(out)["lengths"]["total"]["max"]
    limit = longest * 2 // 3
    outputs = []
    for run in ("a", "b"):
        code, _, err = lfd("clean", source, "--out", tmp_path / run / "out.jsonl", "--max-tokens", limit,
                           "--tokenizer", tiny_model, "--long", "split")
        assert code == 0, err
        outputs.append((tmp_path / run / "out.jsonl").read_bytes())
    assert outputs[0] == outputs[1]
    windows = read_jsonl(tmp_path / "a" / "out.jsonl")
    assert len(windows) == 3 and windows[-1] == short
    assert [t for w in windows[:2] for t in w["conversations"]] == dialogue["conversations"]
    assert f"over {limit} tokens (--long split): 1 records, 1 split into 2 windows of whole turns" in err
    code, out, _ = lfd("stats", tmp_path / "a" / "out.jsonl", "--tokenizer", tiny_model, "--json")
    assert json.loads(out)["lengths"]["total"]["max"] <= limit
    code, _, err = lfd("clean", source, "--out", tmp_path / "t.jsonl", "--max-tokens", longest - 3, "--tokenizer",
                       tiny_model, "--long", "truncate")
    assert code == 0 and "1 truncated at a sentence end, 0 dropped" in err, err
    cut = read_jsonl(tmp_path / "t.jsonl")[0]["conversations"][-1]["value"]
    assert turns[-1][1].startswith(cut) and cut.endswith("。") and cut != turns[-1][1]
    code, _, err = lfd("clean", source, "--out", tmp_path / "d.jsonl", "--max-tokens", limit, "--tokenizer", tiny_model,
                       "--rejects", tmp_path / "r.jsonl")
    assert code == 0 and f"over {limit} tokens (--long drop): 1 records, 1 dropped" in err
    assert read_jsonl(tmp_path / "r.jsonl")[0]["rule"] == "too_long" and read_jsonl(tmp_path / "d.jsonl") == [short]


def test_converter_outputs_clean_the_same_bytes_every_run(lfd, tmp_path):
    samples = ROOT / "data" / "samples"
    for args in (["med_norm", samples / "med_norm" / "yidu_n7k_train.xlsx", "--test", samples / "med_norm" / "chip_cdn_dev.json"],
                 ["med_mrg", samples / "med_mrg" / "IMCS-V2_train.json"],
                 ["pharma_rag", samples / "pharma" / "pharma_qa.xlsx", "--kb", samples / "pharma" / "kb"]):
        code, _, err = lfd("convert", *args, "--out-dir", tmp_path / "data")
        assert code == 0, err
    converted = sorted((tmp_path / "data").glob("*.jsonl"))
    assert len(converted) == 4
    for path in converted:
        runs = []
        for run in ("a", "b"):
            out = tmp_path / run / path.name
            code, _, err = lfd("clean", path, "--out", out, "--rejects", out.with_suffix(".rejects"), "--near-dup", "0.9")
            assert code == 0, err
            runs.append((out.read_bytes(), out.with_suffix(".rejects").read_bytes()))
        assert runs[0] == runs[1]
        assert len(read_jsonl(tmp_path / "a" / path.name)) == len(read_jsonl(path))  # clean data: nothing to drop


def test_option_mistakes_are_one_line_errors_before_anything_is_read(lfd, tiny_model, tmp_path):
    out = tmp_path / "out.jsonl"
    for args, message in [
        (["--max-tokens", "512"], "--max-tokens counts tokens with the model's tokenizer: give --tokenizer"),
        (["--max-tokens", "0", "--tokenizer", tiny_model], "--max-tokens 0: expected a whole number of tokens"),
        (["--tokenizer", tiny_model], "--tokenizer is for over-long records: give --max-tokens N too"),
        (["--long", "split"], "--long is for over-long records"),
        (["--max-tokens", "512", "--tokenizer", tmp_path / "no_model"], "no such folder"),
        (["--max-tokens", "512", "--tokenizer", "Qwen/Qwen2.5-7B-Instruct"], "`lfd clean` reads the tokenizer from a folder"),
        (["--near-dup", "0"], "--near-dup 0: expected a similarity above 0 and at most 1"),
        (["--near-dup", "1.5"], "--near-dup 1.5: expected"),
        (["--near-dup", "abc"], "--near-dup abc: expected"),
        (["--near-dup", "nan"], "--near-dup nan: expected a similarity"),  # NaN passed every comparison
        (["--num-perm", "64"], "--num-perm is for near-duplicates"),
        (["--near-dup", "0.9", "--num-perm", "8"], "--num-perm 8: expected a whole number from 16 to 1024"),
        (["--rules", "privacy,spam"], "--rules spam: no such rule; the rules are privacy,control"),
        (["--no", "html,ad"], "--no ad: no such rule"),
        (["--rejects", WEB_QA], "that is the INPUT file"),
    ]:
        code, _, err = lfd("clean", WEB_QA, "--out", out, *args)
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1, (args, err)
        assert not out.exists()


def test_review_sample_sits_beside_the_cleaned_records_with_the_changes_highlighted(lfd, tmp_path):
    """--review N: N of the changed or dropped records, originals beside cleaned, the masked and removed
    spans highlighted; the same bytes on a rerun; an unchanged record is never in it."""
    from openpyxl import load_workbook
    from openpyxl.cell.rich_text import CellRichText

    records = [{"instruction": f"问题{i}", "input": "", "output": f"回答{i}。"} for i in range(30)]
    records[3]["instruction"] = "我叫王小明，电话13812345678，头痛怎么办"
    records[7]["output"] = "多休息！！！<br>点击咨询"
    records[11]["output"] = "略"
    source = write_jsonl(tmp_path / "in.jsonl", records)
    code, _, err = lfd("clean", source, "--out", tmp_path / "out.jsonl", "--review", "10")
    assert code == 0, err
    sheet_path = tmp_path / "out.review.xlsx"
    assert "review: 3 of the 3 records the cleaning changed or dropped (of 30 read)" in err and str(sheet_path) in err
    sheet = load_workbook(sheet_path, rich_text=True).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    text = "\n".join(str(v) for row in values for v in row if v is not None)
    assert "13812345678" in text and "[电话]" in text and "dropped: empty_answer" in text
    assert "问题0" not in text  # unchanged records are not sampled
    rich = [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, CellRichText)]
    highlighted = {str(block.text) for value in rich for block in value if getattr(block, "font", None) is not None}
    assert "13812345678" in highlighted and "[电话]" in highlighted
    first = sheet_path.read_bytes()
    assert lfd("clean", source, "--out", tmp_path / "out.jsonl", "--review", "10")[0] == 0
    assert sheet_path.read_bytes() == first


def test_review_options_are_checked_before_anything_is_read(lfd, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "头痛", "output": "休息"}])
    code, _, err = lfd("clean", source, "--out", tmp_path / "out.jsonl", "--review", "0")
    assert code == 1 and "--review 0" in err and err.count("\n") == 1
    code, _, err = lfd("clean", source, "--out", tmp_path / "out.jsonl", "--review-out", tmp_path / "r.xlsx")
    assert code == 1 and "give --review N too" in err
    code, _, err = lfd("clean", source, "--out", tmp_path / "out.jsonl", "--review", "3", "--review-out", source)
    assert code == 1 and "--review-out" in err and not (tmp_path / "out.jsonl").exists()
