import io
import json

import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.readers import (
    Skip,
    _json_container,
    _Scanner,
    detect_encoding,
    iter_csv,
    iter_json,
    iter_rows,
    iter_xlsx,
)
from openpyxl import Workbook

RECORDS = [{"text": f"词{i}", "normalized_result": "甲##乙", "n": i * 1.5} for i in range(50)]


def values(rows):
    return [row.data for row in rows]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_json_array_streams_in_any_chunk_size(tmp_path, chunk):
    text = json.dumps(RECORDS, ensure_ascii=False, indent=2)
    rows = list(_json_container(_Scanner(io.StringIO(text), tmp_path / "x.json", chunk=chunk), tmp_path / "x.json"))
    assert [r.data for r in rows] == RECORDS
    assert rows[3].location == "record 3 (line 17)"  # "[" + 3 records of 5 lines each


def test_json_object_of_records_yields_keyed_values(tmp_path):
    path = tmp_path / "imcs.json"
    path.write_text(json.dumps({"101": {"a": 1}, "102": {"a": 2}}), encoding="utf-8")
    rows = list(iter_json(path))
    assert [r.data for r in rows] == [{"a": 1}, {"a": 2}]
    assert rows[1].location.startswith("record '102'")


def test_jsonl_despite_json_extension_and_bad_line_is_a_counted_skip(tmp_path):
    path = tmp_path / "llama_data.json"
    path.write_text('{"a": 1}\n{"a": \n\n{"a": 3}\n', encoding="utf-8")
    rows = list(iter_json(path))
    assert rows[0].data == {"a": 1} and rows[2].data == {"a": 3}
    assert isinstance(rows[1].data, Skip) and rows[1].location == "line 2"


def test_truncated_json_array_names_the_record_and_line(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(RECORDS[:3], indent=1)[:-40], encoding="utf-8")
    with pytest.raises(UserError, match=r"cut.json: .*record 2 \(line \d+\).*truncated"):
        list(iter_json(path))


