import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from llamafactory_domains.plugin.run import DEDUP_REASON


def write_chip(path, records):
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def chip_records(n, start=0):
    return [{"text": f"原始词{i}", "normalized_result": f"标准词{i % 7}##别名{i % 3}"} for i in range(start, start + n)]


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_writes_both_splits_and_full_dataset_info_entries(lfd, tmp_path):
    train = write_chip(tmp_path / "CHIP-CDN_train.json", chip_records(40) + [{"text": "空", "normalized_result": ""}])
    dev = write_chip(tmp_path / "CHIP-CDN_dev.json", chip_records(10, start=35))
    out = tmp_path / "out"
    code, stdout, stderr = lfd("convert", "med_norm", train, "--test", dev, "--out-dir", out)
    assert code == 0, stderr
    records = lines(out / "med_norm_train.jsonl")
    test = lines(out / "med_norm_test.jsonl")
    assert len(test) == 10
    assert len(records) == 35  # 41 read, 1 without answer, 5 also in the test split
    assert "原始词:原始词0\n该词的标准术语为:" in records[0]["instruction"]
    assert records[0]["output"] == "标准词0##别名0"
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["med_norm_train"] == {
        "file_name": "med_norm_train.jsonl", "formatting": "alpaca",
        "columns": {"prompt": "instruction", "query": "input", "response": "output"},
        "lfd": {"converter": "med_norm", "split": "train"},
    }
    assert info["med_norm_test"]["lfd"]["evaluators"] == ["exact_match"]
    assert "train: read 41, wrote 35" in stderr and "test: read 10, wrote 10" in stderr
    assert "skipped 5: " + DEDUP_REASON in stderr and "skipped 1: no standard term" in stderr
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_held_out_split_never_shares_a_prompt_with_train_and_is_deterministic(lfd, tmp_path):
    records = chip_records(60) + chip_records(20)  # 20 exact duplicates
    src = write_chip(tmp_path / "all.json", records)
    outputs = []
    for run in range(2):
        out = tmp_path / f"out{run}"
        code, _, stderr = lfd("convert", "med_norm", src, "--test-size", "15", "--seed", "7", "--out-dir", out)
        assert code == 0, stderr
        outputs.append([(out / f"med_norm_{s}.jsonl").read_bytes() for s in ("train", "test")])
    assert outputs[0] == outputs[1]
    train, test = (lines(tmp_path / "out0" / f"med_norm_{s}.jsonl") for s in ("train", "test"))
    assert len(test) == 15
    assert not {r["instruction"] for r in train} & {r["instruction"] for r in test}
    dropped = 80 - 15 - len(train)
    assert dropped > 0 and f"skipped {dropped}: {DEDUP_REASON}" in stderr
    other_seed = tmp_path / "seed8"
    lfd("convert", "med_norm", src, "--test-size", "15", "--seed", "8", "--out-dir", other_seed)
    assert (other_seed / "med_norm_test.jsonl").read_bytes() != outputs[0][1]


def test_limit_takes_a_seeded_sample(lfd, tmp_path):
    src = write_chip(tmp_path / "all.json", chip_records(50))
    code, _, stderr = lfd("convert", "med_norm", src, "--limit", "12", "--out-dir", tmp_path)
    assert code == 0, stderr
    sampled = lines(tmp_path / "med_norm_train.jsonl")
    words = [r["instruction"].split("原始词:")[1].split("\n")[0] for r in sampled]
    assert len(words) == 12 and words != [f"原始词{i}" for i in range(12)]
    assert "train: read 50, wrote 12" in stderr and "skipped 38: not sampled (--limit)" in stderr
    assert not (tmp_path / "med_norm_test.jsonl").exists()


def test_sharegpt_format_and_name(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(5))
    assert lfd("convert", "med_norm", src, "--format", "sharegpt", "--name", "cdn", "--out-dir", tmp_path)[0] == 0
    record = lines(tmp_path / "cdn_train.jsonl")[0]
    assert [t["from"] for t in record["conversations"]] == ["human", "gpt"]
    entry = json.loads((tmp_path / "dataset_info.json").read_text())["cdn_train"]
    assert entry["formatting"] == "sharegpt" and entry["columns"] == {"messages": "conversations"}
    assert entry["tags"]["user_tag"] == "human" and len(entry["tags"]) == 7


