"""The orjson fast paths give exactly what the exact reading gives: records, skips, locations, errors.

Arrays: the block reader against the exact scanner. JSONL: the line reader against the text path.
"""

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io import json_fast, json_files
from llamafactory_domains.plugin.io.json_exact import LONE_SURROGATE
from llamafactory_domains.plugin.io.json_files import iter_json
from llamafactory_domains.plugin.io.rows import Skip

# ---------------------------------------------------------------- JSON arrays, a block at a time


def exact_rows(path: Path) -> list:
    """What iter_json reads without the fast path (the exact scanner only)."""
    saved, json_fast.orjson = json_fast.orjson, None
    try:
        return [(row.location, _plain(row.data)) for row in iter_json(path)]
    finally:
        json_fast.orjson = saved


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
    monkeypatch.setattr(json_fast, "BLOCK", 256)  # many blocks, and records across their edges


@pytest.mark.parametrize("indent", [None, 0, 2, 4, "\t"])
def test_same_records_and_locations_as_the_exact_scanner(tmp_path, small_blocks, indent):
    path = write(tmp_path / "a.json", RECORDS, ensure_ascii=False, indent=indent)
    assert json_fast.layout(path) is not None  # the fast path is taken
    assert fast_rows(path) == exact_rows(path)


def test_location_is_worked_out_when_asked(tmp_path, small_blocks):
    path = write(tmp_path / "a.json", RECORDS, ensure_ascii=False, indent=2)
    rows = list(iter_json(path))
    assert rows[3].location == "record 3 (line 20)"  # "[" and 3 records of 6 lines before it
    assert rows[3].location == exact_rows(path)[3][0]
    assert rows[-1].location == exact_rows(path)[-1][0]


@pytest.mark.parametrize("odd, expected", [
    ({"id": 123456789012345678901234567890}, {"id": 123456789012345678901234567890}),  # orjson: a float
    # written as Infinity, which orjson refuses; not JSON: a counted skip both ways (issue 14)
    ({"x": float("inf")}, ("skip", "NaN/Infinity is not JSON text")),
    ({"text": "\ud83d cut emoji"}, ("skip", LONE_SURROGATE)),
])
def test_what_orjson_reads_differently_goes_to_the_exact_scanner(tmp_path, small_blocks, odd, expected):
    records = RECORDS[:150] + [odd] + RECORDS[150:]
    path = write(tmp_path / "a.json", records, indent=4)  # ASCII escapes, so the lone surrogate can be written
    rows = fast_rows(path)
    assert rows == exact_rows(path)
    assert rows[150][1] == expected and len(rows) == len(records)
    assert rows[151][1] == records[151]  # read on after it


@pytest.mark.parametrize("value, reason", [
    ("9" * 5000, "a number of 5000 digits (more than Python reads; not a real record)"),
    ("-" + "1" * 4301, "a number of 4301 digits (more than Python reads; not a real record)"),
    ("NaN", "NaN/Infinity is not JSON text"), ("-Infinity", "NaN/Infinity is not JSON text"),
    ("[" * 5000 + "]" * 5000, None),  # deeper than the recursion limit: an error naming the record
    ("[" * 1000 + "]" * 1000, None),  # orjson reads it, the exact scanner cannot: the same error both ways
])
def test_values_python_cannot_hold_are_skips_or_errors_both_ways(tmp_path, small_blocks, value, reason):
    records = RECORDS[:150] + [{"odd": "@ODD@"}] + RECORDS[150:]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(records, indent=4).replace('"@ODD@"', value), encoding="utf-8")
    if reason is None:
        with pytest.raises(UserError) as fast:
            fast_rows(path)
        with pytest.raises(UserError) as exact:
            exact_rows(path)
        assert str(fast.value) == str(exact.value)
        assert "record 150 (line 902): nested too deeply to read" in str(fast.value)
        return
    rows = fast_rows(path)
    assert rows == exact_rows(path)
    assert rows[150] == ("record 150 (line 902)", ("skip", reason)) and len(rows) == len(RECORDS) + 1
    lines = tmp_path / "a.jsonl"
    lines.write_text('{"a": 1}\n{"odd": ' + value + '}\n{"b": 2}\n', encoding="utf-8")
    if reason is not None:
        assert same_as_text_path(lines) == [("line 1", {"a": 1}), ("line 2", ("skip", reason)), ("line 3", {"b": 2})]


