"""`lfd rate` (plugin/rating/): physicians' rating sheets on bad input — runs of other questions, a damaged
workbook or key, a rating out of range or missing, an edited answer, a renamed or deleted sheet. Files start
with ``rate_``; the workbooks are real exports (``plugin.rating.export``, seed 0: the same bytes every build)."""

from __future__ import annotations

import io
import json

from corpus import F, case, jsonl

QUESTIONS = ["孕妇发烧可以吃布洛芬吗？", "胸痛二十分钟还出冷汗怎么办？"]
LABELS = ["孕晚期避免布洛芬，遵医嘱。", "立即拨打120。"]
BASE_ANSWERS = ["可以，一次两片。", "喝点热水观察一下。"]
TUNED_ANSWERS = ["孕期不建议用布洛芬，请就医。", "可能是心梗，立即拨打120。"]


def chatml(question: str) -> str:
    return f"<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"


def run(answers, questions=QUESTIONS) -> list[dict]:
    return [{"prompt": chatml(q), "predict": a, "label": label} for q, a, label in zip(questions, answers, LABELS)]


BASE, TUNED = jsonl(run(BASE_ANSWERS)), jsonl(run(TUNED_ANSWERS))


def exported(change=None) -> tuple[bytes, bytes]:
    """(workbook, key) of the two runs with one rater, every rating 2, then ``change(book)`` applied."""
    import sys
    import tempfile
    from pathlib import Path

    from openpyxl import load_workbook

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "editable"))
    from llamafactory_domains.plugin.io.workbook import workbook_bytes
    from llamafactory_domains.plugin.rating.export import build, load_models

    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / "rate_base.jsonl", Path(folder) / "rate_tuned.jsonl"]
        paths[0].write_bytes(BASE)
        paths[1].write_bytes(TUNED)
        workbook, key = build(*load_models(paths, ["base", "tuned"], None, None), 1, 0)
    key["models"] = [{"name": m["name"], "source": f"rate_{m['name']}.jsonl"} for m in key["models"]]
    book = load_workbook(io.BytesIO(workbook))
    sheet = book["评分员1"]
    for row in range(2, sheet.max_row + 1):
        for column in (4, 5, 6):
            sheet.cell(row, column, 2)
    if change:
        change(book)
    return workbook_bytes(book), json.dumps(key, ensure_ascii=False, indent=2).encode("utf-8")


def cell(row: int, column: int, value):
    def change(book):
        book["评分员1"].cell(row, column).value = value
    return change


def rename(book):
    book["评分员1"].title = "张医生"


def second_rater_gone(book):
    book.remove(book["评分员1"])


GOOD, KEY = exported()


def rate_import(sheet_name: str, sheet: bytes, case_id: str, expect: str, why: str, status: int = 1,
                key: bytes = KEY) -> dict:
    return case(case_id, sheet, ["rate", "import", F + sheet_name, "--key", F + "rate_key.json", "--out",
                                 "{out}/ratings.json"], status, expect, why,
                extra_files={"rate_key.json": key} if key is KEY else {f"{case_id}.key.json": key})


def with_key(entry: dict, key_name: str) -> dict:
    entry["args"][entry["args"].index(F + "rate_key.json")] = F + key_name
    return entry


CASES = [
    case("rate_export_line_counts", BASE, ["rate", "export", F + "rate_base.jsonl", F + "rate_short.jsonl", "--out",
                                           "{out}/sheet.xlsx"], 1, "1 predictions, but",
         "a run that stopped early: its line count differs", extra_files={"rate_short.jsonl": jsonl(run(TUNED_ANSWERS)[:1])}),
    case("rate_export_other_questions", BASE, ["rate", "export", F + "rate_base.jsonl", F + "rate_other.jsonl", "--out",
                                               "{out}/sheet.xlsx"], 1, "line 1: its prompt asks",
         "a run of other questions", extra_files={"rate_other.jsonl": jsonl(run(TUNED_ANSWERS, ["头痛怎么办？", "失眠怎么办？"]))}),
    case("rate_export_not_xlsx", BASE, ["rate", "export", F + "rate_base.jsonl", "--out", "{out}/sheet.csv"], 1,
         "the workbook must end in .xlsx", "a workbook name without .xlsx"),
    case("rate_export_models_count", BASE, ["rate", "export", F + "rate_base.jsonl", "--models", "a", "b", "--out",
                                            "{out}/sheet.xlsx"], 1, "--models names 2 models for 1 prediction files",
         "more --models names than runs"),
    rate_import("rate_good.xlsx", GOOD, "rate_import_good", "4 ratings from 1 raters",
                "a filled sheet is imported", status=0),
    rate_import("rate_four.xlsx", exported(cell(2, 4, 4))[0], "rate_import_out_of_range",
                "row 2 (编号 1): 安全性 S is 4; enter a whole number 1, 2 or 3", "a rating of 4"),
    rate_import("rate_half.xlsx", exported(cell(3, 5, 2.5))[0], "rate_import_half",
                "可用性 U is 2.5; enter a whole number", "a rating of 2.5"),
    rate_import("rate_word.xlsx", exported(cell(4, 6, "好"))[0], "rate_import_word",
                "流畅性 S is '好'; enter a whole number", "a word instead of a number"),
    rate_import("rate_empty.xlsx", exported(cell(5, 4, None))[0], "rate_import_empty_cell",
                "(编号 4): 安全性 S is empty; enter 1, 2 or 3", "a rating left empty"),
    rate_import("rate_edited.xlsx", exported(cell(2, 3, "改过的回答"))[0], "rate_import_edited_answer",
                "(编号 1): the 回答 text was edited; restore it", "an answer text edited by the rater"),
    rate_import("rate_renamed.xlsx", exported(rename)[0], "rate_import_renamed_sheet",
                "sheet '张医生' is not in the key and 评分员1 is missing: renamed?", "a rater's sheet renamed"),
    rate_import("rate_deleted.xlsx", exported(second_rater_gone)[0], "rate_import_missing_sheet",
                "no sheet 评分员1 (deleted or renamed?)", "the rater's sheet deleted"),
    rate_import("rate_cut.xlsx", GOOD[:1500], "rate_import_corrupt_xlsx", "not a readable .xlsx workbook",
                "a workbook cut short (an interrupted copy)"),
    with_key(rate_import("rate_good_2.xlsx", GOOD, "rate_import_key_not_json", "not JSON (line 1",
                         "a key that is not JSON", key=b"{\"format\": "), "rate_import_key_not_json.key.json"),
    with_key(rate_import("rate_good_3.xlsx", GOOD, "rate_import_not_a_key", "not a rating key",
                         "some other JSON file as the key", key=b"[1, 2]\n"), "rate_import_not_a_key.key.json"),
    with_key(rate_import("rate_good_4.xlsx", GOOD, "rate_import_key_deep", "nesting too deep to read, so not a rating key",
                         "a key nested 100,000 deep", key=b"[" * 100_000 + b"]" * 100_000), "rate_import_key_deep.key.json"),
    with_key(rate_import("rate_good_5.xlsx", GOOD, "rate_import_key_big_int", "a number too long or nesting too deep",
                         "a key holding a 5000-digit number", key=b'{"seed": ' + b"9" * 5000 + b"}"),
             "rate_import_key_big_int.key.json"),
]
