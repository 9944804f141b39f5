"""Prediction input: LLaMA-Factory's generated_predictions.jsonl, checked against a test split and paired.

A run is read in file order; with ``--dataset`` every label must be its test record's answer and every
prompt must hold its record's question (so the scores belong to that dataset, item by item) and each
prediction gets its record; without it, two runs pair by
prompt and label. :func:`prompt_excerpt` finds the question in a templated prompt, for reports.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

from ..evaluators.base import Evaluator, Prediction
from . import dataset_info
from .errors import UserError, where
from .io.json_lines import read_json_lines
from .order_robustness import check_records
from .evaluator_specs import build_evaluators

PREDICTIONS_FORMAT = 'one JSON object a line, {"prompt": ..., "predict": ..., "label": ...}'
PROMPT_CHARS = 300

# chat-template markup in LLaMA-Factory's `prompt`: role tokens become role lines, the rest goes
ROLE_TOKEN = re.compile(r"<\|(system|user|assistant|observation)\|>")
MARKUP = re.compile(r"<\|[^|<>\s]{1,40}\|>|</?s>|\[/?INST\]|<</?SYS>>|\[gMASK\]|<sop>|</?think>")
ROLE_PREFIX = re.compile(r"^(system|user|human|assistant):[ \t]*", re.IGNORECASE | re.MULTILINE)  # "Human: ..."
ROLES = {"system", "user", "human", "assistant", "observation"}


def predictions_file(path: Path) -> Path:
    """``path``, or the generated_predictions.jsonl inside it when it is predict's output_dir."""
    inside = Path(path) / PREDICTIONS_NAME
    try:
        if inside.is_file() or not Path(path).is_dir():
            return inside if inside.is_file() else Path(path)
    except OSError:  # e.g. a name too long: not a folder of predictions; reading it says what is wrong
        return Path(path)
    raise UserError(f"{path}: a folder without {PREDICTIONS_NAME}; {folder_candidates(Path(path))}")


PREDICTIONS_NAME = "generated_predictions.jsonl"
SHOWN_CANDIDATES = 3  # .jsonl files named when a folder holds no generated_predictions.jsonl


def folder_candidates(folder: Path) -> str:
    """What a folder without generated_predictions.jsonl holds that could be it, and the fix."""
    try:
        found = sorted(p.name for p in folder.iterdir() if p.suffix == ".jsonl" and p.is_file())
    except OSError:
        found = []
    if not found:
        return "it holds no .jsonl file; pass the output_dir of the predict run (do_predict) or the predictions file"
    shown = ", ".join(found[:SHOWN_CANDIDATES]) + (f" and {len(found) - SHOWN_CANDIDATES} more"
                                                   if len(found) > SHOWN_CANDIDATES else "")
    return f"it holds {shown}; pass the predictions file itself, e.g. {folder / found[0]}"


def read_predictions(path: Path) -> list[Prediction]:
    """Predictions of generated_predictions.jsonl in file order."""
    items = []
    for number, obj in read_json_lines(path, PREDICTIONS_FORMAT):
        here = where(path, f"line {number}")
        missing = [key for key in ("predict", "label") if key not in obj]
        if missing:
            raise UserError(f"{here}: no {' or '.join(map(repr, missing))} key; expected {PREDICTIONS_FORMAT}")
        for key in ("prompt", "predict", "label"):
            if key in obj and not isinstance(obj[key], str):
                kind = type(obj[key]).__name__
                raise UserError(f"{here}: {key!r} is a JSON {kind}, not a string; expected {PREDICTIONS_FORMAT}")
        items.append(Prediction(obj.get("prompt", ""), obj["predict"], obj["label"], line=number))
    if not items:
        raise UserError(f"{path}: empty; expected {PREDICTIONS_FORMAT} (did the predict run finish?)")
    return items


def find_dataset(name: str, info_path: Path) -> tuple[str, dict]:
    """(entry name, entry) of ``name`` or ``name_test`` in dataset_info.json; ``_test`` is preferred."""
    if not info_path.is_file():
        raise UserError(f"{info_path}: no such file; pass --dataset-info PATH (`lfd convert` writes it to --out-dir)")
    info = dataset_info.load(info_path)
    candidates = [name] if name.endswith("_test") else [f"{name}_test", name]
    for key in candidates:
        if key in info:
            entry = info[key]
            if not isinstance(entry, dict):
                problem = f" is {dataset_info.shown(entry)}, not an object"
            elif not isinstance(entry.get("lfd", {}), dict):
                problem = f": lfd is {dataset_info.shown(entry['lfd'])}, not an object"
            else:  # what LLaMA-Factory would misread, it did not predict on either
                misread = dataset_info.entry_problem(entry)
                problem = f": {misread}" if misread else ""
            if problem:
                raise UserError(f"{info_path}: entry {key!r}{problem}; fix the entry (or convert again)")
            return key, entry
    close = difflib.get_close_matches(name, list(info), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(map(repr, close))}?" if close else f"it has: {', '.join(info) or 'none'}"
    raise UserError(f"{info_path}: no dataset {' or '.join(map(repr, candidates))}; {hint}")