def test_existing_entries_are_kept_and_a_different_one_needs_force(lfd, tmp_path):
    info = tmp_path / "dataset_info.json"
    info.write_text(json.dumps({"alpaca_zh": {"file_name": "alpaca_zh.json"},
                                "med_norm_train": {"file_name": "someone_elses.json"}}), encoding="utf-8")
    src = write_chip(tmp_path / "a.json", chip_records(5))
    before = info.read_bytes()
    code, _, stderr = lfd("convert", "med_norm", src, "--out-dir", tmp_path)
    assert code == 1 and "entry med_norm_train already exists with different content; pass --force" in stderr
    assert info.read_bytes() == before and not (tmp_path / "med_norm_train.jsonl").exists()
    assert lfd("convert", "med_norm", src, "--out-dir", tmp_path, "--force")[0] == 0
    merged = json.loads(info.read_text())
    assert merged["alpaca_zh"] == {"file_name": "alpaca_zh.json"}
    assert merged["med_norm_train"]["file_name"] == "med_norm_train.jsonl"


def test_invalid_dataset_info_is_an_error_and_left_untouched(lfd, tmp_path):
    info = tmp_path / "dataset_info.json"
    info.write_text('{"a": {"file_name": "x.json"},}', encoding="utf-8")
    src = write_chip(tmp_path / "a.json", chip_records(3))
    code, _, stderr = lfd("convert", "med_norm", src, "--out-dir", tmp_path)
    assert code == 1 and "dataset_info.json: not valid JSON" in stderr and "left untouched" in stderr
    assert info.read_text() == '{"a": {"file_name": "x.json"},}'
    assert not (tmp_path / "med_norm_train.jsonl").exists()


def test_rejects_file_names_file_location_and_reason(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(2) + [{"text": " ", "normalized_result": "x"}, "oops"])
    rejects = tmp_path / "rejects.jsonl"
    assert lfd("convert", "med_norm", src, "--out-dir", tmp_path, "--rejects", rejects)[0] == 0
    rows = lines(rejects)
    assert [(r["location"], r["reason"]) for r in rows] == [
        ("record 2 (line 1)", "empty raw term"), ("record 3 (line 1)", "record is a str, not an object")]
    assert rows[0]["file"] == str(src) and rows[0]["record"] == {"text": " ", "normalized_result": "x"}


@pytest.mark.parametrize("content, message", [
    ('[{"text": "a", "normalized_result": "b"}, {"text": "c", "normal', "record 1 (line 1): invalid JSON"),
    ('[1, 2]', "record 0 (line 1): record is a int, not an object; expected records with text/normalized_result"),
    ('{"question": "q", "answer": "a"}', "record 'question' (line 1): record is a str"),
    ('[{"foo": 1}]', "record 0 (line 1): record has no text or 原始词 field (found: foo)"),
])
def test_bad_json_is_one_line_error_and_writes_nothing(lfd, tmp_path, content, message):
    src = tmp_path / "bad.json"
    src.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = lfd("convert", "med_norm", src, "--out-dir", out)
    assert code == 1
    assert stderr.count("\n") == 1 and message in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in out.iterdir()) == []


def test_missing_file_unwritable_out_dir_and_unknown_converter(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(2))
    code, _, stderr = lfd("convert", "med_norm", tmp_path / "nope.xlsx", "--out-dir", tmp_path)
    assert code == 1 and "nope.xlsx: no such file" in stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, stderr = lfd("convert", "med_norm", src, "--out-dir", blocker / "sub")
    assert code == 1 and "cannot create it" in stderr and "writable folder" in stderr
    code, _, stderr = lfd("convert", "med_nrom", src, "--out-dir", tmp_path)
    assert code == 1 and "did you mean 'med_norm'" in stderr


def test_existing_folder_that_cannot_be_written(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(2))
    code, _, stderr = lfd("convert", "med_norm", src, "--out-dir", "/proc")  # not writable, even for root
    assert code == 1 and "cannot write into /proc" in stderr and "pick a writable folder" in stderr


def test_wrong_encoding_suggests_the_flag(lfd, tmp_path):
    src = tmp_path / "n7k.csv"
    src.write_bytes("原始词,标准词\n房颤,心房颤动\n".encode("gb18030"))
    assert lfd("convert", "med_norm", src, "--out-dir", tmp_path)[0] == 0  # detected
    code, _, stderr = lfd("convert", "med_norm", src, "--encoding", "utf-8", "--out-dir", tmp_path / "x")
    assert code == 1 and "--encoding gb18030" in stderr


