"""`lfd clean` on bad input: a broken JSONL line, a record of no known shape, an output that is the input.
Files start with ``clean_``."""

from __future__ import annotations

from corpus import F, case

GOOD = '{"instruction": "医生你好，我叫王小明", "input": "", "output": "您好"}\n'


def clean(file: str, *extra: str) -> list[str]:
    return ["clean", file, "--out", "{out}/cleaned.jsonl", *extra]


CASES = [
    case("clean_broken_line", (GOOD + '{"instruction": "x", \n').encode("utf-8"), clean(F + "clean_broken.jsonl"), 1,
         "clean_broken.jsonl", "a JSONL file whose second line is cut off"),
    case("clean_unknown_shape", '{"question": "头痛怎么办", "answer": "休息"}\n'.encode("utf-8"),
         clean(F + "clean_shape.jsonl"), 1, "clean_shape.jsonl", "a record that is neither alpaca, sharegpt nor openai"),
    case("clean_output_is_input", GOOD.encode("utf-8"),
         ["clean", F + "clean_same.jsonl", "--out", F + "clean_same.jsonl"], 1, "clean_same.jsonl",
         "--out names the input file"),
    case("clean_show_values_without_report", GOOD.encode("utf-8"), clean(F + "clean_values.jsonl", "--show-values"), 1,
         "--show-values", "--show-values with no --pii-report to put them in"),
]
