"""The input side of issue 14: what the shared readers (plugin/io/) make of numbers Python cannot hold,
nesting deeper than the recursion limit, NaN/Infinity, unreadable files and folders, damaged zip and
xlsx parts, CSV quoting and field sizes, duplicated header columns, encodings (Big5, UTF-32, a stray
byte late in a file) and misleading messages, across every converter and `lfd eval`/`compare`/
`stats`/`webui`, in the real formats. File names start with ``in_``.

What the readers decide: in the raw inputs a converter reads leniently, a record holding NaN/Infinity
("NaN/Infinity is not JSON text"), a number a float reads as inf (1e400) or an integer too long for
Python ("a number of N digits") is a counted skip (the record is read to its end, so the rest of the file is read on), and so is a JSONL
line nested too deeply; a JSON array or object nested too deeply is an error naming the record (its
end cannot be found). The strict readers (predictions, `lfd stats`, `--answers`) make each of them a
one-line error naming the line.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import sys
import zipfile
from pathlib import Path

from corpus import (  # the shapes, writers and helpers every cases module uses
    ALPACA,
    CHIP,
    CMEXAM,
    CMEXAM_HEADER,
    DISC,
    DISC_EVAL,
    DISC_EVAL_HEADER,
    HUATUO,
    IMCS,
    JEC,
    KB,
    LAWZHIDAO,
    LAWZHIDAO_HEADER,
    MCMLE,
    MED_CHATGLM,
    MODELSCOPE,
    PHARMA,
    PHARMA_HEADER,
    PREDICTION,
    SEED_HEADER,
    SEED_ROWS,
    STAMP,
    TOYHOM,
    TOYHOM_HEADER,
    F,
    array,
    case,
    convert,
    evaluate,
    jsonl,
    table,
    xlsx,
    zipped,
)

ODD = "@ODD@"  # a string value of a record, replaced by the raw text of a value JSON/Python cannot hold
BIG = "9" * 5000  # beyond Python's 4300-digit limit of int("...")
DEEP = "[" * 20000 + "]" * 20000  # far deeper than the recursion limit
DEEPISH = "[" * 1000 + "]" * 1000  # within orjson's 1024 levels, beyond the json module's
DIGITS = "a number of 5000 digits"
NOT_JSON = "NaN/Infinity is not JSON text"
TOO_DEEP = "nested too deeply to read"
PAIR = [{"id": "pair_2", "input": "酒后驾驶如何处罚？", "output": "处暂扣驾驶证并罚款。"}]
CMB_ITEM = {"exam_type": "医师考试", "exam_class": "执业医师", "exam_subject": "口腔执业医师",
            "question": "此男孩可能患", "answer": "D", "question_type": "单项选择题",
            "option": {"A": "小叶型肺炎", "B": "浸润性肺结核", "C": "继发性肺结核", "D": "原发性肺结核", "E": "支气管肺癌"}}
CMB_QUESTIONS = [{**{k: v for k, v in CMB_ITEM.items() if k != "answer"}, "question": f"第{i}题此男孩可能患", "id": i}
                 for i in (1, 2)]
CMB_ANSWERS = [{"id": 1, "exam_type": "医师考试", "exam_class": "规培结业", "exam_subject": "临床病理科",
                "question_type": "单项选择题", "answer": "D"},
               {"id": 2, "exam_type": "医师考试", "exam_class": "规培结业", "exam_subject": "口腔科",
                "question_type": "单项选择题", "answer": "A"}]
YIDU_HEADER = ["原始词", "标准词"]
YIDU = [["左膝退变伴游离体", "膝骨关节病"], ["右侧输尿管结石", "输尿管结石"], ["糖尿病肾病", "2型糖尿病性肾病"]]
CMEDQA_QUESTIONS = [["question_id", "content"], ["1", "高血压患者能吃党参吗？"], ["2", "头痛怎么办？"]]
CMEDQA_ANSWERS = [["ans_id", "question_id", "content"], ["11", "1", "可以口服党参。"], ["12", "2", "注意休息。"],
                  ["13", "1", "党参有降压作用。"]]
PREDICTIONS = [PREDICTION, {**PREDICTION, "prompt": "<|im_start|>user\n原始词:右侧输尿管结石<|im_end|>",
                            "predict": "输尿管结石", "label": "输尿管结石"}]


def with_value(data: bytes, value: str, count: int = 1) -> bytes:
    """The bytes with the first ``count`` "@ODD@" strings (quotes included) replaced by ``value``'s raw text."""
    assert data.count(json.dumps(ODD).encode()) >= count
    return data.replace(json.dumps(ODD).encode(), value.encode(), count)


def odd_chip(value: str, indent=None) -> bytes:
    records = [CHIP[0], {**CHIP[1], "normalized_result": ODD}, CHIP[2]]
    return with_value(array(records, indent), value)


def odd_lines(records: list[dict], key: str, value: str, at: int = 1) -> bytes:
    records = [dict(r) for r in records]
    records[at][key] = ODD
    return with_value(jsonl(records), value)


def imcs(value: str) -> bytes:
    """An IMCS-V2 object of two dialogues; the second's report text is ``value``."""
    second = json.loads(json.dumps(IMCS["10626355"]))
    second["self_report"] = ODD
    return with_value(json.dumps({**IMCS, "10626356": second}, ensure_ascii=False, indent=4).encode(), value)


def csv_bytes(header, rows, encoding="utf-8") -> bytes:
    return table(header, rows).encode(encoding)


def unclosed(header, rows, at: int, column: int, encoding="utf-8") -> bytes:
    """A CSV whose row ``at`` (0-based, after the header) opens a quote in ``column`` that never closes."""
    lines = table(header, rows).splitlines(keepends=True)
    cells = lines[at + 1].rstrip("\n").split(",")
    cells[column] = '"' + cells[column]
    lines[at + 1] = ",".join(cells) + "\n"
    return "".join(lines).encode(encoding)


def damaged_zip(members: dict[str, bytes], member: str, how: str) -> bytes:
    """A zip of ``members`` whose ``member`` is damaged: ``corrupt`` deflate data, a ``crc`` that does not
    match (stored), ``encrypted`` (the flag bit set, as a password-protected member has it), or cut
    short (``truncated``) inside the archive."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            kind = zipfile.ZIP_STORED if name == member and how == "crc" else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, STAMP), data, kind)
    raw = bytearray(out.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        info = archive.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)  # the member's data
    if how == "corrupt":
        raw[start + 2: start + 40] = b"\xff" * 38
    elif how == "crc":
        raw[start + 10] ^= 0x01
    elif how == "encrypted":
        for offset in (info.header_offset + 6, central(raw, member) + 8):  # general purpose bit 0
            raw[offset] |= 0x01
    return bytes(raw)


def central(raw: bytearray, member: str) -> int:
    """Offset of ``member``'s central directory record."""
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        size = int.from_bytes(raw[at + 28: at + 30], "little")
        if raw[at + 46: at + 46 + size].decode() == member:
            return at
        at = raw.find(b"PK\x01\x02", at + 4)
    raise ValueError(member)


