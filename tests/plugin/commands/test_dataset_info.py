import json

from llamafactory_domains.plugin.commands.dataset_info import (
    REPO_FRAGMENT,
    builtin_fragment,
)


def test_repo_dataset_info_is_the_generated_fragment():
    """Regenerate with `make dataset-info` (= `lfd dataset-info --out dataset_info.json`)."""
    assert json.loads(REPO_FRAGMENT.read_text(encoding="utf-8")) == builtin_fragment(), \
        "dataset_info.json is not the generated fragment: run `make dataset-info`"


def test_every_builtin_entry_carries_the_full_mapping():
    for name, entry in builtin_fragment().items():
        assert entry["file_name"] == f"data/{name}.jsonl"
        if entry["formatting"] == "alpaca":
            assert {"prompt", "query", "response"} <= set(entry["columns"])
        else:
            assert "messages" in entry["columns"] and len(entry["tags"]) == 7
