import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # rating_helpers.py beside the tests

from rating_helpers import fill, write_runs  # noqa: E402


@pytest.fixture
def exported(tmp_path):
    """An export of the two runs with two raters: {"sheet", "key", "runs"} (unfilled)."""
    from llamafactory_domains.plugin.rating.export import build, load_models

    runs = write_runs(tmp_path)
    models, questions = load_models(runs, ["qwen-base-secret", "qwen-lora-secret"], None, None)
    workbook, key = build(models, questions, 2, 0)
    import json

    sheet, key_path = tmp_path / "sheet.xlsx", tmp_path / "sheet.key.json"
    sheet.write_bytes(workbook)
    key_path.write_text(json.dumps(key, ensure_ascii=False), encoding="utf-8")
    return {"sheet": sheet, "key": key_path, "runs": runs, "dir": tmp_path}


@pytest.fixture
def filled(exported):
    fill(exported["sheet"], exported["key"])
    return exported