def xlsx_with(sheets: dict, part: str, how: str) -> bytes:
    """A workbook whose ``part`` (e.g. xl/worksheets/sheet1.xml) is ``cut`` in the middle of its XML,
    ``corrupt`` (deflate data), or ``missing``."""
    book = xlsx(sheets)
    if how == "corrupt":
        return damaged_zip({i.filename: zipfile.ZipFile(io.BytesIO(book)).read(i) for i in
                            zipfile.ZipFile(io.BytesIO(book)).infolist()}, part, "corrupt")
    source = zipfile.ZipFile(io.BytesIO(book))
    members, found = {}, False
    for info in source.infolist():
        data = source.read(info)
        if info.filename == part:
            found = True
            if how == "missing":
                continue
            data = data[: len(data) * 2 // 3]
        members[info.filename] = data
    assert found, part
    return zipped(members)


def late_byte(header, rows_of, encoding_error: bytes = b"\xff") -> bytes:
    """A UTF-8 CSV whose first 64 KiB (what detection looks at) are clean, then a stray byte."""
    rows = [rows_of(i) for i in range(1000)]
    head = table(header, rows).encode("utf-8")
    assert len(head) > 1 << 16
    last = table(header, [rows_of(1000)]).split("\n", 1)[1].encode("utf-8")
    return head + last.replace("。".encode(), encoding_error, 1)


def late_byte_jsonl(records_of) -> bytes:
    head = jsonl([records_of(i) for i in range(600)])
    assert len(head) > 1 << 16
    return head + jsonl([records_of(600)]).replace("。".encode(), b"\xff", 1)


def md(header, rows) -> bytes:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell.replace("\n", "<br>") for cell in row) + " |" for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def tiny_model() -> list[list[str]]:
    """`lfd stats` needs a tokenizer with a chat template: the project's tiny model, built first."""
    return [["tiny-model", "{tmp}/tiny"]]


def convert_two(converter: str, first: str, second: str) -> list[str]:
    """`lfd convert` of two inputs (cMedQA2's question.csv and answer.csv)."""
    return ["convert", converter, first, second, "--out-dir", "{out}"]


def stats(file: str) -> list[str]:
    return ["stats", file, "--tokenizer", "{tmp}/tiny"]


def compare(base: str, tuned: str) -> list[str]:
    return ["compare", base, tuned, "-e", "exact_match", "--out", "{out}/compare.json"]


# ---------------------------------------------------------------- files made at test time


def _skip(reason: str):
    """Ends a case as skipped, with the driver's own SkipCase (the module it runs as)."""
    for name in ("bad_inputs_driver", "__main__", "driver"):
        skip = getattr(sys.modules.get(name), "SkipCase", None)
        if skip is not None:
            raise skip(reason)
    raise RuntimeError(reason)


def _locked(target: Path) -> None:
    """A mode-000 CHIP-CDN file in a folder that can be passed through but not listed (so the driver's
    snapshot of the scratch folder does not try to read it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(array(CHIP))
    target.chmod(0)
    target.parent.chmod(0o300)


def mode000_as_user(target: Path) -> None:
    if os.geteuid() == 0:
        _skip("root reads a mode-000 file (see in_mode000_as_root); run as another user to see the refusal")
    _locked(target)


def mode000_as_root(target: Path) -> None:
    if os.geteuid() != 0:
        _skip("only root reads a mode-000 file (see in_mode000_as_user)")
    _locked(target)


def answers_mode000(target: Path) -> None:
    if os.geteuid() == 0:
        _skip("root reads a mode-000 file; run as another user to see the refusal")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(array(CMB_ANSWERS))
    target.chmod(0)
    target.parent.chmod(0o300)


def big_field_csv(target: Path) -> None:
    """A Toyhom CSV whose second answer is a 1.25 MB quoted field (a pasted book), far beyond csv's
    default 128 KiB field limit."""
    rows = [TOYHOM[0], [*TOYHOM[1][:3], "注意休息，\n必要时就医。" * 100000], TOYHOM[2]]
    target.write_bytes(table(TOYHOM_HEADER, rows).encode("gb18030"))


def big_field_cmedqa(target: Path) -> None:
    """cMedQA2's question.csv (``target``) and an answer.csv beside it with a 450 KB answer."""
    rows = [CMEDQA_ANSWERS[1], [*CMEDQA_ANSWERS[2][:2], "注意休息。" * 90000], CMEDQA_ANSWERS[3]]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(table(CMEDQA_QUESTIONS[0], CMEDQA_QUESTIONS[1:]).encode("utf-8"))
    (target.parent / "answer.csv").write_bytes(table(CMEDQA_ANSWERS[0], rows).encode("utf-8"))


def recipes_not_utf8(target: Path) -> None:
    """A recipes folder whose train recipe was saved in GB18030 (a Windows editor's default)."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "qwen_lora_sft.yaml").write_bytes(
        "### 模型\nmodel_name_or_path: models/Qwen2.5-0.5B-Instruct\nstage: sft\ndo_train: true\n"
        "finetuning_type: lora\ndataset: med_norm_train  # 医学术语标准化\ntemplate: qwen\n".encode("gb18030"))


def folder_input(target: Path) -> None:
    """A folder named like a data file (an unzipped download)."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "train.json").write_bytes(array(CHIP))


GENERATORS = {"in_mode000_as_user": mode000_as_user, "in_mode000_as_root": mode000_as_root,
              "in_answers_mode000": answers_mode000, "in_big_field_csv": big_field_csv,
              "in_big_field_cmedqa": big_field_cmedqa, "in_recipes_not_utf8": recipes_not_utf8,
              "in_folder_input": folder_input}

GEN = "{tmp}/"