def test_irregular_layout_and_huge_records_are_read_exactly(tmp_path, monkeypatch, small_blocks):
    monkeypatch.setattr(json_fast, "MAX_BLOCK", 1024)
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
    monkeypatch.setattr(json_fast, "orjson", None)
    path = write(tmp_path / "a.json", RECORDS, ensure_ascii=False, indent=4)
    assert json_fast.layout(path) is None
    assert [row.data for row in iter_json(path)] == RECORDS


ARRAY_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)
ARRAYS = st.lists(st.dictionaries(st.text(max_size=6), ARRAY_VALUES, max_size=4), min_size=2, max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=ARRAYS, indent=st.sampled_from([None, 1, 4]), ascii_only=st.booleans(),
       block=st.sampled_from([32, 200, 1 << 20]))
def test_any_array_reads_as_the_exact_scanner_reads_it(records, indent, ascii_only, block):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.json"
        try:
            path.write_bytes(json.dumps(records, ensure_ascii=ascii_only, indent=indent).encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate cannot be written unescaped
            return
        saved, json_fast.BLOCK = json_fast.BLOCK, block
        try:
            assert fast_rows(path) == exact_rows(path)
        finally:
            json_fast.BLOCK = saved


def test_parts_of_a_big_array_read_back_every_record(tmp_path, monkeypatch, small_blocks):
    monkeypatch.setattr(json_files, "PART_MIN_BYTES", 0)
    path = write(tmp_path / "a.json", RECORDS, ensure_ascii=False, indent=4)
    jsonl, parts = json_files.json_parts(path, None, 3)
    assert not jsonl and len(parts) == 3
    got = [row.data for index, part in enumerate(parts)
           for row in json_files.iter_json_part(path, part, None, False, index == 0, index == len(parts) - 1)]
    assert got == RECORDS
    assert os.path.getsize(path) == parts[-1][1]


def test_a_bom_and_windows_line_ends(tmp_path, small_blocks):
    path = tmp_path / "a.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(RECORDS, ensure_ascii=False, indent=2).replace("\n", "\r\n").encode())
    assert json_fast.layout(path) == b",\r\n  "
    assert fast_rows(path) == exact_rows(path)
    assert [data for _, data in fast_rows(path)] == RECORDS


@pytest.mark.parametrize("text", ["[]", "[{\"a\": 1}]", "[{\"a\": 1}, 5, {\"a\": 2}]", "[1, 2]", "{\"k\": {\"a\": 1}}"])
def test_what_is_not_an_array_of_several_objects_is_read_exactly(tmp_path, text):
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    assert json_fast.layout(path) is None
    assert fast_rows(path) == exact_rows(path)


# ---------------------------------------------------------------- JSONL, a line at a time


def read_lines(path: Path, fast: bool) -> list:
    saved = json_fast.orjson
    if not fast:
        json_fast.orjson = None  # the text path: TextIOWrapper lines and json.loads
    try:
        return [(row.location, ("skip", row.data.reason) if isinstance(row.data, Skip) else row.data)
                for row in iter_json(path)]
    finally:
        json_fast.orjson = saved


def same_as_text_path(path: Path) -> list:
    fast = read_lines(path, True)
    assert fast == read_lines(path, False)
    return fast


def test_odd_lines_read_as_the_text_path_reads_them(tmp_path):
    lines = [
        b'\xef\xbb\xbf{"input": "\xe9\xad\x8f\xe6\x9f\x90", "output": "a"}\r\n',  # BOM, CRLF
        b"\n", b"   \t\n",  # blank lines are not records, but are counted
        b'{"a": 1}\r{"b": 2}\n',  # a lone CR ends a line too
        b'{"id": 123456789012345678901234567890}\n',  # orjson: a float
        b'{"x": NaN}\n',  # orjson refuses it; json reads it
        b'{"t": "\\ud83d cut"}\n',  # a lone surrogate: a counted skip
        b'{"broken": \n',
        "\u3000\n".encode(),  # a line of a full-width space is blank for the text path
        b'\xef\xbb\xbf{"mid": "bom"}\n',  # a BOM mid-file is not data: an invalid line
        b'[1, 2]\n', b'5\n',
        b'{"last": "no newline"}\r',
    ]
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"".join(lines))
    got = same_as_text_path(path)
    assert [location for location, _ in got] == [f"line {n}" for n in (1, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14)]
    assert got[3][1] == {"id": 123456789012345678901234567890}
    assert got[5][1] == ("skip", LONE_SURROGATE)


