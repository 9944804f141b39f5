"""Issue 14, the input side: what the shared readers make of files and values that once ended in a
traceback, a wrong count or a misleading message. Each is a one-line UserError naming the file and
place, or a counted skip; the corpus (tests/bad_inputs/cases_readers.py) runs them through `lfd`."""

import codecs
import csv
import io
import json
import os
import re
import zipfile

import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io import json_fast, text
from llamafactory_domains.plugin.io.archives import iter_zip
from llamafactory_domains.plugin.io.dispatch import iter_rows
from llamafactory_domains.plugin.io.json_exact import NOT_JSON, looks_like_jsonl
from llamafactory_domains.plugin.io.json_files import iter_json
from llamafactory_domains.plugin.io.json_lines import read_json_lines
from llamafactory_domains.plugin.io.rows import Skip
from llamafactory_domains.plugin.io.tables import iter_csv, iter_xlsx
from llamafactory_domains.plugin.io.text import detect_encoding, first_failure
from openpyxl import Workbook

CHIP = [{"text": "左膝退变伴游离体", "normalized_result": "膝骨关节病"}, {"text": "糖尿病肾病", "normalized_result": "糖尿病肾病"}]
WANTED = [("title", "ask", "answer")]


def plain(rows):
    return [(row.location, ("skip", row.data.reason) if isinstance(row.data, Skip) else row.data) for row in rows]


# ---------------------------------------------------------------- files that cannot be read


def test_a_folder_a_missing_and_an_unreadable_file_are_each_named(tmp_path, monkeypatch):
    folder = tmp_path / "train.json"
    folder.mkdir()
    with pytest.raises(UserError, match="train.json: a folder, not a file; pass a file inside it"):
        iter_rows(folder, None, [])
    with pytest.raises(UserError, match="missing.json: no such file"):
        iter_rows(tmp_path / "missing.json", None, [])
    locked = tmp_path / "locked.json"
    locked.write_text(json.dumps(CHIP), encoding="utf-8")
    real_open = open

    def refused(path, *args, **kwargs):  # what a mode-000 file gives any user but root
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(text, "open", refused, raising=False)
    with pytest.raises(UserError, match="locked.json: permission denied; make the file readable"):
        iter_rows(locked, None, [])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-000 files")
def test_a_mode_000_file_is_refused_in_one_line(tmp_path):
    locked = tmp_path / "locked.json"
    locked.write_text(json.dumps(CHIP), encoding="utf-8")
    locked.chmod(0)
    try:
        with pytest.raises(UserError, match="permission denied"):
            list(iter_rows(locked, None, []))
        with pytest.raises(UserError, match="permission denied"):
            list(read_json_lines(locked, "predictions"))
    finally:
        locked.chmod(0o600)


# ---------------------------------------------------------------- values JSON text does not hold


@pytest.mark.parametrize("value, reason", [
    ("NaN", NOT_JSON), ("Infinity", NOT_JSON), ("-Infinity", NOT_JSON),
    ("1" * 4301, "a number of 4301 digits (more than Python reads; not a real record)"),
    ("1e400", "a number too big for a float (it would read as inf)"), ("-" + "9" * 400 + ".5", "a number too big for a float"),
])
@pytest.mark.parametrize("indent", [None, 4])
def test_nan_infinity_and_huge_integers_are_counted_skips(tmp_path, value, reason, indent):
    records = [CHIP[0], {"text": "右侧输尿管结石", "normalized_result": "@"}, CHIP[1]]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(records, ensure_ascii=False, indent=indent).replace('"@"', value), encoding="utf-8")
    rows = plain(iter_json(path))
    reason = rows[1][1][1] if reason == "a number too big for a float" else reason
    assert [data for _, data in rows] == [CHIP[0], ("skip", reason), CHIP[1]]
    saved, json_fast.orjson = json_fast.orjson, None
    try:
        assert plain(iter_json(path)) == rows  # the exact scanner alone gives the same
    finally:
        json_fast.orjson = saved
    lines = tmp_path / "a.jsonl"
    lines.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).replace('"@"', value),
                     encoding="utf-8")
    assert plain(iter_json(lines)) == [("line 1", CHIP[0]), ("line 2", ("skip", reason)), ("line 3", CHIP[1])]
    zipped = tmp_path / "a.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(path, "data/a.json")
    assert [data for _, data in plain(iter_zip(zipped))] == [CHIP[0], ("skip", reason), CHIP[1]]


def test_nan_inside_an_object_of_records_is_a_skip_and_the_rest_is_read(tmp_path):
    path = tmp_path / "imcs.json"
    path.write_text('{"1": {"self_report": NaN}, "2": {"self_report": "咳嗽"}}', encoding="utf-8")
    assert plain(iter_json(path)) == [("record '1' (line 1)", ("skip", NOT_JSON)),
                                      ("record '2' (line 1)", {"self_report": "咳嗽"})]


