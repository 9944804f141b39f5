"""`lfd compare`: base vs tuned predictions of the same test set, with paired statistics.

Items pair by prompt (and label): runs with the same template give identical prompts, in any order.
With --dataset both files are checked line by line against the test split, so they pair by line
order instead, which also works when the two runs used different templates. The command line only:
the work is done by :mod:`..predictions`, :mod:`..scoring`, :mod:`..statistics` and :mod:`..report`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError, located
from ..io.atomic import AtomicFiles, dumps_json, printable_text
from ..io.paths import same_file
from ..predictions import load_runs, pair_by_prompt, predictions_file
from ..report.json_report import compare_report
from ..report.page import compare_page, render
from ..report.terminal import print_comparison, print_flips
from ..scoring import compare_scores, score_all
from ..statistics import SEED
from .arguments import add_command
from .eval import add_scoring_options, check_reports, declared_primary, stdout_report, to_stdout, write_lines, write_stdout

EXAMPLE = ("lfd compare build/demo/saves/predict/med_norm/base build/demo/saves/predict/med_norm/tuned "
           "--dataset med_norm --dataset-info build/demo/data/dataset_info.json --html compare.html")
DESCRIPTION = """\
Scores two prediction files of the same test set (base and tuned model) with the same evaluators
and reports, for every metric, both scores and the difference tuned - base on the items both runs
score, with a paired 95% interval and a paired test: for 0/1 metrics Agresti and Min's adjusted
Wald interval and the exact McNemar test, otherwise a paired bootstrap and a sign-flip permutation
test. The test split's primary metric (its converter's,
recorded in dataset_info.json; without --dataset the first evaluator's) is the claim: its p-value
decides "reliably better/worse" and its flipped items are listed (fixed: base wrong, tuned right;
broken: the reverse). Every other metric is exploratory, with Holm-adjusted p-values.
On a circular split the runs pair by question: McNemar on circular correctness, and a sign-flip
test of questions for the metrics of the rotated copies.
Items pair by exact prompt and label, in any order. With --dataset both files are checked against
the test split and pair by line order, so runs with different chat templates can be compared.
The example compares the base and tuned med_norm runs of `make demo`; after the predict recipes:
  lfd compare saves/med_norm/qwen2.5-0.5b/base/predict saves/med_norm/qwen2.5-0.5b/lora/predict \
      --dataset med_norm_test --html compare.html"""


def per_item_rows(base, tuned, scores):
    """One row per paired item: the label and, for each run, its line, prediction and scores."""
    for base_item, tuned_item, base_scores, tuned_scores in zip(base, tuned, scores[0].per_item, scores[1].per_item):
        yield {
            "label": base_item.label,
            "base": {"line": base_item.line, "predict": base_item.predict, "scores": base_scores},
            "tuned": {"line": tuned_item.line, "predict": tuned_item.predict, "scores": tuned_scores},
        }


def run(args) -> int:
    piped = stdout_report(args)
    paths = [predictions_file(args.base), predictions_file(args.tuned)]
    if same_file(paths[0], paths[1]):
        raise UserError(f"{paths[0]}: BASE and TUNED are the same file; pass the two runs' predictions")
    check_reports(args, paths, ["predictions", "predictions"])
    loaded = load_runs(args, paths)
    (base, tuned), dataset, chosen = loaded.runs, loaded.dataset, loaded.evaluators
    if dataset:  # both were checked line by line against the same test split
        paired_by = "test-split order"
    else:
        tuned, paired_by = pair_by_prompt(base, tuned, *paths), "prompt"
    with located(paths[0]):
        base_scores = score_all(base, chosen, args.bootstrap)
    with located(paths[1]):
        scores = (base_scores, score_all(tuned, chosen, args.bootstrap))
    for run in scores:
        declared_primary(loaded, run)
    comparison = compare_scores(*scores, primary=loaded.primary or None)
    sus = expert_ratings(args, paths, len(base))
    context = {
        "n": len(base),
        "paired_by": paired_by,
        "dataset": dataset,
        "evaluators": [e.spec for e in chosen],
        "bootstrap": {"draws": args.bootstrap, "seed": SEED},
        "base": str(paths[0]),
        "tuned": str(paths[1]),
    }
    with AtomicFiles() as files:
        if args.per_item and not to_stdout(args.per_item):
            write_lines(files.open(args.per_item), per_item_rows(base, tuned, scores))
        report = compare_report(context, base, tuned, scores, comparison) if args.out or args.json else None
        if report is not None and sus:
            report["sus"] = sus
        if args.out and not to_stdout(args.out):
            files.open(args.out).write(dumps_json(report))
        if args.html:
            page = compare_page(context, base, tuned, scores, comparison)
            if sus:
                from ..rating.beside import beside_html

                page.expert = beside_html(sus)
            files.open(args.html).write(printable_text(render(page)))
        files.commit()
    checked = f", checked against {dataset}" if dataset else ""
    print(f"{len(base)} items paired by {paired_by}{checked}: base {paths[0]}, tuned {paths[1]}",
          file=sys.stderr)  # a status line: stdout holds the results
    table = sys.stderr if piped else sys.stdout
    print_comparison(scores, comparison, out=table)
    print_flips(base, tuned, comparison, out=table)
    if sus:
        from ..rating.beside import print_beside

        print_beside(sus, out=table)
    write_stdout(piped, report, per_item_rows(base, tuned, scores))
    return 0


def expert_ratings(args, paths: list[Path], items: int) -> list[dict]:
    """--sus: the physicians' or a judge's SUS ratings of the two runs, beside the automatic metrics."""
    if not args.sus:
        return []
    from ..rating.beside import beside
    from ..rating.export import model_names

    names = model_names(paths, args.sus_models)
    return beside(args.sus, names, items, args.bootstrap)


def add_parser(sub):
    parser = add_command(sub, "compare", EXAMPLE, DESCRIPTION, help="compare base and tuned predictions")
    parser.add_argument("base", type=Path, metavar="BASE_PREDICTIONS",
                        help="generated_predictions.jsonl of the base model (or the output_dir holding it)")
    parser.add_argument("tuned", type=Path, metavar="TUNED_PREDICTIONS",
                        help="generated_predictions.jsonl of the tuned model (or the output_dir holding it)")
    add_scoring_options(parser)
    parser.add_argument("--sus", nargs="+", type=Path, metavar="REPORT.json",
                        help="SUS ratings to show beside the metrics: what `lfd rate import --out` (physicians) or "
                             "`lfd judge pointwise --out` (an LLM judge) wrote for these two runs")
    parser.add_argument("--sus-models", nargs=2, metavar=("BASE", "TUNED"),
                        help="the two runs' names in the --sus reports (default: their folder names, as `lfd rate "
                             "export` and `lfd judge` name them)")
    parser.set_defaults(func=run)
    return parser
