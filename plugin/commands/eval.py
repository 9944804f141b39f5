"""`lfd eval`: score LLaMA-Factory's generated_predictions.jsonl with registered evaluators.

The command line only: the predictions are read (and checked against --dataset) by
:mod:`..predictions`, scored by :mod:`..scoring` with the intervals of :mod:`..statistics`, and
reported by :mod:`..report` (the --out JSON, the --html page, the table printed).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .. import dataset_info
from ..errors import UserError, located
from ..io.atomic import AtomicFiles, dumps_json, escape_surrogates, printable_text
from ..io.paths import check_outputs
from ..predictions import load_runs, predictions_file
from ..report.json_report import eval_report
from ..report.page import eval_page, render
from ..report.terminal import print_scores
from ..scoring import score_all
from ..statistics import BOOTSTRAP_SAMPLES, SEED
from .arguments import add_command, resamples
from .list import evaluator_rows, listing

EXAMPLE = ("lfd eval build/demo/saves/predict/med_norm/tuned --dataset med_norm "
           "--dataset-info build/demo/data/dataset_info.json --out report.json")
DESCRIPTION = """\
Scores the predictions written by `llamafactory-cli train` with do_predict. With --dataset, every
label is checked against the test split (so the scores belong to that dataset) and the dataset's
evaluators are used. Prints each metric with its 95% confidence interval: exact (Clopper-Pearson)
for 0/1 metrics, else a percentile bootstrap over the items (--bootstrap resamples, seed 0) printed
to the digits its Monte-Carlo error leaves stable; and the split's primary metric. On a circular
split (`lfd convert --circular K`: each question in several option orders) `choice` adds circular
accuracy, answer consistency, flip rate and position bias, and the intervals count questions.
The example scores the tuned med_norm run of `make demo`. After a recipe's predict run and
`lfd convert ... --out-dir data` (run from the repo root, where ./dataset_info.json describes data/):
  lfd eval saves/med_norm/qwen2.5-0.5b/lora/predict --dataset med_norm_test --out report.json"""


STDOUT = "-"  # --out - / --per-item -: written to stdout, not to a file


def to_stdout(path: Path | None) -> bool:
    """Whether an output option was given as ``-`` (stdout)."""
    return path is not None and str(path) == STDOUT


def report_outputs(args) -> list[tuple[str, Path]]:
    """The report files `lfd eval` / `lfd compare` were asked to write, by option (``-``, stdout, left out)."""
    pairs = [(option, getattr(args, option[2:].replace("-", "_"), None)) for option in ("--out", "--per-item", "--html")]
    return [(option, None if to_stdout(path) else path) for option, path in pairs]


def stdout_report(args) -> str | None:
    """What goes to stdout instead of the table: "json" (--json or --out -), "per-item" (--per-item -) or None."""
    if to_stdout(args.html):
        raise UserError("--html -: the page cannot go to stdout; pass a file name, e.g. --html report.html")
    json_out = args.json or to_stdout(args.out)
    if json_out and to_stdout(args.per_item):
        given = "--out -" if to_stdout(args.out) else "--json"
        raise UserError(f"{given} and --per-item -: both would go to stdout; write one of them to a file, "
                        "e.g. --per-item items.jsonl")
    return "json" if json_out else "per-item" if to_stdout(args.per_item) else None


def read_inputs(args) -> list[tuple[str, Path]]:
    """What the command reads besides the predictions: dataset_info.json and the test file of --dataset."""
    if not args.dataset:
        return []
    info_path = args.dataset_info or dataset_info.default_path()
    inputs = [("--dataset-info" if args.dataset_info else "dataset_info.json", info_path)]
    info = dataset_info.load(info_path) if os.path.isfile(info_path) else {}
    names = [args.dataset] if args.dataset.endswith("_test") else [f"{args.dataset}_test", args.dataset]
    entry = next((info[name] for name in names if isinstance(info.get(name), dict)), {})
    file_name = entry.get("file_name")
    if isinstance(file_name, str) and file_name and "\0" not in file_name:
        inputs.append((f"--dataset {args.dataset} test split", info_path.parent / file_name))
    return inputs


def check_reports(args, predictions: list[Path], labels: list[str]) -> None:
    """No report over an input (predictions, dataset_info.json, the test split) or over another report."""
    check_outputs(report_outputs(args), [*zip(labels, predictions), *read_inputs(args)])


def declared_primary(loaded, scores) -> str:
    """The test split's primary metric (dataset_info's lfd.primary_metric), checked to be scored; "" when none."""
    if loaded.primary and loaded.primary not in scores.metrics:
        raise UserError(f"{loaded.dataset}: its primary metric {loaded.primary!r} (lfd.primary_metric in "
                        f"dataset_info.json) was not scored; keep its evaluator on (`lfd list` shows which reports it)")
    return loaded.primary


def write_lines(handle, rows) -> None:
    """JSON lines, non-ASCII as it is (lone surrogates of a broken prediction escaped)."""
    for row in rows:
        handle.write(escape_surrogates(json.dumps(row, ensure_ascii=False)) + "\n")


def run(args) -> int:
    piped = stdout_report(args)
    predictions = predictions_file(args.predictions)
    check_reports(args, [predictions], ["predictions"])
    loaded = load_runs(args, [predictions])
    [items], dataset, chosen = loaded.runs, loaded.dataset, loaded.evaluators
    with located(predictions):
        scores = score_all(items, chosen, args.bootstrap)
    scores.primary = declared_primary(loaded, scores) or scores.primary
    with AtomicFiles() as files:  # the reports appear together, or none of them
        rows = ({"line": item.line, "predict": item.predict, "label": item.label, "scores": item_scores}
                for item, item_scores in zip(items, scores.per_item))
        if args.per_item and not to_stdout(args.per_item):
            write_lines(files.open(args.per_item), rows)
        report = eval_report(items, scores, chosen, predictions, dataset, args.bootstrap) if args.out or args.json else None
        if args.out and not to_stdout(args.out):
            files.open(args.out).write(dumps_json(report))
        if args.html:
            page = eval_page(items, scores, chosen, predictions, dataset, args.bootstrap)
            files.open(args.html).write(printable_text(render(page)))
        files.commit()
    print(f"{len(items)} predictions from {predictions}" + (f", checked against {dataset}" if dataset else ""),
          file=sys.stderr)  # a status line: stdout holds the results
    if not dataset:
        print(f"note: {len(items)} items were not checked against a test split (missing or extra lines go "
              "unnoticed, labels are taken as they are); pass --dataset NAME", file=sys.stderr)
    print_scores(scores, out=sys.stderr if piped else sys.stdout)
    write_stdout(piped, report, rows)
    return 0


def write_stdout(piped: str | None, report: dict | None, rows) -> None:
    """--json / --out -: the report JSON on stdout; --per-item -: the item lines."""
    if piped == "json":
        sys.stdout.write(dumps_json(report))
    elif piped == "per-item":
        write_lines(sys.stdout, rows)
    sys.stdout.flush()


def evaluators_help() -> str:
    """The --help epilog: each evaluator with its options (computed only when --help is shown)."""
    title = "evaluators (-e NAME or -e NAME:key=value,key=value; each option with its default):"
    try:
        return "\n".join([title, *listing(evaluator_rows())])
    except UserError as err:  # a broken third-party evaluator: the help still shows
        return f"{title}\n  cannot be listed: {err}"


def add_scoring_options(parser) -> None:
    """Options `lfd eval` and `lfd compare` share, and the evaluators' options as the help's epilog."""
    parser.add_argument("--dataset", metavar="NAME",
                        help="test set in dataset_info.json (NAME_test or NAME): checks labels, adds its evaluators")
    parser.add_argument("--dataset-info", type=Path, metavar="PATH",
                        help="default: ./dataset_info.json if it exists, else ./data/dataset_info.json")
    parser.add_argument("-e", "--evaluator", action="append", default=[], metavar="EVALUATOR[:key=value]",
                        help="e.g. exact_match:ignore_case=true; repeatable; overrides the dataset's options")
    parser.add_argument("--bertscore-model", type=Path, metavar="PATH",
                        help="add BERTScore with this local model (e.g. models/bert-base-chinese: `lfd fetch bert-base-chinese`)")
    parser.add_argument("--out", type=Path, metavar="REPORT.json",
                        help="write metrics, CIs and settings as JSON (- : to stdout, the table to stderr)")
    parser.add_argument("--json", action="store_true",
                        help="print the --out report JSON to stdout instead of the table (the table goes to stderr)")
    parser.add_argument("--html", type=Path, metavar="REPORT.html",
                        help="write a self-contained HTML page with charts and example items")
    parser.add_argument("--per-item", type=Path, metavar="FILE",
                        help="write each item's scores as JSON lines (lfd compare: both runs' on one line; - : stdout)")
    parser.add_argument("--bootstrap", type=resamples, default=BOOTSTRAP_SAMPLES, metavar="N",
                        help=f"bootstrap resamples for the intervals of graded metrics and paired differences, and sign flips "
                             f"of the permutation test (default {BOOTSTRAP_SAMPLES}, seed {SEED})")
    parser.epilog = evaluators_help


def add_parser(sub):
    parser = add_command(sub, "eval", EXAMPLE, DESCRIPTION, help="score generated_predictions.jsonl")
    parser.add_argument("predictions", type=Path, metavar="PREDICTIONS",
                        help="generated_predictions.jsonl (or the output_dir holding it)")
    add_scoring_options(parser)
    parser.set_defaults(func=run)
    return parser