def test_a_huge_integer_across_the_scanners_buffer_is_read_to_its_end(tmp_path, monkeypatch):
    from llamafactory_domains.plugin.io import json_exact

    path = tmp_path / "a.json"
    path.write_text('[{"a": 1}, {"n": ' + "7" * 9000 + '}, {"b": 2}]', encoding="utf-8")
    monkeypatch.setattr(json_fast, "orjson", None)
    monkeypatch.setattr(json_exact, "CHUNK", 64)
    assert [data for _, data in plain(iter_json(path))] == [
        {"a": 1}, ("skip", "a number of 9000 digits (more than Python reads; not a real record)"), {"b": 2}]


@pytest.mark.parametrize("line, problem", [
    ('{"prompt": "p", "predict": NaN, "label": "x"}', f"not JSON ({NOT_JSON})"),
    ('{"prompt": "p", "predict": ' + "9" * 5000 + ', "label": "x"}', "not JSON (a number of 5000 digits"),
    ('{"prompt": ' + "[" * 50000 + "]" * 50000 + "}", "not JSON (nested too deeply)"),
    ('{"prompt": "p", "predict": "x"', "not JSON (Expecting ',' delimiter)"),
])
def test_the_strict_reader_names_the_line(tmp_path, line, problem):
    path = tmp_path / "generated_predictions.jsonl"
    path.write_text('{"prompt": "p", "predict": "x", "label": "x"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=re.escape(f"generated_predictions.jsonl: line 2: {problem}")):
        list(read_json_lines(path, "predictions"))


def test_the_strict_reader_still_reads_a_lone_surrogate_escape(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "p", "predict": "\\ud83d", "label": "x"}\n', encoding="utf-8")
    assert list(read_json_lines(path, "predictions")) == [(1, {"prompt": "p", "predict": "\ud83d", "label": "x"})]


def test_a_broken_first_line_of_jsonl_named_json_is_a_skipped_line(tmp_path):
    path = tmp_path / "llama_data.json"
    path.write_text('{"instruction": "a", "output": "b"\n{"instruction": "c", "output": "d"}\n'
                    '{"instruction": "e", "output": "f"}\n', encoding="utf-8")
    rows = plain(iter_json(path))
    assert rows[0] == ("line 1", ("skip", "invalid JSON line (Expecting ',' delimiter)"))
    assert [location for location, _ in rows] == ["line 1", "line 2", "line 3"]
    # one JSON value over several lines is still one value
    assert not looks_like_jsonl('{\n    "a": {"x": 1},\n    "b": 2\n}\n')
    assert not looks_like_jsonl('{"a":\n1}\n')


# ---------------------------------------------------------------- CSV


def test_a_quote_that_runs_to_the_end_is_an_error_at_its_first_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('title,ask,answer\n头痛,"怎么办,休息\n发热,吃药,多喝水\n咳嗽,怎么办,就医\n', encoding="utf-8")
    with pytest.raises(UserError, match="t.csv: line 2: a quoted field opens on this line and never closes"):
        list(iter_csv(path, None, WANTED))
    path.write_text('title,ask,answer\n头痛,怎么办,休息\n发热,吃药,"多喝水', encoding="utf-8")  # no newline at the end
    with pytest.raises(UserError, match="line 3: a quoted field opens"):
        list(iter_csv(path, None, WANTED))


def test_a_record_spanning_lines_is_named_by_its_first_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('title,ask,answer\n头痛,"怎么\n办\n呢",休息\n发热,"吃药\n"\n咳嗽,怎么办,就医\n', encoding="utf-8")
    rows = plain(iter_csv(path, None, WANTED))
    assert [location for location, _ in rows] == ["line 2", "line 5", "line 7"]
    assert rows[1][1] == ("skip", "ragged row (2 fields, header has 3)")


def test_a_field_of_megabytes_is_read(tmp_path):
    path = tmp_path / "t.csv"
    big = "长" * 1_300_000
    path.write_text(f'title,ask,answer\n头痛,"{big}",休息\n发热,吃药,多喝水\n', encoding="utf-8")
    rows = plain(iter_csv(path, None, WANTED))
    assert len(rows) == 2 and rows[0][1]["ask"] == big
    assert csv.field_size_limit() <= path.stat().st_size + 1 or csv.field_size_limit() == 131072


def test_a_duplicated_column_is_refused_naming_both(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("title,ask,answer,ask\n头痛,怎么办,休息,别的\n", encoding="utf-8")
    with pytest.raises(UserError, match="header row: columns 2 and 4 are both named 'ask'; rename or delete one"):
        list(iter_csv(path, None, WANTED))
    book = Workbook()
    book.active.append(["原始词", "标准词", "原始词"])
    book.active.append(["房颤", "心房颤动", "x"])
    book.save(tmp_path / "t.xlsx")
    with pytest.raises(UserError, match="sheet Sheet row 1: columns 1 and 3 are both named '原始词'"):
        list(iter_xlsx(tmp_path / "t.xlsx", [("原始词", "标准词")]))
    path.write_text("title,ask,answer,,\n头痛,怎么办,休息,,\n", encoding="utf-8")  # unnamed columns are not names
    assert len(list(iter_csv(path, None, WANTED))) == 1


def test_a_header_cell_holding_a_newline_stays_on_one_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('"a\nb",c\n1,2\n', encoding="utf-8")
    with pytest.raises(UserError) as err:
        list(iter_csv(path, None, WANTED))
    assert "\n" not in str(err.value) and "runs on to line 2" in str(err.value)


# ---------------------------------------------------------------- workbooks and archives


def test_a_workbook_with_a_cut_sheet_is_one_line(tmp_path):
    book = Workbook()
    book.active.append(["原始词", "标准词"])
    for i in range(200):
        book.active.append(["房颤", f"心房颤动{i}"])
    raw = io.BytesIO()
    book.save(raw)
    source, out = zipfile.ZipFile(raw), tmp_path / "cut.xlsx"
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, data[: len(data) // 2] if info.filename.endswith("sheet1.xml") else data)
    with pytest.raises(UserError, match="cut.xlsx: sheet Sheet: a damaged part of the workbook"):
        list(iter_xlsx(out, [("原始词", "标准词")]))


def test_corrupt_and_encrypted_members_are_one_line(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.json", json.dumps(CHIP * 100, ensure_ascii=False))
    raw = bytearray(path.read_bytes())
    raw[200] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(UserError, match=r"a.zip:a.json: the member is damaged in the archive \(Bad CRC-32"):
        list(iter_zip(path))
    raw[200] ^= 1
    raw[6] |= 1  # the local header's "encrypted" flag
    raw[raw.rfind(b"PK\x01\x02") + 8] |= 1  # and the central directory's
    path.write_bytes(bytes(raw))
    with pytest.raises(UserError, match="a.zip:a.json: the member is encrypted"):
        list(iter_zip(path))


def test_a_json_converter_given_a_table_says_so(tmp_path):
    path = tmp_path / "x.xlsx"
    Workbook().save(path)
    with pytest.raises(UserError, match="x.xlsx: a .xlsx table, but this converter reads JSON"):
        iter_rows(path, None, [])


# ---------------------------------------------------------------- encodings


BIG5 = "高血壓患者能吃黨參嗎？我有高血壓，這兩天女婿來的時候給我拿了些黨參泡水喝，您好高血壓可以吃黨參嗎？頭痛怎麼辦"


def test_big5_is_refused_with_the_flag_and_read_with_it(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(f"title,ask,answer\n頭痛,{BIG5},注意休息\n".encode("big5"))
    with pytest.raises(UserError, match="t.csv: looks like Big5 .*; pass --encoding big5"):
        detect_encoding(path)
    assert plain(iter_csv(path, "big5", WANTED))[0][1]["ask"] == BIG5
    path.write_bytes(f"title,ask,answer\n頭痛,{BIG5},注意休息\n".encode("gb18030"))  # traditional text in GB18030
    assert detect_encoding(path) == "gb18030"


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be")])
def test_utf32_with_a_bom_is_read(tmp_path, bom, codec):
    path = tmp_path / "a.json"
    path.write_bytes(bom + json.dumps(CHIP, ensure_ascii=False).encode(codec))
    assert detect_encoding(path) == "utf-32"
    assert [row.data for row in iter_json(path)] == CHIP


def test_the_suggested_encoding_reads_the_whole_file(tmp_path):
    path = tmp_path / "t.csv"
    head = "".join(f"头痛{i},怎么办,休息。\n" for i in range(5000))
    path.write_bytes(("title,ask,answer\n" + head).encode("utf-8") + b"\xe5\xa4,x,y\n")
    assert first_failure(open(path, "rb"), "utf-8")[:2] == (len(("title,ask,answer\n" + head).encode()), 5002)
    with pytest.raises(UserError) as err:  # UTF-8 Chinese before it: no other encoding is suggested
        list(iter_csv(path, None, WANTED))
    assert "line 5002); the text before it is UTF-8: the file is damaged or mixes encodings" in str(err.value)
    assert "--encoding gb18030" not in str(err.value)
    with pytest.raises(UserError) as err:  # and the once-suggested gb18030 suggests nothing false back
        list(iter_csv(path, "gb18030", WANTED))
    assert "cannot decode as gb18030" in str(err.value) and "pass --encoding utf-8" not in str(err.value)
    path.write_bytes(("title,ask,answer\n" + head).encode("gb18030"))
    with pytest.raises(UserError, match=r"cannot decode as utf-8 .*; pass --encoding gb18030 \(it reads the whole file\)"):
        list(iter_csv(path, "utf-8", WANTED))