def test_not_json_at_all(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(UserError, match="expected a JSON array or object"):
        list(iter_json(path))


def test_empty_array_and_bom(tmp_path):
    path = tmp_path / "e.json"
    path.write_bytes(b"\xef\xbb\xbf[ ]")
    assert list(iter_json(path)) == []


def test_gb18030_is_detected_and_wrong_encoding_suggests_the_flag(tmp_path):
    path = tmp_path / "内科.csv"
    path.write_bytes("department,title,ask,answer\n心血管科,高血压,头晕,\"多休息\n低盐\"\n".encode("gb18030"))
    assert detect_encoding(path) == "gb18030"
    rows = values(iter_csv(path, None, [("title", "ask")]))
    assert rows == [{"department": "心血管科", "title": "高血压", "ask": "头晕", "answer": "多休息\n低盐"}]
    with pytest.raises(UserError, match="cannot decode as utf-8.*--encoding gb18030"):
        list(iter_csv(path, "utf-8", [("title", "ask")]))


def test_csv_ragged_rows_are_skips_and_missing_header_is_an_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("原始词,标准词\r\n甲,乙\r\n丙\r\n丁,戊\r\n", encoding="utf-8")
    rows = list(iter_csv(path, None, [("原始词", "标准词")]))
    assert rows[0].data == {"原始词": "甲", "标准词": "乙"} and rows[2].data["原始词"] == "丁"
    assert isinstance(rows[1].data, Skip) and rows[1].location == "line 3"
    with pytest.raises(UserError, match="header has no text/normalized_result columns \\(found: 原始词, 标准词\\)"):
        list(iter_csv(path, None, [("text", "normalized_result")]))


def test_xlsx_finds_the_header_sheet_and_names_sheets_when_none_match(tmp_path):
    book = Workbook()
    book.active.title = "说明"
    book.active.append(["本表为术语标准化数据"])
    sheet = book.create_sheet("数据")
    sheet.append(["导出时间", "2024"])
    sheet.append(["原始词", "标准词"])
    sheet.append(["房颤", "心房颤动"])
    sheet.append([None, None])
    sheet.append(["心衰", 123])
    path = tmp_path / "n7k.xlsx"
    book.save(path)
    rows = list(iter_xlsx(path, [("原始词", "标准词")]))
    assert [r.data for r in rows] == [{"原始词": "房颤", "标准词": "心房颤动"}, {"原始词": "心衰", "标准词": "123"}]
    assert rows[0].location == "sheet 数据 row 3"
    with pytest.raises(UserError, match="no sheet has a text/x header \\(sheet 说明: 本表为术语标准化数据; sheet 数据: 导出时间, 2024\\)"):
        list(iter_xlsx(path, [("text", "x")]))


def test_not_an_xlsx_and_unknown_suffix_and_missing_file(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip")
    with pytest.raises(UserError, match="not a readable .xlsx workbook"):
        list(iter_rows(fake, None, [("a",)]))
    with pytest.raises(UserError, match="unsupported file type .doc"):
        iter_rows(fake.rename(tmp_path / "x.doc"), None, [("a",)])
    with pytest.raises(UserError, match="no such file"):
        iter_rows(tmp_path / "missing.json", None, [])


def write_zip(path, members):
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zip_member_is_streamed_by_file_name_without_extracting(tmp_path):
    records = {"101": {"a": 1}, "102": {"a": 2}}
    path = write_zip(tmp_path / "IMCS-V2-MRG.zip", {
        "IMCS-V2-MRG/IMCS-V2_train.json": json.dumps(records, indent=1),
        "IMCS-V2-MRG/IMCS-V2_dev.json": json.dumps({"201": {"a": 3}}),
        "__MACOSX/IMCS-V2-MRG/._IMCS-V2_train.json": b"\x00\x05\x16\x07",
        "IMCS-V2-MRG/README.md": "说明",
    })
    rows = list(iter_rows(path, None, [], member="IMCS-V2_train.json"))
    assert values(rows) == [{"a": 1}, {"a": 2}]
    assert rows[1].location == "IMCS-V2-MRG/IMCS-V2_train.json record '102' (line 5)"
    assert values(iter_rows(path, None, [], member="IMCS-V2-MRG/IMCS-V2_dev.json")) == [{"a": 3}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["IMCS-V2-MRG.zip"]


def test_zip_jsonl_and_gb18030_members_and_the_only_json_member_by_default(tmp_path):
    path = write_zip(tmp_path / "data.zip", {
        "llama_data.json": '{"q": "头痛"}\n{"q": \n{"q": "发热"}\n'.encode("gb18030"), "notes.txt": "x"})
    rows = list(iter_rows(path, None, []))
    assert rows[0].data == {"q": "头痛"} and rows[2].data == {"q": "发热"}
    assert isinstance(rows[1].data, Skip) and rows[1].location == "llama_data.json line 2"


def test_zip_without_the_member_lists_what_it_holds(tmp_path):
    path = write_zip(tmp_path / "IMCS-V2-MRG.zip", {"a/IMCS-V2_train.json": "{}", "a/IMCS-V2_dev.json": "{}"})
    with pytest.raises(UserError, match=r"IMCS-V2-MRG.zip: has no member 'IMCS-V2_test.json' \(it holds: "
                                        r"a/IMCS-V2_train.json, a/IMCS-V2_dev.json\); pass --test-member with"):
        list(iter_rows(path, None, [], member="IMCS-V2_test.json", member_option="--test-member"))
    with pytest.raises(UserError, match="holds 2 JSON members, not one .*; unzip it and pass the file you want"):
        list(iter_rows(path, None, []))
    with pytest.raises(UserError, match=r"member a/x.csv is not .json/.jsonl"):
        list(iter_rows(write_zip(tmp_path / "t.zip", {"a/x.csv": "a,b"}), None, [], member="x.csv"))


def test_broken_zip_and_broken_json_member_name_the_member(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_text("not a zip")
    with pytest.raises(UserError, match="fake.zip: not a readable .zip archive"):
        list(iter_rows(fake, None, []))
    path = write_zip(tmp_path / "cut.zip", {"d/cut.json": json.dumps(RECORDS[:3], indent=1)[:-40]})
    with pytest.raises(UserError, match=r"cut.zip:d/cut.json: .*record 2 \(line \d+\).*truncated"):
        list(iter_rows(path, None, []))


MARKDOWN_BANK = """\
# 题库

| 说明 | 备注 |
| --- | --- |
| 不是题目表 | 跳过 |

```
| 题型 | 题目内容 |
| --- | --- |
| 代码块里的表 | 不算 |
```

| 题型 | 题目内容 | 选项 |
|:---|:---:|---:|
| 单选题 | 应穿（　　）。 | A. 雨鞋,B. 绝缘靴 |
| 判断题 | 只有两格 |
|  |  |  |
| 多选题 | 竖线 \\| 与<br>换行 | A. 甲,B. 乙 |

| 题型 | 题目内容 | 选项 |
| --- | --- | --- |
| 第二张表 | 不读 | x |
"""


def test_markdown_reads_the_first_table_with_the_wanted_header(tmp_path):
    path = tmp_path / "bank.md"
    path.write_text(MARKDOWN_BANK, encoding="utf-8")
    rows = list(iter_rows(path, None, [("题型", "题目内容")]))
    assert [r.location for r in rows] == ["line 15", "line 16", "line 18"]
    assert rows[0].data == {"题型": "单选题", "题目内容": "应穿（　　）。", "选项": "A. 雨鞋,B. 绝缘靴"}
    assert isinstance(rows[1].data, Skip) and rows[1].data.reason == "ragged row (2 cells, header has 3)"
    assert rows[2].data["题目内容"] == "竖线 | 与\n换行"


def test_markdown_without_the_header_lists_the_tables_it_found(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(MARKDOWN_BANK, encoding="gb18030")  # encodings are detected as for CSV
    with pytest.raises(UserError, match=r"no Markdown table has a 专业/题型 header \(found: 说明, 备注; 题型, 题目内容, 选项\)"):
        list(iter_rows(path, None, [("专业", "题型")]))
    path.write_text("只有文字，没有表格。\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"notes.md: no Markdown table .*\(found: no table\)"):
        list(iter_rows(path, None, [("题型",)]))


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 13])
def test_a_cut_emoji_is_a_skip_whatever_size_the_reads_are(tmp_path, chunk):
    """Reads of any size (the scanner is told from the bytes where a \\u escape may be): a lone
    surrogate is a counted skip, a whole emoji and an escaped backslash read as they are."""
    from llamafactory_domains.plugin.readers import LONE_SURROGATE, _Decoded

    path = tmp_path / "a.json"
    path.write_text('[{"a": "好"}, {"a": "x\\ud83d"}, {"a": "\\ud83d\\ude00"}, {"a": "\\\\u5b"}]', encoding="utf-8")
    with _Decoded(open(path, "rb"), "utf-8") as stream:
        rows = list(_json_container(_Scanner(stream, path, chunk=chunk), path))
    assert rows[0].data == {"a": "好"} and rows[2].data == {"a": "😀"} and rows[3].data == {"a": "\\u5b"}
    assert isinstance(rows[1].data, Skip) and rows[1].data.reason == LONE_SURROGATE
