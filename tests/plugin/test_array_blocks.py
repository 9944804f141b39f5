"""The orjson block reader gives exactly what the exact scanner gives: records, skips, locations, errors."""

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llamafactory_domains.plugin import array_blocks, readers
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.readers import Skip, iter_json


def exact_rows(path: Path) -> list:
    """What iter_json reads without the fast path (the exact scanner only)."""
    saved, array_blocks.orjson = array_blocks.orjson, None
    try:
        return [(row.location, _plain(row.data)) for row in iter_json(path)]
    finally:
        array_blocks.orjson = saved


def fast_rows(path: Path) -> list:
    return [(row.location, _plain(row.data)) for row in iter_json(path)]


def _plain(data):
    return ("skip", data.reason) if isinstance(data, Skip) else data


def write(path: Path, records, **dump) -> Path:
    path.write_text(json.dumps(records, **dump), encoding="utf-8")
    return path


RECORDS = [{"instruction": f"问题{i}", "input": "", "output": "回答},\n    {" * (i % 3), "n": i} for i in range(300)]


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(array_blocks, "BLOCK", 256)  # many blocks, and records across their edges


@pytest.mark.parametrize("indent", [None, 0, 2, 4, "\t"])
def test_same_records_and_locations_as_the_exact_scanner(tmp_path, small_blocks, indent):
    path = write(tmp_path / "a.json", RECORDS, ensure_ascii=False, indent=indent)
    assert array_blocks.layout(path) is not None  # the fast path is taken
    assert fast_rows(path) == exact_rows(path)


def test_location_is_worked_out_when_asked(tmp_path, small_blocks):
    path = write(tmp_path / "a.json", RECORDS, ensure_ascii=False, indent=2)
    rows = list(iter_json(path))
    assert rows[3].location == "record 3 (line 20)"  # "[" and 3 records of 6 lines before it
    assert rows[3].location == exact_rows(path)[3][0]
    assert rows[-1].location == exact_rows(path)[-1][0]


@pytest.mark.parametrize("odd, expected", [
    ({"id": 123456789012345678901234567890}, {"id": 123456789012345678901234567890}),  # orjson: a float
    ({"x": float("inf")}, {"x": float("inf")}),  # written as Infinity, which orjson refuses
    ({"text": "\ud83d cut emoji"}, ("skip", readers.LONE_SURROGATE)),
])
def test_what_orjson_reads_differently_goes_to_the_exact_scanner(tmp_path, small_blocks, odd, expected):
    records = RECORDS[:150] + [odd] + RECORDS[150:]
    path = write(tmp_path / "a.json", records, indent=4)  # ASCII escapes, so the lone surrogate can be written
    rows = fast_rows(path)
    assert rows == exact_rows(path)
    assert rows[150][1] == expected and len(rows) == len(records)


def test_irregular_layout_and_huge_records_are_read_exactly(tmp_path, monkeypatch, small_blocks):
    monkeypatch.setattr(array_blocks, "MAX_BLOCK", 1024)
    records = [*RECORDS[:5], {"big": "长" * 5000}, *RECORDS[5:20]]
    text = json.dumps(records, ensure_ascii=False, indent=2).replace('},\n  {"instruction": "问题9"', '},{"instruction": "问题9"')
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    assert fast_rows(path) == exact_rows(path)
    assert len(fast_rows(path)) == len(records)


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.999])
def test_a_truncated_array_fails_as_the_exact_scanner_does(tmp_path, small_blocks, cut):
    whole = json.dumps(RECORDS, ensure_ascii=False, indent=4).encode("utf-8")
    path = tmp_path / "a.json"
    path.write_bytes(whole[: int(len(whole) * cut)])
    with pytest.raises(UserError) as fast:
        fast_rows(path)
    with pytest.raises(UserError) as exact:
        exact_rows(path)
    assert str(fast.value) == str(exact.value)


def test_extra_data_after_the_array_is_an_error(tmp_path, small_blocks):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(RECORDS, indent=4) + "\n[]\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"line \d+\): extra data after the JSON array|extra data after the JSON array"):
        fast_rows(path)


def test_without_orjson_the_exact_scanner_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(array_blocks, "orjson", None)
    path = write(tmp_path / "a.json", RECORDS, ensure_ascii=False, indent=4)
    assert array_blocks.layout(path) is None
    assert [row.data for row in iter_json(path)] == RECORDS


values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)
records = st.lists(st.dictionaries(st.text(max_size=6), values, max_size=4), min_size=2, max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=records, indent=st.sampled_from([None, 1, 4]), ascii_only=st.booleans(),
       block=st.sampled_from([32, 200, 1 << 20]))
def test_any_array_reads_as_the_exact_scanner_reads_it(records, indent, ascii_only, block):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.json"
        try:
            path.write_bytes(json.dumps(records, ensure_ascii=ascii_only, indent=indent).encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate cannot be written unescaped
            return
        saved, array_blocks.BLOCK = array_blocks.BLOCK, block
        try:
            assert fast_rows(path) == exact_rows(path)
        finally:
            array_blocks.BLOCK = saved


def test_parts_of_a_big_array_read_back_every_record(tmp_path, monkeypatch, small_blocks):
    monkeypatch.setattr(readers, "PART_MIN_BYTES", 0)
    path = write(tmp_path / "a.json", RECORDS, ensure_ascii=False, indent=4)
    jsonl, parts = readers.json_parts(path, None, 3)
    assert not jsonl and len(parts) == 3
    got = [row.data for index, part in enumerate(parts)
           for row in readers.iter_json_part(path, part, None, False, index == 0, index == len(parts) - 1)]
    assert got == RECORDS
    assert os.path.getsize(path) == parts[-1][1]


def test_a_bom_and_windows_line_ends(tmp_path, small_blocks):
    path = tmp_path / "a.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(RECORDS, ensure_ascii=False, indent=2).replace("\n", "\r\n").encode())
    assert array_blocks.layout(path) == b",\r\n  "
    assert fast_rows(path) == exact_rows(path)
    assert [data for _, data in fast_rows(path)] == RECORDS


@pytest.mark.parametrize("text", ["[]", "[{\"a\": 1}]", "[{\"a\": 1}, 5, {\"a\": 2}]", "[1, 2]", "{\"k\": {\"a\": 1}}"])
def test_what_is_not_an_array_of_several_objects_is_read_exactly(tmp_path, text):
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    assert array_blocks.layout(path) is None
    assert fast_rows(path) == exact_rows(path)
