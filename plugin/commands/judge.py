"""`lfd judge`: an LLM judge behind any OpenAI-compatible endpoint scores predictions (plugin/judge/).

``show-template`` prints a shipped prompt (offline); ``pointwise`` rates each answer on HuaTuo's
Safety / Usability / Smoothness; ``pairwise`` asks which of a base and a tuned answer is better, in
both orders. The requests go through plugin/endpoint.py (concurrent, retried, cached).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError
from .arguments import ExampleFirstParser, HelpFormatter, add_command, concurrency, positive_int, resamples, seconds

API = "http://127.0.0.1:8000/v1"
RUN = "data/samples/rating"  # two runs' answers to medical questions, and physicians' filled sheets
EXAMPLES = {
    "show-template": "lfd judge show-template pointwise",
    "pointwise": f"lfd judge pointwise {RUN}/base {RUN}/tuned --api-base {API} --out judge.json",
    "pairwise": f"lfd judge pairwise {RUN}/base {RUN}/tuned --api-base {API} --out pairs.json",
    "against": f"--against {RUN}/ratings_filled.xlsx --key {RUN}/ratings_filled.key.json",
}
DESCRIPTION = f"""\
An LLM judge behind any OpenAI-compatible endpoint (vLLM, `llamafactory-cli api`, a hosted API) scores
predictions (generated_predictions.jsonl). The example prints the shipped pointwise prompt (offline:
copy it, edit it, pass it as --template). With a judge served on {API}:
  {EXAMPLES['pointwise']}
  {EXAMPLES['pairwise']}
and, to see how well the judge follows the physicians who rated the same answers (`lfd rate`):
  {EXAMPLES['pointwise']} \\
      {EXAMPLES['against']}