def test_augmented_copies_are_training_only_and_never_share_a_question_with_test(lfd, tmp_path, monkeypatch):
    from llamafactory_domains.converters.med_norm import MedNorm
    from llamafactory_domains.plugin.records import Example

    def copies(self, example):
        yield Example(instruction=example.instruction + "(copy)", output=example.output)

    monkeypatch.setattr(MedNorm, "augment", copies)
    src = write_chip(tmp_path / "all.json", chip_records(30))
    code, _, stderr = lfd("convert", "med_norm", src, "--test-size", "10", "--out-dir", tmp_path)
    assert code == 0, stderr
    train, test = (lines(tmp_path / f"med_norm_{s}.jsonl") for s in ("train", "test"))
    assert len(train) == 40 and len(test) == 10 and "wrote 40 (20 of them augmented copies)" in stderr
    held_out = {r["instruction"] for r in test}
    assert not {r["instruction"].removesuffix("(copy)") for r in train} & held_out


def test_chatglm3_conversations_are_registered_with_their_tags(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(2))
    assert lfd("convert", "med_norm", src, "--format", "chatglm3", "--out-dir", tmp_path)[0] == 0
    record = lines(tmp_path / "med_norm_train.jsonl")[0]
    assert [t["role"] for t in record["conversations"]] == ["user", "assistant"]
    entry = json.loads((tmp_path / "dataset_info.json").read_text())["med_norm_train"]
    assert entry["formatting"] == "sharegpt" and entry["columns"] == {"messages": "conversations"}
    assert entry["tags"]["role_tag"] == "role" and entry["tags"]["assistant_tag"] == "assistant"


