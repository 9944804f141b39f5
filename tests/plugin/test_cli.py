import re
import subprocess
import sys

import pytest
from llamafactory_domains.plugin.cli import COMMANDS, build_parser


def commands():
    return list(build_parser([])._subparsers._group_actions[0].choices)


def test_every_command_is_listed():
    assert commands() == list(COMMANDS) and len(set(COMMANDS.values())) >= 6


def test_a_command_imports_only_its_own_module():
    """`lfd convert` starts without numpy, yaml or the other commands (a tenth of a second, not a third)."""
    code = ("import sys; from llamafactory_domains.plugin.cli import build_parser; build_parser(['convert', 'med_dialog']); "
            "print(sorted(m for m in ('numpy', 'yaml', 'llamafactory_domains.plugin.commands.eval', 'llamafactory_domains.plugin.commands.webui', 'tqdm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("command", commands())
def test_help_text_starts_with_example(capsys, command):
    from llamafactory_domains.plugin.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("example:\n  lfd " + command)


def test_converter_options_show_in_its_help(capsys):
    from llamafactory_domains.plugin.cli import main

    with pytest.raises(SystemExit):
        main(["convert", "med_norm", "--help"])
    assert "--test-size N" in capsys.readouterr().out


def test_list_shows_converters_evaluators_and_recipes(lfd):
    code, out, _ = lfd("list")
    assert code == 0
    assert re.search(r"^  med_norm +Clinical term normalization", out, re.M)
    assert "exact_match" in out
    assert "med_norm_lora.yaml" in out


BASE = "data/samples/rating/base"
ENDPOINT = ["--api-base", "http://127.0.0.1:9/v1"]


@pytest.mark.parametrize("argv, said", [
    (["judge", "pointwise", BASE, *ENDPOINT, "--timeout", "nan"], "--timeout: expected seconds above 0"),
    (["judge", "pointwise", BASE, *ENDPOINT, "--timeout", "inf"], "--timeout: expected seconds above 0"),
    (["judge", "pairwise", BASE, BASE, *ENDPOINT, "--timeout", "-1"], "--timeout: expected seconds above 0"),
    (["kb", "ask", "regs", "问题", *ENDPOINT, "--timeout", "1e400"], "--timeout: expected seconds above 0"),
    (["kb", "ask", "regs", "问题", *ENDPOINT, "--temperature", "nan"], "--temperature: expected a temperature from 0"),
    (["convert", "distill", "q.txt", *ENDPOINT, "--temperature", "3", "--out-dir", "o"], "--temperature: expected a"),
    (["convert", "distill", "q.txt", *ENDPOINT, "--timeout", "0", "--out-dir", "o"], "--timeout: expected seconds"),
])
def test_seconds_and_temperatures_are_finite_and_in_range(capsys, argv, said):
    """NaN, inf or a negative timeout reached the HTTP client (ValueError, OverflowError tracebacks)."""
    from llamafactory_domains.plugin.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and said in err and "Traceback" not in err


@pytest.mark.parametrize("argv, said", [
    (["rate", "export", BASE, "--out", "r.xlsx", "--raters", "99999999"], "--raters: at most 1000 rater sheets"),
    (["judge", "pointwise", BASE, *ENDPOINT, "--concurrency", "100000"], "--concurrency: at most 256 requests at once"),
])
def test_counts_that_would_run_for_ever_are_bounded(capsys, argv, said):
    """99,999,999 rater sheets ran until killed; 100,000 requests at once would be as many threads."""
    from llamafactory_domains.plugin.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and said in capsys.readouterr().err


def test_teacher_concurrency_is_bounded(tmp_path, capsys):
    from llamafactory_domains.plugin.cli import main

    questions = tmp_path / "q.txt"
    questions.write_text("头痛怎么办？\n", encoding="utf-8")
    assert main(["convert", "distill", str(questions), *ENDPOINT, "--concurrency", "100000", "--out-dir",
                 str(tmp_path / "o")]) == 1
    assert "--concurrency '100000': expected a whole number from 1 to 256" in capsys.readouterr().err
