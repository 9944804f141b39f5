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
