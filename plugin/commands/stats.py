"""`lfd stats`: token lengths of a converted dataset under the model's chat template, and the cutoff_len to use.

Records are read as a stream, checked in a first pass (so a bad line fails before the tokenizer's
imports), then counted in batches: the chat template renders each prompt as text and one call of the fast
(Rust) tokenizer counts a batch's prompts and responses, the same counts as ``apply_chat_template(...,
tokenize=True)`` per record, 2-3x as fast on 2 cores (benchmarks/stats_bench.py). Only a histogram of
the counts is kept (exact percentiles in a few kB, however many records). The tokenizer is read from a local folder, never a hub.
"""

from __future__ import annotations

import collections
import json
import math
import operator
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from ..dataset_info import shown
from ..errors import UserError, where
from ..io.atomic import lone_surrogate
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
        history = record.get("history") or []
        if not isinstance(history, list) or not all(isinstance(pair, list) and len(pair) == 2 for pair in history):
            raise ValueError("history is not a list of [question, answer] pairs")
        for question, answer in history:
            prompt += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        for key in ("instruction", "input"):
            if record.get(key) is not None and not isinstance(record[key], str):
                raise ValueError(f"{key} is {shown(record[key])}, not text")
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
            raise ValueError(f"{place} is {shown(text)}, not text")
        if half := lone_surrogate(text):  # the tokenizer refuses it with a TypeError
            raise ValueError(f"{place} holds a lone surrogate ({half!r}, half of an emoji?), which no tokenizer reads")
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


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json", "vocab.txt")
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def check_tokenizer_folder(path: str) -> None:
    """Fails at once, before any import or hub call, unless ``path`` is a local folder holding a tokenizer.

    >>> check_tokenizer_folder("Qwen/Qwen2.5-7B-Instruct")
    Traceback (most recent call last):
    ...
    llamafactory_domains.plugin.errors.UserError: --tokenizer Qwen/Qwen2.5-7B-Instruct: not a local folder; \
`lfd stats` reads the tokenizer from a folder on this machine and never downloads one: download it first, \
e.g. `modelscope download --model Qwen/Qwen2.5-7B-Instruct --local_dir models/Qwen2.5-7B-Instruct`
    """
    folder = Path(path)
    if folder.is_dir():
        if not any((folder / name).is_file() for name in TOKENIZER_FILES):
            raise UserError(f"--tokenizer {path}: cannot load a tokenizer there (the folder has no tokenizer.json or "
                            "tokenizer_config.json); pass the model folder you downloaded, e.g. models/Qwen2.5-7B-Instruct")
        return
    if folder.exists():
        raise UserError(f"--tokenizer {path}: cannot load a tokenizer there (a file, not a folder); pass the model folder")
    if HUB_ID.fullmatch(path) and not path.startswith(("models/", "build/", "saves/")):
        name = path.rsplit("/", 1)[1]
        raise UserError(f"--tokenizer {path}: not a local folder; `lfd stats` reads the tokenizer from a folder on this "
                        "machine and never downloads one: download it first, e.g. "
                        f"`modelscope download --model {path} --local_dir models/{name}`")
    raise UserError(f"--tokenizer {path}: cannot load a tokenizer there (no such folder); pass the model folder "
                    "you downloaded, e.g. "
                    "`modelscope download --model Qwen/Qwen2.5-7B-Instruct --local_dir models/Qwen2.5-7B-Instruct`")


def load_tokenizer(path: str):
    """The folder's tokenizer, loaded offline (HF_HUB_OFFLINE, local_files_only): nothing tries the network."""
    check_tokenizer_folder(path)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # read when huggingface_hub is first imported
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as err:
        raise UserError(f"--tokenizer {path}: cannot load a tokenizer there ({str(err).splitlines()[0]}); pass the "
                        "model folder, e.g. models/Qwen2.5-0.5B-Instruct") from None


