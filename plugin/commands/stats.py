"""`lfd stats`: token lengths of a converted dataset under the model's chat template, and the cutoff_len to use.

Records are read as a stream, checked in a first pass (so a bad line fails before the tokenizer's
imports), then tokenized in batches by the fast (Rust) tokenizer; only the lengths are kept.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError, where
from ..io.json_lines import read_json_lines

BATCH = 512
PERCENTILES = (50, 90, 99)


def messages(record: dict) -> tuple[list[dict], str]:
    """(chat messages up to the last user turn, the response) of an alpaca or sharegpt record."""
    if "conversations" in record:
        turns = record["conversations"]
        if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
            raise ValueError("conversations is not a list of {from, value} turns")
        role = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}
        chat = [{"role": role.get(t.get("from", t.get("role")), "user"), "content": t.get("value", t.get("content", ""))}
                for t in turns]
        if not chat or chat[-1]["role"] != "assistant":
            raise ValueError("the last turn is not the assistant's")
        prompt, response = chat[:-1], chat[-1]["content"]
    elif "instruction" in record and "output" in record:
        prompt = []
        for question, answer in record.get("history") or []:
            prompt += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        for key in ("instruction", "input"):
            if record.get(key) is not None and not isinstance(record[key], str):
                raise ValueError(f"{key} is a JSON {type(record[key]).__name__}, not text")
        query = "\n".join(part for part in (record["instruction"], record.get("input") or "") if part)
        prompt.append({"role": "user", "content": query})
        response = record["output"]
    else:
        raise ValueError("neither an alpaca (instruction/output) nor a sharegpt (conversations) record")
    if record.get("system"):
        prompt.insert(0, {"role": "system", "content": record["system"]})
    for place, text in [*((f"the {turn['role']} turn {i}", turn["content"]) for i, turn in enumerate(prompt, 1)),
                        ("the response", response)]:
        if not isinstance(text, str):  # the chat template would fail deep inside jinja, or count "None"
            kind = "null" if text is None else f"a JSON {type(text).__name__}"
            raise ValueError(f"{place} is {kind}, not text")
    return prompt, response


def batches(path: Path) -> Iterator[list[tuple[list[dict], str]]]:
    batch = []
    for number, record in read_json_lines(path, "a JSONL file written by `lfd convert` (alpaca or sharegpt records)"):
        try:
            batch.append(messages(record))
        except (ValueError, AttributeError, TypeError, KeyError) as err:
            raise UserError(f"{where(path, f'line {number}')}: {err}; pass a JSONL file written by "
                            "`lfd convert` (alpaca or sharegpt records)") from None
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def check_tokenizer_folder(path: str) -> None:
    if not Path(path).is_dir():  # a hub id would be fetched (and retried for a minute) on a machine with no network
        raise UserError(f"--tokenizer {path}: cannot load a tokenizer there (no such folder); pass the model folder "
                        "you downloaded, e.g. "
                        "`modelscope download --model Qwen/Qwen2.5-7B-Instruct --local_dir models/Qwen2.5-7B-Instruct`")


def load_tokenizer(path: str):
    check_tokenizer_folder(path)
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as err:
        raise UserError(f"--tokenizer {path}: cannot load a tokenizer there ({str(err).splitlines()[0]}); pass the "
                        "model folder, e.g. models/Qwen2.5-0.5B-Instruct") from None


def lengths(path: Path, tokenizer) -> tuple[list[int], list[int]]:
    """Token counts of each prompt (chat template applied, generation prompt included) and response (+ eos)."""
    from tqdm import tqdm

    if not tokenizer.chat_template:
        raise UserError("the tokenizer has no chat template; pass the Instruct/Chat model's folder")
    eos = tokenizer.eos_token or ""
    prompts, responses = [], []
    for batch in tqdm(batches(path), desc="tokenizing", unit=" batches", file=sys.stderr, disable=None, leave=False):
        texts = tokenizer.apply_chat_template([chat for chat, _ in batch], tokenize=False, add_generation_prompt=True)
        encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
        prompts += map(len, encoded)
        encoded = tokenizer([response + eos for _, response in batch], add_special_tokens=False)["input_ids"]
        responses += map(len, encoded)
    if not prompts:
        raise UserError(f"{path}: no records")
    return prompts, responses


def percentile(sorted_values: list[int], q: float) -> int:
    """Nearest-rank percentile: the smallest value with at least q% of the values at or below it.

    >>> percentile(list(range(1, 101)), 99), percentile([5], 50)
    (99, 5)
    """
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


def summary(prompts: list[int], responses: list[int]) -> dict:
    rows = {"prompt": prompts, "response": responses, "total": [p + r for p, r in zip(prompts, responses)]}
    table = {}
    for name, values in rows.items():
        values = sorted(values)
        table[name] = {f"p{q}": percentile(values, q) for q in PERCENTILES} | {"max": values[-1]}
    return {"n": len(prompts), "lengths": table, "cutoff_len": table["total"]["p99"]}


def check_records(path: Path) -> None:
    """Reads every record before the tokenizer loads (its imports take ~25 s): a bad line fails at once."""
    if not sum(len(batch) for batch in batches(path)):
        raise UserError(f"{path}: no records")


def run(args) -> int:
    check_tokenizer_folder(args.tokenizer)
    check_records(args.dataset)
    tokenizer = load_tokenizer(args.tokenizer)
    result = summary(*lengths(args.dataset, tokenizer))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"{result['n']} records of {args.dataset}, tokens with {args.tokenizer}'s chat template")
    print(f"{'':<10}" + "".join(f"{k:>8}" for k in ("p50", "p90", "p99", "max")))
    for name, row in result["lengths"].items():
        print(f"{name:<10}" + "".join(f"{row[k]:>8}" for k in ("p50", "p90", "p99", "max")))
    print(f"cutoff_len: {result['cutoff_len']} keeps 99% of the examples whole")
    return 0


def add_parser(sub):
    from .arguments import add_command

    p = add_command(
        sub, "stats", example="lfd stats build/demo/data/med_mrg_train.jsonl --tokenizer build/demo/tiny-qwen2",
        description=("Token-length percentiles (p50/p90/p99/max) of prompt, response and both, with the model's chat\n"
                     "template applied, and the cutoff_len that keeps 99% of the examples whole. The example uses\n"
                     "`make demo`'s data and tiny model; for a recipe, its model and training split:\n"
                     "  lfd stats data/med_mrg_train.jsonl --tokenizer models/Qwen2.5-7B-Instruct"),
        help="token-length percentiles and the cutoff_len to use",
    )
    p.add_argument("dataset", type=Path, metavar="DATASET_JSONL", help="a JSONL written by `lfd convert`")
    p.add_argument("--tokenizer", required=True, metavar="PATH", help="the model folder (its tokenizer and chat template)")
    p.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    p.set_defaults(func=run)
    return p
