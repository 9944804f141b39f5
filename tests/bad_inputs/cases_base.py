"""The first cases of the corpus: every converter and `lfd eval` on broken files of their real formats."""

from __future__ import annotations

import codecs
import json
import os
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


def late_gb18030_csv() -> bytes:
    """UTF-8 for the first 64 KB (what encoding detection looks at), then a GB18030 row."""
    rows = [["内科", f"头痛第{i}问", "最近经常头痛，怎么办？" * 3, "注意休息，必要时就医。" * 3] for i in range(320)]
    head = table(TOYHOM_HEADER, rows).encode("utf-8")
    assert len(head) > 1 << 16
    return head + table(TOYHOM_HEADER, [["外科", "腰痛", "腰痛怎么办", "多休息。"]]).split("\n", 1)[1].encode("gb18030")


# files made at test time


def huge_modelscope(path: Path) -> None:
    """A ModelScope array whose second record's answer is 4 MB of text: it spans several read buffers."""
    records = [MODELSCOPE[0], {**MODELSCOPE[1], "output": "高血压病人可以口服党参的。" * 300_000}]
    path.write_bytes(array(records))


def huge_first_jsonl_line(path: Path) -> None:
    """Huatuo's llama_data.json (JSONL despite its name) whose first record is 3 MB on one line."""
    path.write_bytes(jsonl([{**HUATUO[0], "output": "早期多无明显症状。" * 300_000}, HUATUO[1]]))


def huge_eval_line(path: Path) -> None:
    """generated_predictions.jsonl whose one prediction is 2 MB of repetition (a model that never stopped)."""
    path.write_bytes(jsonl([{**PREDICTION, "predict": "膝骨关节病" * 400_000}, PREDICTION]))


def big_cut_modelscope(path: Path) -> None:
    """A 40 MB ModelScope array (big enough to be converted in parallel parts) cut off inside its last
    record, after 119,999 good ones: the error must still name the record by its place in the file."""
    records = [{**MODELSCOPE[i % 2], "instruction": f"{MODELSCOPE[i % 2]['instruction']}{i}"} for i in range(120_000)]
    data = array(records)
    path.write_bytes(data[: data.rindex(b"null") + 4])


def fifo(path: Path) -> None:
    """A named pipe where a file is expected (opening it to read would wait for a writer forever)."""
    os.mkfifo(path)


GENERATORS = {"big_cut_modelscope": big_cut_modelscope, "huge_modelscope": huge_modelscope, "huge_first_jsonl_line": huge_first_jsonl_line,
              "huge_eval_line": huge_eval_line, "fifo": fifo}



