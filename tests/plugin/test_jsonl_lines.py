"""The orjson line reader gives exactly what the text path gives: records, skips, line numbers, errors."""

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llamafactory_domains.plugin import array_blocks, readers
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.readers import Skip, iter_json


def rows(path: Path, fast: bool) -> list:
    saved = array_blocks.orjson
    if not fast:
        array_blocks.orjson = None  # the text path: TextIOWrapper lines and json.loads
    try:
        return [(row.location, ("skip", row.data.reason) if isinstance(row.data, Skip) else row.data)
                for row in iter_json(path)]
    finally:
        array_blocks.orjson = saved


def same_as_text_path(path: Path) -> list:
    fast = rows(path, True)
    assert fast == rows(path, False)
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
    assert got[5][1] == ("skip", readers.LONE_SURROGATE)


def test_decoding_errors_are_the_text_paths_or_closer(tmp_path):
    """Past the sniffed 64 KB: a character cut at the end of the file is named as the text path names it;
    an invalid byte mid-file is named after the line before it (the text path names an earlier one,
    where its 8 KB piece of text starts)."""
    head = "".join(json.dumps({"a": f"第{i}条"}, ensure_ascii=False) + "\n" for i in range(5000)).encode()
    path = tmp_path / "a.jsonl"
    path.write_bytes(head + b'{"a": "\xe4\xb8')
    for fast in (True, False):
        with pytest.raises(UserError, match="ends in the middle of a character after line 5000: the file is truncated"):
            rows(path, fast)
    path.write_bytes(head + b'{"a": "\xff"}\n{"b": 1}\n')
    with pytest.raises(UserError, match="cannot decode as utf-8 after line 5000; pass --encoding gb18030"):
        rows(path, True)
    with pytest.raises(UserError, match=r"cannot decode as utf-8 after line \d+; pass --encoding gb18030"):
        rows(path, False)


LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", ""])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)
LINE = st.one_of(
    st.tuples(st.dictionaries(st.text(max_size=5), VALUES, max_size=3), st.booleans()).map(
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
                rows(path, False)
            assert str(text_path.value) == str(err)


def test_parts_of_a_big_jsonl_read_back_every_line(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "PART_MIN_BYTES", 0)
    records = [{"input": f"问题{i}", "output": "回答\r\n" * (i % 3)} for i in range(500)]
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    jsonl, parts = readers.json_parts(path, None, 3)
    assert jsonl and len(parts) == 3
    got = [row.data for index, part in enumerate(parts)
           for row in readers.iter_json_part(path, part, None, True, index == 0, index == len(parts) - 1)]
    assert got == records
