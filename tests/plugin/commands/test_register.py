import json

import pytest


@pytest.fixture
def converted(lfd, tmp_path):
    src = tmp_path / "chip.json"
    src.write_text(json.dumps([{"text": f"词{i}", "normalized_result": "甲"} for i in range(30)],
                              ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "ours"
    assert lfd("convert", "med_norm", src, "--test-size", "5", "--out-dir", out)[0] == 0
    return out / "dataset_info.json"


@pytest.fixture
def lf_root(tmp_path):
    root = tmp_path / "LLaMA-Factory"
    (root / "data").mkdir(parents=True)
    (root / "data" / "dataset_info.json").write_text(
        json.dumps({"alpaca_zh_demo": {"file_name": "alpaca_zh_demo.json"}}, indent=2), encoding="utf-8")
    return root


def test_register_merges_absolute_paths_backs_up_and_is_idempotent(lfd, converted, lf_root):
    target = lf_root / "data" / "dataset_info.json"
    original = target.read_bytes()
    code, out, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 0, err
    info = json.loads(target.read_text())
    assert info["alpaca_zh_demo"] == {"file_name": "alpaca_zh_demo.json"}
    assert info["med_norm_train"]["file_name"] == str(converted.parent.resolve() / "med_norm_train.jsonl")
    assert info["med_norm_test"]["columns"] == {"prompt": "instruction", "query": "input", "response": "output"}
    backups = list(target.parent.glob("dataset_info.json.*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert "added med_norm_train, med_norm_test" in err and "med_norm_train med_norm_test" in out

    after = target.read_bytes()
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 0 and "unchanged med_norm_train, med_norm_test" in err
    assert target.read_bytes() == after and len(list(target.parent.glob("*.bak"))) == 1


def test_register_refuses_a_different_entry_unless_forced(lfd, converted, lf_root):
    target = lf_root / "data" / "dataset_info.json"
    target.write_text(json.dumps({"med_norm_train": {"file_name": "mine.json"}}), encoding="utf-8")
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 1 and "med_norm_train already exists with different content; pass --force" in err
    assert json.loads(target.read_text()) == {"med_norm_train": {"file_name": "mine.json"}}
    assert lfd("register", "--llamafactory-dir", lf_root, "--from", converted, "--force")[0] == 0
    assert json.loads(target.read_text())["med_norm_train"]["file_name"].endswith("med_norm_train.jsonl")


def test_register_errors(lfd, converted, lf_root, tmp_path):
    code, _, err = lfd("register", "--llamafactory-dir", tmp_path / "nowhere", "--from", converted)
    assert code == 1 and "no data/ folder" in err
    (converted.parent / "med_norm_test.jsonl").unlink()
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 1 and "med_norm_test.jsonl, which does not exist" in err
    broken = lf_root / "data" / "dataset_info.json"
    broken.write_text("{", encoding="utf-8")
    (converted.parent / "med_norm_test.jsonl").write_text("")
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 1 and "not valid JSON" in err and broken.read_text() == "{"


def test_register_writes_through_a_symlinked_target(lfd, converted, lf_root, tmp_path):
    real = tmp_path / "shared" / "dataset_info.json"
    real.parent.mkdir()
    target = lf_root / "data" / "dataset_info.json"
    real.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(real)
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 0, err
    assert target.is_symlink() and "med_norm_train" in json.loads(real.read_text())
    backups = list(target.parent.glob("dataset_info.json.*.bak"))  # in the install, where it is looked for
    assert len(backups) == 1 and not backups[0].is_symlink() and "med_norm_train" not in backups[0].read_text()


def test_register_refuses_its_own_target_and_odd_file_names(lfd, converted, lf_root, tmp_path):
    target = lf_root / "data" / "dataset_info.json"
    before = target.read_bytes()
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", lf_root / "data" / ".." / "data" / target.name)
    assert code == 1 and "--from is the install's own dataset_info.json" in err
    for value, shown in ((None, "file_name null"), (3, "file_name a JSON int"), ([], "file_name a JSON list")):
        source = tmp_path / "odd.json"
        source.write_text(json.dumps({"odd": {"file_name": value}}))
        code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", source)
        assert code == 1 and shown in err and "Traceback" not in err and err.count("\n") == 1, err
    target.write_text(json.dumps({"med_norm_train": {"file_name": "x.json", "n": 1}}))
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 1 and "--name" not in err and "pass --force to replace it" in err
    target.write_bytes(before)
    assert not list(target.parent.glob("*.bak"))