def read_records(path: Path) -> list[dict]:
    """Test records of a .jsonl file, or of a .json file holding an array (or JSON lines)."""
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError, RecursionError):  # not one JSON array: read as JSON lines, which says where
            data = None
        if isinstance(data, list):
            if not all(isinstance(r, dict) for r in data):
                raise UserError(f"{path}: expected a JSON array of objects (test records)")
            return data
    elif path.suffix != ".jsonl":
        raise UserError(f"{path}: only .json and .jsonl test files can be checked; run `lfd eval` without --dataset")
    return [obj for _, obj in read_json_lines(path, "one JSON test record a line")]


def reference(record: dict, entry: dict) -> str:
    """The answer LLaMA-Factory puts in ``label`` for this record."""
    columns, tags = entry.get("columns") or {}, entry.get("tags") or {}
    if entry.get("formatting", "alpaca") == "alpaca":
        value = record.get(columns.get("response", "output"))
    else:
        messages = record.get(columns.get("messages", "conversations")) or [{}]
        value = messages[-1].get(tags.get("content_tag", "value")) if isinstance(messages[-1], dict) else None
    return value if isinstance(value, str) else ""


def question_of(record: dict, entry: dict) -> str:
    """What the record asks, as LLaMA-Factory puts it in the prompt: instruction and input (alpaca), or the
    last user turn (sharegpt)."""
    columns, tags = entry.get("columns") or {}, entry.get("tags") or {}
    if entry.get("formatting", "alpaca") == "alpaca":
        parts = [record.get(columns.get("prompt", "instruction")), record.get(columns.get("query", "input"))]
    else:
        messages = record.get(columns.get("messages", "conversations"))
        role, content, user = (tags.get(k, d) for k, d in (("role_tag", "from"), ("content_tag", "value"),
                                                              ("user_tag", "human")))
        users = [m.get(content) for m in messages if isinstance(m, dict) and m.get(role) == user] \
            if isinstance(messages, list) else []
        parts = users[-1:]
    return "\n".join(part for part in parts if isinstance(part, str) and part.strip())


WORDY = re.compile(r"\w")
TRUNCATED_KEEPS = 64  # characters of a question that cutoff_len cut which must still be in the prompt


def asks(prompt: str, question: str) -> bool:
    """Whether a templated prompt holds ``question`` (whitespace aside; a long question cut by cutoff_len
    holds its first characters). A prompt without any text (a placeholder) holds every question.

    >>> asks("<|im_start|>user\\n原始词:高血压<|im_end|>", "原始词:高血压"), asks("…", "原始词:高血压")
    (True, True)
    >>> asks("<|im_start|>user\\n原始词:房颤<|im_end|>", "原始词:高血压")
    False
    """
    wanted, held = squash(question), squash(prompt)
    if not wanted or not WORDY.search(prompt_excerpt(prompt)):
        return True
    return wanted in held or (len(wanted) > TRUNCATED_KEEPS and wanted[:TRUNCATED_KEEPS] in held)


def squash(text: str) -> str:
    return "".join(text.split())