CASES = [
    # -- med_norm: CHIP-CDN JSON, Yidu-N7K xlsx
    case("med_norm_truncated_json", array(CHIP)[:-60], convert("med_norm", F + "chip_truncated.json"), 1,
         "record 2 (line 10): invalid JSON", "JSON array cut off inside its last record"),
    case("med_norm_missing_bracket", array(CHIP)[:-1], convert("med_norm", F + "chip_no_closing.json"), 1,
         "expected ',' or ']', found the end of the file", "array that never closes"),
    case("med_norm_bom", codecs.BOM_UTF8 + array(CHIP), convert("med_norm", F + "chip_bom.json"), 0,
         "train: read 3, wrote 3", "UTF-8 BOM before the array is not data"),
    case("med_norm_utf16_bom", array(CHIP).decode().encode("utf-16"), convert("med_norm", F + "chip_utf16.json"), 0,
         "train: read 3, wrote 3", "UTF-16 with a BOM (Windows Notepad's 'Unicode')"),
    case("med_norm_utf16_no_bom", array(CHIP).decode().encode("utf-16-le"),
         convert("med_norm", F + "chip_utf16le_nobom.json"), 0, "train: read 3, wrote 3",
         "UTF-16LE without a BOM: the NUL bytes give it away"),
    case("med_norm_utf16_no_bom_named_utf16", array(CHIP).decode().encode("utf-16-le"),
         convert("med_norm", F + "chip_utf16le_nobom.json", "--encoding", "utf-16"), 1,
         "--encoding utf-16 needs a byte-order mark at the start of the file, and it has none; pass --encoding "
         "utf-16-le (or utf-16-be)", "--encoding utf-16 on a file without a BOM (Python's decoder refuses it)"),
    case("med_norm_utf8_named_utf16", array(CHIP), convert("med_norm", F + "chip_utf8_named_utf16.json", "--encoding",
                                                           "utf-16"), 1,
         "has none; drop --encoding: the file reads as utf-8", "--encoding utf-16 on a UTF-8 file"),
    case("med_norm_encoding_not_text", array(CHIP), convert("med_norm", F + "chip_rot13.json", "--encoding", "rot13"), 1,
         "'rot13' is not a text encoding; use e.g. --encoding utf-8", "a codec that is not a text encoding"),
    case("med_norm_encoding_undefined", array(CHIP), convert("med_norm", F + "chip_rot13.json", "--encoding", "undefined"),
         1, "'undefined' is not a text encoding", "Python's 'undefined' codec fails every decode"),
    case("med_norm_utf8_as_cp1252", array(CHIP), convert("med_norm", F + "chip_rot13.json", "--encoding", "cp1252"), 1,
         "cannot decode as cp1252 after the start (byte", "a charmap codec's failure names the codec asked for"),
    case("med_norm_latin1_as_utf8", "[{\"text\": \"caf\u00e9\", \"normalized_result\": \"x\"}]".encode("latin-1"),
         convert("med_norm", F + "chip_latin1.json", "--encoding", "utf-8"), 1,
         "cannot decode as utf-8 after the start (byte 14, line 1); no common encoding", "Latin-1 bytes read as UTF-8"),
    case("med_norm_empty_file", b"", convert("med_norm", F + "empty.json"), 1,
         "expected a JSON array or object, found the end of the file", "zero-byte file"),
    case("med_norm_whitespace_only", b"  \r\n\n", convert("med_norm", F + "blank.json"), 1,
         "expected a JSON array or object, found the end of the file", "only blank lines"),
    case("med_norm_empty_array", b"[]\n", convert("med_norm", F + "empty_array.json"), 1,
         "no usable train records in", "an empty array leaves nothing to write"),
    case("med_norm_extra_data", array(CHIP) + b"\n[]", convert("med_norm", F + "chip_extra.json"), 1,
         "extra data after the JSON array", "two arrays in one file"),
    case("med_norm_deep_nesting", b"[" + b"[" * 5000 + b"]" * 5000 + b"]",
         convert("med_norm", F + "deep.json"), 1, "nested too deeply", "5000 nested arrays (a hostile file)"),
    case("med_norm_lone_surrogate", ('[{"text": "头痛\\ud83d", "normalized_result": "头痛"}, '
                                     '{"text": "笑\\ud83d\\ude00", "normalized_result": "笑"}, '
                                     '{"text": "\\u5de6\\u819d", "normalized_result": "\\u819d"}]').encode("utf-8"),
         convert("med_norm", F + "chip_lone_surrogate.json", "--rejects", "{out}/rejects.jsonl"), 0,
         "skipped 1: half of an emoji", "an escaped emoji cut in half (\\ud83d alone) cannot be written as UTF-8; "
         "a whole escaped emoji and escaped Chinese are fine"),
    case("med_norm_csv_ragged", table(["原始词", "标准词"], [["左膝退变", "膝骨关节病"], ["多余", "列", "这里"], ["肾结石"],
                                                          ["糖尿病肾病", "2型糖尿病性肾病"]]).encode("utf-8"),
         convert("med_norm", F + "yidu_ragged.csv"), 0, "skipped 1: ragged row (3 fields, header has 2)",
         "CSV rows with 3 and 1 fields"),
    case("med_norm_csv_mixed_endings", b"\xe5\x8e\x9f\xe5\xa7\x8b\xe8\xaf\x8d,\xe6\xa0\x87\xe5\x87\x86\xe8\xaf\x8d\r\n"
         + "左膝退变,膝骨关节病\n肾结石,输尿管结石\r糖尿病肾病,2型糖尿病性肾病\r\n".encode("utf-8"),
         convert("med_norm", F + "yidu_mixed_endings.csv"), 0, "train: read 3, wrote 3",
         "CRLF, LF and a lone CR as row ends in one file"),
    case("med_norm_xlsx_extra_sheets", xlsx({"说明": [["本文件为示例"], ["第二行"]],
                                             "Sheet1": [["原始词", "标准词"], ["左膝退变", "膝骨关节病"], ["肾结石", "输尿管结石"]],
                                             "空白": []}),
         convert("med_norm", F + "yidu_extra_sheets.xlsx"), 0, "train: read 2, wrote 2",
         "a notes sheet and an empty sheet around the data sheet"),
    case("med_norm_xlsx_missing_sheet", xlsx({"说明": [["本文件为示例"]], "统计": [["词数", "3"]]}),
         convert("med_norm", F + "yidu_missing_sheet.xlsx"), 1, "no sheet has a 原始词/标准词 header",
         "the data sheet is missing: only notes"),
    case("med_norm_xlsx_merged_cells", xlsx({"Sheet1": [["Yidu-N7K 标注", None], ["原始词", "标准词"],
                                                        ["左膝退变", "膝骨关节病"], ["左膝退变伴游离体", None],
                                                        ["肾结石", "输尿管结石"]]},
                                            merged={"Sheet1": ["A1:B1", "B3:B4"]}),
         convert("med_norm", F + "yidu_merged.xlsx"), 0, "skipped 1: no standard term",
         "a merged title row above the header and a 标准词 merged over two rows (the second reads empty)"),
    case("med_norm_not_xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, convert("med_norm", F + "yidu_old.xlsx"), 1,
         "not a readable .xlsx workbook", "an old .xls renamed .xlsx"),
    case("med_norm_input_given_twice", None, ["convert", "med_norm", F + "chip_bom.json", F + "chip_bom.json",
                                                     "--out-dir", "{out}"], 1,
         "given twice as INPUT", "the same file twice (a shell glob and a name): its records would be written twice"),
    case("med_norm_input_is_test", None, convert("med_norm", F + "chip_bom.json", "--test", F + "chip_bom.json"), 1,
         "both an INPUT and a --test file", "the training file as --test: every record would be left out"),
    case("med_norm_empty_test_split", b"[]", convert("med_norm", F + "chip_bom.json", "--test", F + "empty_test.json"), 1,
         "no usable test records in", "--test file with no records", file="empty_test.json"),
    # -- med_dialog: ModelScope JSON array, Toyhom GB18030 CSV
    case("med_dialog_truncated_json", array(MODELSCOPE)[:-200], convert("med_dialog", F + "modelscope_truncated.json"), 1,
         "invalid JSON", "ModelScope dump cut off mid-download"),
    case("med_dialog_wrong_file", array(CHIP), convert("med_dialog", F + "chip_for_med_dialog.json"), 1,
         "is this the right file for `med_dialog`?", "a CHIP-CDN file given to med_dialog"),
    case("med_dialog_gb18030_csv_mixed_endings", table(TOYHOM_HEADER, TOYHOM[:2], "\r\n").encode("gb18030")
         + table(TOYHOM_HEADER, TOYHOM[2:]).split("\n", 1)[1].encode("gb18030"),
         convert("med_dialog", F + "toyhom_mixed_endings.csv"), 0, "train: read 3, wrote 3",
         "GB18030 CSV with CRLF rows, then LF rows, and newlines inside quoted fields"),
    case("med_dialog_utf8_bom_csv", codecs.BOM_UTF8 + table(TOYHOM_HEADER, TOYHOM).encode("utf-8"),
         convert("med_dialog", F + "toyhom_bom.csv"), 0, "train: read 3, wrote 3",
         "UTF-8 CSV saved by Excel with a BOM before the header"),
    case("med_dialog_ragged_csv", table(TOYHOM_HEADER, [TOYHOM[0], TOYHOM[1][:3], TOYHOM[2] + ["多余"]]).encode("gb18030"),
         convert("med_dialog", F + "toyhom_ragged.csv", "--rejects", "{out}/rejects.jsonl"), 0,
         "skipped 1: ragged row (3 fields, header has 4)", "rows with a missing and an extra field"),
    case("med_dialog_gb18030_after_64k", late_gb18030_csv(), convert("med_dialog", F + "toyhom_late_gb18030.csv"), 1,
         "cannot decode as utf-8 after line 2",
         "UTF-8 for the sniffed 64 KB, GB18030 after: named where it fails"),
    case("med_dialog_csv_wrong_header", table(["科室", "标题", "问", "答"], TOYHOM[:1]).encode("gb18030"),
         convert("med_dialog", F + "toyhom_wrong_header.csv"), 1, "header has no title/ask/answer columns",
         "a CSV with another header"),
    case("med_dialog_csv_nul", table(TOYHOM_HEADER, TOYHOM).encode("utf-8").replace("头痛".encode(), b"\0\0", 1),
         convert("med_dialog", F + "toyhom_nul.csv"), 0, "skipped 1: NUL bytes in the row",
         "NUL bytes inside a CSV row (Python 3.11's csv reads them as text)"),
    case("med_dialog_huge_record", None, convert("med_dialog", "{tmp}/huge_modelscope.json"), 0,
         "train: read 2, wrote 2", "a 4 MB answer spanning several read buffers",
         generate="huge_modelscope"),
    case("med_dialog_big_cut", None, convert("med_dialog", "{tmp}/train_0001_of_0001.json"), 1,
         "record 119999 (line 719996): invalid JSON", "a big file cut off: its parallel parts fail, and the "
         "error names the record as reading it whole does", generate="big_cut_modelscope"),
    case("med_dialog_non_utf8_name", table(TOYHOM_HEADER, TOYHOM).encode("gb18030"),
         convert("med_dialog", "{tmp}/non_utf8_name", "--rejects", "{out}/rejects.jsonl"), 0,
         "train: read 3, wrote 3", "a GB18030 file name (内科.csv from a Chinese Windows zip)",
         file="toyhom_for_gb_name.csv", rename_hex="c4dabfc62e637376"),
    case("med_dialog_non_utf8_name_ragged", table(TOYHOM_HEADER, [TOYHOM[0], TOYHOM[1][:2]]).encode("gb18030"),
         convert("med_dialog", "{tmp}/non_utf8_name", "--rejects", "{out}/rejects.jsonl"), 0,
         "skipped 1: ragged row", "a skip from a file whose name is not UTF-8 goes into the rejects file",
         file="toyhom_ragged_for_gb_name.csv", rename_hex="c4dabfc62e637376"),
    case("med_dialog_non_utf8_name_broken", array(MODELSCOPE)[:50],
         convert("med_dialog", "{tmp}/non_utf8_name"), 1, "invalid JSON",
         "an error about a file whose name is not UTF-8 still prints as one line",
         file="modelscope_for_gb_name.json", rename_hex="c4dabfc62e6a736f6e"),
    # -- med_mrg: IMCS-V2 object, zip
    case("med_mrg_truncated_object", array(IMCS)[:-300], convert("med_mrg", F + "imcs_truncated.json"), 1,
         "ends in the middle of a character after the start: the file is truncated",
         "IMCS-V2 object cut off in the middle of a Chinese character"),
    case("med_mrg_broken_zip", zipped({"IMCS-V2-MRG/IMCS-V2_train.json": array(IMCS)})[:-40],
         convert("med_mrg", F + "IMCS-V2-MRG_cut.zip"), 1, "not a readable .zip archive",
         "a zip whose central directory was cut off"),
    case("med_mrg_zip_without_member", zipped({"IMCS-V2-MRG/readme.txt": b"hello"}),
         convert("med_mrg", F + "IMCS-V2-MRG_no_member.zip"), 1, "has no member", "a zip without the train member"),
    case("med_mrg_wrong_types", array({"1": {**IMCS["10626355"], "dialogue": "医生：你好"}, **IMCS}),
         convert("med_mrg", F + "imcs_wrong_types.json"), 0, "skipped 1: no dialogue",
         "dialogue as a string in the first record"),
    # -- huatuo: JSONL named .json, JSON array
    case("huatuo_bad_jsonl_line", jsonl(HUATUO[:1]) + b'{"instruction": "cut\n' + jsonl(HUATUO[1:]),
         convert("huatuo", F + "llama_data_bad_line.json"), 0, "skipped 1: invalid JSON line",
         "one broken line in the middle of JSONL"),
    case("huatuo_huge_first_line", None, convert("huatuo", "{tmp}/llama_data.json"), 0, "train: read 2, wrote 2",
         "JSONL whose first record is longer than the 64 KB sniffed to tell JSONL from JSON",
         generate="huge_first_jsonl_line"),
    case("huatuo_deep_jsonl_line", jsonl(HUATUO[:1]) + b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}\n" + jsonl(HUATUO[1:]),
         convert("huatuo", F + "llama_data_deep.json"), 0, "skipped 1: invalid JSON line (nested too deeply)",
         "a hostile JSONL line nested 5000 deep"),
    # -- med_chatglm: train.txt JSONL
    case("med_chatglm_mixed_endings", jsonl(MED_CHATGLM[:1]).replace(b"\n", b"\r\n") + b"\n" + jsonl(MED_CHATGLM[1:]),
         convert("med_chatglm", F + "train_mixed_endings.txt"), 0, "train: read 2, wrote 2",
         "CRLF and LF lines with a blank line between"),
    case("med_chatglm_truncated_last_line", jsonl(MED_CHATGLM)[:-30], convert("med_chatglm", F + "train_cut.txt"), 0,
         "skipped 1: invalid JSON line", "the last line cut off"),
    case("med_chatglm_gb18030", jsonl(MED_CHATGLM).decode().encode("gb18030"), convert("med_chatglm", F + "train_gbk.txt"),
         0, "train: read 2, wrote 2", "JSONL re-saved as GB18030"),
    # -- med_mcq
    case("med_mcq_ragged_csv", table(CMEXAM_HEADER, [CMEXAM[0], CMEXAM[1][:2]]).encode("utf-8-sig"),
         convert("med_mcq", F + "cmexam_ragged.csv"), 0, "skipped 1: ragged row", "CMExam row missing fields"),
    case("med_mcq_wrong_types", jsonl([MCMLE, {**MCMLE, "options": ["2小时", "4小时内"]}]),
         convert("med_mcq", F + "mcmle_wrong_types.jsonl"), 0, "skipped 1: record has no option",
         "options as a list instead of an object"),
    # -- general_mix
    case("general_mix_wrong_types", jsonl([*ALPACA, {"conversations": "你好"}, {"instruction": 3, "output": None}]),
         convert("general_mix", F + "mix_wrong_types.jsonl"), 0, "train: read 4, wrote 2",
         "conversations as a string, instruction as a number"),
    case("general_mix_truncated", array(ALPACA)[:-5], convert("general_mix", F + "mix_truncated.json"), 1,
         "invalid JSON", "array cut off"),
    # -- law_qa: lawzhidao CSV
    case("law_qa_ragged", table(LAWZHIDAO_HEADER, [LAWZHIDAO[0], [*LAWZHIDAO[1], "多余"]]).encode("utf-8"),
         convert("law_qa", F + "lawzhidao_ragged.csv"), 0, "skipped 1: ragged row", "a row with an extra field"),
    case("law_qa_empty_csv", b"", convert("law_qa", F + "lawzhidao_empty.csv"), 1,
         "header has no title/question/reply/is_best columns (found: nothing)", "zero-byte CSV"),
    case("law_qa_header_only", table(LAWZHIDAO_HEADER, []).encode("utf-8"), convert("law_qa", F + "lawzhidao_header.csv"),
         1, "no usable train records", "a header and no rows"),
    # -- disc_law: JSONL
    case("disc_law_truncated", jsonl(DISC)[:-20], convert("disc_law", F + "DISC-Law-SFT-Pair_cut.jsonl"), 1,
         "ends in the middle of a character after line 1: the file is truncated",
         "JSONL cut off in the middle of a Chinese character (cut between characters it is a skipped line)"),
    case("disc_law_bom_mixed_endings", codecs.BOM_UTF8 + jsonl(DISC[:1]).replace(b"\n", b"\r\n") + jsonl(DISC[1:]),
         convert("disc_law", F + "DISC-Law-SFT-Triplet_bom.jsonl"), 0, "train: read 2, wrote 2",
         "BOM on the first line, CRLF then LF"),
    case("disc_law_lone_surrogate", jsonl(DISC[:1]) + b'{"id": "pair_2", "input": "\\ud83d\\u5982\\u4f55", "output": "x"}\n',
         convert("disc_law", F + "DISC-Law-SFT-Pair_surrogate.jsonl"), 0, "skipped 1: half of an emoji",
         "a JSONL line with a lone surrogate escape"),
    case("disc_law_wrong_types", jsonl([{**DISC[1], "reference": "《刑法》"}, DISC[0], {**DISC[0], "output": ["a"]}]),
         convert("disc_law", F + "DISC-Law-SFT-wrong_types.jsonl"), 0, "skipped 1: output is a list, not text",
         "reference as a string, output as a list"),
    # -- law_mcq
    case("law_mcq_wrong_types", jsonl([JEC, {**JEC, "answer": "AB"}, {**JEC, "option_list": ["甲", "乙"]}]),
         convert("law_mcq", F + "jec_qa_wrong_types.json"), 0, "skipped 1: option_list is not an object",
         "answer as a string, options as a list"),
    case("law_mcq_ragged_csv", table(DISC_EVAL_HEADER, [DISC_EVAL[0], DISC_EVAL[1][:5]]).encode("utf-8"),
         convert("law_mcq", F + "disc_eval_ragged.csv"), 0, "skipped 1: ragged row", "a DISC-Law-Eval row cut short"),
    # -- safety_exam: xlsx, CSV, Markdown
    case("safety_exam_xlsx_extra_sheets", xlsx({"封面": [["安规题库"], ["2023"]], "题库": [SEED_HEADER, *SEED_ROWS],
                                                "统计": [["题数", 3]]}),
         convert("safety_exam", F + "anquan_extra_sheets.xlsx"), 0, "train: read 3, wrote 3",
         "a cover sheet and a statistics sheet around the question sheet"),
    case("safety_exam_xlsx_missing_sheet", xlsx({"封面": [["安规题库"]]}), convert("safety_exam", F + "anquan_cover_only.xlsx"),
         1, "no sheet has a", "the question sheet is missing"),
    case("safety_exam_xlsx_merged_cells", xlsx({"题库": [SEED_HEADER, *SEED_ROWS, [*SEED_ROWS[0][:2], "带电作业应设（　　）。",
                                                                                 "来自安规", "A. 专责监护人,B. 安全员", "A. 专责监护人"]]},
                                               merged={"题库": ["A2:A5", "B2:B5"]}),
         convert("safety_exam", F + "anquan_merged.xlsx"), 0, "skipped 3: unknown 题型 (empty)",
         "专业 and 题型 merged down the rows: only the first row keeps them"),
    case("safety_exam_markdown_ragged", ("| " + " | ".join(SEED_HEADER) + " |\n| " + " | ".join("---" for _ in SEED_HEADER)
                                          + " |\n| " + " | ".join(SEED_ROWS[0]) + " |\n| " + " | ".join(SEED_ROWS[1][:4])
                                          + " |\n").encode("utf-8"),
         convert("safety_exam", F + "anquan_ragged.md"), 0, "skipped 1: ragged row", "a table row with 4 of 6 cells"),
    case("safety_exam_empty_xlsx", xlsx({"Sheet1": []}), convert("safety_exam", F + "anquan_empty.xlsx"), 1,
         "no sheet has a", "a workbook with one empty sheet"),
    # -- pharma_rag
    case("pharma_rag_ragged_csv", table(PHARMA_HEADER, [PHARMA[0], [PHARMA[1][0]], PHARMA[1]]).encode("utf-8"),
         convert("pharma_rag", F + "pharma_ragged.csv", "--kb", F + "pharma_kb.txt"), 0, "skipped 1: ragged row",
         "a QA row without its answer", extra_files={"pharma_kb.txt": KB.encode("utf-8")}),
    case("pharma_rag_empty_csv", b"", convert("pharma_rag", F + "pharma_empty.csv", "--kb", F + "pharma_kb.txt"), 1,
         "header", "zero-byte QA file"),
    # -- dataset_info.json: the target of `lfd convert` and `lfd register`
    case("convert_broken_dataset_info", b'{"alpaca_zh_demo": {"file_name": "alpaca_zh_demo.json"},',
         convert("med_norm", F + "chip_bom.json"), 1, "dataset_info.json: not valid JSON",
         "the output folder's dataset_info.json is cut off: left as it is, nothing written",
         file="dataset_info_cut.json", target_info="dataset_info_cut.json"),
    case("convert_dataset_info_not_object", b'["alpaca_zh_demo"]', convert("med_norm", F + "chip_bom.json"), 1,
         "expected a JSON object of dataset entries, found list", "a dataset_info.json that is a list",
         file="dataset_info_list.json", target_info="dataset_info_list.json"),
    case("register_entry_without_file", json.dumps({"gone_train": {"file_name": "gone_train.jsonl"}}).encode(),
         ["register", "--llamafactory-dir", "{lf}", "--from", F + "ours_missing_file.json"], 1,
         "gone_train.jsonl, which does not exist", "registering an entry whose data file is missing"),
    case("register_broken_target", b'{"alpaca_zh_demo": {"file_name": "alpaca_zh_demo.json"}',
         ["register", "--llamafactory-dir", "{lf}", "--from", F + "ours_ok.json"], 1,
         "dataset_info.json: not valid JSON", "LLaMA-Factory's dataset_info.json is cut off: left as it is",
         file="lf_dataset_info_cut.json", target_info="lf_dataset_info_cut.json",
         extra_files={"ours_ok.json": json.dumps({"ok_train": {"file_name": "chip_bom.json"}}).encode()}),
    case("register_entry_formatting_typo",
         json.dumps({"ok_train": {"file_name": "chip_bom.json", "formatting": "share_gpt"}}).encode(),
         ["register", "--llamafactory-dir", "{lf}", "--from", F + "ours_share_gpt.json"], 1,
         "entry 'ok_train': formatting 'share_gpt' is not one LLaMA-Factory reads",
         "a formatting LLaMA-Factory has no converter for: refused before the install changes"),
    case("register_entry_column_typo",
         json.dumps({"ok_train": {"file_name": "chip_bom.json", "columns": {"promt": "q", "response": "a"}}}).encode(),
         ["register", "--llamafactory-dir", "{lf}", "--from", F + "ours_promt.json"], 1,
         "columns has 'promt', which LLaMA-Factory does not read",
         "a misspelt column key LLaMA-Factory would ignore (and read no prompt at all)"),
    case("register_source_not_json", b"file_name: a.jsonl\n", ["register", "--llamafactory-dir", "{lf}", "--from",
                                                               F + "ours_yaml.json"], 1,
         "ours_yaml.json: not valid JSON", "--from a file that is not JSON"),
    # -- lfd eval: generated_predictions.jsonl
    case("eval_not_json_line", jsonl([PREDICTION]) + b"Traceback (most recent call last):\n",
         evaluate(F + "predictions_not_json.jsonl", "-e", "exact_match"), 1, "line 2: not JSON",
         "a log line mixed into the predictions"),
    case("eval_missing_key", jsonl([PREDICTION, {"prompt": "p", "predict": "x"}]),
         evaluate(F + "predictions_missing_label.jsonl", "-e", "exact_match"), 1, "line 2: no 'label' key",
         "a prediction without its label"),
    case("eval_wrong_type", jsonl([PREDICTION, {**PREDICTION, "label": 3}]),
         evaluate(F + "predictions_wrong_type.jsonl", "-e", "exact_match"), 1, "'label' is a JSON int, not a string",
         "a number as label"),
    case("eval_null_predict", jsonl([{**PREDICTION, "predict": None}]),
         evaluate(F + "predictions_null.jsonl", "-e", "choice"), 1, "'predict' is a JSON NoneType, not a string",
         "null where the reply should be"),
    case("eval_array_line", jsonl([PREDICTION]) + b'["prompt", "predict", "label"]\n',
         evaluate(F + "predictions_array_line.jsonl", "-e", "exact_match"), 1, "line 2: a JSON list",
         "a JSON array instead of an object"),
    case("eval_truncated", jsonl([PREDICTION, PREDICTION])[:-15],
         evaluate(F + "predictions_truncated.jsonl", "-e", "exact_match"), 1, "line 2: not JSON",
         "the predict run was killed mid-line"),
    case("eval_empty", b"\n\n", evaluate(F + "predictions_empty.jsonl", "-e", "exact_match"), 1,
         "empty; expected one JSON object a line", "no predictions at all"),
    case("eval_not_utf8", jsonl([PREDICTION]).decode().encode("gb18030"),
         evaluate(F + "predictions_gbk.jsonl", "-e", "exact_match"), 1, "not UTF-8 text",
         "predictions re-saved as GB18030"),
    case("eval_json_fields_label_not_json", jsonl([{**PREDICTION, "label": "主诉：咳嗽。"}]),
         evaluate(F + "predictions_label_not_json.jsonl", "-e", "json_fields"), 1,
         "predictions_label_not_json.jsonl: line 1: the label is not a JSON object",
         "json_fields on labels that are not reports: the error names the file and line"),
    case("eval_choice_no_letters", jsonl([{**PREDICTION, "predict": "无法判断", "label": "B"}]),
         evaluate(F + "predictions_choice.jsonl", "-e", "choice"), 0, "choice_no_answer_rate",
         "a reply with no letter scores as no answer"),
    case("eval_huge_line", None, evaluate("{tmp}/generated_predictions.jsonl", "-e", "exact_match"), 0,
         "exact_match", "a 2 MB prediction (a model that never stopped)", generate="huge_eval_line"),
    # -- every record skipped: the error says why and where, not that a number is too big or that
    #    --rejects (which an error never writes) would show them
    case("convert_all_skipped_test_size", array([{"text": "", "normalized_result": "x"}, {"text": "a", "normalized_result": ""}]),
         convert("med_norm", F + "chip_all_skipped.json", "--test-size", "1"), 1,
         "(empty raw term: 1, no standard term: 1); the first is", "--test-size on a file whose every record is skipped"),
    case("convert_all_skipped_rejects", None,
         convert("med_norm", F + "chip_all_skipped.json", "--rejects", "{out}/rejects.jsonl"), 1,
         "chip_all_skipped.json: record 0 (line 2): empty raw term; nothing was written",
         "every record skipped with --rejects: the error names the first, since nothing is written"),
    case("eval_name_too_long", None, evaluate("{tmp}/" + "x" * 300, "-e", "exact_match"), 1,
         "File name too long", "a predictions path longer than the file system allows"),
    case("stats_tokenizer_not_a_folder", None, ["stats", "{tmp}/train.jsonl", "--tokenizer", "{tmp}/Qwen2.5-7B"], 1,
         "/Qwen2.5-7B: cannot load a tokenizer there (no such folder); pass the model folder",
         "a tokenizer that is not downloaded: no minute of hub retries on a machine without network"),
    case("convert_fifo_input", None, convert("med_norm", "{tmp}/train.json"), 1,
         "train.json: not a regular file (a pipe, device or socket)", "a named pipe as the raw file", generate="fifo"),
    case("eval_fifo_predictions", None, evaluate("{tmp}/generated_predictions.jsonl", "-e", "exact_match"), 1,
         "generated_predictions.jsonl: not a regular file", "a named pipe as the predictions", generate="fifo"),
    case("register_fifo_from", None, ["register", "--llamafactory-dir", "{lf}", "--from", "{tmp}/dataset_info.json"], 1,
         "dataset_info.json: not a regular file", "a named pipe as the dataset_info.json to register", generate="fifo"),
]
