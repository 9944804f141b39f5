"""`lfd rate`: physicians rate several models' answers, blinded (export), and the ratings are scored (import).

The command line only: the workbook and its key are made by :mod:`..rating.export`, read back and
checked by :mod:`..rating.sheets`, scored by :mod:`..rating.sus` and shown by :mod:`..report.rating_page`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .. import dataset_info
from ..errors import UserError
from ..io.atomic import AtomicFiles, dumps_json, printable_text
from ..io.paths import check_outputs, same_file
from ..predictions import predictions_file
from ..statistics import BOOTSTRAP_SAMPLES, SEED
from .arguments import add_command, at_most, resamples

SAMPLES = "data/samples/rating"
EXAMPLE = f"lfd rate export {SAMPLES}/base {SAMPLES}/tuned --out ratings.xlsx --raters 3"
EXPORT_EXAMPLE = EXAMPLE
IMPORT_EXAMPLE = f"lfd rate import {SAMPLES}/ratings_filled.xlsx --key {SAMPLES}/ratings_filled.key.json --html ratings.html"
DESCRIPTION = f"""\
Physicians' ratings of answers on HuaTuo's SUS scale: Safety (安全性), Usability (可用性) and Smoothness
(流畅性), each 1 (unacceptable), 2 (acceptable) or 3 (good).
`lfd rate export` writes a workbook with one sheet per rater holding every model's answer to every
question, the models hidden and the rows in each rater's own random order (--seed), the rubric on
its own sheet, and a key (JSON, kept apart from the sheets) that says which model wrote each row.
`lfd rate import` checks the filled sheets cell by cell (every problem one line naming the sheet and
row), unblinds them with the key and reports each model's mean ratings with 95% intervals (a
bootstrap of questions, each keeping all its raters' ratings), the paired difference of every two
models with a sign-flip test, and Krippendorff's alpha between the raters. The example exports the
bundled base and tuned answers; a filled sheet is bundled too:
  {IMPORT_EXAMPLE}"""
EXPORT_DESCRIPTION = """\
Writes the blinded rating workbook (--out, .xlsx) and its key (--key, default SHEET.key.json beside
it): the same inputs and --seed give byte-identical files. PREDICTIONS are predict runs (output_dir
or generated_predictions.jsonl) of the models on the same test split, in the same order. The question
shown is the --dataset record's instruction and input, else the user turn of the templated prompt.
Send the workbook to the raters; keep the key yourself."""
IMPORT_DESCRIPTION = """\
Reads the filled workbook(s) (one file, or one per rater), checks every cell against the key (a
rating 1-3 in each of the three columns, the question and answer texts unchanged, every 编号 once),
and reports per model the mean Safety, Usability, Smoothness and total (3-9) with 95% intervals, the
paired differences and the raters' agreement (Krippendorff's alpha, ordinal). Nothing is written
when a sheet has a problem: each is printed on one line with its fix."""


def run_export(args) -> int:
    from ..rating.export import build, load_models, model_names

    out = args.out
    if out.suffix.lower() != ".xlsx":
        raise UserError(f"--out {out}: the workbook must end in .xlsx, e.g. --out ratings.xlsx")
    key_path = args.key or out.with_suffix(".key.json")
    if args.dataset_info and not args.dataset:
        raise UserError("--dataset-info needs --dataset NAME (the test split the predictions were made on)")
    paths = [predictions_file(path) for path in args.predictions]
    for index, path in enumerate(paths):
        for other in paths[:index]:
            if same_file(path, other):
                raise UserError(f"{path}: given twice; pass each model's predictions once")
    info_path = (args.dataset_info or dataset_info.default_path()) if args.dataset else None
    inputs = [("predictions", path) for path in paths] + ([("--dataset-info", info_path)] if info_path else [])
    check_outputs([("--out", out), ("--key", key_path)], inputs)
    if same_file(out, key_path):
        raise UserError(f"--key {key_path}: the same file as --out; keep the key apart from the sheet")
    for label, path in (("--out", out), ("--key", key_path)):
        if os.path.lexists(path) and not args.force:
            raise UserError(f"{path} exists ({label}); pass --force to replace it, or choose another name")
    models, questions = load_models(paths, model_names(paths, args.models), args.dataset, info_path)
    workbook, key = build(models, questions, args.raters, args.seed)
    with AtomicFiles() as files:  # the sheet and its key appear together, or neither
        files.open(out, binary=True).write(workbook)
        files.open(key_path).write(dumps_json(key))
        files.commit()
    rows = len(questions) * len(models)
    print(f"{out}: {args.raters} rater sheets of {rows} answers ({len(questions)} questions × {len(models)} models: "
          f"{', '.join(model.name for model in models)}), seed {args.seed}; key {key_path} (keep it from the raters)",
          file=sys.stderr)
    return 0


def run_import(args) -> int:
    from ..rating.sheets import load_key, read_ratings
    from ..rating.sus import summarize
    from ..report.rating_page import print_summary, render

    to_stdout = args.json or (args.out is not None and str(args.out) == "-")
    if args.html is not None and str(args.html) == "-":
        raise UserError("--html -: the page cannot go to stdout; pass a file name, e.g. --html ratings.html")
    key_path = args.key or args.sheets[0].with_suffix(".key.json")
    if not args.key and not key_path.is_file():
        raise UserError(f"no --key and no {key_path}; pass --key KEY.json (written by `lfd rate export`)")
    out = None if args.out is None or str(args.out) == "-" else args.out
    check_outputs([("--out", out), ("--html", args.html)],
                  [*(("sheet", path) for path in args.sheets), ("--key", key_path)])
    key = load_key(key_path)
    rows = read_ratings(args.sheets, key)
    models = [str(model["name"]) for model in key["models"]]
    summary = summarize(rows, models, len(key["questions"]), args.bootstrap)
    context = {"sheets": [str(path) for path in args.sheets], "key": str(key_path)}
    report = {**context, **summary, "ratings_rows": rows}
    with AtomicFiles() as files:
        if out:
            files.open(out).write(dumps_json(report))
        if args.html:
            files.open(args.html).write(printable_text(render(summary, context)))
        files.commit()
    print(f"{len(rows)} ratings from {len(summary['raters'])} raters ({', '.join(map(str, args.sheets))}), "
          f"unblinded with {key_path}", file=sys.stderr)
    print_summary(summary, out=sys.stderr if to_stdout else sys.stdout)
    if to_stdout:
        sys.stdout.write(dumps_json(report))
    sys.stdout.flush()
    return 0


def add_parser(sub):
    parser = add_command(sub, "rate", EXAMPLE, DESCRIPTION, help="physicians' blinded SUS ratings: export sheets, import them")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = add_command(actions, "export", EXPORT_EXAMPLE, EXPORT_DESCRIPTION, help="write the blinded rating workbook and its key")
    export.add_argument("predictions", type=Path, nargs="+", metavar="PREDICTIONS",
                        help="each model's generated_predictions.jsonl (or the predict run's output_dir)")
    export.add_argument("--out", type=Path, required=True, metavar="SHEET.xlsx", help="the workbook to send to the raters")
    export.add_argument("--key", type=Path, metavar="KEY.json",
                        help="where the key goes (default: SHEET.key.json beside the workbook); keep it from the raters")
    export.add_argument("--raters", type=at_most(1000, "rater sheets", "more than any rating study has"), default=5,
                        metavar="N", help="rater sheets (default 5)")
    export.add_argument("--seed", type=int, default=SEED, metavar="N", help=f"seed of the row orders (default {SEED})")
    export.add_argument("--models", nargs="+", metavar="NAME",
                        help="the models' names in the key, one per PREDICTIONS (default: each run's folder name)")
    export.add_argument("--dataset", metavar="NAME",
                        help="test split in dataset_info.json: checks the predictions and shows its records' questions")
    export.add_argument("--dataset-info", type=Path, metavar="PATH",
                        help="default: ./dataset_info.json if it exists, else ./data/dataset_info.json")
    export.add_argument("--force", action="store_true", help="replace an existing workbook and key")
    export.set_defaults(func=run_export)
    imported = add_command(actions, "import", IMPORT_EXAMPLE, IMPORT_DESCRIPTION, help="check, unblind and score filled sheets")
    imported.add_argument("sheets", type=Path, nargs="+", metavar="SHEET.xlsx",
                          help="the filled workbook, or one file per rater")
    imported.add_argument("--key", type=Path, metavar="KEY.json",
                          help="the key `lfd rate export` wrote (default: the first sheet's SHEET.key.json)")
    imported.add_argument("--out", type=Path, metavar="REPORT.json",
                          help="write the means, differences, agreement and every unblinded rating as JSON (- : stdout)")
    imported.add_argument("--json", action="store_true", help="print the --out JSON to stdout (the table goes to stderr)")
    imported.add_argument("--html", type=Path, metavar="REPORT.html", help="write a self-contained HTML page")
    imported.add_argument("--bootstrap", type=resamples, default=BOOTSTRAP_SAMPLES, metavar="N",
                          help=f"bootstrap resamples of questions and random sign flips (default {BOOTSTRAP_SAMPLES}, seed {SEED})")
    imported.set_defaults(func=run_import)
    return parser
