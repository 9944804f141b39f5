"""plugin/cleaning/review.py: the sample of `lfd clean --review N` (uniform, seeded) and its workbook, read back."""

import collections
import errno
import io
import random

import pytest
from openpyxl import load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock

from llamafactory_domains.plugin.cleaning.review import (CELL_LIMIT, Item, ReviewSample, review_bytes, spans,
                                                         write_review)
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io.atomic import AtomicFiles

ITEMS = [
    Item(2, {"instruction": "问", "output": "患者王小明，男，电话13812345678。"},
         {"instruction": "问", "output": "患者[姓名]，男，电话[电话]。"}, "privacy: 姓名, 电话"),
    Item(5, {"conversations": [{"from": "human", "value": "我叫李建国"}, {"from": "gpt", "value": "=好的"}]},
         {"conversations": [{"from": "human", "value": "我叫[姓名]"}, {"from": "gpt", "value": "=好的"}]},
         "privacy: 姓名"),
    Item(9, {"instruction": "asdf", "output": "!!!!"}, None, "junk: keyboard mash"),
]


def read(data: bytes):
    return load_workbook(io.BytesIO(data), rich_text=True)["review"]


def runs(value) -> list[tuple[str, str]]:
    """A cell's runs as (text, style): plain, deleted (red struck), inserted (green bold), dropped (red italic)."""
    if not isinstance(value, CellRichText):
        return [(value, "plain")]
    found = []
    for part in value:
        if not isinstance(part, TextBlock):
            found.append((part, "plain"))
            continue
        font = part.font
        colour = font.color.rgb if font.color is not None else None
        style = ("deleted" if font.strike and colour == "FFC00000" else "inserted" if font.b and colour == "FF00803C"
                 else "dropped" if font.i and colour == "FFC00000" else "other")
        found.append((part.text, style))
    return found


def test_spans_rebuild_both_texts():
    rng = random.Random(0)
    for _ in range(200):
        a = "".join(rng.choice("患者王小明，男。13") for _ in range(rng.randrange(40)))
        b = "".join(rng.choice("患者[姓名]，男。") for _ in range(rng.randrange(40)))
        old, new = spans(a, b)
        assert "".join(text for text, _ in old) == a and "".join(text for text, _ in new) == b


def test_long_texts_are_diffed_quickly_and_exactly():
    rng = random.Random(1)
    a = "".join(rng.choice("患者男女岁因发热咳嗽三天入院，。") for _ in range(60_000))
    b = a[:20_000] + "[姓名]" + a[20_003:40_000] + "[电话]" + a[40_011:]
    old, new = spans(a, b)
    assert [text for text, changed in old if changed] == [a[20_000:20_003], a[40_000:40_011]]
    assert [text for text, changed in new if changed] == ["[姓名]", "[电话]"]


def test_the_sheet_highlights_the_changed_spans():
    data, written = review_bytes(ITEMS, "lfd clean data.jsonl", "3 of the 3 records")
    sheet = read(data)
    assert sheet["A1"].value == "lfd clean data.jsonl"
    assert sheet["A2"].value == "3 of the 3 records; 4 rows"
    assert [cell.value for cell in sheet[3]] == ["line", "field", "original", "cleaned", "what changed"]
    assert sheet.freeze_panes == "C4"
    assert written.rows == 4 and written.cut == 0
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [(row[0], row[1]) for row in rows] == [(2, "output"), (5, "conversations[0].value"),
                                                (9, "instruction"), (9, "output")]
    assert runs(rows[0][2]) == [("患者", "plain"), ("王小明", "deleted"), ("，男，电话", "plain"),
                                ("13812345678", "deleted"), ("。", "plain")]
    assert runs(rows[0][3]) == [("患者", "plain"), ("[姓名]", "inserted"), ("，男，电话", "plain"),
                                ("[电话]", "inserted"), ("。", "plain")]
    assert rows[0][4] == "privacy: 姓名, 电话"
    assert runs(rows[1][3]) == [("我叫", "plain"), ("[姓名]", "inserted")]
    # the dropped record: each text of the original, plain, beside the reason
    assert [(row[1], row[2], runs(row[3])) for row in rows[2:]] == [
        ("instruction", "asdf", [("(dropped: junk: keyboard mash)", "dropped")]),
        ("output", "!!!!", [("(dropped: junk: keyboard mash)", "dropped")])]
    assert sheet.cell(4, 3).alignment.wrap_text