def short(text: str, width: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def attach_records(items: list[Prediction], path: Path, records: list[dict], entry: dict, test_file: Path) -> None:
    """Pairs each prediction with its test record, checking that the label is that record's answer and the
    prompt holds its question (the prompt's last user turn may not be another record's question)."""
    questions = [squash(question_of(record, entry)) for record in records]
    first_asking = {}
    for number, question in enumerate(questions):
        first_asking.setdefault(question, number)
    for index, (item, record) in enumerate(zip(items, records)):
        label, answer = squash(item.label), squash(reference(record, entry))
        if label != answer:
            if label and answer.startswith(label):
                hint = "cutoff_len truncated the label: raise cutoff_len and predict again"
            else:
                hint = "the predictions probably come from another dataset, or the test file changed since"
            raise UserError(
                f"{where(path, f'line {item.line}')}: label {short(item.label)!r} is not the answer of record "
                f"{index + 1} of {test_file} ({short(reference(record, entry))!r}); {hint}"
            )
        asked = first_asking.get(squash(prompt_excerpt(item.prompt, width=len(item.prompt) + 1)))
        if (asked is not None and questions[asked] != questions[index]) or (
                asked is None and not asks(item.prompt, question_of(record, entry))):
            raise UserError(misplaced(item, index, path, records, entry, test_file, asked))
        item.record = record
    if len(items) < len(records):
        raise UserError(
            f"{path}: {len(items)} predictions for {len(records)} test records in {test_file} (the predictions "
            f"end after line {items[-1].line}); max_samples probably cut them: predict without it"
        )
    if len(items) > len(records):
        raise UserError(
            f"{where(path, f'line {items[len(records)].line}')}: more predictions than the {len(records)} test "
            f"records in {test_file}; the predictions probably come from another dataset"
        )


def misplaced(item: Prediction, index: int, path: Path, records: list[dict], entry: dict, test_file: Path,
              asked: int | None) -> str:
    """The error for prediction ``index`` whose prompt does not ask its record's question (labels alike);
    ``asked``: the record whose question the prompt asks, if known."""
    if asked is None:
        asked = next((number for number, record in enumerate(records) if number != index
                      and squash(question_of(record, entry)) and squash(question_of(record, entry)) in squash(item.prompt)),
                     None)
    other = f"; it asks the question of record {asked + 1}" if asked is not None else ""
    return (f"{where(path, f'line {item.line}')}: the prompt does not hold the question of record {index + 1} of "
            f"{test_file} ({short(question_of(records[index], entry))!r}){other}; the predictions are not in the "
            "test split's order or come from another test file: predict again on this test file (`lfd compare` "
            "pairs runs by prompt)")


def load_dataset(name: str, info_path: Path, items: list[Prediction], predictions: Path) -> tuple[str, list[str], str]:
    """Attaches the test records of ``name`` to ``items``; returns the entry's name, its evaluator specs
    and its primary metric ("" when it declares none)."""
    dataset, entry = find_dataset(name, info_path)
    file_name = entry.get("file_name")
    if not isinstance(file_name, str):
        raise UserError(f"{info_path}: {dataset} has no file_name; only local test files can be checked")
    test_file = info_path.parent / file_name
    if not test_file.is_file():
        meta = entry.get("lfd") if isinstance(entry.get("lfd"), dict) else {}
        converter = meta.get("converter") if isinstance(meta.get("converter"), str) else None
        out_dir = test_file.parent  # as the user wrote --dataset-info: `data` for ./dataset_info.json
        fix = (f"convert the test split first (`lfd convert {converter} ... --out-dir {out_dir}`, "
               f"see `lfd convert {converter} --help`) or pass the --dataset-info that `lfd convert --out-dir` "
               "wrote" if converter else "write it first, or pass the --dataset-info whose entry points at it")
        raise UserError(f"{info_path}: file_name of {dataset} is {file_name!r}, but {test_file} is not a file; {fix}")
    records = read_records(test_file)
    check_records(records, test_file)  # a circular split's rotations, named by record before anything is scored
    attach_records(items, predictions, records, entry, test_file)
    listed = (entry.get("lfd") or {}).get("evaluators") or []
    if not isinstance(listed, list) or not all(isinstance(spec, str) for spec in listed):
        raise UserError(f'{info_path}: {dataset}.lfd.evaluators must be a list of specs like "exact_match"')
    primary = (entry.get("lfd") or {}).get("primary_metric") or ""
    if not isinstance(primary, str):
        raise UserError(f'{info_path}: {dataset}.lfd.primary_metric must be a metric name like "exact_match"')
    return dataset, listed, primary


@dataclass
class Runs:
    """What `lfd eval` / `lfd compare` score: each file's predictions and how to score them."""

    runs: list[list[Prediction]]
    dataset: str | None  # the test split's entry, when checked against --dataset
    evaluators: list[Evaluator]  # the dataset's recorded specs, then the -e ones (whose options win)
    primary: str  # the dataset's primary metric, "" when none is declared


def load_runs(args, paths: list[Path]) -> Runs:
    """Predictions of each file (checked against --dataset when given) and the evaluators to use."""
    if args.dataset_info and not args.dataset:
        raise UserError("--dataset-info needs --dataset NAME (the test set entry to check the labels against)")
    outputs = [out for out in (args.out, getattr(args, "per_item", None), args.html) if out]
    for path in paths:
        if any(out.resolve() == path.resolve() for out in outputs):
            raise UserError(f"{path}: that is the predictions file; write the reports elsewhere")
    runs = [read_predictions(path) for path in paths]
    specs, dataset, primary = [], None, ""
    if args.dataset:
        info_path = args.dataset_info or dataset_info.default_path()
        for path, items in zip(paths, runs):
            dataset, listed, primary = load_dataset(args.dataset, info_path, items, path)
        specs += [(f"{info_path}: {dataset}.lfd.evaluators", spec) for spec in listed]
    specs += [("-e", spec) for spec in args.evaluator]
    if args.bertscore_model:
        specs.append(("--bertscore-model", f"bertscore:model={args.bertscore_model}"))
    if not specs:
        raise UserError("no evaluator: pass -e NAME (e.g. -e exact_match; `lfd list` shows all) or --dataset NAME")
    return Runs(runs, dataset, build_evaluators(specs), primary)


def _key(item: Prediction) -> tuple[str, str]:
    return item.prompt, squash(item.label)


def _describe(path: Path, item: Prediction) -> str:
    return f"{where(path, f'line {item.line}')}, prompt {short(prompt_excerpt(item.prompt))!r}"


def pair_by_prompt(base: list[Prediction], tuned: list[Prediction], base_path: Path, tuned_path: Path):
    """``tuned`` reordered to pair with ``base``: same prompt and label (duplicates pair in file order)."""
    for path, items in ((base_path, base), (tuned_path, tuned)):
        blank = next((item for item in items if not item.prompt.strip()), None)
        if blank:
            raise UserError(
                f"{where(path, f'line {blank.line}')}: no prompt, so items cannot be paired by prompt; "
                "pass --dataset NAME to pair both files by test-split order"
            )
    waiting: dict[tuple, deque] = defaultdict(deque)
    for item in tuned:
        waiting[_key(item)].append(item)
    paired, lonely_base = [], []
    for item in base:
        queue = waiting.get(_key(item))
        if queue:
            paired.append(queue.popleft())
        else:
            lonely_base.append(item)
    lonely_tuned = sorted((item for queue in waiting.values() for item in queue), key=lambda item: item.line)
    if lonely_base or lonely_tuned:
        problems = []
        if lonely_base:
            problems.append(f"{len(lonely_base)} of {len(base)} base items have no tuned item with the same prompt "
                            f"and label (first: {_describe(base_path, lonely_base[0])})")
        if lonely_tuned:
            problems.append(f"{len(lonely_tuned)} of {len(tuned)} tuned items have none in base "
                            f"(first: {_describe(tuned_path, lonely_tuned[0])})")
        labels = {item.prompt: item.label for item in tuned}
        relabelled = next((item for item in lonely_base if item.prompt in labels), None)
        if relabelled:
            hint = (f"the same prompt has label {short(relabelled.label)!r} in base but "
                    f"{short(labels[relabelled.prompt])!r} in tuned: were both predicted on the same test file "
                    "with the same cutoff_len?")
        else:
            hint = ("compare predictions of the same test set; if the runs used different templates, "
                    "pass --dataset NAME to pair them by test-split order")
        raise UserError(f"{base_path} and {tuned_path} do not hold the same items: {'; '.join(problems)}; {hint}")
    return paired


def prompt_excerpt(prompt: str, record: dict | None = None, width: int = PROMPT_CHARS) -> str:
    """The question a prompt asks: the test record's instruction and input when known, else the last user
    turn of the templated prompt (the whole prompt when no role is marked), cut to ``width`` characters.

    >>> prompt_excerpt("<|im_start|>system\\nYou are helpful.<|im_end|>\\n<|im_start|>user\\n原始词:高血压<|im_end|>\\n"
    ...                "<|im_start|>assistant\\n")
    '原始词:高血压'
    >>> prompt_excerpt("ignored", {"instruction": "原始词:", "input": "高血压"})
    '原始词:\\n高血压'
    """
    if record and isinstance(record.get("instruction"), str):
        parts = [record["instruction"], record.get("input")]
        text = "\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    else:
        marked = ROLE_PREFIX.sub(r"\1\n", MARKUP.sub("\n", ROLE_TOKEN.sub(r"\n\1\n", prompt)))
        lines = [line.strip() for line in marked.splitlines()]
        roles = [i for i, line in enumerate(lines) if line.lower() in ROLES]
        users = [i for i in roles if lines[i].lower() in ("user", "human")]
        start = users[-1] + 1 if users else 0
        end = min([i for i in roles if i >= start] or [len(lines)])
        text = "\n".join(line for line in lines[start:end] if line)
    return text if len(text) <= width else text[: width - 1] + "…"
