"""The rating workbook: what a rater sees, what is hidden, byte-identical exports, and every bad cell caught."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.rating import rubric
from llamafactory_domains.plugin.rating.export import build, load_models
from llamafactory_domains.plugin.rating.sheets import RatingProblems, read_ratings
from openpyxl import load_workbook
from rating_helpers import ANSWERS, QUESTIONS, RATINGS, chatml, fill, write_runs


def problems_of(sheets, key) -> list[str]:
    with pytest.raises(RatingProblems) as caught:
        read_ratings(sheets, key)
    assert "Traceback" not in str(caught.value)
    return caught.value.problems


def edit(path, change) -> None:
    book = load_workbook(path)
    change(book)
    book.save(path)


def row_of(book, sheet: str, ident: int) -> int:
    return next(r for r in range(2, book[sheet].max_row + 1) if book[sheet].cell(r, 1).value == ident)


def test_what_a_rater_sees(exported):
    book = load_workbook(exported["sheet"])
    assert book.sheetnames == ["评分标准", "评分员1", "评分员2"]
    sheet = book["评分员1"]
    assert [c.value for c in sheet[1]] == ["编号", "问题", "回答", "安全性 S", "可用性 U", "流畅性 S", "备注"]
    assert sheet.max_row == 1 + len(QUESTIONS) * len(ANSWERS)
    assert [sheet.cell(r, 1).value for r in range(2, 8)] == [1, 2, 3, 4, 5, 6]
    shown = {(sheet.cell(r, 2).value, sheet.cell(r, 3).value) for r in range(2, 8)}
    assert shown == {(q, a) for answers in ANSWERS.values() for q, a in zip(QUESTIONS, answers)}  # user turn, stripped
    [check] = sheet.data_validations.dataValidation
    assert (check.type, check.operator, check.formula1, check.formula2) == ("whole", "between", "1", "3")
    assert str(check.sqref) == "D2:F7" and check.showInputMessage and check.prompt
    rubric_text = " ".join(str(c.value) for row in book["评分标准"].iter_rows() for c in row if c.value)
    assert "错误的药物或剂量" in rubric_text and "不可接受" in rubric_text and "流畅性" in rubric_text


def test_blinded_and_shuffled_per_rater(exported):
    archive = zipfile.ZipFile(exported["sheet"])
    everything = b"".join(archive.read(name) for name in archive.namelist())
    for secret in [*ANSWERS, "saves", str(exported["dir"]), "generated_predictions"]:
        assert secret.encode() not in everything
    key = json.loads(exported["key"].read_text(encoding="utf-8"))
    orders = [[(rows[str(i)]["model"], rows[str(i)]["item"]) for i in range(1, 7)] for rows in key["sheets"].values()]
    assert orders[0] != orders[1] and sorted(orders[0]) == sorted(orders[1])


def test_byte_identical_exports(tmp_path, exported):
    runs = exported["runs"]
    again = [build(*load_models(runs, ["qwen-base-secret", "qwen-lora-secret"], None, None), 2, 0) for _ in range(2)]
    assert again[0][0] == again[1][0] == exported["sheet"].read_bytes()
    assert again[0][1] == again[1][1]
    other = build(*load_models(runs, ["qwen-base-secret", "qwen-lora-secret"], None, None), 2, 1)
    assert other[1]["sheets"] != again[0][1]["sheets"]  # another seed, another order


def test_round_trip_unblinds(filled):
    rows = read_ratings([filled["sheet"]], filled["key"])
    assert len(rows) == 12
    for row in rows:
        assert (row["safety"], row["usability"], row["smoothness"]) == RATINGS[row["rater"]][row["model"]][row["item"]]
    assert set(rows[0]) == {"model", "item", "rater", "safety", "usability", "smoothness"}


def test_reordered_rows_are_fine_and_one_file_per_rater(filled, tmp_path):
    before = read_ratings([filled["sheet"]], filled["key"])

    def swap(book):
        sheet = book["评分员1"]
        first, last = [c.value for c in sheet[2]], [c.value for c in sheet[7]]
        for column, (a, b) in enumerate(zip(first, last), 1):
            sheet.cell(2, column, b), sheet.cell(7, column, a)
        del book["评分标准"]  # a rubric sheet deleted is fine
    edit(filled["sheet"], swap)
    assert read_ratings([filled["sheet"]], filled["key"]) == before
    parts = []
    for keep in ("评分员1", "评分员2"):
        book = load_workbook(filled["sheet"])
        for name in [n for n in book.sheetnames if n != keep]:
            del book[name]
        book.save(tmp_path / f"{keep}.xlsx")
        parts.append(tmp_path / f"{keep}.xlsx")
    assert read_ratings(parts, filled["key"]) == before


def test_each_rater_fills_their_own_copy(exported, tmp_path):
    copies = []
    for name in RATINGS:
        copy = tmp_path / f"copy-{name}.xlsx"
        copy.write_bytes(exported["sheet"].read_bytes())
        fill(copy, exported["key"], {name: RATINGS[name]})  # the other rater's sheet stays empty in this copy
        copies.append(copy)
    assert len(read_ratings(copies, exported["key"])) == 12


@pytest.mark.parametrize("value, said", [(4, "安全性 S is 4; enter a whole number 1, 2 or 3"), (0, "is 0"),
                                         (2.5, "is 2.5"), ("好", "is '好'"), (None, "安全性 S is empty; enter 1, 2 or 3")])
def test_a_bad_rating_names_sheet_and_row(filled, value, said):
    def change(book):
        book["评分员2"].cell(row_of(book, "评分员2", 3), 4).value = value
    edit(filled["sheet"], change)
    [problem] = problems_of([filled["sheet"]], filled["key"])
    assert f"sheet 评分员2: row {row_of(load_workbook(filled['sheet']), '评分员2', 3)} (编号 3): " in problem
    assert said in problem


def test_edited_texts_and_changed_ids_are_caught(filled):
    def damage(book):
        sheet = book["评分员1"]
        sheet.cell(row_of(book, "评分员1", 2), 3, "改过的回答")  # an edited answer
        sheet.cell(row_of(book, "评分员1", 4), 2, "改过的问题")  # an edited question
        sheet.cell(row_of(book, "评分员1", 5), 1, 6)  # 编号 5 changed into 6: 6 twice, 5 missing
    edit(filled["sheet"], damage)
    problems = problems_of([filled["sheet"]], filled["key"])
    assert any("(编号 2): the 回答 text was edited" in p for p in problems)
    assert any("(编号 4): the 问题 text was edited" in p for p in problems)
    assert any("编号 6 is also on row" in p for p in problems)
    assert any("sheet 评分员1: 编号 5 is missing" in p for p in problems)
    assert all(p.startswith(str(filled["sheet"])) for p in problems)


def test_unknown_id_renamed_and_missing_sheets(filled):
    def damage(book):
        book["评分员1"].cell(2, 1, 99)
        book["评分员2"].title = "张医生"
    edit(filled["sheet"], damage)
    problems = problems_of([filled["sheet"]], filled["key"])
    assert any("编号 99 is not a row of this sheet" in p for p in problems)
    assert any("sheet '张医生' is not in the key and 评分员2 is missing: renamed?" in p for p in problems)
    assert len(problems) == 3  # the renamed sheet is one line; 编号 99 is unknown and 编号 1 missing


def test_a_missing_sheet(filled):
    edit(filled["sheet"], lambda book: book.remove(book["评分员1"]))
    assert problems_of([filled["sheet"]], filled["key"]) == [
        f"{filled['sheet']}: no sheet 评分员1 (deleted or renamed?); pass the file holding it, or restore its exported name"]


def test_many_problems_are_counted(exported):
    problems = problems_of([exported["sheet"]], exported["key"])  # nothing filled: 36 empty ratings
    assert len(problems) == 36
    message = str(RatingProblems(problems)).splitlines()
    assert len(message) == 22 and message[-2] == "… and 16 more" and message[-1].startswith("36 problems")


def test_damaged_files_are_one_line(exported, tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(exported["sheet"].read_bytes()[:2000])
    with pytest.raises(UserError, match="not a readable .xlsx workbook") as caught:
        read_ratings([broken], exported["key"])
    assert "\n" not in str(caught.value)
    bad_key = tmp_path / "key.json"
    bad_key.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="not JSON"):
        read_ratings([exported["sheet"]], bad_key)
    bad_key.write_text('{"sheets": []}', encoding="utf-8")
    with pytest.raises(UserError, match="not a rating key"):
        read_ratings([exported["sheet"]], bad_key)


def test_missing_ok_gives_none(exported):
    rows = read_ratings([exported["sheet"]], exported["key"], missing_ok=True)
    assert len(rows) == 12 and all(row["safety"] is None for row in rows)


@pytest.mark.parametrize("template", [
    lambda q: f"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe kind.<|eot_id|><|start_header_id|>user"
              f"<|end_header_id|>\n\n{q}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",  # llama3
    lambda q: f"[gMASK]<sop><|system|>\nBe kind.<|user|>\n{q}<|assistant|>",  # glm4
    chatml,
])
def test_the_question_is_the_user_turn(tmp_path, template):
    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps({"prompt": template("头痛三天怎么办？"), "predict": "多休息。", "label": "x"},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    _, questions = load_models([path], ["m"], None, None)
    assert questions == ["头痛三天怎么办？"]


def test_the_dataset_question_is_instruction_and_input(tmp_path):
    runs = write_runs(tmp_path)
    for run in runs:
        lines = [json.loads(line) for line in run.read_text(encoding="utf-8").splitlines()]
        for line, q in zip(lines, QUESTIONS):
            line["prompt"] = chatml(f"请回答患者的问题。\n{q}")
        run.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    records = [{"instruction": "请回答患者的问题。", "input": q, "output": label}
               for q, label in zip(QUESTIONS, ["孕晚期避免布洛芬，遵医嘱。", "立即拨打120。", "可以适量吃低升糖水果。"])]
    (tmp_path / "test.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "dataset_info.json").write_text(json.dumps({"med_test": {"file_name": "test.json"}}), encoding="utf-8")
    _, questions = load_models(runs, ["a", "b"], "med", tmp_path / "dataset_info.json")
    assert questions[0] == f"请回答患者的问题。\n{QUESTIONS[0]}"


def test_runs_of_other_questions_are_refused(tmp_path):
    runs = write_runs(tmp_path)
    lines = runs[1].read_text(encoding="utf-8").splitlines()
    runs[1].write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match="2 predictions, but .* has 3"):
        load_models(runs, ["a", "b"], None, None)
    runs[1].write_text("\n".join([lines[0], lines[2], lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match="line 2: its prompt asks"):
        load_models(runs, ["a", "b"], None, None)


def test_texts_survive_the_sheet(tmp_path):
    """A text starting with = stays text, control characters go, \\r\\n becomes \\n: the fingerprint holds."""
    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps({"prompt": chatml("=SUM(A1)"), "predict": "第一行\r\n第二行\x07", "label": "x"},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    workbook, key = build(*load_models([path], ["m"], None, None), 1, 0)
    (tmp_path / "s.xlsx").write_bytes(workbook)
    (tmp_path / "k.json").write_text(json.dumps(key), encoding="utf-8")
    sheet = load_workbook(io.BytesIO(workbook))[rubric.rater_sheet(1)]
    assert sheet.cell(2, 2).value == "=SUM(A1)" and sheet.cell(2, 3).value == "第一行\n第二行"
    rows = read_ratings([tmp_path / "s.xlsx"], tmp_path / "k.json", missing_ok=True)
    assert rows == [{"model": "m", "item": 0, "rater": "评分员1", "safety": None, "usability": None, "smoothness": None}]


def test_answers_with_lone_surrogates_or_xml_illegal_characters_round_trip(tmp_path):
    """A predict run's lone surrogate ("\\ud800" in its JSON) failed the export with UnicodeEncodeError."""
    runs = write_runs(tmp_path)
    for path, odd in zip(runs, ("\\ud800", "\\uffff\\u0007")):
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[0] = lines[0].replace('\\n", "label"', odd + '", "label"')  # the first answer's end, as an escape
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    models, questions = load_models(runs, list(ANSWERS), None, None)
    workbook, key = build(models, questions, 2, 0)
    sheet, key_path = tmp_path / "sheet.xlsx", tmp_path / "sheet.key.json"
    sheet.write_bytes(workbook)
    key_path.write_text(json.dumps(key, ensure_ascii=False), encoding="utf-8")
    fill(sheet, key_path)
    rows = read_ratings([sheet], key_path)
    assert len(rows) == 12 and all(row["safety"] in (1, 2, 3) for row in rows)
