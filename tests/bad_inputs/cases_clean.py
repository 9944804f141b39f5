"""`lfd clean` on bad input: a broken JSONL line, a record of no known shape, an output that is the input, and
option mistakes (--max-tokens without a tokenizer, a threshold out of range, a rule that does not exist).
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
    case("clean_max_tokens_without_tokenizer", GOOD.encode("utf-8"), clean(F + "clean_opts.jsonl", "--max-tokens", "2048"),
         1, "give --tokenizer MODEL_FOLDER too", "--max-tokens with no tokenizer to count with"),
    case("clean_max_tokens_zero", GOOD.encode("utf-8"),
         clean(F + "clean_opts.jsonl", "--max-tokens", "0", "--tokenizer", "{tmp}/model"), 1,
         "--max-tokens 0: expected a whole number of tokens", "a token limit of 0"),
    case("clean_tokenizer_missing", GOOD.encode("utf-8"),
         clean(F + "clean_opts.jsonl", "--max-tokens", "2048", "--tokenizer", "{tmp}/no_model"), 1,
         "cannot load a tokenizer there (no such folder)", "--tokenizer names a folder that does not exist"),
    case("clean_long_without_max_tokens", GOOD.encode("utf-8"), clean(F + "clean_opts.jsonl", "--long", "split"), 1,
         "--long is for over-long records: give --max-tokens N too", "--long with no --max-tokens"),
    case("clean_near_dup_zero", GOOD.encode("utf-8"), clean(F + "clean_opts.jsonl", "--near-dup", "0"), 1,
         "--near-dup 0: expected a similarity above 0 and at most 1", "a near-duplicate threshold of 0"),
    case("clean_near_dup_above_one", GOOD.encode("utf-8"), clean(F + "clean_opts.jsonl", "--near-dup", "1.5"), 1,
         "--near-dup 1.5: expected a similarity above 0 and at most 1", "a near-duplicate threshold above 1"),
    case("clean_near_dup_not_a_number", GOOD.encode("utf-8"), clean(F + "clean_opts.jsonl", "--near-dup", "abc"), 1,
         "--near-dup abc: expected a similarity", "a near-duplicate threshold that is no number"),
    case("clean_num_perm_without_near_dup", GOOD.encode("utf-8"), clean(F + "clean_opts.jsonl", "--num-perm", "64"), 1,
         "--num-perm is for near-duplicates", "--num-perm with near-duplicates off"),
    case("clean_unknown_rule", GOOD.encode("utf-8"), clean(F + "clean_opts.jsonl", "--rules", "privacy,spam"), 1,
         "--rules spam: no such rule", "--rules names a rule that does not exist"),
    case("clean_unknown_rule_off", GOOD.encode("utf-8"), clean(F + "clean_opts.jsonl", "--no", "ad"), 1,
         "--no ad: no such rule", "--no names a rule that does not exist (ads is the rule)"),
    case("clean_rejects_is_input", GOOD.encode("utf-8"),
         ["clean", F + "clean_rejects_same.jsonl", "--out", "{out}/cleaned.jsonl", "--rejects", F + "clean_rejects_same.jsonl"],
         1, "clean_rejects_same.jsonl", "--rejects names the input file"),
    case("clean_split_record_without_answer", '{"conversations": [{"from": "human", "value": "头痛怎么办"}]}\n'.encode("utf-8"),
         clean(F + "clean_no_answer.jsonl", "--max-tokens", "2048", "--tokenizer", "{tmp}/model"), 1,
         "clean_no_answer.jsonl: line 1: the last turn is not the assistant's",
         "--max-tokens on a dialogue that ends with the user (nothing to count as the response)",
         setup=[["tiny-model", "{tmp}/model"]]),
]