pointwise: Safety / Usability / Smoothness 1-3 (HuaTuo's SUS) per answer, means with a bootstrap
interval over questions. pairwise: each question judged twice (the tuned answer as A, then as B):
win, loss, or tie (including the orders disagreeing), the win rate (wins + ties/2)/n, and the orders'
disagreement rate (position bias). A reply that is not exactly one JSON object with the asked keys
is unparseable: counted and shown, never a score. Requests are cached (--cache): a rerun, or an
interrupted run resumed, sends only what is not answered yet. `lfd judge ACTION --help` for each."""


def add_parser(sub):
    p = add_command(sub, "judge", EXAMPLES["show-template"], DESCRIPTION,
                    help="an LLM judge (OpenAI-compatible endpoint): SUS ratings, pairwise win rates")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ExampleFirstParser)
    q = action(actions, "show-template", "Prints the shipped prompt template of KIND (pointwise: SUS ratings; "
               "pairwise: A or B). Save it,\nedit it and pass it back with --template FILE.", "print a shipped template")
    q.add_argument("kind", choices=("pointwise", "pairwise"), metavar="KIND", help="pointwise or pairwise")
    q = action(actions, "pointwise", "Asks the judge to rate every answer of each PREDICTIONS run on Safety, "
               "Usability and Smoothness (1-3).\nPrints per run the means and total with 95% bootstrap intervals "
               "over questions and the\nunparseable count; --out keeps every verdict as a row "
               '{"model", "item", "rater", "safety", ...}.', "rate answers on Safety / Usability / Smoothness")
    q.add_argument("predictions", nargs="+", type=Path, metavar="PREDICTIONS",
                   help="generated_predictions.jsonl (or the predict output_dir holding it); several runs allowed")
    q.add_argument("--models", nargs="+", metavar="NAME", help="the runs' names in the report, one per PREDICTIONS "
                   "(default: each folder's name, as `lfd rate export` names them)")
    common(q)
    q.add_argument("--against", nargs="+", type=Path, metavar="SHEET.xlsx",
                   help="physicians' rating sheets to compare the judge with (Spearman, Krippendorff's alpha)")
    q.add_argument("--key", type=Path, metavar="KEY.json", help="the sheets' key (which answer is which model)")
    q = action(actions, "pairwise", "Asks the judge which answer is better, BASE's or TUNED's, for each question, "
               "twice: the tuned\nanswer as A, then as B. Prints wins, ties and losses, the win rate with its 95% "
               "interval and\nhow often the two orders disagree (position bias).", "base vs tuned, in both orders")
    q.add_argument("base", type=Path, metavar="BASE", help="the base model's predictions")
    q.add_argument("tuned", type=Path, metavar="TUNED", help="the tuned model's predictions")
    common(q)
    p.set_defaults(func=run)
    return p


def action(actions, name: str, description: str, help: str):
    return actions.add_parser(name, help=help, formatter_class=HelpFormatter,
                              description=f"example:\n  {EXAMPLES[name]}\n\n{description}")


def common(q) -> None:
    from ..statistics import BOOTSTRAP_SAMPLES

    q.add_argument("--api-base", required=True, metavar="URL", help=f"the judge's OpenAI-compatible endpoint, e.g. {API}")
    q.add_argument("--model", metavar="NAME", help="the judge model (default: the first the endpoint lists)")
    q.add_argument("--api-key-env", default="OPENAI_API_KEY", metavar="VAR",
                   help="environment variable holding the endpoint's key (default OPENAI_API_KEY)")
    q.add_argument("--dataset", metavar="NAME", help="test set in dataset_info.json: predictions checked against it, "
                   "and the judge shown its records' questions")
    q.add_argument("--dataset-info", type=Path, metavar="PATH",
                   help="default: ./dataset_info.json if it exists, else ./data/dataset_info.json")
    q.add_argument("--template", type=Path, metavar="FILE", help="your prompt instead of the shipped one "
                   "(`lfd judge show-template KIND` prints it)")
    q.add_argument("--concurrency", type=concurrency, default=4, metavar="N", help="requests at once (default 4)")
    q.add_argument("--retries", type=int, default=4, metavar="N",
                   help="retries of a 429, 5xx, timeout or dropped connection (default 4)")
    q.add_argument("--timeout", type=seconds, default=120.0, metavar="S", help="seconds to wait for each answer")
    q.add_argument("--max-tokens", type=positive_int, metavar="N", help="longest verdict (default: the server's)")
    q.add_argument("--cache", type=Path, metavar="FILE.jsonl",
                   help="answers kept for reruns (default: beside --out, else $LFD_CACHE/judge/cache.jsonl)")
    q.add_argument("--out", type=Path, metavar="REPORT.json", help="write the summary and every verdict as JSON")
    q.add_argument("--bootstrap", type=resamples, default=BOOTSTRAP_SAMPLES, metavar="N",
                   help=f"bootstrap resamples of the intervals (default {BOOTSTRAP_SAMPLES}, seed 0)")


def run(args) -> int:
    args.command = f"judge {args.action}"
    if args.action == "show-template":
        from ..judge.prompts import shipped_text

        sys.stdout.write(shipped_text(args.kind))
        return 0
    return pointwise(args) if args.action == "pointwise" else pairwise(args)


def cache_path(args) -> Path:
    if args.cache:
        return args.cache
    if args.out:
        return args.out.with_name(f"{args.out.stem}.cache.jsonl")
    from ..catalog import default_cache

    return default_cache() / "judge" / "cache.jsonl"


def load(args, paths: list[Path]) -> tuple[list[Path], list[list]]:
    """Each file's predictions, checked against --dataset (its records attached) when given."""
    from .. import dataset_info
    from ..io.paths import check_outputs
    from ..predictions import load_dataset, predictions_file, read_predictions

    if args.dataset_info and not args.dataset:
        raise UserError("--dataset-info needs --dataset NAME (the test set whose questions the judge is shown)")
    files = [predictions_file(path) for path in paths]
    inputs = [("predictions", path) for path in files] + ([("--template", args.template)] if args.template else [])
    check_outputs([("--out", args.out), ("--cache", cache_path(args))], inputs)
    runs = [read_predictions(path) for path in files]
    if args.dataset:
        info = args.dataset_info or dataset_info.default_path()
        for path, items in zip(files, runs):
            load_dataset(args.dataset, info, items, path)
    return files, runs


def endpoint_of(args):
    from ..endpoint import Endpoint

    return Endpoint(args.api_base, args.model, args.api_key_env, args.concurrency, args.retries, args.timeout,
                    cache_path(args))


def run_names(args, files: list[Path]) -> list[str]:
    """--models, or each run's folder name (the file's stem when it is not generated_predictions.jsonl)."""
    if args.models:
        if len(args.models) != len(files) or len(set(args.models)) != len(args.models):
            raise UserError(f"--models names {len(args.models)} models for {len(files)} prediction files; give "
                            "each its own name")
        return list(args.models)
    names = []
    for path in files:
        name = path.parent.name if path.name == "generated_predictions.jsonl" and path.parent.name else path.stem
        names.append(name if name not in names else f"{name}#{len(names) + 1}")
    return names


def pointwise(args) -> int:
    from ..judge.prompts import load_template, questions
    from ..judge.run import judge_pointwise
    from ..judge.report import print_pointwise, print_requests, write

    if bool(args.against) != bool(args.key):
        raise UserError("--against SHEET.xlsx... and --key KEY.json go together: the key says which answer is which")
    template = load_template("pointwise", args.template)
    files, runs = load(args, args.predictions)
    names = run_names(args, files)
    humans = read_humans(args)
    endpoint = endpoint_of(args)
    pairs = {name: list(zip(questions(items, args.dataset, info_path(args)), [item.predict for item in items]))
             for name, items in zip(names, runs)}
    report = judge_pointwise(pairs, endpoint, template, args.max_tokens, args.bootstrap)
    if humans is not None:
        report["agreement"] = compare_with_humans(report["rows"], humans)
    write(args.out, report)
    print_pointwise(report)
    print_requests(report, args.out)
    return 0


def info_path(args) -> Path | None:
    from .. import dataset_info

    return (args.dataset_info or dataset_info.default_path()) if args.dataset else None


def read_humans(args) -> list[dict] | None:
    """The physicians' ratings of --against / --key, read before the judge is asked (a bad sheet costs nothing)."""
    if not args.against:
        return None
    try:
        from ..rating.sheets import read_ratings
    except ImportError:
        raise UserError("--against: this install has no plugin/rating (the physicians' sheets) yet; "
                        "run without --against") from None
    return read_ratings(args.against, args.key)


def compare_with_humans(judge_rows: list[dict], human_rows: list[dict]) -> dict:
    """Spearman per dimension and Krippendorff's alpha with and without the judge (plugin/rating/agreement.py)."""
    try:
        from ..rating.agreement import judge_agreement
    except ImportError:
        raise UserError("--against: this install has no plugin/rating/agreement.py yet; run without --against") from None
    return judge_agreement(judge_rows, human_rows)


def pairwise(args) -> int:
    from ..judge.prompts import load_template, questions
    from ..judge.run import judge_pairwise
    from ..predictions import pair_by_prompt
    from ..judge.report import print_pairwise, print_requests, write

    template = load_template("pairwise", args.template)
    files, (base, tuned) = load(args, [args.base, args.tuned])
    if args.dataset:
        if len(base) != len(tuned):
            raise UserError(f"{files[0]} has {len(base)} predictions, {files[1]} {len(tuned)}; predict both on "
                            "the same test split")
    else:
        tuned = pair_by_prompt(base, tuned, files[0], files[1])
    endpoint = endpoint_of(args)
    report = judge_pairwise([item.predict for item in base], [item.predict for item in tuned],
                            questions(base, args.dataset, info_path(args)), endpoint, template, args.max_tokens,
                            args.bootstrap)
    report["settings"].update({"base": str(files[0]), "tuned": str(files[1])})
    write(args.out, report)
    print_pairwise(report)
    print_requests(report, args.out)
    return 0
