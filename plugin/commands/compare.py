"""`lfd compare`: base vs tuned predictions of the same test set, with paired statistics.

Items pair by prompt (and label): runs with the same template give identical prompts, in any order.
With --dataset both files are checked line by line against the test split, so they pair by line
order instead, which also works when the two runs used different templates.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from pathlib import Path

from .. import report_html
from ..errors import UserError, where
from ..io.atomic import AtomicFiles, dumps_json
from .arguments import add_command
from .eval import (
    SEED,
    Prediction,
    Scores,
    add_scoring_options,
    format_ci,
    interval,
    load_runs,
    predictions_file,
    print_table,
    score_all,
    short,
    squash,
)

EXAMPLE = ("lfd compare saves/med_norm/base/predict saves/med_norm/lora/predict --dataset med_norm "
           "--html compare.html")
DESCRIPTION = """\
Scores two prediction files of the same test set (base and tuned model) with the same evaluators
and reports, for every metric, both scores, the difference tuned - base with a paired-bootstrap
95% interval (the same resampled items for both runs) and, for 0/1 metrics, the exact McNemar
p-value and the items that flipped: fixed (base wrong, tuned right) and broken (the reverse).
Items pair by exact prompt and label, in any order. With --dataset both files are checked against
the test split and pair by line order, so runs with different chat templates can be compared."""
SHOWN_FLIPS = 5  # flipped items printed per direction
FLIP_KINDS = ("fixed", "broken")  # base 0 → tuned 1, and 1 → 0


def mcnemar_p(fixed: int, broken: int) -> float:
    """Exact two-sided McNemar p-value: a binomial test of the discordant pairs against 1/2.

    >>> mcnemar_p(9, 1)
    0.021484375
    >>> mcnemar_p(0, 0)
    1.0
    """
    n = fixed + broken
    tail = sum(math.comb(n, k) for k in range(min(fixed, broken) + 1))
    return min(1.0, 2 * tail / 2**n)


def _key(item: Prediction) -> tuple[str, str]:
    return item.prompt, squash(item.label)


def _describe(path: Path, item: Prediction) -> str:
    return f"{where(path, f'line {item.line}')}, prompt {short(report_html.prompt_excerpt(item.prompt))!r}"


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


def flips(name: str, base: Scores, tuned: Scores) -> tuple[list[int], list[int]] | None:
    """Indices of the items ``name`` fixed and broke when both runs score it 0/1; None for graded metrics.
    For a lower-is-better metric (``choice_no_answer_rate``, ``json_field_missing_rate``) fixed means 1 → 0."""
    pairs = [(i, b.get(name), t.get(name)) for i, (b, t) in enumerate(zip(base.per_item, tuned.per_item))]
    if not {v for _, b, t in pairs for v in (b, t) if v is not None} <= {0, 1}:
        return None
    up = [i for i, b, t in pairs if b == 0 and t == 1]
    down = [i for i, b, t in pairs if b == 1 and t == 0]
    return (down, up) if report_html.lower_is_better(name) else (up, down)


def compare_scores(base: Scores, tuned: Scores) -> dict[str, tuple[report_html.Change, tuple | None]]:
    """Metric → (its change, (fixed indices, broken indices) or None) for metrics both runs report."""
    changes = {}
    for name, value in base.metrics.items():
        if name not in tuned.metrics:
            continue
        flipped = flips(name, base, tuned)
        change = report_html.Change(tuned.metrics[name] - value, interval(tuned.draws[name] - base.draws[name]))
        if flipped:
            change.fixed, change.broken = len(flipped[0]), len(flipped[1])
            change.p = mcnemar_p(change.fixed, change.broken)
        changes[name] = (change, flipped)
    return changes


def flip_row(base: Prediction, tuned: Prediction) -> dict:
    return {
        "base_line": base.line,
        "tuned_line": tuned.line,
        "prompt": report_html.prompt_excerpt(base.prompt, base.record),
        "label": report_html.clip(base.label),
        "base": report_html.clip(base.predict),
        "tuned": report_html.clip(tuned.predict),
    }


def _run_report(path: Path, scores: Scores) -> dict:
    return {
        "predictions": str(path),
        "metrics": scores.metrics,
        "ci95": {name: list(ci) for name, ci in scores.ci95.items()},
        "counts": scores.counts,
    }


def build_report(context: dict, base: list[Prediction], tuned: list[Prediction], scores, changes) -> dict:
    """The --out JSON: both runs, the differences with their paired intervals, McNemar and the flipped items."""
    binary = {name: (change, flipped) for name, (change, flipped) in changes.items() if flipped}
    return {
        **context,
        "base": _run_report(context["base"], scores[0]),
        "tuned": _run_report(context["tuned"], scores[1]),
        "diff": {name: change.diff for name, (change, _) in changes.items()},
        "diff_ci95": {name: list(change.ci95) for name, (change, _) in changes.items() if change.ci95},
        "mcnemar": {name: {"fixed": c.fixed, "broken": c.broken, "p": c.p} for name, (c, _) in binary.items()},
        "flips": {
            name: {kind: [flip_row(base[i], tuned[i]) for i in indices] for kind, indices in zip(FLIP_KINDS, f)}
            for name, (_, f) in binary.items()
        },
    }


def build_page(context: dict, base: list[Prediction], tuned: list[Prediction], scores, changes) -> report_html.Page:
    """The HTML page: flipped items first, then the items whose scores moved most."""
    flipped_names: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"fixed": [], "broken": []})
    for name, (_, flipped) in changes.items():
        for kind, indices in zip(FLIP_KINDS, flipped or ()):
            for i in indices:
                flipped_names[i][kind].append(name)
    tags = {i: [(kind, text) for kind, names in kinds.items() for text in _flip_tags(kind, names)]
            for i, kinds in flipped_names.items()}

    def moved(i: int) -> float:
        pairs = [(b, scores[1].per_item[i].get(n)) for n, b in scores[0].per_item[i].items()]
        return sum(abs(t - b) for b, t in pairs if b is not None and t is not None)

    order = sorted(range(len(base)), key=lambda i: (i not in tags, -moved(i), i))
    examples = [
        report_html.Example(
            where=str(base[i].line) if base[i].line == tuned[i].line else f"{base[i].line} / {tuned[i].line}",
            prompt=report_html.prompt_excerpt(base[i].prompt, base[i].record),
            label=base[i].label.strip(),
            predictions=[base[i].predict, tuned[i].predict],
            tags=tags.get(i, []),
        )
        for i in order[: report_html.MAX_EXAMPLES]
    ]
    runs = [report_html.Run(name, str(context[name]), s.metrics, s.ci95, s.counts)
            for name, s in zip(("base", "tuned"), scores)]
    return report_html.Page(
        title=f"{context['dataset']}: base vs tuned" if context["dataset"] else "Base vs tuned",
        runs=runs,
        n=len(base),
        evaluators=context["evaluators"],
        dataset=context["dataset"],
        draws=context["bootstrap"]["draws"],
        examples=examples,
        examples_title="Items, flipped first",
        changes={name: change for name, (change, _) in changes.items()},
        paired_by=context["paired_by"],
    )


def _flip_tags(kind: str, names: list[str]) -> list[str]:
    """One tag per metric, per-field metrics collapsed: ``fixed: json_field_exact_match/ 主诉, 诊断``."""
    tags, fields = [], {}
    for name in names:
        prefix, _, field = name.rpartition("/")
        if prefix:
            fields.setdefault(prefix, []).append(field)
        else:
            tags.append(f"{kind}: {name}")
    return tags + [f"{kind}: {prefix}/ {', '.join(group)}" for prefix, group in fields.items()]


def _signed(ci) -> str:
    return f"[{ci[0]:+.4f}, {ci[1]:+.4f}]" if ci else "-"


def print_comparison(scores, changes) -> None:
    rows = []
    for name in dict.fromkeys([*scores[0].metrics, *scores[1].metrics]):
        values = [f"{s.metrics[name]:.4f} {format_ci(s.ci95.get(name))}" if name in s.metrics else "-" for s in scores]
        change, _ = changes.get(name, (None, None))
        counts = " / ".join(str(c) for c in sorted({s.counts.get(name, 0) for s in scores}))
        if change:
            p = f"{change.p:.4g}" if change.p is not None else "-"
            flipped = f"{change.fixed} / {change.broken}" if change.fixed is not None else "-"
            rows.append([name, *values, f"{change.diff:+.4f} {_signed(change.ci95)}", p, flipped, counts])
        else:
            rows.append([name, *values, "-", "-", "-", counts])
    print_table(["metric", "base [95% CI]", "tuned [95% CI]", "tuned - base [95% CI]", "McNemar p",
                 "fixed / broken", "n"], rows, right={4, 5, 6})


def print_flips(base: list[Prediction], tuned: list[Prediction], changes) -> None:
    """The first flipped items of the first 0/1 metric."""
    name, flipped = next(((name, f) for name, (_, f) in changes.items() if f and any(f)), (None, None))
    if not name:
        return
    for kind, indices in zip(FLIP_KINDS, flipped):
        if indices:
            print(f"\n{kind} by tuned ({name}), {min(len(indices), SHOWN_FLIPS)} of {len(indices)}:")
        for i in indices[:SHOWN_FLIPS]:
            prompt = short(report_html.prompt_excerpt(base[i].prompt, base[i].record))
            print(f"  line {base[i].line}: {prompt!r}  label {short(base[i].label)!r}  "
                  f"base {short(base[i].predict)!r}  tuned {short(tuned[i].predict)!r}")


def run(args) -> int:
    paths = [predictions_file(args.base), predictions_file(args.tuned)]
    if paths[0].resolve() == paths[1].resolve():
        raise UserError(f"{paths[0]}: BASE and TUNED are the same file; pass the two runs' predictions")
    (base, tuned), dataset, chosen = load_runs(args, paths)
    if dataset:  # both were checked line by line against the same test split
        paired_by = "test-split order"
    else:
        tuned, paired_by = pair_by_prompt(base, tuned, *paths), "prompt"
    scores = (score_all(base, chosen, args.bootstrap), score_all(tuned, chosen, args.bootstrap))
    changes = compare_scores(*scores)
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
        if args.out:
            files.open(args.out).write(dumps_json(build_report(context, base, tuned, scores, changes)))
        if args.html:
            files.open(args.html).write(report_html.render(build_page(context, base, tuned, scores, changes)))
        files.commit()
    checked = f", checked against {dataset}" if dataset else ""
    print(f"{len(base)} items paired by {paired_by}{checked}: base {paths[0]}, tuned {paths[1]}")
    print_comparison(scores, changes)
    print_flips(base, tuned, changes)
    return 0


def add_parser(sub):
    parser = add_command(sub, "compare", EXAMPLE, DESCRIPTION, help="compare base and tuned predictions")
    parser.add_argument("base", type=Path, metavar="BASE_PREDICTIONS",
                        help="generated_predictions.jsonl of the base model (or the output_dir holding it)")
    parser.add_argument("tuned", type=Path, metavar="TUNED_PREDICTIONS",
                        help="generated_predictions.jsonl of the tuned model (or the output_dir holding it)")
    add_scoring_options(parser)
    parser.set_defaults(func=run)
    return parser