class TokenCounter:
    """Token counts of ``texts``, one batched call of the fast (Rust) tokenizer: ``tokenizer(texts,
    add_special_tokens=False)``. After that first call has set the backend up (no truncation, special tokens
    kept whole), the backend's ``encode_batch_fast`` (the same pipeline without character offsets) is used when it
    gives the same counts on that batch."""

    def __init__(self, tokenizer):
        self.tokenizer, self.fast = tokenizer, None

    def __call__(self, texts: list[str]) -> list[int]:
        if self.fast:
            return [len(encoding) for encoding in self.fast(texts, add_special_tokens=False)]
        encoded = self.tokenizer(texts, add_special_tokens=False, return_attention_mask=False, verbose=False)
        counts = list(map(len, encoded["input_ids"]))  # verbose=False: no "longer than the maximum" warning
        if self.fast is None:
            backend = getattr(self.tokenizer, "_tokenizer", None)
            fast = getattr(backend, "encode_batch_fast", None)
            same = fast is not None and [len(e) for e in fast(texts, add_special_tokens=False)] == counts
            self.fast = fast if same else False
        return counts


def count_batch(tokenizer, batch: list[tuple[list[dict], str]], count=None) -> tuple[list[int], list[int]]:
    """(prompt, response) token counts of a batch of records: the prompt is the chat template's text with the
    generation prompt, the response is its text + eos, each tokenized without special tokens added, as
    ``apply_chat_template(chat, tokenize=True, add_generation_prompt=True)`` counts the prompt."""
    count = count or TokenCounter(tokenizer)
    texts = tokenizer.apply_chat_template([chat for chat, _ in batch], tokenize=False, add_generation_prompt=True)
    eos = tokenizer.eos_token or ""
    counts = count([*texts, *(response + eos for _, response in batch)])
    return counts[:len(batch)], counts[len(batch):]


def histograms(path: Path, tokenizer, total: int | None = None) -> dict[str, collections.Counter]:
    """{prompt, response, total: Counter of token count -> records}: the records stream by in batches, only
    these counts stay (a few thousand distinct lengths however many records). A progress bar of the records
    goes to stderr when it is a terminal."""
    from tqdm import tqdm

    if not tokenizer.chat_template:
        raise UserError("the tokenizer has no chat template; pass the Instruct/Chat model's folder")
    rows = {"prompt": collections.Counter(), "response": collections.Counter(), "total": collections.Counter()}
    count = TokenCounter(tokenizer)
    with tqdm(total=total, desc="tokenizing", unit=" records", file=sys.stderr, disable=not sys.stderr.isatty(),
              leave=False) as bar:
        for batch in batches(path):
            prompts, responses = count_batch(tokenizer, batch, count)
            rows["prompt"].update(prompts)
            rows["response"].update(responses)
            rows["total"].update(map(operator.add, prompts, responses))
            bar.update(len(batch))
    if not rows["prompt"]:
        raise UserError(f"{path}: no records")
    return rows


def percentile(counts: collections.Counter, q: float) -> int:
    """Nearest-rank percentile of the values counted: the smallest value with at least q% of them at or below it.

    >>> percentile(collections.Counter(range(1, 101)), 99), percentile(collections.Counter([5]), 50)
    (99, 5)
    >>> percentile(collections.Counter({3: 2, 7: 1, 9: 1}), 50), percentile(collections.Counter({3: 2, 7: 1}), 90)
    (3, 7)
    """
    rank, seen = max(1, math.ceil(q / 100 * sum(counts.values()))), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    raise ValueError("no values")


def summary(rows: dict[str, collections.Counter]) -> dict:
    table = {name: {f"p{q}": percentile(counts, q) for q in PERCENTILES} | {"max": max(counts)}
             for name, counts in rows.items()}
    return {"n": sum(rows["prompt"].values()), "lengths": table, "cutoff_len": table["total"]["p99"]}


def check_records(path: Path) -> int:
    """Reads every record before the tokenizer loads (its imports take ~25 s): a bad line fails at once.
    Returns how many there are."""
    n = sum(len(batch) for batch in batches(path))
    if not n:
        raise UserError(f"{path}: no records")
    return n


def run(args) -> int:
    check_tokenizer_folder(args.tokenizer)
    n = check_records(args.dataset)
    tokenizer = load_tokenizer(args.tokenizer)
    result = summary(histograms(args.dataset, tokenizer, n))
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
