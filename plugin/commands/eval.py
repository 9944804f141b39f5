"""`lfd eval`: score LLaMA-Factory's generated_predictions.jsonl with registered evaluators.

An evaluator subclasses :class:`Evaluator`, declares its options with their defaults, scores one
prediction at a time and aggregates; ``@register_evaluator(name)`` makes it usable as
``-e name:key=value``.
"""

from __future__ import annotations

import difflib
import json
import math
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...evaluators.base import Evaluator, Prediction, evaluators, metric_values
from .. import dataset_info, report_html
from ..errors import UserError, where
from ..io.atomic import AtomicFiles, dumps_json
from ..readers import read_json_lines
from .arguments import add_command, positive_int

EXAMPLE = "lfd eval saves/med_norm/qwen2.5-0.5b/lora/predict/generated_predictions.jsonl --dataset med_norm --out report.json"
DESCRIPTION = """\
Scores the predictions written by `llamafactory-cli train` with do_predict. With --dataset, every
label is checked against the test split (so the scores belong to that dataset) and the dataset's
evaluators are used. Prints each metric with its 95% confidence interval: a percentile bootstrap
over the items (--bootstrap resamples, seed 0; every metric and every run of the same size is
resampled with the same items, which `lfd compare` uses for paired intervals)."""
PREDICTIONS_FORMAT = 'one JSON object a line, {"prompt": ..., "predict": ..., "label": ...}'
BOOTSTRAP_SAMPLES = 1000
SEED = 0
CHUNK_CELLS = 2_000_000  # resampled indices held at once (16 MB as float weights)


def parse_value(text: str) -> bool | int | float | str:
    """Typed option value.

    >>> [parse_value(v) for v in ("true", "False", "3", "0.5", "loose")]
    [True, False, 3, 0.5, 'loose']
    """
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_spec(spec: str, source: str = "-e") -> tuple[str, dict]:
    """``NAME[:key=value[,key=value]]`` → (name, options); ``source`` prefixes error messages.

    >>> parse_spec("exact_match:ignore_case=true,punct=false")
    ('exact_match', {'ignore_case': True, 'punct': False})
    """
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise UserError(f"{source}: no evaluator name in {spec!r}; write NAME or NAME:key=value[,key=value]")
    options = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, equals, value = part.partition("=")
        if not equals or not key.strip():
            raise UserError(f"{source}: {part!r} in {spec!r} is not key=value; write e.g. {name}:ignore_case=true")
        options[key.strip()] = parse_value(value.strip())
    return name, options


def build_evaluators(specs: list[tuple[str, str]]) -> list[Evaluator]:
    """Evaluators from (source, spec) pairs; a name given twice merges its options, later ones winning."""
    merged: dict[str, dict] = {}
    for source, spec in specs:
        name, options = parse_spec(spec, source)
        merged.setdefault(name, {}).update(options)
    return [evaluators.get(name)(**options) for name, options in merged.items()]


def predictions_file(path: Path) -> Path:
    """``path``, or the generated_predictions.jsonl inside it when it is predict's output_dir."""
    inside = Path(path) / "generated_predictions.jsonl"
    return inside if inside.is_file() else Path(path)


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
        if isinstance(info.get(key), dict):
            return key, info[key]
    close = difflib.get_close_matches(name, list(info), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(map(repr, close))}?" if close else f"it has: {', '.join(info) or 'none'}"
    raise UserError(f"{info_path}: no dataset {' or '.join(map(repr, candidates))}; {hint}")


def read_records(path: Path) -> list[dict]:
    """Test records of a .jsonl file, or of a .json file holding an array (or JSON lines)."""
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
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


def squash(text: str) -> str:
    return "".join(text.split())


