"""`lfd rate export` and `lfd rate import` end to end: outputs together or not at all, one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rating"))
from rating_helpers import fill, write_runs  # noqa: E402


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return write_runs(tmp_path)


def test_export_import_round_trip(lfd, runs, tmp_path):
    code, _, err = lfd("rate", "export", *(p.parent for p in runs), "--out", "sheet.xlsx", "--raters", "2")
    assert code == 0, err
    assert "2 rater sheets of 6 answers (3 questions × 2 models: qwen-base-secret, qwen-lora-secret)" in err
    assert (tmp_path / "sheet.key.json").is_file()
    fill(tmp_path / "sheet.xlsx", tmp_path / "sheet.key.json")
    code, out, err = lfd("rate", "import", "sheet.xlsx", "--key", "sheet.key.json", "--out", "r.json", "--html", "r.html",
                         "--bootstrap", "500")
    assert code == 0, err
    assert "qwen-base-secret" in out and "1.50" in out and "Krippendorff's alpha" in out
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["means"]["qwen-base-secret"]["safety"]["mean"] == 1.5 and len(report["ratings_rows"]) == 12
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script" not in page and "Paired differences" in page and "qwen-lora-secret" in page
    code, out, err = lfd("rate", "import", "sheet.xlsx", "--json", "--bootstrap", "200")  # the key found beside the sheet
    assert code == 0 and json.loads(out)["questions"] == 3 and "Safety" in err


def test_export_is_deterministic_and_refuses_existing_files(lfd, runs, tmp_path):
    args = ("rate", "export", str(runs[0]), str(runs[1]), "--models", "a", "b", "--raters", "3")
    assert lfd(*args, "--out", "one.xlsx")[0] == 0
    assert lfd(*args, "--out", "two.xlsx", "--key", "two-key.json")[0] == 0
    assert (tmp_path / "one.xlsx").read_bytes() == (tmp_path / "two.xlsx").read_bytes()
    assert (tmp_path / "one.key.json").read_bytes() == (tmp_path / "two-key.json").read_bytes()
    code, _, err = lfd(*args, "--out", "one.xlsx")
    assert code == 1 and "one.xlsx exists (--out); pass --force" in err
    (tmp_path / "three.key.json").write_text("mine", encoding="utf-8")
    code, _, err = lfd(*args, "--out", "three.xlsx")
    assert code == 1 and "three.key.json exists (--key)" in err
    assert not (tmp_path / "three.xlsx").exists()  # neither file, not one of them
    assert lfd(*args, "--out", "one.xlsx", "--force", "--seed", "1")[0] == 0


@pytest.mark.parametrize("extra, said", [
    (["--models", "a"], "--models names 1 models for 2 prediction files"),
    (["--out", "sheet.csv"], "must end in .xlsx"),
])
def test_export_usage_errors(lfd, runs, extra, said):
    args = ["rate", "export", str(runs[0]), str(runs[1]), "--out", "sheet.xlsx", *extra]
    code, _, err = lfd(*args)
    assert code == 1 and said in err and err.count("\n") == 1


def test_export_refuses_runs_of_other_items(lfd, runs, tmp_path):
    code, _, err = lfd("rate", "export", str(runs[0]), str(runs[0]), "--out", "s.xlsx")
    assert code == 1 and "given twice" in err
    lines = runs[1].read_text(encoding="utf-8").splitlines()
    runs[1].write_text(lines[0] + "\n", encoding="utf-8")
    code, _, err = lfd("rate", "export", str(runs[0]), str(runs[1]), "--out", "s.xlsx")
    assert code == 1 and "1 predictions, but" in err and err.count("\n") == 1
    assert not list(tmp_path.glob("s.*"))


def test_import_problems_write_nothing(lfd, runs, tmp_path):
    assert lfd("rate", "export", *map(str, runs), "--out", "sheet.xlsx", "--raters", "2")[0] == 0
    code, _, err = lfd("rate", "import", "sheet.xlsx", "--key", "sheet.key.json", "--out", "r.json")
    assert code == 1 and "36 problems in the sheets" in err and "… and 16 more" in err
    assert "Traceback" not in err and len(err.splitlines()) == 22 and not (tmp_path / "r.json").exists()
    (tmp_path / "bad.json").write_text("[", encoding="utf-8")
    code, _, err = lfd("rate", "import", "sheet.xlsx", "--key", "bad.json")
    assert code == 1 and "bad.json: not JSON" in err and err.count("\n") == 1
    (tmp_path / "junk.xlsx").write_bytes(b"PK\x03\x04 not really")
    code, _, err = lfd("rate", "import", "junk.xlsx", "--key", "sheet.key.json")
    assert code == 1 and "junk.xlsx: not a readable .xlsx workbook" in err and err.count("\n") == 1
    code, _, err = lfd("rate", "import", "sheet.xlsx", "--key", "sheet.key.json", "--out", "sheet.xlsx")
    assert code == 1 and err.count("\n") == 1


def test_help_opens_with_examples(lfd, capsys):
    from llamafactory_domains.plugin.cli import main

    for action in ("export", "import"):
        with pytest.raises(SystemExit):
            main(["rate", action, "--help"])
        assert capsys.readouterr().out.startswith(f"example:\n  lfd rate {action} ")


def test_the_bundled_examples_run(lfd, monkeypatch, tmp_path):
    """`lfd rate --help`'s example and the bundled filled sheet, from a folder holding data/samples."""
    root = Path(__file__).resolve().parents[3]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "samples").symlink_to(root / "data" / "samples", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    from llamafactory_domains.plugin.commands.rate import EXAMPLE, IMPORT_EXAMPLE

    for example in (EXAMPLE, IMPORT_EXAMPLE):
        code, out, err = lfd(*example.split()[1:])
        assert code == 0, err
    assert (tmp_path / "ratings.xlsx").is_file() and (tmp_path / "ratings.html").is_file()
    assert "tuned − base" in out
