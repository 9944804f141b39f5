"""The README and every `--help` example, walked as a new user does right after `make demo`.

One `lfd demo` run in a folder laid out like a fresh clone (the session's ``demo_clone``), then:
- every `lfd` command the README shows (code blocks, tables, inline) parses with lfd's own parser, so
  its converter, options and values are real;
- the code blocks the README introduces as runnable "after `make demo`" run as written, in order, in
  a shell in that folder, and succeed;
- every command's `--help` example runs as written, in the order of `lfd --help`, and succeeds.
A board command gets `--no-start` (it prepares the same board, then stops instead of serving it).
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`(lfd [^`]+)`")
AFTER_DEMO = "after `make demo`"
PLACEHOLDER = re.compile(r"[A-Z][A-Z_]+(\.\.\.)?|.*[\[\]|<>…].*")  # NAME, INPUT..., [--x N], a|b, <name>


def blocks() -> list[tuple[str, list[str]]]:
    """Each fenced block's commands (continuation lines joined, comments dropped) and the prose line before it."""
    found = []
    for match in FENCE.finditer(README):
        before = README[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        text = match[1].replace("\\\n", " ")
        commands = [line.split("  #", 1)[0].strip() for line in text.splitlines()]
        found.append((before, [c for c in commands if c and not c.startswith("#")]))
    return found


def readme_lfd_commands() -> list[str]:
    """Every `lfd ...` the README shows: in code blocks, tables and prose, each once."""
    outside = FENCE.sub("", README)
    commands = [c for _, block in blocks() for c in block if c.startswith("lfd ")]
    commands += [m[1].strip() for m in INLINE.finditer(outside)]
    return list(dict.fromkeys(commands))


def parse(command: str) -> None:
    """Parses ``command`` with lfd's parser; fails on argparse's error. A bare mention in prose (`lfd convert
    med_dialog`: no option, nothing after the converter) must name a real command and converter."""
    from llamafactory_domains.converters.base import converters
    from llamafactory_domains.plugin.cli import build_parser

    argv = [token for token in shlex.split(command)[1:] if token != "..."]  # "...": more files of the same kind
    parser = build_parser(argv)
    if len(argv) <= 2 and not any(token.startswith("-") for token in argv):
        assert argv[0] in parser._subparsers._group_actions[0].choices, command
        if argv[0] == "convert" and len(argv) == 2:
            converters.get(argv[1])  # a UserError for an unknown converter
        return
    try:
        parser.parse_args(argv)
    except SystemExit as exit:
        assert exit.code == 0 and "--help" in argv, f"`{command}` does not parse (exit {exit.code})"


def synopsis(command: str) -> bool:
    """A usage line (`lfd convert CONVERTER INPUT... [--name NAME]`, `lfd convert ... --out-dir data`), not a command."""
    tokens = shlex.split(command)
    return any(PLACEHOLDER.fullmatch(token) for token in tokens) or tokens[2:3] == ["..."]


@pytest.mark.parametrize("command", [c for c in readme_lfd_commands() if not synopsis(c)])
def test_every_readme_command_parses(command, capsys):
    parse(command)


def test_the_readme_has_runnable_blocks_after_the_demo():
    runnable = [block for before, block in blocks() if AFTER_DEMO in before]
    assert len(runnable) >= 2 and all(runnable), [before for before, _ in blocks()]


def help_texts() -> dict[str, str]:
    """{command: its --help}, in the order `lfd --help` lists them ("" for `lfd --help` itself, first)."""
    from llamafactory_domains.plugin.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    return {"": parser.format_help(), **{name: command.format_help() for name, command in commands.items()}}


def help_commands(text: str) -> tuple[str, list[str]]:
    """A --help's example (its first lines) and the other commands it shows, indented as examples are."""
    assert text.startswith("example:\n  lfd "), text[:200]
    example, *others = [line.strip().replace("\\", "") for line in text.replace("\\\n", "").splitlines()
                        if line.startswith("  lfd ")]
    return example, others


def test_help_commands_parse():
    for name, text in help_texts().items():
        example, others = help_commands(text)
        for command in [example, *others]:
            parse(command)


def shell(command: str, home: Path) -> subprocess.CompletedProcess:
    """``command`` as a user types it (tilde, quotes), in ``home`` with lfd on PATH and ``home/user`` as ~."""
    if command.startswith("lfd webui"):
        command += " --no-start"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(home / "user"),
           "LFD_CACHE": str(home / "user" / "cache"), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(["bash", "-c", command], cwd=home, env=env, capture_output=True, text=True, timeout=300)


def test_readme_after_the_demo_and_every_help_example_run_as_written(demo_clone):
    home, ran = demo_clone["home"], []
    for before, block in blocks():
        for command in block if AFTER_DEMO in before else []:
            done = shell(command, home)
            assert done.returncode == 0, f"README: `{command}` failed:\n{done.stderr[-2000:]}"
            ran.append(command)
    assert any(c.startswith("lfd eval build/demo/") for c in ran) and any(c.startswith("lfd compare") for c in ran)
    assert (home / "reports" / "safety_compare.html").is_file()

    # `lfd register`'s example names ~/LLaMA-Factory: a LLaMA-Factory install with one of its own datasets
    install = home / "user" / "LLaMA-Factory" / "data"
    install.mkdir(parents=True)
    (install / "identity.json").write_text('[{"instruction": "hi", "input": "", "output": "hello"}]\n')
    (install / "dataset_info.json").write_text(json.dumps({"identity": {"file_name": "identity.json"}}))
    texts = help_texts()
    assert list(texts)[:5] == ["", "list", "convert", "eval", "compare"]
    for name, text in texts.items():
        example, _ = help_commands(text)
        if name == "demo":
            assert example == "lfd demo"  # what demo_clone ran, with fewer steps
            continue
        done = shell(example, home)
        if name == "fetch":  # no network here: one line saying where to copy the files by hand
            assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
            assert "cannot reach the ModelScope hub" in done.stderr and "copy them into" in done.stderr
            continue
        assert done.returncode == 0, f"`lfd {name} --help`'s example `{example}` failed:\n{done.stderr[-2000:]}"
    registered = json.loads((install / "dataset_info.json").read_text(encoding="utf-8"))
    assert "identity" in registered and "med_norm_train" in registered