def _on_a_terminal(argv: list[str]) -> str:
    """What ``argv`` prints on a 120-column pseudo-terminal (stdout and stderr)."""
    import fcntl
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the command
        os.execv(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    out = []
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:  # the terminal closes when the command ends
            break
        if not data:
            break
        out.append(data)
    os.waitpid(pid, 0)
    return b"".join(out).decode("utf-8", "replace")


def test_a_big_file_shows_a_progress_bar_on_a_terminal_only(tmp_path):
    record = {"instruction": "高血压患者能吃党参吗？", "input": "我有高血压这两天女婿来的时候给我拿了些党参泡水喝" * 3,
              "output": "高血压病人可以口服党参的。党参有降血脂，降血压的作用" * 3, "history": None}
    records = [{**record, "instruction": f"{record['instruction']}{i}"} for i in range(16_000)]
    src = tmp_path / "train_0001_of_0001.json"
    src.write_text(json.dumps(records, ensure_ascii=False, indent=4), encoding="utf-8")
    assert src.stat().st_size > 8 << 20  # a bar is shown above 8 MB
    lfd = str(Path(sys.executable).parent / "lfd")
    argv = [lfd, "convert", "med_dialog", str(src), "--out-dir", str(tmp_path / "out")]
    shown = _on_a_terminal(argv)
    assert re.search(r"train_0001_of_0001\.json: +\d+%\|", shown), shown
    assert "train: read 16000, wrote 16000" in shown
    piped = subprocess.run([*argv, "--force"], capture_output=True, text=True, check=True)
    assert "%|" not in piped.stderr and "train: read 16000, wrote 16000" in piped.stderr


def test_an_output_that_is_an_input_is_refused_and_nothing_changes(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(5) + [{"text": "空", "normalized_result": ""}])
    out = tmp_path / "out"
    assert lfd("convert", "general_mix", write_chip(tmp_path / "g.json", [
        {"instruction": f"问{i}", "output": f"答{i}"} for i in range(4)]), "--name", "gm", "--out-dir", out)[0] == 0
    os.link(src, tmp_path / "hard.json")
    os.symlink(src, tmp_path / "soft.json")
    before = {p: p.read_bytes() for p in [src, *out.iterdir()]}
    for args, fragment in [
        (["med_norm", src, "--rejects", src], "that is the INPUT file, also given as --rejects"),
        (["med_norm", src, "--rejects", tmp_path / "hard.json"], "that is the INPUT file"),  # same inode
        (["med_norm", src, "--rejects", tmp_path / "soft.json"], "that is the INPUT file"),
        (["med_norm", tmp_path / "soft.json", "--rejects", tmp_path / "sub" / ".." / "a.json"], "that is the INPUT file"),
        (["med_norm", src, "--rejects", out / "dataset_info.json"], "both dataset_info.json of --out-dir and --rejects"),
        (["med_norm", src, "--rejects", out / "gm_train.jsonl"], "--rejects is the file of dataset gm_train"),
        (["general_mix", out / "gm_train.jsonl", "--name", "gm", "--force"], "also given as the training split"),
        (["med_norm", src, "--rejects", out], "--rejects is a folder"),
    ]:
        code, _, err = lfd("convert", *args, "--out-dir", out)
        assert code == 1 and fragment in err and err.count("\n") == 1, (args, err)
        assert {p: p.read_bytes() for p in [src, *out.iterdir()]} == before


def test_other_data_under_an_existing_name_needs_force_and_is_reported_replaced(lfd, tmp_path):
    first, second = (write_chip(tmp_path / f"{n}.json", chip_records(8, start)) for n, start in (("a", 0), ("b", 100)))
    out = tmp_path / "out"
    assert lfd("convert", "med_norm", first, "--out-dir", out)[0] == 0
    data = (out / "med_norm_train.jsonl").read_bytes()
    code, _, err = lfd("convert", "med_norm", first, "--out-dir", out)  # the same bytes again
    assert code == 0 and "unchanged med_norm_train" in err
    code, _, err = lfd("convert", "med_norm", second, "--out-dir", out)
    assert code == 1 and "med_norm_train.jsonl: already exists with different data" in err and "--force" in err
    assert (out / "med_norm_train.jsonl").read_bytes() == data
    code, _, err = lfd("convert", "med_norm", second, "--out-dir", out, "--force")
    assert code == 0 and "replaced med_norm_train" in err and "unchanged" not in err
    assert (out / "med_norm_train.jsonl").read_bytes() != data


def test_a_hand_made_file_of_the_same_name_is_not_overwritten_silently(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(4))
    mine = tmp_path / "med_norm_train.jsonl"
    mine.write_text('{"instruction": "mine", "output": "keep"}\n', encoding="utf-8")
    code, _, err = lfd("convert", "med_norm", src, "--out-dir", tmp_path)
    assert code == 1 and "no entry of" in err and "made by hand?" in err and "--name" in err
    assert mine.read_text(encoding="utf-8") == '{"instruction": "mine", "output": "keep"}\n'
    assert not (tmp_path / "dataset_info.json").exists()
    code, _, err = lfd("convert", "med_norm", src, "--out-dir", tmp_path, "--force")
    assert code == 0 and f"{mine}: replaced (1 → 4 records; --force)" in err


def test_a_reconversion_reports_each_replaced_file_with_its_old_and_new_record_counts(lfd, tmp_path):
    first, second = (write_chip(tmp_path / f"{n}.json", chip_records(k, start))
                     for n, k, start in (("a", 12, 0), ("b", 20, 100)))
    out = tmp_path / "out"
    assert lfd("convert", "med_norm", first, "--test-size", "3", "--out-dir", out)[0] == 0
    code, _, err = lfd("convert", "med_norm", second, "--test-size", "5", "--out-dir", out, "--force")
    assert code == 0, err
    assert f"{out / 'med_norm_train.jsonl'}: replaced (9 → 15 records; --force)\n" in err
    assert f"{out / 'med_norm_test.jsonl'}: replaced (3 → 5 records; --force)\n" in err
    assert f"{out / 'dataset_info.json'}: replaced med_norm_train, med_norm_test\n" in err and "unchanged" not in err
    assert len(lines(out / "med_norm_train.jsonl")) == 15 and len(lines(out / "med_norm_test.jsonl")) == 5


def test_a_rerun_without_a_test_split_refuses_or_removes_the_earlier_one(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(20))
    out = tmp_path / "out"
    assert lfd("convert", "med_norm", src, "--test-size", "5", "--out-dir", out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, err = lfd("convert", "med_norm", src, "--out-dir", out)
    assert code == 1 and "med_norm_test.jsonl: the test split of an earlier conversion" in err
    assert "--test-size N" in err and "--force" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    code, _, err = lfd("convert", "med_norm", src, "--out-dir", out, "--force")
    assert code == 0 and "removed the earlier test split" in err and "removed med_norm_test" in err
    assert sorted(p.name for p in out.iterdir()) == ["dataset_info.json", "med_norm_train.jsonl"]
    assert set(json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))) == {"med_norm_train"}
    assert len(lines(out / "med_norm_train.jsonl")) == 20


