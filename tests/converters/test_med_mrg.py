import json
import zipfile
from pathlib import Path

import pytest
from llamafactory_domains.converters.med_mrg import FIELDS, PROMPT

SHARED = Path(__file__).resolve().parents[3] / "shared" / "samples" / "imcs_v2_mrg"


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def turn(number, speaker, sentence):
    """A dialogue turn in IMCS-V2's shape."""
    return {"sentence_id": str(number), "speaker": speaker, "sentence": sentence, "dialogue_act": "Other",
            "BIO_label": "O " * len(sentence), "symptom_norm": [], "symptom_type": [], "local_implicit_info": {}}


def report(chief, diagnosis="上呼吸道感染。"):
    return {"主诉": chief, "现病史": "患儿咳嗽两天。", "辅助检查": "暂缺。", "既往史": "不详。",
            "诊断": diagnosis, "建议": "多喝水。"}


def record(reports=None, sentences=("你好", "孩子咳嗽两天了")):
    rec = {"diagnosis": "上呼吸道感染", "self_report": "宝宝咳嗽怎么办", "explicit_info": {"Symptom": ["咳嗽"]},
           "dialogue": [turn(i, ("医生", "患者")[i % 2], s) for i, s in enumerate(sentences)],
           "implicit_info": {"Symptom": {"咳嗽": "1"}}}
    if reports is not None:
        rec["report"] = reports
    return rec


def write(path, records):
    """IMCS-V2's layout: one JSON object of example_id -> record."""
    text = json.dumps({str(1000 + i): r for i, r in enumerate(records)}, ensure_ascii=False, indent=4)
    path.write_text(text, encoding="utf-8")
    return path


def test_one_training_example_per_reference_report(lfd, tmp_path):
    incomplete = {"主诉": "发热。", "诊断": "发热待查。", "签名": "张医生"}
    src = write(tmp_path / "IMCS-V2_train.json", [
        record([report("咳嗽两天。"), report("咳嗽。", "急性支气管炎。")]),
        record([incomplete, incomplete], sentences=("体温多少", "38度")),
        record([report("流涕。")], sentences=()),
        record([{}, {"主诉": " "}], sentences=("哪里不舒服",)),
        record(sentences=("孩子拉肚子",)),
    ])
    code, _, err = lfd("convert", "med_mrg", src, "--out-dir", tmp_path)
    assert code == 0, err
    records = lines(tmp_path / "med_mrg_train.jsonl")
    prompt = PROMPT.format(dialogue="医生:你好\n患者:孩子咳嗽两天了")
    assert prompt.startswith("问诊对话历史:\n医生:你好\n患者:孩子咳嗽两天了\n根据上述对话,给出诊疗报告\n说明:诊疗报告分为主诉")
    assert [r["instruction"] for r in records[:2]] == [prompt, prompt]
    assert records[0]["output"] == json.dumps(report("咳嗽两天。"), ensure_ascii=False)
    assert json.loads(records[1]["output"])["诊断"] == "急性支气管炎。"
    assert len(records) == 3  # the two identical incomplete reports give one example
    assert list(json.loads(records[2]["output"]).items()) == [
        ("主诉", "发热。"), ("现病史", ""), ("辅助检查", ""), ("既往史", ""), ("诊断", "发热待查。"), ("建议", "")]
    assert "train: read 5, wrote 3" in err
    for reason in ("no dialogue", "empty report", "no report (an input-only file"):
        assert f"skipped 1: {reason}" in err


def test_test_split_keeps_every_reference_and_names_the_evaluator(lfd, tmp_path):
    train = write(tmp_path / "IMCS-V2_train.json", [record([report("咳嗽。")], sentences=("咳嗽吗",))])
    raw = [report("咳嗽两天。"), {"诊断": "咳嗽。", "主诉": " 咳嗽 ", "备注": 3, "建议": None}, "not a report", {}]
    dev = write(tmp_path / "IMCS-V2_dev.json", [record(raw), record({"主诉": "流涕。"}, sentences=("流涕吗",))])
    code, _, err = lfd("convert", "med_mrg", train, "--test", dev, "--out-dir", tmp_path)
    assert code == 0, err
    test, lone = lines(tmp_path / "med_mrg_test.jsonl")
    assert test["output"] == json.dumps(report("咳嗽两天。"), ensure_ascii=False)
    rewritten = {"主诉": "咳嗽", "现病史": "", "辅助检查": "", "既往史": "", "诊断": "咳嗽。", "建议": ""}
    assert test["references"] == [report("咳嗽两天。"), rewritten]  # for the field scores
    assert list(test["references"][1]) == list(FIELDS)
    # for the official ROUGE: the objects as given, key order, spaces, other keys, null and empty ones kept
    assert test["official_references"] == [raw[0], raw[1], {}]
    assert [list(r) for r in test["official_references"]] == [list(FIELDS), ["诊断", "主诉", "备注", "建议"], []]
    assert lone["official_references"] == [{"主诉": "流涕。"}]  # a lone object: a list of one
    info = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["med_mrg_test"]["lfd"]["evaluators"] == ["json_fields"]