def test_decoding_errors_are_the_text_paths_or_closer(tmp_path):
    """Past the sniffed 64 KB: a character cut at the end of the file is named as the text path names it;
    an invalid byte mid-file is named after the line before it (the text path names an earlier one,
    where its 8 KB piece of text starts)."""
    head = "".join(json.dumps({"a": f"第{i}条"}, ensure_ascii=False) + "\n" for i in range(5000)).encode()
    path = tmp_path / "a.jsonl"
    path.write_bytes(head + b'{"a": "\xe4\xb8')
    for fast in (True, False):
        with pytest.raises(UserError, match="ends in the middle of a character after line 5000: the file is truncated"):
            read_lines(path, fast)
    path.write_bytes(head + b'{"a": "\xff"}\n{"b": 1}\n')
    # the suggestion is true (issue 14): the text before the byte is UTF-8 Chinese, so no other encoding
    # reads the file; the byte and its line are named exactly both ways
    damaged = r"\(byte 98897, line 5001\); the text before it is UTF-8: the file is damaged or mixes encodings"
    with pytest.raises(UserError, match="cannot decode as utf-8 after line 5000 " + damaged):
        read_lines(path, True)
    with pytest.raises(UserError, match=r"cannot decode as utf-8 after line \d+ " + damaged):
        read_lines(path, False)


LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", ""])
LINE_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)
LINE = st.one_of(
    st.tuples(st.dictionaries(st.text(max_size=5), LINE_VALUES, max_size=3), st.booleans()).map(
        lambda pair: json.dumps(pair[0], ensure_ascii=pair[1])),
    st.sampled_from(["", " ", "\u3000", "{", '{"a": }', "[]", "\ufeff{}", '"\\ud800"']))


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.tuples(LINE, LINE_ENDS), min_size=2, max_size=12), bom=st.booleans())
def test_any_jsonl_reads_as_the_text_path_reads_it(lines, bom):
    text = "".join(line + end for line, end in lines)
    if not text.strip() or text.lstrip().startswith(("[", '"')) or "\n" not in text.strip():
        return  # not JSONL (iter_json would read it as one JSON value)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.jsonl"
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in an unescaped text cannot be in a UTF-8 file
            return
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        try:
            same_as_text_path(path)
        except UserError as err:  # the same error both ways
            with pytest.raises(UserError) as text_path:
                read_lines(path, False)
            assert str(text_path.value) == str(err)


def test_parts_of_a_big_jsonl_read_back_every_line(tmp_path, monkeypatch):
    monkeypatch.setattr(json_files, "PART_MIN_BYTES", 0)
    records = [{"input": f"问题{i}", "output": "回答\r\n" * (i % 3)} for i in range(500)]
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    jsonl, parts = json_files.json_parts(path, None, 3)
    assert jsonl and len(parts) == 3
    got = [row.data for index, part in enumerate(parts)
           for row in json_files.iter_json_part(path, part, None, True, index == 0, index == len(parts) - 1)]
    assert got == records