def test_a_symlinked_dataset_info_is_written_through_the_link(lfd, tmp_path):
    install = tmp_path / "LLaMA-Factory" / "data"
    install.mkdir(parents=True)
    (install / "dataset_info.json").write_text(json.dumps({"alpaca_zh_demo": {"file_name": "a.json"}}), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "dataset_info.json").symlink_to(install / "dataset_info.json")
    src = write_chip(tmp_path / "a.json", chip_records(4))
    assert lfd("convert", "med_norm", src, "--out-dir", out)[0] == 0
    assert (out / "dataset_info.json").is_symlink()
    assert set(json.loads((install / "dataset_info.json").read_text(encoding="utf-8"))) == {"alpaca_zh_demo",
                                                                                          "med_norm_train"}
    assert not [p for p in [*out.iterdir(), *install.iterdir()] if p.name.startswith(".")]


def test_when_every_record_is_skipped_the_error_names_the_first_one(lfd, tmp_path):
    """Nothing is written on an error, --rejects included: the message says why and where instead."""
    src = write_chip(tmp_path / "a.json", [{"text": "", "normalized_result": "x"}, {"text": "a", "normalized_result": ""}])
    for extra in (["--test-size", "1"], ["--rejects", tmp_path / "rejects.jsonl"], []):
        code, _, err = lfd("convert", "med_norm", src, "--out-dir", tmp_path / "out", *extra)
        assert code == 1 and "(empty raw term: 1, no standard term: 1); the first is " in err, err
        assert "a.json: record 0" in err and "leaves no training data" not in err and "pass --rejects" not in err
        assert not (tmp_path / "rejects.jsonl").exists()
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ---------------------------------------------------------------- the validation split (--val-size)

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def keys(rows):
    from llamafactory_domains.plugin.dedup import prompt_key

    return {prompt_key(row["instruction"]) for row in rows}


def splits_of(out, name="med_norm"):
    return [lines(out / f"{name}_{split}.jsonl") for split in ("train", "val", "test")]


def test_val_split_is_drawn_after_the_test_split_and_train_leaves_out_its_variants(lfd, tmp_path):
    from llamafactory_domains.plugin.dedup import NORMALIZED, VAL_NORMALIZED

    records = chip_records(30)
    variants = [{**r, "text": r["text"].translate(FULL_WIDTH) + "。"} for r in records]  # full width, punctuation
    src = write_chip(tmp_path / "train.json", records + variants)
    dev = write_chip(tmp_path / "dev.json", chip_records(5))  # 原始词0-4 and their variants are test items
    out, rejects = tmp_path / "out", tmp_path / "rejects.jsonl"
    code, _, stderr = lfd("convert", "med_norm", src, "--test", dev, "--val-size", "6", "--seed", "3",
                          "--out-dir", out, "--rejects", rejects)
    assert code == 0, stderr
    train, val, test = splits_of(out)
    assert len(val) == 6 and len(test) == 5
    assert not keys(val) & keys(test) and not keys(train) & keys(val) and not keys(train) & keys(test)
    # 60 read; 10 test items (5 exact, 5 variants); 6 to val; the other records of val's terms leave train
    left_out = 2 * len(keys(val)) - 6
    assert left_out > 0 and len(train) == 60 - 10 - 6 - left_out
    assert f"train: read 60, wrote {len(train)} ->" in stderr and f"val: wrote 6 -> {out / 'med_norm_val.jsonl'}" in stderr
    assert f"skipped 5: {DEDUP_REASON}" in stderr and f"skipped 5: {NORMALIZED}" in stderr
    assert f"skipped {left_out}: {VAL_NORMALIZED}" in stderr
    val_rejects = [r for r in lines(rejects) if r["reason"] == VAL_NORMALIZED]
    assert len(val_rejects) == left_out and {r["split"] for r in val_rejects} == {"train"}
    assert all(r["file"] == str(src) and r["location"].startswith("record ") for r in val_rejects)
    def term(text):  # a term and its variant alike
        return text.translate(FULL_WIDTH).rstrip("。")

    val_terms = {term(r["instruction"].split("原始词:")[1].split("\n")[0]) for r in val}
    assert {term(r["record"]["text"]) for r in val_rejects} <= val_terms
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["med_norm_val"] == {
        "file_name": "med_norm_val.jsonl", "formatting": "alpaca",
        "columns": {"prompt": "instruction", "query": "input", "response": "output"},
        "lfd": {"converter": "med_norm", "split": "val", "evaluators": ["exact_match"], "primary_metric": "exact_match"},
    }
    assert f"{out / 'dataset_info.json'}: added med_norm_train, med_norm_test, med_norm_val" in stderr