def test_input_only_test_file_is_refused_and_a_wrong_file_is_named(lfd, tmp_path):
    train = write(tmp_path / "IMCS-V2_train.json", [record([report("咳嗽。")])])
    cblue_test = write(tmp_path / "IMCS-V2_test.json", [record(), record()])
    code, _, err = lfd("convert", "med_mrg", train, "--test", cblue_test, "--out-dir", tmp_path)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "IMCS-V2_test.json: record '1000' (line 2): record has no report" in err
    assert "cannot be the test split, use IMCS-V2_dev.json" in err
    chip = tmp_path / "CHIP-CDN_train.json"
    chip.write_text(json.dumps([{"text": "头痛", "normalized_result": "头痛"}], ensure_ascii=False), encoding="utf-8")
    code, _, err = lfd("convert", "med_mrg", chip, "--out-dir", tmp_path / "chip")
    assert code == 1 and "record has no dialogue or report field (found: text, normalized_result)" in err


def test_one_zip_gives_train_and_test_from_its_members(lfd, tmp_path):
    archive = tmp_path / "IMCS-V2-MRG.zip"
    members = {"IMCS-V2_train.json": [record([report("咳嗽。")], sentences=("咳嗽吗", "咳"))],
               "IMCS-V2_dev.json": [record([report("流涕。"), report("鼻塞。")], sentences=("流涕吗", "流"))],
               "IMCS-V2_test.json": [record(sentences=("发热吗",))]}
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, records in members.items():
            zf.writestr(f"IMCS-V2-MRG/{name}", write(tmp_path / name, records).read_bytes())
            (tmp_path / name).unlink()
    code, _, err = lfd("convert", "med_mrg", archive, "--test", archive, "--out-dir", tmp_path)
    assert code == 0, err
    assert [json.loads(r["output"])["主诉"] for r in lines(tmp_path / "med_mrg_train.jsonl")] == ["咳嗽。"]
    [test] = lines(tmp_path / "med_mrg_test.jsonl")
    assert [r["主诉"] for r in test["references"]] == ["流涕。", "鼻塞。"]
    code, _, err = lfd("convert", "med_mrg", archive, "--member", "IMCS-V2_val.json", "--out-dir", tmp_path / "o")
    assert code == 1 and "has no member 'IMCS-V2_val.json' (it holds: IMCS-V2-MRG/IMCS-V2_train.json" in err
    assert "pass --member with" in err


@pytest.mark.skipif(not SHARED.exists(), reason="the real samples are only on the developers' machines")
def test_real_imcs_v2_record(lfd, tmp_path):
    src = SHARED / "example_10626355_relabelled_acts.json"
    train = write(tmp_path / "train.json", [record([report("咳嗽。")])])
    code, _, err = lfd("convert", "med_mrg", train, "--test", src, "--out-dir", tmp_path)
    assert code == 0, err
    [test] = lines(tmp_path / "med_mrg_test.jsonl")
    assert test["instruction"].startswith("问诊对话历史:\n医生:你好\n医生:在吗\n患者:这个粑粑正常吗？\n")
    assert test["instruction"].endswith("患者:好的知道了谢谢\n根据上述对话,给出诊疗报告\n说明:诊疗报告分为主诉, 现病史, "
                                        "辅助检查, 既往史, 诊断, 建议这六个章节,以标准的json格式输出。\n答:")
    assert json.loads(test["output"])["诊断"] == "消化不良。"
    assert [r["诊断"] for r in test["references"]] == ["消化不良。", "考虑消化功能不良。"]
    given = json.loads(src.read_text(encoding="utf-8"))["10626355"]["report"]
    assert test["official_references"] == given  # what eval_mrg.py's process() reads, key order included
    assert [list(r.items()) for r in test["official_references"]] == [list(r.items()) for r in given]
