"""The exact JSON scanner: records and their locations, in reads of any size."""

import io
import json

import pytest
from llamafactory_domains.plugin.io.json_exact import (
    LONE_SURROGATE,
    Scanner,
    json_container,
)
from llamafactory_domains.plugin.io.rows import Skip
from llamafactory_domains.plugin.io.text import Decoded

RECORDS = [{"text": f"词{i}", "normalized_result": "甲##乙", "n": i * 1.5} for i in range(50)]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_json_array_streams_in_any_chunk_size(tmp_path, chunk):
    text = json.dumps(RECORDS, ensure_ascii=False, indent=2)
    rows = list(json_container(Scanner(io.StringIO(text), tmp_path / "x.json", chunk=chunk), tmp_path / "x.json"))
    assert [r.data for r in rows] == RECORDS
    assert rows[3].location == "record 3 (line 17)"  # "[" + 3 records of 5 lines each


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 13])
def test_a_cut_emoji_is_a_skip_whatever_size_the_reads_are(tmp_path, chunk):
    """Reads of any size (the scanner is told from the bytes where a \\u escape may be): a lone
    surrogate is a counted skip, a whole emoji and an escaped backslash read as they are."""
    path = tmp_path / "a.json"
    path.write_text('[{"a": "好"}, {"a": "x\\ud83d"}, {"a": "\\ud83d\\ude00"}, {"a": "\\\\u5b"}]', encoding="utf-8")
    with Decoded(open(path, "rb"), "utf-8") as stream:
        rows = list(json_container(Scanner(stream, path, chunk=chunk), path))
    assert rows[0].data == {"a": "好"} and rows[2].data == {"a": "😀"} and rows[3].data == {"a": "\\u5b"}
    assert isinstance(rows[1].data, Skip) and rows[1].data.reason == LONE_SURROGATE
