"""A JSON member of a .zip, streamed: found by name, or the only one; errors name the member."""

import json

import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io.dispatch import iter_rows
from llamafactory_domains.plugin.io.rows import Skip

RECORDS = [{"text": f"词{i}", "normalized_result": "甲##乙", "n": i * 1.5} for i in range(50)]


def values(rows):
    return [row.data for row in rows]


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
