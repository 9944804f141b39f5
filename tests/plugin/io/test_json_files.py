"""JSON files read whole: arrays, objects of records, JSONL (whatever the suffix says), errors."""

import json

import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io.json_files import iter_json
from llamafactory_domains.plugin.io.rows import Skip

RECORDS = [{"text": f"词{i}", "normalized_result": "甲##乙", "n": i * 1.5} for i in range(50)]


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
