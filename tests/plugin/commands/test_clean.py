"""`lfd clean`: the masked records, the counts, the report (without values unless asked), errors, determinism."""

import json
import shutil
from pathlib import Path

from llamafactory_domains.plugin import ROOT

SAMPLE = ROOT / "data" / "samples" / "clean" / "dialogues.jsonl"


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
