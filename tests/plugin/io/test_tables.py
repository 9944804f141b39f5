"""Tables: CSV rows, the header sheet of a workbook, the wanted Markdown table; ragged rows and Excel error
values are skips."""

import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io.dispatch import iter_rows
from llamafactory_domains.plugin.io.rows import Skip
from llamafactory_domains.plugin.io.tables import iter_csv, iter_xlsx
from openpyxl import Workbook


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


def test_xlsx_error_values_in_a_wanted_column_are_skips_with_their_record(tmp_path):
    """A failed formula's cached value (#N/A, #REF!) would become a standard term: it is a counted skip."""
    book = Workbook()
    book.active.append(["原始词", "标准词", "备注"])
    book.active.append(["房颤", "#N/A", ""])
    book.active.append(["#REF!", "心力衰竭", ""])
    book.active.append(["心衰", "心力衰竭", "#DIV/0!"])  # a column no converter reads keeps its row
    path = tmp_path / "n7k.xlsx"
    book.save(path)
    rows = list(iter_xlsx(path, [("原始词", "标准词")]))
    assert [type(r.data) for r in rows] == [Skip, Skip, dict]
    assert rows[0].data.reason.startswith("an Excel error value (#N/A, #REF!, ...) in a required column")
    assert rows[0].data.record == {"原始词": "房颤", "标准词": "#N/A", "备注": ""}
    assert rows[2].data == {"原始词": "心衰", "标准词": "心力衰竭", "备注": "#DIV/0!"}


def test_csv_saved_from_excel_keeps_error_values_which_are_skips(tmp_path):
    path = tmp_path / "n7k.csv"
    path.write_text("原始词,标准词,备注\n房颤, #N/A ,\n心衰,心力衰竭,#VALUE!\n#号,#号病,\n", encoding="utf-8")
    rows = list(iter_csv(path, None, [("原始词", "标准词")]))
    assert isinstance(rows[0].data, Skip) and rows[0].data.record == {"原始词": "房颤", "标准词": " #N/A ", "备注": ""}
    assert rows[1].data["备注"] == "#VALUE!" and rows[2].data == {"原始词": "#号", "标准词": "#号病", "备注": ""}


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
