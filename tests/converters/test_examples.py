"""Every converter's declared example: its raw record converts to exactly the record it declares.

The same example is what `lfd convert NAME --help` shows, so the documentation cannot drift."""

import json
import subprocess
import sys

import pytest
from llamafactory_domains.converters.base import converters
from llamafactory_domains.plugin import ROOT
from llamafactory_domains.plugin.cli import build_parser

BUILTINS = [name for name in converters.names() if converters.is_builtin(name)]


def options(name: str, out_dir):
    cls = converters.get(name)
    argv = ["convert", name, "--out-dir", str(out_dir), *cls.example_args]
    return build_parser(argv).parse_args(argv)


@pytest.mark.parametrize("name", BUILTINS)
def test_example_converts_to_the_declared_record(name, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # example_args name files relative to the repo root
    monkeypatch.setenv("LFD_CACHE", str(tmp_path / "cache"))
    cls = converters.get(name)
    assert cls.example_raw is not None and cls.example_output is not None, f"{name} declares no example"
    expected = cls.example_output if isinstance(cls.example_output, list) else [cls.example_output]
    assert cls.render_example(options(name, tmp_path)) == expected


@pytest.mark.parametrize("name", BUILTINS)
def test_help_shows_the_converters_own_example(name, capsys):
    from llamafactory_domains.plugin.cli import main

    cls = converters.get(name)
    with pytest.raises(SystemExit):
        main(["convert", name, "--help"])
    text = capsys.readouterr().out
    assert text.startswith(f"example:\n  {cls.example_command}\n")
    assert cls.example_command.startswith(f"lfd convert {name} ")
    assert json.dumps(cls.example_raw, ensure_ascii=False) in text
    expected = cls.example_output if isinstance(cls.example_output, list) else [cls.example_output]
    assert all(json.dumps(record, ensure_ascii=False) in text for record in expected)


def test_the_authors_example_in_the_base_module_runs(tmp_path):
    """converters/base.py's docstring example is a working converter (run apart: it registers a name)."""
    code = (
        "import re, sys\n"
        "import llamafactory_domains.converters.base as base\n"
        "exec(re.search(r'::\\n\\n(.*?)\\n\"\"\"', open(base.__file__, encoding='utf-8').read(), re.S).group(1)"
        ".replace('\\\\\"', '\"').replace('\\n    ', '\\n').strip())\n"
        "from llamafactory_domains.plugin.cli import build_parser\n"
        "cls = base.converters.get('hospital_emr')\n"
        "argv = ['convert', 'hospital_emr', '--out-dir', sys.argv[1]]\n"
        "assert cls.render_example(build_parser(argv).parse_args(argv)) == [cls.example_output]\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("name", [name for name in BUILTINS if converters.get(name).evaluators])
def test_the_primary_metric_is_one_its_evaluators_report(name, tmp_path, monkeypatch):
    from llamafactory_domains.evaluators.base import Prediction, evaluators

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LFD_CACHE", str(tmp_path / "cache"))
    cls = converters.get(name)
    record = cls.render_example(options(name, tmp_path))[0]
    last = record["output"] if "output" in record else (record.get("conversations") or record["messages"])[-1]
    answer = last if isinstance(last, str) else last.get("value", last.get("content"))
    item = Prediction(prompt=record.get("instruction", ""), predict=answer, label=answer)
    reported = {key for spec in cls.evaluators for key in evaluators.get(spec)().score(item)}
    assert cls.primary_metric in reported, f"{name}: primary_metric {cls.primary_metric!r} not in {sorted(reported)}"
    entry = cls.entries(name, cls.formats[0], "data/")[f"{name}_test"]
    assert entry["lfd"]["primary_metric"] == cls.primary_metric
