import json
from pathlib import Path

import pytest
from llamafactory_domains.converters.med_norm import PROMPT
from openpyxl import Workbook

SHARED = Path(__file__).resolve().parents[3] / "shared" / "samples" / "chip_cdn"


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def yidu_xlsx(path, rows):
    """Yidu-N7K's shape: one sheet, header 原始词 | 标准词."""
    book = Workbook()
    book.active.append(["原始词", "标准词"])
    for row in rows:
        book.active.append(list(row))
    book.save(path)
    return path


def test_yidu_n7k_xlsx(lfd, tmp_path):
    src = yidu_xlsx(tmp_path / "train.xlsx", [
        ("左膝退变伴游离体", "膝骨关节病##膝关节游离体"),
        ("右乳腺癌IV期", "乳腺恶性肿瘤##癌##乳腺恶性肿瘤"),
        ("高血压+冠心病", "高血压##冠状动脉粥样硬化性心脏病"),
        (None, "癌"),
        ("头晕", None),
    ])
    code, _, err = lfd("convert", "med_norm", src, "--out-dir", tmp_path)
    assert code == 0, err
    records = lines(tmp_path / "med_norm_train.jsonl")
    assert records[0] == {"instruction": PROMPT.format(word="左膝退变伴游离体"), "input": "",
                          "output": "膝骨关节病##膝关节游离体"}
    assert records[1]["output"] == "乳腺恶性肿瘤##癌"  # repeated term dropped, order kept
    assert "原始词:高血压+冠心病\n" in records[2]["instruction"]
    assert "skipped 1: empty raw term" in err and "skipped 1: no standard term" in err


def test_xlsx_without_the_header_names_sheet_and_headers(lfd, tmp_path):
    book = Workbook()
    book.active.title = "术语"
    book.active.append(["raw", "std"])
    book.active.append(["房颤", "心房颤动"])
    book.save(tmp_path / "bad.xlsx")
    code, _, err = lfd("convert", "med_norm", tmp_path / "bad.xlsx", "--out-dir", tmp_path)
    assert code == 1 and "no sheet has a 原始词/标准词 header (sheet 术语: raw, std)" in err


def test_chip_cdn_json_with_stray_quotes_and_an_answerless_test_file(lfd, tmp_path):
    train = tmp_path / "CHIP-CDN_train.json"
    train.write_text(json.dumps([
        {"text": "糖尿病反复低血糖;骨质疏松", "normalized_result": "糖尿病性低血糖症##骨质疏松\""},
        {"text": "右乳腺癌IV期", "normalized_result": "\\乳腺恶性肿瘤##癌"},
    ], ensure_ascii=False, indent=2), encoding="utf-8")
    test = tmp_path / "CHIP-CDN_test.json"
    test.write_text(json.dumps([{"text": "左膝退变伴游离体"}], ensure_ascii=False), encoding="utf-8")
    code, _, err = lfd("convert", "med_norm", train, "--out-dir", tmp_path)
    assert code == 0, err
    assert [r["output"] for r in lines(tmp_path / "med_norm_train.jsonl")] == [
        "糖尿病性低血糖症##骨质疏松", "乳腺恶性肿瘤##癌"]
    code, _, err = lfd("convert", "med_norm", train, "--test", test, "--out-dir", tmp_path / "t")
    assert code == 1 and "no usable test records in" in err and "(no standard term: 1)" in err
    assert not (tmp_path / "t" / "med_norm_train.jsonl").exists()


@pytest.mark.skipif(not SHARED.exists(), reason="the real samples are only on the developers' machines")
def test_real_chip_cdn_records(lfd, tmp_path):
    code, _, err = lfd("convert", "med_norm", SHARED / "CHIP-CDN_README_examples.json", "--out-dir", tmp_path)
    assert code == 0, err
    outputs = [r["output"] for r in lines(tmp_path / "med_norm_train.jsonl")]
    assert outputs[0] == "膝骨关节病##膝关节游离体" and len(outputs) == 3
