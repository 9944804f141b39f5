"""The bad-input corpus (tests/bad_inputs/: cases_*.py built into manifest.json), case by case.

Each case runs the real `lfd` in a subprocess through tests/bad_inputs/driver.py, which checks that
it ends with the documented exit status and message fragment (a one-line error, exit 1, or a counted
skip / completed run, exit 0), and that it never prints a traceback, loses no input or existing
file, leaves no partial or temporary output (on error the output folder is byte for byte as it
was), and, where a case asks, leaks no test prompt into training. `python tests/bad_inputs/driver.py`
prints the totals.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("bad_inputs_driver", Path(__file__).resolve().parent / "bad_inputs" / "driver.py")
driver = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = driver  # its dataclasses look their module up
spec.loader.exec_module(driver)
CASES = driver.cases()


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_bad_input(case, tmp_path):
    if "known_bug" in case:
        pytest.xfail(case["known_bug"])
    outcome = driver.run_case(case, tmp_path)
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    assert not outcome.problems, outcome.report()


def test_corpus_files_are_what_build_writes():
    """manifest.json and files/ are built from the cases modules: a case edited without a rebuild fails here."""
    import json

    built = driver.builder().all_cases()
    assert [case["id"] for case in built] == [case["id"] for case in CASES], \
        "run `.venv/bin/python tests/bad_inputs/build.py`"
    assert len({case["id"] for case in CASES}) == len(CASES)
    for entry in built:
        if entry["data"] is not None:
            name = driver.builder().file_of(entry)
            assert (driver.CORPUS / "files" / name).read_bytes() == entry["data"], \
                f"{name} differs from its case: run `.venv/bin/python tests/bad_inputs/build.py`"
    json.loads(driver.MANIFEST.read_text(encoding="utf-8"))
