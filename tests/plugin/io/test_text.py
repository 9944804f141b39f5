"""Encodings: detected, and a wrong one named in an error that suggests --encoding."""

import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io.tables import iter_csv
from llamafactory_domains.plugin.io.text import detect_encoding


def values(rows):
    return [row.data for row in rows]


def test_gb18030_is_detected_and_wrong_encoding_suggests_the_flag(tmp_path):
    path = tmp_path / "内科.csv"
    path.write_bytes("department,title,ask,answer\n心血管科,高血压,头晕,\"多休息\n低盐\"\n".encode("gb18030"))
    assert detect_encoding(path) == "gb18030"
    rows = values(iter_csv(path, None, [("title", "ask")]))
    assert rows == [{"department": "心血管科", "title": "高血压", "ask": "头晕", "answer": "多休息\n低盐"}]
    with pytest.raises(UserError, match="cannot decode as utf-8.*--encoding gb18030"):
        list(iter_csv(path, "utf-8", [("title", "ask")]))