def test_val_entry_carries_the_formats_columns_and_tags(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(12))
    code, _, stderr = lfd("convert", "med_norm", src, "--format", "sharegpt", "--test-size", "2", "--val-size", "3",
                          "--out-dir", tmp_path)
    assert code == 0, stderr
    info = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))
    val, test = info["med_norm_val"], info["med_norm_test"]
    assert val["formatting"] == "sharegpt" and val["columns"] == {"messages": "conversations"}
    assert val["tags"] == info["med_norm_train"]["tags"] and len(val["tags"]) == 7
    assert {**val, "file_name": "med_norm_test.jsonl", "lfd": {**val["lfd"], "split": "test"}} == test
    assert [t["from"] for t in lines(tmp_path / "med_norm_val.jsonl")[0]["conversations"]] == ["human", "gpt"]


def seed_bank(path, questions):
    """A 安规 bank in the seed's CSV layout: (text, [(letter, option)...], answer) per question."""
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["专业", "题型", "题目内容", "题目依据条款", "选项", "正确答案"]] + [
            ["变电专业", "单选题", text, "来自安规", ",".join(f"{k}. {v}" for k, v in options), answer]
            for text, options, answer in questions])
    return path


def test_val_split_of_a_choice_bank_options_reordered_and_shuffled_copies(lfd, tmp_path):
    """A bank listing each question twice, options reordered: a question in val is in neither train nor
    test in any order, and --shuffle-options copies go to train only."""
    from llamafactory_domains.plugin.dedup import NORMALIZED, VAL_NORMALIZED

    bank = [(f"第{i}题：工作票应由（　　）签发。", [("A", f"甲{i}"), ("B", f"乙{i}"), ("C", f"丙{i}")], "A")
            for i in range(20)]
    bank += [(f"第{i}题：工作票应由（ ）签发.", [("A", f"丙{i}"), ("B", f"甲{i}"), ("C", f"乙{i}")], "B")
             for i in range(20)]  # the same questions again
    src = seed_bank(tmp_path / "bank.csv", bank)
    out = tmp_path / "out"
    code, _, stderr = lfd("convert", "safety_exam", src, "--test-size", "4", "--val-size", "6", "--shuffle-options", "2",
                          "--seed", "5", "--out-dir", out)
    assert code == 0, stderr
    train, val, test = splits_of(out, "safety_exam")
    assert len(val) == 6 and len(test) == 4 and "val: wrote 6 ->" in stderr  # no copies in val
    assert not keys(val) & keys(test) and not keys(train) & keys(val) and not keys(train) & keys(test)
    def stem(rows):  # "第3题": the question, in any listing
        return {row["instruction"].split("\n")[1].split("：")[0] for row in rows}

    assert not stem(train) & stem(val) and not stem(val) & stem(test) and not stem(train) & stem(test)
    for row in val:  # as the bank lists it, never a reordered copy
        n = row["instruction"].split("第")[1].split("题")[0]
        assert row["instruction"].split("\n")[2:5] in ([f"A. 甲{n}", f"B. 乙{n}", f"C. 丙{n}"],
                                                       [f"A. 丙{n}", f"B. 甲{n}", f"C. 乙{n}"])
    # the other listing of each val question leaves train (its options in another order)
    left_out = 2 * len(keys(val)) - 6
    assert left_out > 0 and f"skipped {left_out}: {VAL_NORMALIZED}" in stderr
    test_twins = 2 * len(keys(test)) - 4  # likewise the other listing of each test question
    assert (f"skipped {test_twins}: {NORMALIZED}" in stderr) == (test_twins > 0)
    originals = 40 - 4 - test_twins - 6 - left_out
    assert len(train) == 3 * originals and f"({2 * originals} of them augmented copies)" in stderr


