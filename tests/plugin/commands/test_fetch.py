import json

import pytest
from llamafactory_domains.plugin.catalog import catalog
from llamafactory_domains.plugin.commands.fetch import hub_reachable
from openpyxl import Workbook


def place(cache, name, files):
    for relative, content in files.items():
        path = cache / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def xlsx_bytes(tmp_path, rows):
    book = Workbook()
    book.active.append(["原始词", "标准词"])
    for row in rows:
        book.active.append(list(row))
    path = tmp_path / "x.xlsx"
    book.save(path)
    return path.read_bytes()


def test_catalog_names_the_seeds_sources_and_converters():
    entries = catalog()
    assert entries["chinese-medical-dialogue"]["modelscope"] == "xiaofengalg/Chinese-medical-dialogue"
    assert entries["imcs-v2-mrg"]["converter"] == "med_mrg"
    assert {"qwen2.5-0.5b-instruct", "qwen2.5-7b-instruct", "bert-base-chinese"} <= set(entries)
    for name in ("yidu-n7k", "cmb", "cmexam", "jec-qa", "lawzhidao"):
        assert entries[name]["kind"] == "manual" and entries[name]["page"]


@pytest.mark.skipif(hub_reachable(timeout=2), reason="this machine reaches ModelScope: the offline path is not testable")
def test_offline_is_one_line_saying_where_to_copy_the_files(lfd, tmp_path):
    code, out, err = lfd("fetch", "imcs-v2-mrg", "--cache-dir", tmp_path)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "cannot reach the ModelScope hub" in err and f"{tmp_path / 'imcs-v2-mrg'}/" in err
    assert "IMCS-V2-MRG.zip" in err


def test_files_copied_by_hand_are_checked_and_converted_without_network(lfd, tmp_path):
    cache = tmp_path / "cache"
    place(cache, "yidu-n7k", {"train.xlsx": xlsx_bytes(tmp_path, [("房颤", "心房颤动")] * 2 + [(f"词{i}", "标准") for i in range(600)]),
                              "val.xlsx": xlsx_bytes(tmp_path, [("心衰", "心力衰竭")])})
    code, out, err = lfd("fetch", "yidu-n7k", "--cache-dir", cache)
    assert code == 0, err
    assert out.strip() == f"lfd convert med_norm --from-catalog yidu-n7k --cache-dir {cache} --out-dir data"
    code, _, err = lfd("convert", "med_norm", "--from-catalog", "yidu-n7k", "--cache-dir", cache, "--out-dir", tmp_path / "d")
    assert code == 0, err
    assert "test: read 1, wrote 1" in err and "train: read 602" in err
    code, out, _ = lfd("fetch", "--list", "--cache-dir", cache)
    assert code == 0 and [line for line in out.splitlines() if line.split()[:3] == ["yidu-n7k", "manual", "cached"]]


def test_catalog_options_apply_unless_given(lfd, tmp_path):
    cache = tmp_path / "cache"
    records = [{"instruction": f"标题{i}", "input": f"问题{i}", "output": f"回答{i}", "history": None} for i in range(30)]
    place(cache, "chinese-medical-dialogue", {"data/train_0001_of_0001.json": json.dumps(records).encode()})
    out = tmp_path / "d"
    code, _, err = lfd("convert", "med_dialog", "--from-catalog", "chinese-medical-dialogue", "--cache-dir", cache,
                       "--test-size", "5", "--out-dir", out)
    assert code == 0, err
    assert "test: wrote 5" in err and "train: read 30, wrote 25" in err  # --limit 100000 from the catalog: all kept


def test_catalog_errors(lfd, tmp_path):
    code, _, err = lfd("convert", "med_norm", "--from-catalog", "yidu-n7k", "--cache-dir", tmp_path, "--out-dir", tmp_path)
    assert code == 1 and "not in the cache" in err and "lfd fetch yidu-n7k" in err
    code, _, err = lfd("convert", "med_dialog", "--from-catalog", "yidu-n7k", "--out-dir", tmp_path)
    assert code == 1 and "converted by med_norm, not med_dialog" in err
    code, _, err = lfd("fetch", "imcs-v2", "--cache-dir", tmp_path)
    assert code == 1 and "did you mean 'imcs-v2-mrg'" in err
    place(tmp_path, "yidu-n7k", {"train.xlsx": b"PK" * 10, "val.xlsx": b"PK" * 600})
    code, _, err = lfd("fetch", "yidu-n7k", "--cache-dir", tmp_path)
    assert code == 1 and "train.xlsx has 20 bytes, expected at least 10000 (a cut download?)" in err
