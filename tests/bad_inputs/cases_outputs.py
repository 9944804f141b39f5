"""The output side: every command that writes, given outputs that would lose data or cannot be written.

An output that is an input (``--rejects`` naming the raw file of each converter, its --test file,
--answers, --kb; a converter reading its own ``<name>_train.jsonl``), or another output (--rejects
over dataset_info.json or a split; `lfd eval` --out over --per-item or the predictions); an output
that is a folder, a device, under a file or a name too long; a second conversion of other data
under the same name, a file made by hand, an earlier test split left beside a training split that
now holds its items, an earlier circular test split left beside a run without ``--circular``;
dataset_info.json files (of `lfd convert`, `lfd register` and `lfd eval
--dataset`) holding what JSON cannot (NaN, huge integers, deep nesting) or a ``file_name`` that is
null or a number; a symlinked dataset_info.json (written through the link); predictions holding
lone surrogates written to --per-item and --html. Faults (a full disk, kills) are in
tests/plugin/test_faults.py: they need a process of their own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from corpus import (
    ALPACA,
    CHIP,
    CMEXAM,
    CMEXAM_HEADER,
    DISC,
    HUATUO,
    IMCS,
    JEC,
    KB,
    LAWZHIDAO,
    LAWZHIDAO_HEADER,
    MED_CHATGLM,
    PHARMA,
    PHARMA_HEADER,
    PREDICTION,
    SEED_HEADER,
    SEED_ROWS,
    TOYHOM,
    TOYHOM_HEADER,
    F,
    array,
    case,
    jsonl,
    table,
    xlsx,
)

OUT = "{out}"
EXISTING = {"alpaca_zh_demo": {"file_name": "alpaca_zh_demo.json", "formatting": "alpaca"}}
IS_INPUT = "that is the INPUT file"
CHIP_MORE = CHIP + [{"text": "高血压3级", "normalized_result": "高血压"}, {"text": "房颤", "normalized_result": "心房颤动"}]
CHIP_OTHER = [{"text": "慢性胃炎伴糜烂", "normalized_result": "慢性胃炎"}, {"text": "腰椎间盘突出", "normalized_result": "腰椎间盘突出症"},
              {"text": "冠心病", "normalized_result": "冠状动脉粥样硬化性心脏病"}]
CMB = {"exam_type": "医师考试", "exam_class": "执业医师", "exam_subject": "临床", "question": "下列哪项是糖尿病的典型症状",
       "answer": "A", "question_type": "单项选择题", "option": {"A": "多饮多尿", "B": "咳嗽", "C": "头痛", "D": "腹泻"}}


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def info(entries: dict) -> bytes:
    return json.dumps({**EXISTING, **entries}, ensure_ascii=False, indent=2).encode("utf-8")


def med_norm_entry(split: str) -> dict:
    entry = {"file_name": f"med_norm_{split}.jsonl", "formatting": "alpaca",
             "columns": {"prompt": "instruction", "query": "input", "response": "output"},
             "lfd": {"converter": "med_norm", "split": split}}
    if split == "test":
        entry["lfd"]["evaluators"] = ["exact_match"]
    return entry


# one real raw file per converter, with what each reads besides it
RAW = {
    "med_norm": ("out_chip.json", array(CHIP), []),
    "med_dialog": ("out_toyhom.csv", utf8(table(TOYHOM_HEADER, TOYHOM)), []),
    "med_mrg": ("out_imcs.json", array(IMCS), []),
    "huatuo": ("out_llama_data.json", jsonl(HUATUO), []),
    "med_chatglm": ("out_med_chatglm.txt", jsonl(MED_CHATGLM), []),
    "med_mcq": ("out_cmexam.csv", utf8(table(CMEXAM_HEADER, CMEXAM)), []),
    "law_qa": ("out_lawzhidao.csv", utf8(table(LAWZHIDAO_HEADER, LAWZHIDAO)), []),
    "disc_law": ("out_disc_pair.jsonl", jsonl(DISC), []),
    "law_mcq": ("out_jec.json", jsonl([JEC, {**JEC, "id": "3_8133", "answer": ["C"]}]), []),
    "safety_exam": ("out_anquan.xlsx", xlsx({"题库": [SEED_HEADER, *SEED_ROWS]}), []),
    "general_mix": ("out_alpaca.json", array(ALPACA), []),
    "pharma_rag": ("out_pharma.csv", utf8(table(PHARMA_HEADER, PHARMA)), ["--kb", F + "out_pharma_kb.txt"]),
}
EXTRA = {"out_pharma_kb.txt": utf8(KB)}


def rejects_is_input() -> list[dict]:
    """--rejects naming the raw file itself, for every converter and its real format."""
    cases = []
    for converter, (name, data, more) in RAW.items():
        cases.append(case(f"out_{converter}_rejects_is_input", data,
                          ["convert", converter, F + name, *more, "--out-dir", OUT, "--rejects", F + name], 1, IS_INPUT,
                          "--rejects names the raw input: the raw data would be replaced by the rejects",
                          extra_files=EXTRA if more else {}))
    return cases


def other_inputs() -> list[dict]:
    """Every other file a convert reads, and its own outputs read back as input."""
    chip = F + "out_chip.json"
    dev = F + "out_chip_dev.json"
    return [
        case("out_rejects_is_test_file", None, ["convert", "med_norm", chip, "--test", dev, "--out-dir", OUT,
                                                           "--rejects", dev], 1, "that is the --test file",
             "--rejects names the raw test file"),
        case("out_rejects_is_answers", array([{"id": 1, "answer": "A"}]),
             ["convert", "med_mcq", F + "out_cmb_train.json", "--test", F + "out_cmb_test.json", "--answers",
              F + "out_cmb_answers.json", "--out-dir", OUT, "--rejects", F + "out_cmb_answers.json"], 1,
             "that is the --answers file", "--rejects names the CMB answer file read by --answers",
             file="out_cmb_answers.json",
             extra_files={"out_cmb_train.json": array([CMB]), "out_cmb_test.json": array([{**CMB, "id": 1}])}),
        case("out_rejects_is_kb", None, ["convert", "pharma_rag", F + "out_pharma.csv", "--kb", F + "out_pharma_kb.txt",
                                         "--out-dir", OUT, "--rejects", F + "out_pharma_kb.txt"], 1,
             "that is the --kb file", "--rejects names the knowledge base the questions are answered from"),
        case("out_rejects_via_dotdot", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                              "{dir}/files/../files/out_chip.json"], 1, IS_INPUT,
             "--rejects names the input by another path (files/../files/)"),
        case("out_rejects_via_dot_slash", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                                 "{dir}/./files/out_chip.json"], 1, IS_INPUT,
             "--rejects names the input as ./files/"),
        case("out_rejects_second_input", None, ["convert", "med_norm", chip, F + "out_chip_other.json",
                                                             "--out-dir", OUT, "--rejects", F + "out_chip_other.json"],
             1, IS_INPUT, "--rejects names the second of two inputs"),
        case("out_input_is_dataset_info", None, ["convert", "general_mix", "{out}/dataset_info.json", "--out-dir", OUT],
             1, "also given as dataset_info.json of --out-dir", "the output folder's dataset_info.json read as raw data"),
        case("out_input_is_own_train", None, ["convert", "general_mix", "{out}/gm_train.jsonl", "--name", "gm",
                                              "--out-dir", OUT, "--force"], 1,
             "also given as the training split", "a converter reading out/gm_train.jsonl with --out-dir out",
             setup=[["convert", "general_mix", F + "out_alpaca.json", "--name", "gm", "--out-dir", OUT]]),
        case("out_input_is_own_test", None, ["convert", "general_mix", F + "out_alpaca.json", "--test",
                                             "{out}/gm_test.jsonl", "--name", "gm", "--out-dir", OUT], 1,
             "also given as the test split", "--test reading the test split this run rewrites",
             setup=[["convert", "general_mix", F + "out_alpaca.json", "--test-size", "1", "--name", "gm", "--out-dir",
                     OUT]]),
        case("out_test_is_own_train", None, ["convert", "general_mix", F + "out_alpaca.json", "--test",
                                             "{out}/gm_train.jsonl", "--name", "gm", "--out-dir", OUT, "--force"], 1,
             "that is the --test file", "--test naming the training split this run rewrites",
             setup=[["convert", "general_mix", F + "out_alpaca.json", "--name", "gm", "--out-dir", OUT]]),
    ]


def output_overlaps() -> list[dict]:
    chip = F + "out_chip.json"
    return [
        case("out_rejects_is_dataset_info", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                                   "{out}/dataset_info.json"], 1,
             "both dataset_info.json of --out-dir and --rejects", "--rejects over the output folder's dataset_info.json"),
        case("out_rejects_is_train_split", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                                  "{out}/med_norm_train.jsonl"], 1, "both the training split",
             "--rejects over the training split written in the same run"),
        case("out_rejects_is_test_split", None, ["convert", "med_norm", F + "out_chip_more.json", "--test-size", "1",
                                                 "--out-dir", OUT, "--rejects", "{out}/med_norm_test.jsonl"], 1,
             "both the test split", "--rejects over the held-out split"),
        case("out_rejects_is_other_dataset", None, ["convert", "med_norm", chip, "--name", "cdn", "--out-dir", OUT,
                                                    "--rejects", "{out}/med_norm_train.jsonl"], 1,
             "--rejects is the file of dataset med_norm_train", "--rejects over another dataset of the folder",
             setup=[["convert", "med_norm", chip, "--out-dir", OUT]]),
    ]


def unwritable_paths() -> list[dict]:
    chip = F + "out_chip.json"
    long_name = "长" * 90  # 270 bytes in UTF-8
    return [
        case("out_rejects_folder", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects", "{tmp}"], 1,
             "--rejects is a folder", "--rejects names a folder"),
        case("out_rejects_corpus_folder", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                                 "{dir}/files"], 1, "--rejects is a folder",
             "--rejects names the folder holding the input"),
        case("out_rejects_under_a_file", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                                chip + "/rejects.jsonl"], 1, "is a file, not a folder",
             "--rejects inside a path whose folder is a file"),
        case("out_rejects_name_too_long", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                                 "{tmp}/" + long_name + ".jsonl"], 1, "too long for this file system",
             "a --rejects name longer than the file system allows"),
        case("out_name_too_long", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--name", "x" * 250], 1,
             "too long for this file system", "--name too long for a file name (with _train.jsonl)"),
        case("out_out_dir_is_file", None, ["convert", "med_norm", chip, "--out-dir", chip], 1, "a file, not a folder",
             "--out-dir names the input file"),
        case("out_out_dir_under_file", None, ["convert", "med_norm", chip, "--out-dir", chip + "/sub"], 1,
             "cannot create it", "--out-dir inside a path whose folder is a file"),
        case("out_out_dir_name_too_long", None, ["convert", "med_norm", chip, "--out-dir", "{tmp}/" + long_name], 1,
             "too long for this file system", "an --out-dir name longer than the file system allows"),
        case("out_train_path_is_folder", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                                "{tmp}/rejects.jsonl"], 1, "the training split (--out-dir, --name) is a folder",
             "a folder named med_norm_train.jsonl in the output folder", generate="out_train_folder"),
        case("out_dataset_info_out_folder", None, ["dataset-info", "--out", "{tmp}"], 1, "is a folder",
             "lfd dataset-info --out naming a folder"),
        case("out_dataset_info_out_under_file", None, ["dataset-info", "--out", chip + "/dataset_info.json"], 1,
             "is a file, not a folder", "lfd dataset-info --out inside a path whose folder is a file"),
        case("out_dataset_info_out_too_long", None, ["dataset-info", "--out", "{tmp}/" + long_name + ".json"], 1,
             "too long for this file system", "lfd dataset-info --out with a name too long"),
        case("out_rejects_in_new_folder", None, ["convert", "med_norm", F + "out_chip_gap.json", "--out-dir", OUT,
                                                 "--rejects", "{tmp}/new/deeper/rejects.jsonl"], 0,
             "skipped 1: no standard term", "--rejects in folders that do not exist yet: made, and the file written"),
        case("out_rejects_beside_outputs", None, ["convert", "med_norm", F + "out_chip_gap.json", "--out-dir", OUT,
                                                  "--rejects", "{out}/med_norm_rejects.jsonl"], 0,
             "rejected records with their file and location", "--rejects in the output folder under its own name"),
        case("out_compare_per_item_like_names", None, ["compare", F + "out_base.jsonl", F + "out_tuned.jsonl", "-e",
                                                       "exact_match", "--out", "{tmp}/c.json", "--html",
                                                       "{tmp}/c.html"], 0, "items paired by prompt",
             "compare writing its two reports side by side (the ordinary case still works)"),
    ]


def second_runs() -> list[dict]:
    """A second conversion under a name the first one used: other data, the same data, no test split."""
    chip, more, other = F + "out_chip.json", F + "out_chip_more.json", F + "out_chip_other.json"
    first = ["convert", "med_norm", chip, "--out-dir", OUT]
    held = ["convert", "med_norm", more, "--test-size", "1", "--out-dir", OUT]
    anquan = ["convert", "safety_exam", F + "out_anquan.xlsx", "--test-size", "2", "--out-dir", OUT]
    csv = F + "out_toyhom.csv"
    cases = [
        case("out_rerun_other_data", None, ["convert", "med_norm", other, "--out-dir", OUT], 1,
             "already exists with different data, written by an earlier conversion (entry med_norm_train)",
             "other data under an existing name: the entry is the same, the file is not", setup=[first]),
        case("out_rerun_other_data_force", None, ["convert", "med_norm", other, "--out-dir", OUT, "--force"], 0,
             "med_norm_train.jsonl: replaced (3 → 3 records; --force)", "with --force the earlier data is replaced, and said so", setup=[first]),
        case("out_rerun_other_data_says_replaced", None, ["convert", "med_norm", other, "--out-dir", OUT, "--force"],
             0, "replaced med_norm_train", "the entry is reported replaced, not unchanged", setup=[first]),
        case("out_rerun_same_data", None, first, 0, "unchanged med_norm_train", "the same conversion again",
             setup=[first]),
        case("out_rerun_same_data_with_test", None, held, 0, "unchanged med_norm_train, med_norm_test",
             "the same held-out conversion again (same seed)", setup=[held]),
        case("out_rerun_other_seed", None, [*held, "--seed", "7"], 1, "already exists with different data",
             "another --seed holds out other records under the same name", setup=[held]),
        case("out_rerun_limit", None, first, 1, "already exists with different data",
             "a run without --limit after one with it", setup=[[*first, "--limit", "2"]]),
        case("out_rerun_more_records", None, ["convert", "med_norm", more, "--out-dir", OUT], 1,
             "already exists with different data", "the raw file grew since the first conversion", setup=[first]),
        case("out_rerun_two_inputs", None, ["convert", "med_norm", chip, other, "--out-dir", OUT], 1,
             "already exists with different data", "a second input added to the same name", setup=[first]),
        case("out_rerun_csv_other_data", utf8(table(TOYHOM_HEADER, TOYHOM[:2])),
             ["convert", "med_dialog", F + "out_toyhom_two.csv", "--out-dir", OUT], 1,
             "already exists with different data", "med_dialog: another department CSV under the same name",
             setup=[["convert", "med_dialog", csv, "--out-dir", OUT]]),
        case("out_rerun_other_format", None, [*first, "--format", "sharegpt"], 1,
             "entry med_norm_train already exists with different content", "another --format under the same name",
             setup=[first]),
        case("out_rerun_other_converter", None, ["convert", "general_mix", F + "out_alpaca.json", "--name", "med_norm",
                                                 "--out-dir", OUT], 1, "already exists with different content",
             "another converter's dataset under the same name", setup=[first]),
        case("out_rerun_with_test_after_without", None, held, 1, "already exists with different data",
             "a held-out split now: the training split changes", setup=[["convert", "med_norm", more, "--out-dir", OUT]]),
        case("out_hand_made_file", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                          "{tmp}/rejects.jsonl"], 1, "no entry of",
             "a hand-made med_norm_train.jsonl that no entry names", generate="out_hand_made_train"),
        case("out_hand_made_file_force", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                                "{tmp}/rejects.jsonl", "--force"], 0, "med_norm_train.jsonl: replaced (1 → 3 records; --force)",
             "--force replaces the hand-made file, and says so", generate="out_hand_made_train"),
        # an earlier test split left beside a training split that now holds its items
        case("out_rerun_without_test", None, ["convert", "med_norm", more, "--out-dir", OUT], 1,
             "the test split of an earlier conversion named med_norm",
             "a rerun without --test-size leaves the old test split beside a train split holding its items",
             setup=[held]),
        # (in a folder of their own: the driver counts any .jsonl gone from {out} as lost)
        case("out_rerun_without_test_force", info({}), ["convert", "med_norm", more, "--out-dir", "{lf}/ours", "--force"],
             0, "removed the earlier test split", "with --force the stale test split and its entry are removed",
             setup=[[*held[:-1], "{lf}/ours"]], target_info="out_info_plain.json", file="out_info_plain.json"),
        case("out_rerun_without_test_files", None, ["convert", "med_norm", more, "--out-dir", "{lf}/ours", "--force"], 0,
             "removed med_norm_test", "the entry goes with the file", setup=[[*held[:-1], "{lf}/ours"]],
             target_info="out_info_plain.json"),
        case("out_rerun_without_given_test", None, ["convert", "med_norm", chip, "--out-dir", OUT], 1,
             "this run holds out none", "a rerun without --test FILE after one with it",
             setup=[["convert", "med_norm", chip, "--test", F + "out_chip_other.json", "--out-dir", OUT]]),
        case("out_rerun_without_test_huatuo", None, ["convert", "huatuo", F + "out_llama_data.json", "--out-dir", OUT],
             1, "the test split of an earlier conversion named huatuo", "huatuo: a rerun without --test-size",
             setup=[["convert", "huatuo", F + "out_llama_data.json", "--test-size", "1", "--out-dir", OUT]]),
        case("out_stale_test_file_only", None, ["convert", "med_norm", chip, "--out-dir", OUT, "--rejects",
                                                "{tmp}/rejects.jsonl"], 1, "the test split of an earlier conversion",
             "a med_norm_test.jsonl without an entry beside the name", generate="out_hand_made_test"),
        case("out_stale_test_entry_only", info({"med_norm_test": med_norm_entry("test")}), first, 1,
             "entry med_norm_test of", "a med_norm_test entry whose file is gone",
             target_info="out_info_test_entry.json", file="out_info_test_entry.json"),
        # --circular: an earlier circular test split left beside a test split it no longer matches
        case("out_rerun_without_circular", None, anquan, 1,
             "the circular test split of an earlier conversion named safety_exam",
             "a rerun without --circular leaves the old safety_exam_test_circular beside the test split",
             setup=[[*anquan, "--circular", "all"]]),
        case("out_rerun_other_circular", None, [*anquan, "--circular", "2"], 1,
             "entry safety_exam_test_circular already exists with different content",
             "another --circular K under the same name changes the circular split", setup=[[*anquan, "--circular", "all"]]),
        case("out_circular_without_test", None, ["convert", "safety_exam", F + "out_anquan.xlsx", "--circular", "2",
                                                 "--out-dir", OUT], 1, "this run has no test split",
             "--circular rotates the test questions: without a test split there are none"),
    ]
    return cases


def dataset_info_files() -> list[dict]:
    """What a dataset_info.json can hold that JSON or a file name cannot: for convert, register and eval."""
    chip = F + "out_chip.json"
    bad = {
        "nan": (b'{"alpaca_zh_demo": {"file_name": "a.json", "num_samples": NaN}}', "NaN at line 1 is not JSON"),
        "infinity": (b'{\n"alpaca_zh_demo": {"file_name": "a.json",\n "num_samples": -Infinity}}',
                     "Infinity at line 3 is not JSON"),
        "big_int": (b'{"alpaca_zh_demo": {"file_name": "a.json", "num_samples": ' + b"9" * 5000 + b"}}",
                    "an integer too long to read at line 1"),
        "deep": (b'{"alpaca_zh_demo": {"file_name": "a.json", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
                 "nested deeper than can be read"),
        # json keeps the last of a repeated key: rewriting the file would drop the first one unseen
        "duplicate_key": (b'{"alpaca_zh_demo": {"file_name": "a.json"},\n"alpaca_zh_demo": {"file_name": "b.json"}}',
                          'the key "alpaca_zh_demo" is given twice in one object (lines 1, 2)'),
    }
    cases = []
    for label, (data, expect) in bad.items():
        cases.append(case(f"out_convert_target_{label}", data, ["convert", "med_norm", chip, "--out-dir", OUT], 1, expect,
                          f"the output folder's dataset_info.json holds {label}: left untouched",
                          file=f"out_info_{label}.json", target_info=f"out_info_{label}.json"))
        cases.append(case(f"out_register_target_{label}", data, ["register", "--llamafactory-dir", "{lf}", "--from",
                                                                 F + "out_ours.json"], 1, expect,
                          f"the install's dataset_info.json holds {label}: left untouched",
                          file=f"out_info_{label}.json", target_info=f"out_info_{label}.json"))
        cases.append(case(f"out_register_from_{label}", data, ["register", "--llamafactory-dir", "{lf}", "--from",
                                                               F + f"out_info_{label}.json"], 1, expect,
                          f"register --from a dataset_info.json holding {label}", file=f"out_info_{label}.json"))
        cases.append(case(f"out_eval_dataset_info_{label}", data,
                          ["eval", F + "out_predictions.jsonl", "--dataset", "alpaca_zh_demo", "--dataset-info",
                           F + f"out_info_{label}.json", "--out", "{tmp}/report.json"], 1, expect,
                          f"eval --dataset with a dataset_info.json holding {label}", file=f"out_info_{label}.json"))
    for label, value in (("null", None), ("number", 7), ("list", ["a.jsonl"])):
        data = info({"odd": {"file_name": value, "formatting": "alpaca"}})
        cases.append(case(f"out_convert_target_file_name_{label}", data, ["convert", "med_norm", chip, "--out-dir", OUT],
                          0, "added med_norm_train", f"an entry of the output folder whose file_name is {label}",
                          file=f"out_info_file_name_{label}.json", target_info=f"out_info_file_name_{label}.json"))
        cases.append(case(f"out_register_target_file_name_{label}", data,
                          ["register", "--llamafactory-dir", "{lf}", "--from", F + "out_ours.json"], 0,
                          "added out_ok_train", f"an entry of the install whose file_name is {label}",
                          file=f"out_info_file_name_{label}.json", target_info=f"out_info_file_name_{label}.json"))
        cases.append(case(f"out_register_from_file_name_{label}", json.dumps({"odd": {"file_name": value}}).encode(),
                          ["register", "--llamafactory-dir", "{lf}", "--from", F + f"out_from_file_name_{label}.json"],
                          1, "not a file name", f"register --from an entry whose file_name is {label}"))
        test_entry = info({"odd_test": {"file_name": value, "formatting": "alpaca"}})
        cases.append(case(f"out_eval_dataset_file_name_{label}", test_entry,
                          ["eval", F + "out_predictions.jsonl", "--dataset", "odd", "--dataset-info",
                           F + f"out_info_test_file_name_{label}.json", "--out", "{tmp}/report.json"], 1,
                          "has no file_name", f"eval --dataset whose test entry's file_name is {label}"))
    for label, (change, expect) in {"columns_list": ({"columns": ["instruction"]}, "columns is a JSON list"),
                                    "lfd_list": ({"lfd": ["exact_match"]}, "lfd is a JSON list, not an object")}.items():
        test_entry = info({"odd_test": {"file_name": "out_predictions.jsonl", "formatting": "alpaca", **change}})
        cases.append(case(f"out_eval_dataset_{label}", test_entry,
                          ["eval", F + "out_predictions.jsonl", "--dataset", "odd", "--dataset-info",
                           F + f"out_info_test_{label}.json", "--out", "{tmp}/report.json"], 1,
                          f"entry 'odd_test': {expect}", f"eval --dataset whose test entry's {label.replace('_', ' ')}",
                          file=f"out_info_test_{label}.json"))
    cases.append(case("out_register_conflict_hint", info({"out_ok_train": {"file_name": "mine.jsonl"}}),
                      ["register", "--llamafactory-dir", "{lf}", "--from", F + "out_ours.json"], 1,
                      "pass --force to replace it (the previous file is kept as a timestamped backup)",
                      "register's conflict message names --force, not --name (register has none)",
                      file="out_info_conflict.json", target_info="out_info_conflict.json"))
    cases.append(case("out_register_from_is_target", None, ["register", "--llamafactory-dir", "{lf}", "--from",
                                                            "{out}/dataset_info.json"], 1,
                      "--from is the install's own dataset_info.json", "register --from the file it would write"))
    cases.append(case("out_register_from_is_target_dotdot", None,
                      ["register", "--llamafactory-dir", "{lf}", "--from", "{lf}/data/../data/dataset_info.json"], 1,
                      "--from is the install's own dataset_info.json", "the same, by another path"))
    return cases


def eval_outputs() -> list[dict]:
    preds, base, tuned = F + "out_predictions.jsonl", F + "out_base.jsonl", F + "out_tuned.jsonl"
    ev = ["eval", preds, "-e", "exact_match"]
    cmp = ["compare", base, tuned, "-e", "exact_match"]
    surrogate = b'{"prompt": "\\u75c5\\ud800", "predict": "\\udfff\\u819d", "label": "\\udfff\\u819d"}\n'
    return [
        case("out_eval_out_is_predictions", jsonl([PREDICTION, {**PREDICTION, "predict": "膝关节炎"}]),
             [*ev, "--out", preds], 1, "that is the predictions file", "--out over the predictions",
             file="out_predictions.jsonl"),
        case("out_eval_per_item_is_predictions", None, [*ev, "--per-item", preds], 1, "that is the predictions file",
             "--per-item over the predictions"),
        case("out_eval_html_is_predictions_dotdot", None, [*ev, "--html", "{dir}/files/../files/out_predictions.jsonl"],
             1, "that is the predictions file", "--html over the predictions by another path"),
        case("out_eval_out_is_per_item", None, [*ev, "--out", "{tmp}/r.json", "--per-item", "{tmp}/r.json"], 1,
             "both --out and --per-item", "--out and --per-item the same file: one report would replace the other"),
        case("out_eval_out_is_html", None, [*ev, "--out", "{tmp}/r.json", "--html", "{tmp}/./r.json"], 1,
             "both --out and --html", "--out and --html the same file"),
        case("out_eval_out_is_dataset_info", None, ["eval", preds, "--dataset", "med_norm", "--dataset-info",
                                                    "{out}/dataset_info.json", "--out", "{out}/dataset_info.json"], 1,
             "that is the --dataset-info file", "--out over the dataset_info.json it reads",
             setup=[["convert", "med_norm", F + "out_chip.json", "--test", F + "out_chip_dev.json", "--out-dir", OUT]]),
        case("out_eval_out_is_test_split", None, ["eval", preds, "--dataset", "med_norm", "--dataset-info",
                                                  "{out}/dataset_info.json", "--out", "{out}/med_norm_test.jsonl"], 1,
             "that is the --dataset med_norm test split file", "--out over the test split the labels are checked on",
             setup=[["convert", "med_norm", F + "out_chip.json", "--test", F + "out_chip_dev.json", "--out-dir", OUT]]),
        case("out_eval_out_folder", None, [*ev, "--out", "{tmp}"], 1, "--out is a folder", "--out names a folder"),
        case("out_eval_per_item_folder", None, [*ev, "--per-item", "{dir}/files"], 1, "--per-item is a folder",
             "--per-item names a folder"),
        case("out_eval_html_under_file", None, [*ev, "--html", preds + "/page.html"], 1, "is a file, not a folder",
             "--html inside a path whose folder is a file"),
        case("out_eval_out_name_too_long", None, [*ev, "--out", "{tmp}/" + "报" * 90 + ".json"], 1,
             "too long for this file system", "an --out name too long for the file system"),
        case("out_eval_surrogates_per_item", surrogate + jsonl([PREDICTION]),
             ["eval", F + "out_predictions_surrogate.jsonl", "-e", "exact_match", "--per-item", "{tmp}/items.jsonl",
              "--out", "{tmp}/r.json"], 0, "exact_match",
             "predictions with lone surrogates (a cut emoji) written to --per-item as JSON escapes"),
        case("out_eval_surrogates_html", None, ["eval", F + "out_predictions_surrogate.jsonl", "-e", "exact_match",
                                                "--html", "{tmp}/r.html"], 0, "exact_match",
             "lone surrogates on the --html page"),
        case("out_compare_out_is_base", jsonl([PREDICTION, {**PREDICTION, "predict": "x"}]), [*cmp, "--out", base], 1,
             "that is the predictions file", "compare --out over the base predictions", file="out_base.jsonl",
             extra_files={"out_tuned.jsonl": jsonl([PREDICTION, PREDICTION])}),
        case("out_compare_html_is_tuned", None, [*cmp, "--html", tuned], 1, "that is the predictions file",
             "compare --html over the tuned predictions"),
        case("out_compare_out_is_html", None, [*cmp, "--out", "{tmp}/c.json", "--html", "{tmp}/c.json"], 1,
             "both --out and --html", "compare --out and --html the same file"),
        case("out_compare_out_folder", None, [*cmp, "--out", "{tmp}"], 1, "--out is a folder", "compare --out a folder"),
        case("out_compare_same_file_dotdot", None, ["compare", base, "{dir}/files/../files/out_base.jsonl", "-e",
                                                    "exact_match"], 1, "BASE and TUNED are the same file",
             "BASE and TUNED the same file by two paths"),
        case("out_compare_surrogates", None, ["compare", F + "out_predictions_surrogate.jsonl",
                                              F + "out_predictions_surrogate.jsonl.copy", "-e", "exact_match", "--out",
                                              "{tmp}/c.json", "--html", "{tmp}/c.html"], 0, "items paired by prompt",
             "lone surrogates in both runs, into the JSON report and the page",
             extra_files={"out_predictions_surrogate.jsonl.copy": surrogate + jsonl([PREDICTION])}),
    ]


def symlinked() -> list[dict]:
    return [
        case("out_symlinked_dataset_info", None, ["convert", "med_norm", F + "out_chip.json", "--out-dir", "{lf}/ours",
                                                  "--rejects", "{tmp}/rejects.jsonl"], 0, "added med_norm_train",
             "the --out-dir's dataset_info.json is a symlink into the install: the entries go through the link "
             "(a replaced link would leave the install's file without them)", generate="out_symlinked_info"),
    ]


# ------------------------------------------------------------------ files made at test time


def _out_of(target: Path) -> Path:
    """The case's output folder ({out}), from a path in its scratch folder ({tmp})."""
    return target.parent.parent / "LLaMA-Factory" / "data"


