"""`lfd convert --clean`: every record cleaned as `lfd clean` does, before deduplication and sampling."""

import json


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def modelscope(path, records):
    path.write_text(json.dumps([{"instruction": t, "input": a, "output": o, "history": None} for t, a, o in records],
                               ensure_ascii=False), encoding="utf-8")
    return path


RECORDS = [
    ("头痛", "我叫王小明，电话13812345678，头痛三天了", "建议多休息！！！<br>点击咨询"),
    ("发热", "孩子发热38.5℃怎么办", "可以物理降温，详见 http://example.cn/a 。"),
    ("咳嗽", "咳嗽两周", "略"),
    ("胸闷", "胸闷气短", "主题：胸闷。内容：胸闷气短"),
    ("腹痛", "腹痛腹泻", "注意饮食卫生，必要时补液。"),
]


def test_records_are_masked_cleaned_and_dropped_by_rule(lfd, tmp_path):
    src = modelscope(tmp_path / "dialog.json", RECORDS)
    code, _, err = lfd("convert", "med_dialog", src, "--clean", "--out-dir", tmp_path / "out")
    assert code == 0, err
    train = lines(tmp_path / "out" / "med_dialog_train.jsonl")
    assert [r["output"] for r in train] == ["建议多休息！", "可以物理降温，详见。", "注意饮食卫生，必要时补液。"]
    first = train[0]
    assert "13812345678" not in first["instruction"] and "[电话]" in first["instruction"]
    assert "王小明" not in first["instruction"] and "[姓名]" in first["instruction"]
    assert "<br>" not in first["output"] and "点击咨询" not in first["output"] and "！！" not in first["output"]
    assert "http" not in train[1]["output"]
    assert "skipped 1: --clean: the answer is empty or a placeholder (无, 略, 同上, …)" in err
    assert "skipped 1: --clean: the answer only repeats the question" in err
    assert "cleaned (--clean): " in err and "privacy:电话 1" in err and "privacy:姓名 1" in err
    again = tmp_path / "again"
    assert lfd("convert", "med_dialog", src, "--clean", "--out-dir", again)[0] == 0
    assert (again / "med_dialog_train.jsonl").read_bytes() == (tmp_path / "out" / "med_dialog_train.jsonl").read_bytes()


def test_without_clean_nothing_changes(lfd, tmp_path):
    src = modelscope(tmp_path / "dialog.json", RECORDS)
    code, _, err = lfd("convert", "med_dialog", src, "--out-dir", tmp_path / "out")
    assert code == 0 and "cleaned" not in err
    train = lines(tmp_path / "out" / "med_dialog_train.jsonl")
    assert len(train) == 5 and "13812345678" in train[0]["instruction"]


def test_masked_copies_of_a_test_item_leave_training(lfd, tmp_path):
    """Two records that differ only in a phone number are one question once masked: with --clean the
    training copy of a test item is left out."""
    records = [("头痛", f"我的电话1381234{i:04d}，头痛三天了", f"回答{i}") for i in range(2)]
    records += [(f"问题{i}", f"内容{i}", f"回答{i}") for i in range(6)]
    src = modelscope(tmp_path / "dialog.json", records)
    test = modelscope(tmp_path / "test.json", records[:1])
    code, _, err = lfd("convert", "med_dialog", src, "--test", test, "--clean", "--out-dir", tmp_path / "out")
    assert code == 0, err
    train = lines(tmp_path / "out" / "med_dialog_train.jsonl")
    assert not any("头痛三天" in r["instruction"] for r in train)
    assert "prompt also in the test split" in err


def test_clean_rules_picks_rules_and_a_wrong_name_is_one_line(lfd, tmp_path):
    src = modelscope(tmp_path / "dialog.json", RECORDS)
    code, _, err = lfd("convert", "med_dialog", src, "--clean-rules", "privacy", "--out-dir", tmp_path / "out")
    assert code == 0, err
    train = lines(tmp_path / "out" / "med_dialog_train.jsonl")
    assert len(train) == 5 and "[电话]" in train[0]["instruction"] and "<br>" in train[0]["output"]
    code, _, err = lfd("convert", "med_dialog", src, "--clean-rules", "privacy,nonsense", "--out-dir", tmp_path / "o2")
    assert code == 1 and err.count("\n") == 1 and "--clean-rules nonsense" in err and "privacy" in err
    assert not (tmp_path / "o2").exists() or not any((tmp_path / "o2").iterdir())