def test_val_split_is_deterministic_and_leaves_the_test_split_as_it_was(lfd, tmp_path):
    src = write_chip(tmp_path / "all.json", chip_records(60) + chip_records(10))  # 10 exact duplicates
    files = []
    for run, extra in enumerate([["--seed", "7"], ["--seed", "7"], ["--seed", "8"]]):
        out = tmp_path / f"out{run}"
        code, _, stderr = lfd("convert", "med_norm", src, "--test-size", "8", "--val-size", "9", *extra, "--out-dir", out)
        assert code == 0, stderr
        files.append({s: (out / f"med_norm_{s}.jsonl").read_bytes() for s in ("train", "val", "test")})
    assert files[0] == files[1]  # same input and seed: byte-identical
    assert files[2]["val"] != files[0]["val"]
    without_val = tmp_path / "no_val"
    assert lfd("convert", "med_norm", src, "--test-size", "8", "--seed", "7", "--out-dir", without_val)[0] == 0
    assert (without_val / "med_norm_test.jsonl").read_bytes() == files[0]["test"]  # --val-size draws after it
    train, val, test = splits_of(tmp_path / "out0")
    assert len(val) == 9 and not keys(train) & keys(val) and not keys(val) & keys(test)


def test_limit_counts_training_records_after_the_val_split(lfd, tmp_path):
    src = write_chip(tmp_path / "all.json", chip_records(50))
    out = tmp_path / "out"
    code, _, stderr = lfd("convert", "med_norm", src, "--val-size", "5", "--limit", "12", "--out-dir", out)
    assert code == 0, stderr
    train, val = (lines(out / f"med_norm_{s}.jsonl") for s in ("train", "val"))
    assert len(train) == 12 and len(val) == 5 and not keys(train) & keys(val)
    assert "train: read 50, wrote 12" in stderr and "skipped 33: not sampled (--limit)" in stderr
    assert not (out / "med_norm_test.jsonl").exists()
    code, _, stderr = lfd("convert", "med_norm", src, "--val-size", "5", "--limit", "100", "--out-dir", tmp_path / "all")
    assert code == 0 and "train: read 50, wrote 45" in stderr and "not sampled" not in stderr, stderr


@pytest.mark.parametrize("extra, message", [
    (["--val-size", "10"], "--val-size 10 leaves no training data (10 usable training records); pick a number below 10"),
    (["--val-size", "12"], "--val-size 12 leaves no training data (10 usable training records); pick a number below 10"),
    (["--test-size", "4", "--val-size", "6"], ("--val-size 6 leaves no training data (6 usable training records once "
                                               "the test split and its duplicates are out); pick a number below 6")),
])
def test_a_val_size_that_leaves_no_training_data_is_one_line_and_writes_nothing(lfd, tmp_path, extra, message):
    src = write_chip(tmp_path / "a.json", chip_records(10))
    out = tmp_path / "out"
    code, _, stderr = lfd("convert", "med_norm", src, *extra, "--out-dir", out, "--rejects", tmp_path / "r.jsonl")
    assert code == 1 and stderr == f"lfd convert: error: {message}\n"
    assert not any(out.iterdir()) and not (tmp_path / "r.jsonl").exists()