CASES = [
    # ------------------------------------------------ integers of thousands of digits: a counted skip
    case("in_med_norm_bigint_array", odd_chip(BIG), convert("med_norm", F + "in_chip_bigint.json"), 0,
         f"skipped 1: {DIGITS}", "CHIP-CDN array with a 5000-digit number for a normalized_result"),
    case("in_med_norm_bigint_fast_path", odd_chip("-" + BIG, indent=4), convert("med_norm", F + "in_chip_bigint_indent.json"),
         0, "skipped 1: a number of 5000 digits", "the same in an indent=4 array (the orjson fast path)"),
    case("in_med_norm_bigint_test_file", array([{"text": "高血压3级", "normalized_result": "高血压"}]),
         convert("med_norm", F + "in_chip_one.json", "--test",
                                                                   F + "in_chip_bigint.json"),
         0, "test: read 3, wrote 2", "the 5000-digit number in the --test file: counted in the test split"),
    case("in_med_dialog_bigint_modelscope", with_value(array([MODELSCOPE[0], {**MODELSCOPE[1], "history": ODD}, MODELSCOPE[0]]),
                                                       BIG),
         convert("med_dialog", F + "in_modelscope_bigint.json"), 0, f"skipped 1: {DIGITS}",
         "ModelScope array (indent 4) with a 5000-digit history"),
    case("in_huatuo_bigint_jsonl", odd_lines(HUATUO + HUATUO[:1], "input", BIG),
         convert("huatuo", F + "in_llama_data_bigint.json"), 0, f"skipped 1: {DIGITS}",
         "Huatuo llama_data.json (JSONL) with a 5000-digit input"),
    case("in_med_chatglm_bigint", odd_lines(MED_CHATGLM + MED_CHATGLM[:1], "target", BIG),
         convert("med_chatglm", F + "in_train_bigint.txt"), 0, f"skipped 1: {DIGITS}",
         "Med-ChatGLM train.txt with a 5000-digit target"),
    case("in_med_mrg_bigint_imcs", imcs(BIG), convert("med_mrg", F + "in_imcs_bigint.json"), 0, f"skipped 1: {DIGITS}",
         "IMCS-V2 object whose second dialogue's self_report is a 5000-digit number"),
    case("in_med_mrg_bigint_zip", zipped({"IMCS-V2-MRG/IMCS-V2_train.json": imcs(BIG)}),
         convert("med_mrg", F + "in_IMCS-V2-MRG_bigint.zip", "--member", "IMCS-V2_train.json"), 0, f"skipped 1: {DIGITS}",
         "the same inside the released zip"),
    case("in_med_mcq_bigint_mcmle", odd_lines([MCMLE, MCMLE, {**MCMLE, "question": "第二题"}], "answer_idx", BIG),
         convert("med_mcq", F + "in_mcmle_bigint.jsonl"), 0, f"skipped 1: {DIGITS}", "MedQA-MCMLE line with a 5000-digit answer_idx"),
    case("in_med_mcq_bigint_answers", with_value(array([CMB_ANSWERS[0], {**CMB_ANSWERS[1], "id": ODD}]), BIG),
         convert("med_mcq", F + "in_cmb_train.json", "--test", F + "in_cmb_test.json", "--answers", F + "in_cmb_answers_bigint.json"),
         1, f"record 1 (line 10): {DIGITS}", "a CMB answer file whose second id has 5000 digits: the answer key is broken",
         file="in_cmb_answers_bigint.json", extra_files={"in_cmb_train.json": array([CMB_ITEM]), "in_cmb_test.json": array(CMB_QUESTIONS)}),
    case("in_general_mix_bigint", odd_lines(ALPACA + ALPACA[:1], "output", BIG, at=0),
         convert("general_mix", F + "in_mix_bigint.jsonl"), 0, f"skipped 1: {DIGITS}", "alpaca JSONL with a 5000-digit output"),
    case("in_disc_law_bigint", odd_lines(DISC + PAIR, "id", BIG, at=2), convert("disc_law", F + "in_DISC-Law-SFT-Pair_bigint.jsonl"),
         0, f"skipped 1: {DIGITS}", "DISC-Law-SFT line with a 5000-digit id"),
    case("in_law_mcq_bigint_jec", odd_lines([JEC, {**JEC, "id": "3_8133"}, {**JEC, "id": "3_8134"}], "type", BIG),
         convert("law_mcq", F + "in_jec_qa_bigint.json"), 0, f"skipped 1: {DIGITS}", "JEC-QA line with a 5000-digit type"),
    case("in_eval_bigint", odd_lines(PREDICTIONS, "label", BIG), evaluate(F + "in_predictions_bigint.jsonl", "-e", "exact_match"),
         1, f"line 2: not JSON ({DIGITS}", "a predictions line with a 5000-digit label"),
    case("in_compare_bigint", odd_lines(PREDICTIONS, "predict", BIG, at=0),
         compare(F + "in_predictions_bigint_base.jsonl", F + "in_predictions_good.jsonl"), 1,
         f"line 1: not JSON ({DIGITS}", "compare: the base run's first prediction is a 5000-digit number",
         extra_files={"in_predictions_good.jsonl": jsonl(PREDICTIONS)}),
    case("in_stats_bigint", odd_lines(ALPACA[:1] * 2, "output", BIG), stats(F + "in_stats_bigint.jsonl"), 1,
         f"line 2: not JSON ({DIGITS}", "lfd stats on a dataset line with a 5000-digit output", setup=tiny_model()),
    # ------------------------------------------------ nesting deeper than the recursion limit
    case("in_med_dialog_deep_fast_path", with_value(array([MODELSCOPE[0], {**MODELSCOPE[1], "history": ODD}]), DEEPISH),
         convert("med_dialog", F + "in_modelscope_deep.json"), 1, f"record 1 (line 8): {TOO_DEEP}",
         "1000 levels: orjson reads them, the json module cannot: the same error both ways"),
    case("in_med_norm_deep_object", with_value(json.dumps({"a": CHIP[0], "b": ODD}).encode(), DEEP),
         convert("med_norm", F + "in_chip_deep_object.json"), 1, f"record 'b' (line 1): {TOO_DEEP}",
         "a JSON object of records, the second nested 20000 deep"),
    case("in_huatuo_deep_jsonl", odd_lines(HUATUO + HUATUO[:1], "output", DEEP),
         convert("huatuo", F + "in_llama_data_deep.jsonl"), 0, "skipped 1: invalid JSON line (nested too deeply)",
         "a JSONL line nested 20000 deep: a counted skip, the other lines read"),
    case("in_disc_law_deep_fast_jsonl", odd_lines(DISC + PAIR, "output", DEEPISH, at=0),
         convert("disc_law", F + "in_DISC-Law-SFT-Pair_deep.jsonl"), 0, "skipped 1: invalid JSON line (nested too deeply)",
         "1000 levels in a JSONL line: orjson reads it, the exact reading cannot: a skip both ways"),
    case("in_med_mrg_deep_imcs", imcs(DEEP), convert("med_mrg", F + "in_imcs_deep.json"), 1,
         f"record '10626356' (line 46): {TOO_DEEP}", "an IMCS dialogue nested 20000 deep"),
    case("in_med_mrg_deep_zip", zipped({"IMCS-V2_train.json": imcs(DEEP)}), convert("med_mrg", F + "in_IMCS-V2-MRG_deep.zip"), 1,
         f"IMCS-V2_train.json: record '10626356' (line 46): {TOO_DEEP}", "the same in a zip member"),
    case("in_med_mcq_deep_answers", with_value(array([CMB_ANSWERS[0], {**CMB_ANSWERS[1], "answer": ODD}]), DEEP),
         convert("med_mcq", F + "in_cmb_train.json", "--test", F + "in_cmb_test.json", "--answers", F + "in_cmb_answers_deep.json"),
         1, f"record 1 (line 10): {TOO_DEEP}", "a CMB answer nested 20000 deep",
         file="in_cmb_answers_deep.json", extra_files={"in_cmb_train.json": array([CMB_ITEM]), "in_cmb_test.json": array(CMB_QUESTIONS)}),
    case("in_eval_deep", odd_lines(PREDICTIONS, "predict", DEEP), evaluate(F + "in_predictions_deep.jsonl", "-e", "exact_match"),
         1, "line 2: not JSON (nested too deeply)", "a prediction nested 20000 deep"),
    case("in_stats_deep", odd_lines(ALPACA[:1] * 2, "history", DEEPISH, at=0), stats(F + "in_stats_deep.jsonl"), 1,
         "line 1: not JSON (nested too deeply)", "lfd stats on a line nested 1000 deep", setup=tiny_model()),
    case("in_tiny_model_corpus_deep", b"[" * 100_000 + b"]" * 100_000,
         ["tiny-model", "{out}/model", "--corpus", F + "in_tiny_corpus_deep.json"], 1,
         "line 1: a number too long or nesting too deep to read", "a tiny-model corpus nested 100,000 deep"),
    # ------------------------------------------------ NaN / Infinity: counted skips
    case("in_med_norm_nan", odd_chip("NaN"), convert("med_norm", F + "in_chip_nan.json"), 0, f"skipped 1: {NOT_JSON}",
         "a CHIP-CDN normalized_result NaN (json.dump of float('nan')) would become the standard term 'nan'"),
    case("in_med_norm_infinity_fast_path", odd_chip("Infinity", indent=4), convert("med_norm", F + "in_chip_infinity.json"),
         0, f"skipped 1: {NOT_JSON}", "Infinity in an indent=4 array: orjson refuses it, the exact scanner skips it"),
    case("in_med_norm_nan_rejects", odd_chip("-Infinity"),
         convert("med_norm", F + "in_chip_neg_infinity.json", "--rejects", "{out}/rejects.jsonl"), 0,
         f"skipped 1: {NOT_JSON}", "-Infinity, with --rejects"),
    case("in_med_dialog_nan_modelscope", with_value(array([MODELSCOPE[0], {**MODELSCOPE[1], "output": ODD}, MODELSCOPE[0]]),
                                                    "NaN"),
         convert("med_dialog", F + "in_modelscope_nan.json"), 0, f"skipped 1: {NOT_JSON}", "a ModelScope output NaN"),
    case("in_huatuo_infinity_jsonl", odd_lines(HUATUO + HUATUO[:1], "output", "Infinity"),
         convert("huatuo", F + "in_llama_data_infinity.json"), 0, f"skipped 1: {NOT_JSON}", "a Huatuo output Infinity"),
    case("in_med_chatglm_nan", odd_lines(MED_CHATGLM + MED_CHATGLM[:1], "target", "NaN", at=0),
         convert("med_chatglm", F + "in_train_nan.txt"), 0, f"skipped 1: {NOT_JSON}", "a Med-ChatGLM target NaN"),
    case("in_disc_law_neg_infinity", odd_lines(DISC + PAIR, "output", "-Infinity", at=2),
         convert("disc_law", F + "in_DISC-Law-SFT-Pair_infinity.jsonl"), 0, f"skipped 1: {NOT_JSON}", "a DISC-Law output -Infinity"),
    case("in_law_mcq_nan_jec", odd_lines([JEC, {**JEC, "id": "3_8133"}, {**JEC, "id": "3_8134"}], "answer", "NaN", at=2),
         convert("law_mcq", F + "in_jec_qa_nan.json"), 0, f"skipped 1: {NOT_JSON}", "a JEC-QA answer NaN"),
    case("in_med_mrg_nan_imcs", imcs("NaN"), convert("med_mrg", F + "in_imcs_nan.json"), 0, f"skipped 1: {NOT_JSON}",
         "an IMCS self_report NaN"),
    case("in_med_mcq_infinity_mcmle", odd_lines([MCMLE, {**MCMLE, "question": "第二题"}, {**MCMLE, "question": "第三题"}],
                                                "answer", "Infinity"),
         convert("med_mcq", F + "in_mcmle_infinity.jsonl"), 0, f"skipped 1: {NOT_JSON}",
         "a MedQA answer Infinity would become the answer 'inf'"),
    case("in_med_mcq_nan_answers", with_value(array([CMB_ANSWERS[0], {**CMB_ANSWERS[1], "answer": ODD}]), "NaN"),
         convert("med_mcq", F + "in_cmb_train.json", "--test", F + "in_cmb_test.json", "--answers", F + "in_cmb_answers_nan.json"),
         1, f"record 1 (line 10): {NOT_JSON}", "a CMB answer NaN: the answer key is broken, not a question to skip",
         file="in_cmb_answers_nan.json", extra_files={"in_cmb_train.json": array([CMB_ITEM]), "in_cmb_test.json": array(CMB_QUESTIONS)}),
    case("in_general_mix_nan", with_value(array([ALPACA[0], {**ALPACA[0], "instruction": "北京在哪？", "output": ODD}]), "NaN"),
         convert("general_mix", F + "in_mix_nan.json"), 0, f"skipped 1: {NOT_JSON}", "an alpaca output NaN"),
    case("in_law_qa_nan_not_csv_concern", csv_bytes(LAWZHIDAO_HEADER, [*LAWZHIDAO, ["NaN", "", "NaN", "1"]]),
         convert("law_qa", F + "in_lawzhidao_nan_text.csv"), 0, "train: read 3",
         "the text 'NaN' in a CSV cell is text, not a number: read as any other row"),
    case("in_eval_nan", odd_lines(PREDICTIONS, "label", "NaN"), evaluate(F + "in_predictions_nan.jsonl", "-e", "exact_match"),
         1, f"line 2: not JSON ({NOT_JSON})", "a predictions label NaN"),
    case("in_compare_infinity", odd_lines(PREDICTIONS, "label", "Infinity"),
         compare(F + "in_predictions_good.jsonl", F + "in_predictions_infinity.jsonl"), 1,
         f"line 2: not JSON ({NOT_JSON})", "compare: the tuned run's label Infinity",
         file="in_predictions_infinity.jsonl", extra_files={"in_predictions_good.jsonl": jsonl(PREDICTIONS)}),
    case("in_stats_nan", odd_lines(ALPACA[:1] * 2, "output", "NaN"), stats(F + "in_stats_nan.jsonl"), 1,
         f"line 2: not JSON ({NOT_JSON})", "lfd stats on an output NaN", setup=tiny_model()),
    case("in_med_norm_float_overflow", odd_chip("1e400", indent=4), convert("med_norm", F + "in_chip_1e400.json"), 0,
         "skipped 1: a number too big for a float (it would read as inf)",
         "1e400 is JSON text, but a float reads it as inf: the same 'inf' term, a counted skip"),
    case("in_huatuo_float_overflow_jsonl", odd_lines(HUATUO + HUATUO[:1], "output", "-2e999"),
         convert("huatuo", F + "in_llama_data_2e999.json"), 0, "skipped 1: a number too big for a float",
         "-2e999 in a Huatuo JSONL line (the fast path: orjson refuses it)"),
    # ------------------------------------------------ unreadable files, folders
    case("in_mode000_as_user", None, convert("med_norm", GEN + "locked/in_chip.json"), 1, "permission denied",
         "a mode-000 CHIP-CDN file (skipped as root, who can read it)", generate="in_mode000_as_user"),
    case("in_mode000_as_root", None, convert("med_norm", GEN + "locked/in_chip.json"), 0, "train: read 3, wrote 3",
         "the same as root, who reads mode-000 files: converted (skipped as another user)", generate="in_mode000_as_root"),
    case("in_answers_mode000", None,
         convert("med_mcq", F + "in_cmb_train.json", "--test", F + "in_cmb_test.json", "--answers", GEN + "locked/answers.json"),
         1, "permission denied", "a mode-000 --answers file (skipped as root)", generate="in_answers_mode000",
         extra_files={"in_cmb_train.json": array([CMB_ITEM]), "in_cmb_test.json": array(CMB_QUESTIONS)}),
    case("in_folder_input", None, convert("med_norm", GEN + "train.json"), 1, "a folder, not a file; pass a file inside it",
         "a folder named train.json (an unzipped download) given as the input", generate="in_folder_input"),
    case("in_folder_as_test", array(CHIP), convert("med_norm", F + "in_chip.json", "--test", "{tmp}"), 1,
         "a folder, not a file", "a folder as --test"),
    case("in_folder_as_answers", None,
         convert("med_mcq", F + "in_cmb_train.json", "--test", F + "in_cmb_test.json", "--answers", GEN + "train.json"),
         1, "a folder, not a file", "a folder as --answers", generate="in_folder_input",
         extra_files={"in_cmb_train.json": array([CMB_ITEM]), "in_cmb_test.json": array(CMB_QUESTIONS)}),
    case("in_folder_csv_input", None, convert("med_dialog", GEN + "train.json"), 1, "a folder, not a file",
         "med_dialog given a folder", generate="in_folder_input"),
    case("in_stats_folder", None, ["stats", GEN + "train.json", "--tokenizer", "{tmp}/tiny"], 1, "a folder",
         "lfd stats on a folder", generate="in_folder_input", setup=tiny_model()),
    # ------------------------------------------------ damaged zip members and xlsx parts
    case("in_med_mrg_zip_corrupt_member", damaged_zip({"IMCS-V2_train.json": imcs('"好"')}, "IMCS-V2_train.json", "corrupt"),
         convert("med_mrg", F + "in_IMCS-V2-MRG_corrupt.zip"), 1, "IMCS-V2_train.json: the member is damaged in the archive",
         "deflate data of the member overwritten"),
    case("in_med_mrg_zip_bad_crc", damaged_zip({"IMCS-V2_train.json": imcs('"好"')}, "IMCS-V2_train.json", "crc"),
         convert("med_mrg", F + "in_IMCS-V2-MRG_bad_crc.zip"), 1, "the member is damaged in the archive (Bad CRC-32",
         "a stored member with one flipped bit: its CRC does not match"),
    case("in_med_mrg_zip_encrypted", damaged_zip({"IMCS-V2_train.json": imcs('"好"')}, "IMCS-V2_train.json", "encrypted"),
         convert("med_mrg", F + "in_IMCS-V2-MRG_encrypted.zip"), 1, "the member is encrypted (password-protected)",
         "a password-protected member"),
    case("in_med_mrg_zip_encrypted_named", damaged_zip({"IMCS-V2-MRG/IMCS-V2_dev.json": imcs('"好"'),
                                                        "IMCS-V2-MRG/IMCS-V2_train.json": imcs('"好"')},
                                                       "IMCS-V2-MRG/IMCS-V2_train.json", "encrypted"),
         convert("med_mrg", F + "in_IMCS-V2-MRG_encrypted_named.zip", "--member", "IMCS-V2_train.json"), 1,
         "IMCS-V2-MRG/IMCS-V2_train.json: the member is encrypted", "the --member asked for is encrypted"),
    case("in_med_mrg_jsonl_zip_corrupt", damaged_zip({"train.jsonl": jsonl([IMCS["10626355"]] * 50)}, "train.jsonl", "corrupt"),
         convert("med_mrg", F + "in_imcs_jsonl_corrupt.zip", "--member", "train.jsonl"), 1, "train.jsonl: the member is damaged in the archive",
         "a corrupt JSONL member"),
    case("in_med_norm_xlsx_error_values", xlsx({"Sheet1": [YIDU_HEADER + ["备注"], *YIDU, ["房颤", "#N/A", ""],
                                                        ["心衰", "心力衰竭", "#REF!"]]}),
         convert("med_norm", F + "in_yidu_error_values.xlsx"), 0,
         "skipped 1: an Excel error value (#N/A, #REF!, ...) in a required column: fix the formula or paste values",
         "a VLOOKUP that failed (#N/A) would become a standard term; one in an unread column keeps its row"),
    case("in_med_norm_csv_error_values", table(YIDU_HEADER, [*YIDU, ["房颤", "#N/A"]]).encode("utf-8"),
         convert("med_norm", F + "in_yidu_error_values.csv"), 0,
         "skipped 1: an Excel error value (#N/A, #REF!, ...) in a required column",
         "a CSV saved from Excel keeps a failed formula's #N/A as text"),
    case("in_med_norm_xlsx_cut_sheet", xlsx_with({"Sheet1": [YIDU_HEADER, *YIDU * 30]}, "xl/worksheets/sheet1.xml", "cut"),
         convert("med_norm", F + "in_yidu_cut_sheet.xlsx"), 1, "in_yidu_cut_sheet.xlsx: sheet Sheet1: a damaged part of the workbook",
         "Yidu-N7K workbook whose sheet XML is cut off"),
    case("in_med_norm_xlsx_corrupt_sheet", xlsx_with({"Sheet1": [YIDU_HEADER, *YIDU]}, "xl/worksheets/sheet1.xml", "corrupt"),
         convert("med_norm", F + "in_yidu_corrupt_sheet.xlsx"), 1, "xlsx",
         "Yidu-N7K workbook whose sheet's deflate data is overwritten"),
    case("in_safety_exam_xlsx_cut_sheet", xlsx_with({"题库": [SEED_HEADER, *SEED_ROWS * 20]}, "xl/worksheets/sheet1.xml", "cut"),
         convert("safety_exam", F + "in_anquan_cut_sheet.xlsx"), 1, "sheet 题库: a damaged part of the workbook",
         "an 安规 bank whose sheet XML is cut off"),
    case("in_med_mcq_xlsx_missing_sheet_part", xlsx_with({"Sheet1": [CMEXAM_HEADER, *CMEXAM]}, "xl/worksheets/sheet1.xml",
                                                         "missing"),
         convert("med_mcq", F + "in_cmexam_missing_part.xlsx"), 1, "(no sheets)",
         "a CMExam workbook without its sheet part"),
    case("in_med_mcq_xlsx_cut_workbook_part", xlsx_with({"Sheet1": [CMEXAM_HEADER, *CMEXAM]}, "xl/workbook.xml", "cut"),
         convert("med_mcq", F + "in_cmexam_cut_workbook.xlsx"), 1, "in_cmexam_cut_workbook.xlsx: not a readable .xlsx workbook",
         "a CMExam workbook whose workbook.xml is cut off"),
    # ------------------------------------------------ CSV quoting and field sizes
    case("in_med_dialog_unclosed_quote", unclosed(TOYHOM_HEADER, [TOYHOM[0], TOYHOM[2], TOYHOM[0]], 1, 2, "gb18030"),
         convert("med_dialog", F + "in_toyhom_unclosed.csv"), 1,
         "line 3: a quoted field opens on this line and never closes",
         "a Toyhom row opens a quote that runs to the end: once 'read 4, wrote 3, skipped 1'"),
    case("in_med_dialog_unclosed_quote_last", unclosed(TOYHOM_HEADER, [TOYHOM[0], TOYHOM[2]], 1, 3, "gb18030"),
         convert("med_dialog", F + "in_toyhom_unclosed_last.csv"), 1, "line 3: a quoted field opens on this line",
         "the last row's answer opens a quote and the file ends"),
    case("in_med_norm_unclosed_quote", unclosed(YIDU_HEADER, YIDU, 0, 1), convert("med_norm", F + "in_yidu_unclosed.csv"), 1,
         "line 2: a quoted field opens on this line and never closes", "Yidu-N7K CSV export with a stray quote"),
    case("in_law_qa_unclosed_quote", unclosed(LAWZHIDAO_HEADER, [LAWZHIDAO[0], ["离婚财产怎么分", "", "协商或起诉。", "1"],
                                                                 ["工资拖欠怎么办", "", "可以申请劳动仲裁。", "1"]], 1, 2),
         convert("law_qa", F + "in_lawzhidao_unclosed.csv"), 1, "line 3: a quoted field opens on this line",
         "a lawzhidao reply opens a quote"),
    case("in_cmedqa2_unclosed_quote", unclosed(CMEDQA_ANSWERS[0], CMEDQA_ANSWERS[1:], 1, 2),
         convert_two("cmedqa2", F + "in_cmedqa_question.csv", F + "in_cmedqa_answer_unclosed.csv"), 1,
         "in_cmedqa_answer_unclosed.csv: line 3: a quoted field opens", "a cMedQA2 answer opens a quote",
         file="in_cmedqa_answer_unclosed.csv", extra_files={"in_cmedqa_question.csv": csv_bytes(CMEDQA_QUESTIONS[0], CMEDQA_QUESTIONS[1:])}),
    case("in_pharma_rag_unclosed_quote", unclosed(PHARMA_HEADER, PHARMA, 0, 1),
         convert("pharma_rag", F + "in_pharma_unclosed.csv", "--kb", F + "in_pharma_kb.txt"), 1,
         "line 2: a quoted field opens on this line", "a pharmacy QA answer opens a quote",
         extra_files={"in_pharma_kb.txt": KB.encode("utf-8")}),
    case("in_law_mcq_unclosed_quote", unclosed(DISC_EVAL_HEADER, DISC_EVAL, 0, 2),
         convert("law_mcq", F + "in_disc_eval_unclosed.csv"), 1, "line 2: a quoted field opens on this line",
         "a DISC-Law-Eval option opens a quote"),
    case("in_med_mcq_unclosed_quote_header", b'"Question,Options,Answer,Explanation\n' + csv_bytes(CMEXAM_HEADER, CMEXAM).split(b"\n", 1)[1],
         convert("med_mcq", F + "in_cmexam_unclosed_header.csv"), 1,
         "line 1: a quoted field in the header row runs on to line 2",
         "the header opens a quote that closes a line later (once a header name with a newline: two lines on stderr)"),
    case("in_med_dialog_big_field", None, convert("med_dialog", GEN + "in_toyhom_big_field.csv"), 0,
         "train: read 3, wrote 3", "a 1.25 MB answer (once 'check quoting'): read whole", generate="in_big_field_csv"),
    case("in_cmedqa2_big_field", None, convert_two("cmedqa2", GEN + "cmedqa/question.csv", GEN + "cmedqa/answer.csv"), 0,
         "train: read 3, wrote 3", "a 450 KB cMedQA2 answer", generate="in_big_field_cmedqa"),
    case("in_med_dialog_multiline_ragged", table(TOYHOM_HEADER, [TOYHOM[0], TOYHOM[1][:3], TOYHOM[2]]).encode("gb18030"),
         convert("med_dialog", F + "in_toyhom_multiline_ragged.csv", "--rejects", "{out}/rejects.jsonl"), 0,
         "skipped 1: ragged row (3 fields, header has 4)", "a ragged row whose ask spans two lines (reported at its first line)"),
    # ------------------------------------------------ duplicated column names
    case("in_med_dialog_duplicate_column", csv_bytes([*TOYHOM_HEADER, "answer"], [row + ["另一个回答"] for row in TOYHOM], "gb18030"),
         convert("med_dialog", F + "in_toyhom_duplicate.csv"), 1, "header row: columns 4 and 5 are both named 'answer'",
         "a Toyhom CSV with two answer columns (the last one used to win)"),
    case("in_med_norm_duplicate_column_xlsx", xlsx({"Sheet1": [["原始词", "标准词", "标准词"], *[r + ["别的"] for r in YIDU]]}),
         convert("med_norm", F + "in_yidu_duplicate.xlsx"), 1, "sheet Sheet1 row 1: columns 2 and 3 are both named '标准词'",
         "a Yidu-N7K workbook with two 标准词 columns"),
    case("in_safety_exam_duplicate_column_xlsx", xlsx({"题库": [[*SEED_HEADER, "选项"], *[r + ["A. 是"] for r in SEED_ROWS]]}),
         convert("safety_exam", F + "in_anquan_duplicate.xlsx"), 1, "columns 5 and 7 are both named '选项'",
         "an 安规 bank with a second 选项 column"),
    case("in_safety_exam_duplicate_column_md", md([*SEED_HEADER[:2], "题型", *SEED_HEADER[2:]], [r[:2] + [r[1]] + r[2:] for r in SEED_ROWS]),
         convert("safety_exam", F + "in_anquan_duplicate.md"), 1, "line 1: columns 2 and 3 are both named '题型'",
         "a Markdown bank with 题型 twice"),
    case("in_med_mcq_duplicate_column", csv_bytes([*CMEXAM_HEADER, "Answer"], [row + ["A"] for row in CMEXAM], "utf-8-sig"),
         convert("med_mcq", F + "in_cmexam_duplicate.csv"), 1, "columns 3 and 5 are both named 'Answer'",
         "a CMExam CSV with a second Answer column"),
    case("in_law_mcq_duplicate_column", csv_bytes(DISC_EVAL_HEADER[:5] + ["A"] + DISC_EVAL_HEADER[5:], [r[:5] + ["重复"] + r[5:] for r in DISC_EVAL]),
         convert("law_mcq", F + "in_disc_eval_duplicate.csv"), 1, "columns 3 and 6 are both named 'A'",
         "a DISC-Law-Eval CSV with option A twice"),
    case("in_cmedqa2_duplicate_column", csv_bytes(["ans_id", "question_id", "content", "content"], [r + ["x"] for r in CMEDQA_ANSWERS[1:]]),
         convert_two("cmedqa2", F + "in_cmedqa_question.csv", F + "in_cmedqa_answer_duplicate.csv"), 1,
         "columns 3 and 4 are both named 'content'", "a cMedQA2 answer file with content twice",
         file="in_cmedqa_answer_duplicate.csv", extra_files={"in_cmedqa_question.csv": csv_bytes(CMEDQA_QUESTIONS[0], CMEDQA_QUESTIONS[1:])}),
    case("in_pharma_rag_duplicate_column", csv_bytes(["问题", "答案", "问题"], [r + ["别的"] for r in PHARMA]),
         convert("pharma_rag", F + "in_pharma_duplicate.csv", "--kb", F + "in_pharma_kb.txt"), 1,
         "columns 1 and 3 are both named '问题'", "a pharmacy QA CSV with 问题 twice",
         extra_files={"in_pharma_kb.txt": KB.encode("utf-8")}),
    case("in_law_qa_empty_extra_columns", csv_bytes([*LAWZHIDAO_HEADER, "", ""], [r + ["", ""] for r in LAWZHIDAO]),
         convert("law_qa", F + "in_lawzhidao_blank_columns.csv"), 0, "train: read 2",
         "two unnamed trailing columns (an Excel export): blank names are not duplicates"),
    # ------------------------------------------------ encodings
    case("in_med_dialog_big5", csv_bytes(TOYHOM_HEADER, [["心血管科", "高血壓患者能吃黨參嗎？", "我有高血壓，這兩天女婿來的時候給我拿了些黨參泡水喝，您好高血壓可以吃黨參嗎？",
                                                           "高血壓病人可以口服黨參的。黨參有降血脂，降血壓的作用。"],
                                                          ["內科", "頭痛怎麼辦", "最近經常頭痛，晚上睡不好。", "注意休息，必要時就醫。"]], "big5"),
         convert("med_dialog", F + "in_toyhom_big5.csv"), 1, "looks like Big5 (traditional Chinese)",
         "a Big5 CSV (a Taiwanese mirror) once read as GB18030 mojibake with exit 0"),
    case("in_med_dialog_big5_passed", csv_bytes(TOYHOM_HEADER, [["心血管科", "高血壓患者能吃黨參嗎？", "我有高血壓，這兩天女婿來的時候給我拿了些黨參泡水喝，您好高血壓可以吃黨參嗎？",
                                                                  "高血壓病人可以口服黨參的。黨參有降血脂，降血壓的作用。"],
                                                                 ["內科", "頭痛怎麼辦", "最近經常頭痛，晚上睡不好。", "注意休息，必要時就醫。"]], "big5"),
         convert("med_dialog", F + "in_toyhom_big5.csv", "--encoding", "big5"), 0, "train: read 2, wrote 2",
         "the same with --encoding big5, as the error says"),
    case("in_law_qa_big5", csv_bytes(LAWZHIDAO_HEADER, [["被打傷了怎麼辦？", "", "你好，可以報警處理，要求對方賠償醫療費。", "1"],
                                                        ["欠款不還怎麼辦", "朋友借我萬元，到期不還，怎麼辦？", "可以向法院起訴。", "1"]], "big5"),
         convert("law_qa", F + "in_lawzhidao_big5.csv"), 1, "pass --encoding big5", "a Big5 lawzhidao CSV"),
    case("in_law_qa_traditional_gb18030", csv_bytes(LAWZHIDAO_HEADER, [["被打傷了怎麼辦？", "", "你好，可以報警處理，要求對方賠償醫療費。", "1"],
                                                                       ["欠款不還怎麼辦", "朋友借我萬元，到期不還，怎麼辦？", "可以向法院起訴。", "1"]],
                                                    "gb18030"),
         convert("law_qa", F + "in_lawzhidao_traditional_gb18030.csv"), 0, "train: read 2",
         "traditional characters in GB18030 are GB18030, not Big5"),
    case("in_med_norm_utf32_bom", codecs.BOM_UTF32_LE + array(CHIP).decode().encode("utf-32-le"),
         convert("med_norm", F + "in_chip_utf32.json"), 0, "train: read 3, wrote 3",
         "a UTF-32 file with its BOM (once 'truncated JSON': FF FE also starts UTF-16's BOM)"),
    case("in_med_norm_utf32be_bom", codecs.BOM_UTF32_BE + array(CHIP).decode().encode("utf-32-be"),
         convert("med_norm", F + "in_chip_utf32be.json"), 0, "train: read 3, wrote 3", "UTF-32 big-endian with its BOM"),
    case("in_huatuo_utf32_jsonl", jsonl(HUATUO + HUATUO[:1]).decode().encode("utf-32"),
         convert("huatuo", F + "in_llama_data_utf32.json"), 0, "train: read 3", "Huatuo JSONL in UTF-32"),
    case("in_law_qa_stray_byte_after_64k", late_byte(LAWZHIDAO_HEADER, lambda i: [f"欠款不还怎么办{i}", "朋友借钱不还。", "可以向法院起诉。", "1"]),
         convert("law_qa", F + "in_lawzhidao_late_byte.csv"), 1,
         "the text before it is UTF-8: the file is damaged or mixes encodings there",
         "UTF-8 for 64 KiB then one stray byte: once 'pass --encoding gb18030', which then said 'pass --encoding utf-8'"),
    case("in_law_qa_stray_byte_as_gb18030", late_byte(LAWZHIDAO_HEADER, lambda i: [f"欠款不还怎么办{i}", "朋友借钱不还。", "可以向法院起诉。", "1"]),
         convert("law_qa", F + "in_lawzhidao_late_byte.csv", "--encoding", "gb18030"), 1,
         "cannot decode as gb18030", "the same file with the once-suggested --encoding gb18030: no loop back to utf-8"),
    case("in_huatuo_stray_byte_after_64k", late_byte_jsonl(lambda i: {"instruction": f"肝癌的早期症状有哪些{i}？", "input": "",
                                                                      "output": "早期多无明显症状。"}),
         convert("huatuo", F + "in_llama_data_late_byte.json"), 1, "line 601); the text before it is UTF-8",
         "the same in a Huatuo JSONL file (the fast path): the byte's line named"),
    case("in_med_chatglm_gb18030_as_utf8", jsonl(MED_CHATGLM).decode().encode("gb18030"),
         convert("med_chatglm", F + "in_train_gb18030.txt", "--encoding", "utf-8"), 1,
         "pass --encoding gb18030 (it reads the whole file)", "a GB18030 file read as UTF-8: the suggestion is checked"),
    case("in_pharma_rag_latin1_as_utf8", "问题,答案\ncafé,x\n".replace("问题", "Q").replace("答案", "A").encode("latin-1"),
         convert("pharma_rag", F + "in_pharma_latin1.csv", "--kb", F + "in_pharma_kb.txt"), 1, "pharma_latin1.csv",
         "a Latin-1 CSV with the wrong header: one line either way", extra_files={"in_pharma_kb.txt": KB.encode("utf-8")}),
    # ------------------------------------------------ misleading messages
    case("in_huatuo_broken_first_line", '{"instruction": "肝癌的早期症状有哪些？", "input": "", "output": "早期"\n'.encode() + jsonl(HUATUO),
         convert("huatuo", F + "in_llama_data_broken_first.json"), 0, "skipped 1: invalid JSON line",
         "llama_data.json (JSONL named .json) with a broken line 1: once 'is this the right file?'"),
    case("in_med_chatglm_broken_first_line", '{"context": "问题：胃\n'.encode() + jsonl(MED_CHATGLM),
         convert("med_chatglm", F + "in_train_broken_first.txt", "--rejects", "{out}/rejects.jsonl"), 0,
         "skipped 1: invalid JSON line", "Med-ChatGLM train.txt cut in its first line"),
    case("in_disc_law_broken_first_line_json", '{"id": "pair_0", "input": "醉驾\n'.encode() + jsonl(DISC),
         convert("disc_law", F + "in_DISC-Law-SFT-Pair_broken_first.json"), 0, "skipped 1: invalid JSON line",
         "a DISC-Law JSONL saved as .json with a broken first line"),
    case("in_med_mrg_xlsx", xlsx({"Sheet1": [["主诉", "诊断"], ["咳嗽", "感冒"]]}), convert("med_mrg", F + "in_imcs.xlsx"), 1,
         "a .xlsx table, but this converter reads JSON", "med_mrg given a workbook: once 'no sheet has a  header'"),
    case("in_huatuo_csv", csv_bytes(["instruction", "output"], [["a", "b"]]), convert("huatuo", F + "in_huatuo.csv"), 1,
         "a .csv table, but this converter reads JSON", "huatuo given a CSV"),
    case("in_general_mix_markdown", md(["instruction", "output"], [["a", "b"]]), convert("general_mix", F + "in_mix.md"), 1,
         "a .md table, but this converter reads JSON", "general_mix given a Markdown table"),
    # ------------------------------------------------ lfd stats on records of the wrong types, lfd webui's recipes
    case("in_stats_null_output", jsonl([ALPACA[0], {**ALPACA[0], "output": None}]), stats(F + "in_stats_null.jsonl"), 1,
         "line 2: the response is null, not text", "lfd stats on an alpaca record whose output is null",
         setup=tiny_model()),
    case("in_stats_numeric_instruction", jsonl([{**ALPACA[0], "instruction": 42}]), stats(F + "in_stats_number.jsonl"), 1,
         "line 1: instruction is a JSON int, not text", "lfd stats on a numeric instruction", setup=tiny_model()),
    case("in_stats_null_turn", jsonl([ALPACA[1], {"conversations": [{"from": "human", "value": None}, {"from": "gpt", "value": "好"}]}]),
         stats(F + "in_stats_null_turn.jsonl"), 1, "line 2: the user turn 1 is null, not text",
         "lfd stats on a sharegpt turn whose value is null", setup=tiny_model()),
    case("in_stats_numeric_history", jsonl([{**ALPACA[0], "history": [["早", 7]]}]), stats(F + "in_stats_history.jsonl"), 1,
         "line 1: the assistant turn 2 is a JSON int, not text", "lfd stats on a numeric answer in history", setup=tiny_model()),
    # ------------------------------------------------ a JSON list, object or true/false where text belongs: a counted skip
    # naming it, never its Python form ("['…']", "{'…': …}", "True") as training text
    case("in_med_dialog_list_field", array([MODELSCOPE[0], {**MODELSCOPE[1], "input": ["我有高血压", "能吃党参吗？"]}]),
         convert("med_dialog", F + "in_modelscope_list.json"), 0, "skipped 1: a field is a list, not text",
         "a ModelScope record whose input is a JSON list"),
    case("in_huatuo_object_output", jsonl([HUATUO[0], {**HUATUO[1], "output": {"text": "会"}}]),
         convert("huatuo", F + "in_llama_data_object.json"), 0, "skipped 1: output is a dict, not text",
         "a Huatuo line whose output is a JSON object"),
    case("in_med_chatglm_bool_target", jsonl([MED_CHATGLM[0], {**MED_CHATGLM[1], "target": True}]),
         convert("med_chatglm", F + "in_train_bool.txt"), 0, "skipped 1: target is a bool, not text",
         "a Med-ChatGLM line whose target is true"),
    case("in_med_mcq_list_question_type", array([{**CMB_ITEM, "question_type": ["单项选择题"]}]),
         convert("med_mcq", F + "in_cmb_list_type.json"), 0, "train: read 1, wrote 1",
         "a CMB item whose question_type is a JSON list: an unknown type (the question still converts), not a crash"),
    case("in_webui_recipe_not_utf8", None, ["webui", "--recipes", GEN + "recipes", "--data-dir", "{out}", "--work-dir",
                                            "{tmp}/board", "--no-start"], 1,
         "qwen_lora_sft.yaml: the recipe is not UTF-8 text", "a recipe saved in GB18030", generate="in_recipes_not_utf8"),
]
