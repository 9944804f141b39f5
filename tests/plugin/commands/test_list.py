import re

from llamafactory_domains.evaluators.base import evaluators


def section(out: str, title: str) -> str:
    """The indented lines under ``title:`` in ``out``."""
    lines = out.splitlines()
    rest = lines[lines.index(f"{title}:") + 1 :]
    return "\n".join(rest[: next((i for i, line in enumerate(rest) if not line.startswith(" ")), len(rest))])


def test_each_evaluator_lists_its_options_indented_under_its_line(lfd):
    code, out, _ = lfd("list")
    assert code == 0
    listed = section(out, "evaluators")
    assert re.search(r"^  exact_match +Exact match after stripping whitespace.*\n"
                     r" {6,}ignore_case=false \(true\|false\): compare case-insensitively.*\n"
                     r" {6,}fullwidth=false \(true\|false\): full-width .*\n"
                     r" {6,}punct=false \(true\|false\): Chinese punctuation counts as its ASCII equivalent",
                     listed, re.MULTILINE)
    assert re.search(r"^ {6,}fields=主诉\|现病史\|辅助检查\|既往史\|诊断\|建议 \(text\): the report fields", listed, re.MULTILINE)
    assert re.search(r"^ {6,}batch_size=64 \(int\): texts per forward pass", listed, re.MULTILINE)
    assert re.search(r"^  choice +Choice questions.*\n {6,}\(no options\)$", listed, re.MULTILINE)
    # every option of every evaluator, each with a help text
    for name in evaluators.names():
        for line in evaluators.get(name).describe_options():
            assert f"    {line}\n" in listed + "\n", line
            assert ": " in line, f"{name}: {line} has no help text"


def test_converter_and_recipe_lines_keep_their_format(lfd):
    _, out, _ = lfd("list")
    assert re.search(r"^  med_norm +Clinical term normalization", section(out, "converters"), re.MULTILINE)
    assert all(re.match(r"  \S+ +\S", line) for line in section(out, "converters").splitlines())