def out_train_folder(target: Path) -> None:
    (_out_of(target) / "med_norm_train.jsonl").mkdir()


def out_hand_made_train(target: Path) -> None:
    (_out_of(target) / "med_norm_train.jsonl").write_text('{"instruction": "我自己写的", "output": "别覆盖"}\n',
                                                           encoding="utf-8")


def out_hand_made_test(target: Path) -> None:
    (_out_of(target) / "med_norm_test.jsonl").write_text('{"instruction": "原始词:房颤", "output": "心房颤动"}\n',
                                                          encoding="utf-8")


def out_symlinked_info(target: Path) -> None:
    """{lf}/ours/dataset_info.json -> ../data/dataset_info.json (the install's own file)."""
    ours = _out_of(target).parent / "ours"
    ours.mkdir()
    os.symlink("../data/dataset_info.json", ours / "dataset_info.json")


GENERATORS = {"out_train_folder": out_train_folder, "out_hand_made_train": out_hand_made_train,
              "out_hand_made_test": out_hand_made_test, "out_symlinked_info": out_symlinked_info}


def shared_files() -> list[dict]:
    """Files several cases read, written by the first case naming them."""
    return [
        case("out_chip_dev_test_split", array(CHIP[:1]), ["convert", "med_norm", F + "out_chip.json", "--test",
                                                          F + "out_chip_dev.json", "--out-dir", OUT], 0,
             "test: read 1, wrote 1", "the shared files: a CHIP-CDN train and dev file", file="out_chip_dev.json",
             extra_files={"out_chip_more.json": array(CHIP_MORE), "out_chip_other.json": array(CHIP_OTHER),
                          "out_chip_gap.json": array([*CHIP, {"text": "空白", "normalized_result": ""}]),
                          "out_ours.json": json.dumps({"out_ok_train": {"file_name": "out_chip.json"}}).encode(),
                          "out_predictions.jsonl": jsonl([PREDICTION, {**PREDICTION, "predict": "膝关节炎"}]),
                          "out_base.jsonl": jsonl([PREDICTION, {**PREDICTION, "predict": "x"}]),
                          "out_tuned.jsonl": jsonl([PREDICTION, PREDICTION]),
                          **EXTRA}),
    ]


def _with_info_files(cases: list[dict]) -> list[dict]:
    """The eval cases name out_info_test_file_name_<x>.json: their data goes to that file, not the test entry's."""
    for entry in cases:
        if entry["id"].startswith("out_eval_dataset_file_name_"):
            name = entry["args"][5][len(F):]
            entry.setdefault("extra_files", {})[name] = entry.pop("data")
            entry["data"] = None
    return cases


def _checked(cases: list[dict]) -> list[dict]:
    """Each file named in the args is written by exactly one case (the others pass None)."""
    seen: set[str] = set()
    for entry in cases:
        if entry["data"] is None:
            continue
        name = entry.get("file") or next((a[len(F):] for a in entry["args"] if a.startswith(F)), None)
        if name in seen:
            entry["data"] = None  # the same bytes as the first case's (build.py refuses different ones)
        seen.add(name)
    return cases


CASES = _checked([*shared_files(), *rejects_is_input(), *other_inputs(), *output_overlaps(), *unwritable_paths(),
                  *second_runs(), *_with_info_files(dataset_info_files()), *eval_outputs(), *symlinked()])