def test_unchanged_fields_have_no_row_and_formulas_stay_text():
    sheet = read(review_bytes(ITEMS[1:2], "t")[0])
    assert sheet.max_row == 4  # the unchanged "=好的" turn has no row
    item = Item(1, {"output": "=SUM(A1) _x000D_ 王先生"}, {"output": "=SUM(A1) _x000D_ [姓名]先生"}, None)
    sheet = read(review_bytes([item], "t")[0])
    assert str(sheet["C4"].value) == "=SUM(A1) _x000D_ 王先生" and sheet["C4"].data_type == "s"
    assert sheet["E4"].value == "changed"


def test_texts_over_the_cell_limit_are_cut_with_a_marker():
    long = "头痛" * 20_000  # 40,000 characters
    item = Item(7, {"output": long + "王先生"}, {"output": long + "[姓名]先生"}, "privacy: 姓名")
    data, written = review_bytes([item], "t")
    sheet = read(data)
    for column in ("C4", "D4"):
        text = str(sheet[column].value)
        assert len(text) <= CELL_LIMIT and text.endswith("more characters]")
        assert "…[cut: " in text
    kept = CELL_LIMIT - len("…[cut: 40003 more characters]")  # room left for the marker of the whole length
    assert str(sheet["C4"].value) == long[:kept] + f"…[cut: {40_003 - kept} more characters]"
    assert written.cut == 2 and "2 cells cut" in sheet["A2"].value


def test_the_bytes_are_the_same_every_time(tmp_path):
    first = review_bytes(ITEMS, "t", "n")[0]
    assert review_bytes(ITEMS, "t", "n")[0] == first
    with AtomicFiles() as out:
        write_review(out.open(tmp_path / "a.xlsx", binary=True), ITEMS, "t", "n")
        out.commit()
    write_review(tmp_path / "b.xlsx", ITEMS, "t", "n")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes() == first


def offer_all(sample: ReviewSample, eligible: int, unchanged_every: int = 3) -> None:
    line = 0
    for i in range(eligible):
        for _ in range(unchanged_every - 1):
            line += 1
            sample.offer(line, {"output": "same"}, {"output": "same"})
        line += 1
        sample.offer(line, {"output": f"王{i}"}, None if i % 2 else {"output": "[姓名]"}, "r")


def test_the_sample_is_seeded_and_only_of_changed_or_dropped_records():
    one, two = ReviewSample(4, seed=7), ReviewSample(4, seed=7)
    offer_all(one, 30)
    offer_all(two, 30)
    assert one.items() == two.items() and len(one.items()) == 4
    assert [item.line for item in one.items()] == sorted(item.line for item in one.items())
    assert all(item.line % 3 == 0 for item in one.items())
    assert (one.eligible, one.offered) == (30, 90)
    assert one.describe() == ("4 of the 30 records the cleaning changed or dropped (of 90 read), drawn at random "
                              "with seed 7")
    small = ReviewSample(10)
    offer_all(small, 3)
    assert len(small.items()) == 3


def test_a_kept_record_is_a_copy():
    sample = ReviewSample(1)
    record = {"output": "王先生"}
    sample.offer(1, record, {"output": "[姓名]先生"})
    record["output"] = "changed later"
    assert sample.items()[0].original == {"output": "王先生"}


def test_the_sample_is_uniform():
    """Each of 10 eligible records is in a sample of 3 with probability 0.3 (4,000 seeds: within 4 sigma)."""
    counts: collections.Counter = collections.Counter()
    seeds = 4_000
    for seed in range(seeds):
        sample = ReviewSample(3, seed=seed)
        offer_all(sample, 10, unchanged_every=1)
        counts.update(item.line for item in sample.items())
    sigma = (seeds * 0.3 * 0.7) ** 0.5
    assert sorted(counts) == list(range(1, 11))
    assert all(abs(count - seeds * 0.3) < 4 * sigma for count in counts.values()), counts


def test_a_negative_size_is_refused():
    with pytest.raises(ValueError):
        ReviewSample(-1)


def test_a_failed_write_is_one_line_naming_the_file():
    class Full(io.BytesIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(UserError, match="no space left .* writing review.xlsx"):
        write_review(Full(), ITEMS, "t", shown="review.xlsx")