def short(text: str, width: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def attach_records(items: list[Prediction], path: Path, records: list[dict], entry: dict, test_file: Path) -> None:
    """Pairs each prediction with its test record, checking that the labels are that record's answer."""
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


def bootstrap_indices(n: int, draws: int, seed: int = SEED):
    """Chunks of resampled item indices, shape (draws in chunk, n); the same n, draws and seed give the same rows."""
    rng, done = np.random.default_rng(seed), 0
    chunk = max(1, min(draws, CHUNK_CELLS // max(1, n)))
    while done < draws:
        rows = min(chunk, draws - done)
        yield rng.integers(0, n, size=(rows, n))
        done += rows


def _mean_draws(per_item: list[dict], names: list[str], draws: int) -> np.ndarray:
    """(draws, metrics) means over resampled items, each index row weighting every metric at once."""
    n = len(per_item)
    values = np.array([[_number(scores.get(name)) for name in names] for scores in per_item], dtype=float)
    present = ~np.isnan(values)
    values[~present] = 0.0
    out, row = np.empty((draws, len(names))), 0
    for indices in bootstrap_indices(n, draws):
        rows = len(indices)
        flat = (indices + n * np.arange(rows)[:, None]).ravel()
        weights = np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):  # no applicable item drawn: NaN
            out[row : row + rows] = (weights @ values) / (weights @ present)
        row += rows
    return out


def _number(value) -> float:
    return math.nan if value is None else float(value)


def resample(evaluator: Evaluator, per_item: list[dict], names: list[str], draws: int = BOOTSTRAP_SAMPLES):
    """Metric → its value on each of ``draws`` bootstrap resamples of the items (seed 0; NaN where undefined).

    The default mean is vectorised; a custom ``aggregate`` is called on each resample. Two score lists
    of the same length get the same resampled indices, which makes the bootstrap paired.
    """
    if type(evaluator).aggregate is Evaluator.aggregate:
        table = _mean_draws(per_item, names, draws)
        return {name: table[:, column] for column, name in enumerate(names)}
    table, row = np.full((draws, len(names)), np.nan), 0
    for indices in bootstrap_indices(len(per_item), draws):
        for drawn in indices:
            metrics = evaluator.aggregate([per_item[i] for i in drawn])
            table[row] = [_number(metrics.get(name)) for name in names]
            row += 1
    return {name: table[:, column] for column, name in enumerate(names)}


def interval(draws: np.ndarray) -> tuple[float, float] | None:
    """Percentile 95% interval of bootstrap draws (NaN draws left out); None when none is defined."""
    finite = draws[~np.isnan(draws)]
    if not len(finite):
        return None
    lo, hi = np.quantile(finite, [0.025, 0.975])
    return float(lo), float(hi)


def confidence_intervals(evaluator: Evaluator, per_item: list[dict], draws: int = BOOTSTRAP_SAMPLES):
    """95% percentile-bootstrap interval of each aggregated metric (seed 0)."""
    names = list(evaluator.aggregate(per_item))
    drawn = resample(evaluator, per_item, names, draws)
    return {name: ci for name in names if (ci := interval(drawn[name])) is not None}


@dataclass
class Scores:
    per_item: list[dict[str, float | None]]
    metrics: dict[str, float] = field(default_factory=dict)
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    draws: dict[str, np.ndarray] = field(default_factory=dict)  # bootstrap values, for paired differences


def score_all(items: list[Prediction], chosen: list[Evaluator], draws: int = BOOTSTRAP_SAMPLES) -> Scores:
    """Per-item scores, aggregated metrics, their 95% bootstrap CIs and how many items each metric covers."""
    scores, owner = Scores([{} for _ in items]), {}
    for evaluator in chosen:
        per_item = evaluator.score_batch(items)
        for item, item_scores in zip(items, per_item):
            for name, value in item_scores.items():
                if value is not None and not (isinstance(value, int | float) and 0 <= value <= 1):
                    raise UserError(
                        f"evaluator {evaluator.name!r} gave line {item.line} {name}={value!r}; "
                        "scores must be numbers in [0, 1] or None: fix the evaluator"
                    )
        metrics = evaluator.aggregate(per_item)
        for name in metrics:
            if owner.setdefault(name, evaluator.name) != evaluator.name:
                raise UserError(
                    f"evaluators {owner[name]!r} and {evaluator.name!r} both report {name!r}; drop one of them"
                )
        for merged, item_scores in zip(scores.per_item, per_item):
            merged.update(item_scores)
        scores.metrics.update(metrics)
        scores.draws.update(resample(evaluator, per_item, list(metrics), draws))
        scores.ci95.update({name: ci for name in metrics if (ci := interval(scores.draws[name])) is not None})
        scores.counts.update({name: len(vals) for name, vals in metric_values(per_item).items() if name in metrics})
    return scores


def print_table(columns: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> None:
    """A rich table on a terminal; plain aligned columns when piped (greppable, stable)."""
    if sys.stdout.isatty():
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            pass
        else:
            table = Table(*columns, header_style="bold")
            for index, column in enumerate(table.columns):
                column.justify = "right" if index in right else "left"
            for row in rows:
                table.add_row(*row)
            Console().print(table)
            return
    widths = [max(_display_width(cells[i]) for cells in [columns, *rows]) for i in range(len(columns))]
    for cells in [columns, *rows]:
        gaps = [" " * (w - _display_width(c)) for c, w in zip(cells, widths)]
        print("  ".join(g + c if i in right else c + g for i, (c, g) in enumerate(zip(cells, gaps))).rstrip())


def _display_width(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_ci(ci: tuple[float, float] | None) -> str:
    return f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "-"


def print_scores(scores: Scores) -> None:
    rows = [
        [name, f"{value:.4f}", format_ci(scores.ci95.get(name)), str(scores.counts.get(name, 0))]
        for name, value in scores.metrics.items()
    ]
    print_table(["metric", "value", "95% CI", "n"], rows, right={1, 3})


def load_dataset(name: str, info_path: Path, items: list[Prediction], predictions: Path) -> tuple[str, list[str]]:
    """Attaches the test records of ``name`` to ``items``; returns the entry's name and its evaluator specs."""
    dataset, entry = find_dataset(name, info_path)
    file_name = entry.get("file_name")
    if not isinstance(file_name, str):
        raise UserError(f"{info_path}: {dataset} has no file_name; only local test files can be checked")
    test_file = info_path.parent / file_name
    if not test_file.is_file():
        raise UserError(f"{info_path}: file_name of {dataset} is {file_name!r}, but {test_file} is not a file")
    attach_records(items, predictions, read_records(test_file), entry, test_file)
    listed = (entry.get("lfd") or {}).get("evaluators") or []
    if not isinstance(listed, list) or not all(isinstance(spec, str) for spec in listed):
        raise UserError(f'{info_path}: {dataset}.lfd.evaluators must be a list of specs like "exact_match"')
    return dataset, listed


def load_runs(args, paths: list[Path]) -> tuple[list[list[Prediction]], str | None, list[Evaluator]]:
    """Predictions of each file (checked against --dataset when given) and the evaluators to use: the
    dataset's recorded specs, then the -e ones (whose options win)."""
    if args.dataset_info and not args.dataset:
        raise UserError("--dataset-info needs --dataset NAME (the test set entry to check the labels against)")
    outputs = [out for out in (args.out, getattr(args, "per_item", None), args.html) if out]
    for path in paths:
        if any(out.resolve() == path.resolve() for out in outputs):
            raise UserError(f"{path}: that is the predictions file; write the reports elsewhere")
    runs = [read_predictions(path) for path in paths]
    specs, dataset = [], None
    if args.dataset:
        info_path = args.dataset_info or dataset_info.default_path()
        for path, items in zip(paths, runs):
            dataset, listed = load_dataset(args.dataset, info_path, items, path)
        specs += [(f"{info_path}: {dataset}.lfd.evaluators", spec) for spec in listed]
    specs += [("-e", spec) for spec in args.evaluator]
    if args.bertscore_model:
        specs.append(("--bertscore-model", f"bertscore:model={args.bertscore_model}"))
    if not specs:
        raise UserError("no evaluator: pass -e NAME (e.g. -e exact_match; `lfd list` shows all) or --dataset NAME")
    return runs, dataset, build_evaluators(specs)


def run(args) -> int:
    predictions = predictions_file(args.predictions)
    [items], dataset, chosen = load_runs(args, [predictions])
    scores = score_all(items, chosen, args.bootstrap)
    with AtomicFiles() as files:  # the reports appear together, or none of them
        if args.per_item:
            handle = files.open(args.per_item)
            for item, item_scores in zip(items, scores.per_item):
                row = {"line": item.line, "predict": item.predict, "label": item.label, "scores": item_scores}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        if args.out:
            report = build_report(items, scores, chosen, predictions, dataset, args.bootstrap)
            files.open(args.out).write(dumps_json(report))
        if args.html:
            page = build_page(items, scores, chosen, predictions, dataset, args.bootstrap)
            files.open(args.html).write(report_html.render(page))
        files.commit()
    print(f"{len(items)} predictions from {predictions}" + (f", checked against {dataset}" if dataset else ""))
    print_scores(scores)
    return 0


def build_report(items, scores: Scores, chosen: list[Evaluator], predictions: Path, dataset, draws: int) -> dict:
    """The --out JSON: what was scored, with which evaluators, and the metrics with their 95% CIs."""
    return {
        "n": len(items),
        "metrics": scores.metrics,
        "ci95": {name: list(ci) for name, ci in scores.ci95.items()},
        "counts": scores.counts,
        "evaluators": [e.spec for e in chosen],
        "predictions": str(predictions),
        "dataset": dataset,
        "bootstrap": {"draws": draws, "seed": SEED},
    }


def build_page(items: list[Prediction], scores: Scores, chosen, predictions: Path, dataset, draws: int):
    """The single-run :class:`report_html.Page`: metric bars and the lowest-scoring items first."""
    order = sorted(range(len(items)), key=lambda i: (_mean_score(scores.per_item[i]), i))
    examples = [
        report_html.Example(
            where=str(items[i].line),
            prompt=report_html.prompt_excerpt(items[i].prompt, items[i].record),
            label=items[i].label.strip(),
            predictions=[items[i].predict],
            tags=report_html.score_tags(scores.per_item[i]),
        )
        for i in order[: report_html.MAX_EXAMPLES]
    ]
    run = report_html.Run("predictions", str(predictions), scores.metrics, scores.ci95, scores.counts)
    return report_html.Page(
        title=dataset or str(predictions),
        runs=[run],
        n=len(items),
        evaluators=[e.spec for e in chosen],
        dataset=dataset,
        draws=draws,
        examples=examples,
        examples_title="Items, lowest-scoring first",
    )


def _mean_score(item_scores: dict) -> float:
    values = [v for v in item_scores.values() if v is not None]
    return sum(values) / len(values) if values else math.inf


def add_scoring_options(parser) -> None:
    """Options `lfd eval` and `lfd compare` share."""
    parser.add_argument("--dataset", metavar="NAME",
                        help="test set in dataset_info.json (NAME_test or NAME): checks labels, adds its evaluators")
    parser.add_argument("--dataset-info", type=Path, metavar="PATH",
                        help="default: ./dataset_info.json if it exists, else ./data/dataset_info.json")
    parser.add_argument("-e", "--evaluator", action="append", default=[], metavar="EVALUATOR[:key=value]",
                        help="e.g. exact_match:ignore_case=true; repeatable; overrides the dataset's options")
    parser.add_argument("--bertscore-model", type=Path, metavar="PATH",
                        help="add BERTScore with this local model (e.g. models/bert-base-chinese: `lfd fetch bert-base-chinese`)")
    parser.add_argument("--out", type=Path, metavar="REPORT.json", help="write metrics, CIs and settings as JSON")
    parser.add_argument("--html", type=Path, metavar="REPORT.html",
                        help="write a self-contained HTML page with charts and example items")
    parser.add_argument("--bootstrap", type=positive_int, default=BOOTSTRAP_SAMPLES, metavar="N",
                        help=f"bootstrap resamples for the 95%% intervals (default {BOOTSTRAP_SAMPLES}, seed {SEED})")


def add_parser(sub):
    parser = add_command(sub, "eval", EXAMPLE, DESCRIPTION, help="score generated_predictions.jsonl")
    parser.add_argument("predictions", type=Path, metavar="PREDICTIONS",
                        help="generated_predictions.jsonl (or the output_dir holding it)")
    add_scoring_options(parser)
    parser.add_argument("--per-item", type=Path, metavar="FILE", help="write each prediction's scores as JSON lines")
    parser.set_defaults(func=run)
    return parser