def test_val_size_with_nothing_left_to_hold_out_names_why(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", [{"text": "", "normalized_result": "x"}, {"text": "a", "normalized_result": ""}])
    code, _, err = lfd("convert", "med_norm", src, "--val-size", "1", "--out-dir", tmp_path / "out")
    assert code == 1 and "no usable train records" in err and "(empty raw term: 1, no standard term: 1)" in err
    assert "the first is " in err and "leaves no training data" not in err and err.count("\n") == 1
    same = write_chip(tmp_path / "b.json", chip_records(4))  # every training record is a test item
    copy = write_chip(tmp_path / "b_copy.json", chip_records(4))  # (the same file as --test is refused before)
    code, _, err = lfd("convert", "med_norm", same, "--test", copy, "--val-size", "1", "--out-dir", tmp_path / "out")
    assert code == 1 and f"no usable train records in {same} ({DEDUP_REASON}: 4)" in err, err
    assert not any((tmp_path / "out").iterdir())


def test_a_file_given_twice_is_refused_before_anything_is_read(lfd, tmp_path):
    """As INPUT twice its records were written twice; as INPUT and --test every training record was left out."""
    src = write_chip(tmp_path / "a.json", chip_records(6))
    code, _, err = lfd("convert", "med_norm", src, tmp_path / "." / "a.json", "--out-dir", tmp_path / "out")
    assert code == 1 and "given twice as INPUT" in err and "its records would be written twice" in err
    code, _, err = lfd("convert", "med_norm", src, "--test", src, "--out-dir", tmp_path / "out")
    assert code == 1 and f"{src}: both an INPUT and a --test file" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_rerun_without_val_size_refuses_or_removes_the_earlier_val_split(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(20))
    out = tmp_path / "out"
    assert lfd("convert", "med_norm", src, "--test-size", "4", "--val-size", "3", "--out-dir", out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, err = lfd("convert", "med_norm", src, "--test-size", "4", "--val-size", "3", "--out-dir", out)
    assert code == 0 and "unchanged med_norm_train, med_norm_test, med_norm_val" in err
    code, _, err = lfd("convert", "med_norm", src, "--test-size", "4", "--out-dir", out)
    assert code == 1 and err.count("\n") == 1
    assert f"{out / 'med_norm_val.jsonl'}: the validation split of an earlier conversion named med_norm" in err
    assert "pass --val-size N to hold them out again, or --force to remove the old validation split" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    code, _, err = lfd("convert", "med_norm", src, "--test-size", "4", "--out-dir", out, "--force")
    assert code == 0, err
    assert (f"removed the earlier validation split ({out / 'med_norm_val.jsonl'} and entry med_norm_val): this run "
            "holds out none (--force)") in err
    assert f"{out / 'dataset_info.json'}: replaced med_norm_train; unchanged med_norm_test; removed med_norm_val" in err
    assert sorted(p.name for p in out.iterdir()) == ["dataset_info.json", "med_norm_test.jsonl", "med_norm_train.jsonl"]
    assert len(lines(out / "med_norm_train.jsonl")) == 16


def test_an_earlier_val_entry_alone_is_stale_too_and_other_val_data_needs_force(lfd, tmp_path):
    src = write_chip(tmp_path / "a.json", chip_records(20))
    out = tmp_path / "out"
    assert lfd("convert", "med_norm", src, "--val-size", "3", "--out-dir", out)[0] == 0
    (out / "med_norm_val.jsonl").unlink()  # the file gone, its entry left
    code, _, err = lfd("convert", "med_norm", src, "--out-dir", out)
    assert code == 1 and f"entry med_norm_val of {out / 'dataset_info.json'}: the validation split" in err
    assert lfd("convert", "med_norm", src, "--val-size", "3", "--out-dir", out)[0] == 0  # written again
    code, _, err = lfd("convert", "med_norm", src, "--val-size", "5", "--out-dir", out)
    assert code == 1 and "already exists with different data" in err and "--force" in err
    assert len(lines(out / "med_norm_val.jsonl")) == 3
    code, _, err = lfd("convert", "med_norm", src, "--val-size", "5", "--out-dir", out, "--force")
    assert code == 0 and f"{out / 'med_norm_val.jsonl'}: replaced (3 → 5 records; --force)" in err
    assert f"{out / 'med_norm_train.jsonl'}: replaced (17 → 15 records; --force)" in err


def test_a_val_split_file_is_an_output_no_input_may_be(lfd, tmp_path):
    out = tmp_path / "out"
    src = write_chip(tmp_path / "a.json", chip_records(6))
    assert lfd("convert", "med_norm", src, "--val-size", "2", "--out-dir", out)[0] == 0
    code, _, err = lfd("convert", "med_norm", src, "--val-size", "2", "--rejects", out / "med_norm_val.jsonl",
                       "--out-dir", out)
    assert code == 1 and "the validation split (--out-dir, --name)" in err and err.count("\n") == 1, err


def test_val_size_is_in_the_converters_help(capsys):
    from llamafactory_domains.plugin.cli import main

    with pytest.raises(SystemExit):
        main(["convert", "med_norm", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--val-size N hold out N random training records as the validation split <name>_val" in text
