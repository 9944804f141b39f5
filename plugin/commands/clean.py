"""`lfd clean`: a converted dataset cleaned before it trains: personal data masked, junk removed, over-long
records dropped, truncated or split, near-duplicates dropped.

Reads the alpaca, sharegpt or openai JSONL that `lfd convert` writes, one record at a time, through
:class:`..cleaning.pipeline.Cleaner` (privacy masking with :func:`..cleaning.privacy.mask`, the junk rules of
:mod:`..cleaning.junk`, the length rule of :mod:`..cleaning.length` counted by `lfd stats`' code), then, with
``--near-dup``, through :class:`..cleaning.near_dup.NearDup`; keys other than the texts are copied as they are.
The same input gives the same bytes. ``--pii-report`` lists each masked span (line, field, type, start, end:
character positions in the field as read) without the masked text unless ``--show-values``; ``--rejects``
each dropped record (as cleaned, so masked) with its line and reason. The counts go to stderr. The outputs
appear together, or not at all (a bad line stops the run with nothing written).
"""

from __future__ import annotations

import collections
import json
import math
import sys
from pathlib import Path

from ..cleaning.length import MODES, counted_view
from ..cleaning.pipeline import RULES, Cleaner, Options, chosen_rules, texts
from ..cleaning.privacy import TYPES
from ..cleaning.review import ReviewSample, write_review
from ..errors import UserError, where
from ..io.atomic import AtomicFiles
from ..io.json_lines import read_json_lines
from ..io.paths import check_outputs
from ..progress import tracked
from ..records import encode_line

EXPECTED = "a JSONL file written by `lfd convert` (alpaca, sharegpt or openai records)"
DROPS = {"empty_answer": "empty or placeholder answer", "echo_answer": "answer only repeats the question",
         "too_long": "over --max-tokens", "near_dup": "near-duplicate of an earlier record"}
__all__ = ["texts", "chosen_rules", "run", "add_parser", "token_counter", "summary"]


def token_counter(tokenizer):
    """``record -> tokens``: the record's prompt + response tokens counted by `lfd stats`' code."""
    from .stats import TokenCounter, count_batch, messages

    counter = TokenCounter(tokenizer)

    def tokens(record: dict) -> int:
        prompts, responses = count_batch(tokenizer, [messages(counted_view(record))], counter)
        return prompts[0] + responses[0]

    return tokens


def number(flag: str, text: str | None, kind, low: float, high: float | None, what: str):
    """``text`` as ``kind`` within [low, high] (low excluded for floats), or a one-line error naming ``flag``."""
    if text is None:
        return None
    try:
        value = kind(text)
    except ValueError:
        value = None
    bad = (value is None or not math.isfinite(value) or value < low or (kind is float and value == low)
           or (high is not None and value > high))  # NaN compares false with everything: refused first
    if bad:
        raise UserError(f"{flag} {text}: expected {what}")
    return value


def check_args(args) -> None:
    """Every option checked before anything is read: one line naming the option and what it takes."""
    args.max_tokens = number("--max-tokens", args.max_tokens, int, 1, None, "a whole number of tokens, at least 1")
    args.near_dup = number("--near-dup", args.near_dup, float, 0, 1, "a similarity above 0 and at most 1, e.g. 0.9")
    args.num_perm = number("--num-perm", args.num_perm, int, 16, 1024, "a whole number from 16 to 1024, e.g. 128")
    if args.max_tokens is not None and args.tokenizer is None:
        raise UserError("--max-tokens counts tokens with the model's tokenizer: give --tokenizer MODEL_FOLDER too")
    if args.max_tokens is None and (args.tokenizer is not None or args.long is not None):
        given = "--tokenizer" if args.tokenizer is not None else "--long"
        raise UserError(f"{given} is for over-long records: give --max-tokens N too")
    if args.near_dup is None and args.num_perm is not None:
        raise UserError("--num-perm is for near-duplicates: give --near-dup THRESHOLD too")
    if args.show_values and args.pii_report is None:
        raise UserError("--show-values puts the masked values into --pii-report: give --pii-report FILE too")
    args.review = number("--review", args.review, int, 1, None, "a whole number of records, at least 1, e.g. 50")
    if args.review is None and args.review_out is not None:
        raise UserError("--review-out is where the --review sample goes: give --review N too")
    if args.review is not None and args.review_out is None:
        args.review_out = args.out.with_name(args.out.stem + ".review.xlsx")


def records(source: Path, length: bool):
    """(line, record) of each record; a record of no known shape (or, with ``length``, one `lfd stats` cannot
    count) is a one-line error naming its line."""
    from .stats import messages

    for line, record in read_json_lines(source, EXPECTED):
        try:
            list(texts(record))
            if length:
                messages(counted_view(record))
        except (ValueError, TypeError, AttributeError, KeyError) as err:
            raise UserError(f"{where(source, f'line {line}')}: {err}; pass {EXPECTED}") from None
        yield line, record


class Tally:
    """What a run did, for the summary."""

    def __init__(self):
        self.read = self.written = 0
        self.counts: collections.Counter = collections.Counter()
        self.drops: collections.Counter = collections.Counter()


def clean(source: Path, cleaner: Cleaner, near_dup, out, report, rejects, show_values: bool, total=None,
          sample=None) -> Tally:
    """Cleans ``source`` into ``out`` (spans to ``report``, drops to ``rejects``); ``sample``: a ReviewSample
    offered each record as read beside what the cleaning made of it."""
    tally = Tally()
    for line, record in tracked(records(source, cleaner.options.length is not None), total, "cleaning", " records"):
        tally.read += 1
        original = json.loads(json.dumps(record)) if sample is not None else None  # cleaning changes it in place
        result = cleaner.clean(record)
        if sample is not None:
            offer(sample, line, original, result)
        tally.counts.update(result.counts)
        for field, span in result.spans if report is not None else ():
            entry = {"line": line, "field": field, "type": span.type, "start": span.start, "end": span.end}
            if show_values:
                entry["value"] = span.text
            report.write(encode_line(entry))
        if result.dropped:
            drop(tally, rejects, source, line, result.dropped, result.reason, record)
            continue
        for kept in result.records:
            duplicate = near_dup.check(line, kept) if near_dup is not None else None
            if duplicate is not None:
                drop(tally, rejects, source, line, "near_dup", f"a near-duplicate of line {duplicate}", kept,
                     duplicates=duplicate)
                continue
            out.write(encode_line(kept))
            tally.written += 1
    return tally


def offer(sample, line: int, original: dict, result) -> None:
    """The record as read and as cleaned (None dropped; the list of windows of a split dialogue) to the review."""
    changed = ", ".join(sorted(rule for rule, n in result.counts.items() if n)) or None
    if result.dropped:
        sample.offer(line, original, None, f"{result.dropped}: {result.reason}")
    elif len(result.records) == 1:
        sample.offer(line, original, result.records[0], changed)
    else:
        sample.offer(line, original, result.records, f"split into {len(result.records)} windows; {changed}")


def drop(tally: Tally, rejects, source: Path, line: int, rule: str, reason: str, record: dict, **more) -> None:
    tally.drops[rule] += 1
    if rejects is not None:
        rejects.write(encode_line({"file": str(source), "location": f"line {line}", "rule": rule, "reason": reason,
                                   **more, "record": record}))


def summary(counts: collections.Counter) -> str:
    """``masked: 身份证号 3, 电话 12`` (the types found, in a fixed order).

    >>> summary(collections.Counter({"privacy:电话": 12, "privacy:身份证号": 3})), summary(collections.Counter())
    ('masked: 身份证号 3, 电话 12', 'masked: nothing')
    """
    found = [f"{kind} {counts['privacy:' + kind]}" for kind in TYPES if counts["privacy:" + kind]]
    return "masked: " + (", ".join(found) if found else "nothing")


def report_lines(args, tally: Tally) -> list[str]:
    """The stderr summary: what was masked, changed, cut and dropped."""
    from ..cleaning.junk import TEXT_RULES

    counts = tally.counts
    lines = [f"{summary(counts)} in {tally.read} records -> {args.out}"]
    junk = [f"{rule} {counts[rule]}" for rule in TEXT_RULES if counts[rule]]
    lines.append("junk removed: " + (", ".join(junk) if junk else "nothing"))
    if args.max_tokens is not None:
        over, cut = counts["over_long"], tally.drops["too_long"]
        done = {"drop": f"{cut} dropped",
                "truncate": f"{counts['truncated']} truncated at a sentence end, {cut} dropped",
                "split": f"{counts['split']} split into {counts['windows']} windows of whole turns "
                         f"({counts['turns_dropped']} turns over the limit on their own left out), {cut} dropped"}
        lines.append(f"over {args.max_tokens} tokens (--long {args.long}): {over} records, {done[args.long]}")
    if args.near_dup is not None:
        lines.append(f"near-duplicates (--near-dup {args.near_dup}, the first kept): {tally.drops['near_dup']} dropped")
    dropped = [f"{rule} {tally.drops[rule]}" for rule in DROPS if tally.drops[rule]]
    lines.append(f"kept {tally.written} records of {tally.read}" + (f"; dropped {', '.join(dropped)}" if dropped else ""))
    if args.pii_report is not None:
        values = "with" if args.show_values else "without"
        found = sum(counts["privacy:" + kind] for kind in TYPES)
        lines.append(f"pii report ({found} spans, {values} the values) -> {args.pii_report}")
    if args.rejects is not None:
        lines.append(f"dropped records with their line and reason ({sum(tally.drops.values())}) -> {args.rejects}")
    return lines


def build(args) -> tuple[Cleaner, object]:
    """The cleaner and the near-duplicate stage the options ask for (the tokenizer loaded last: it is slow)."""
    from ..cleaning.length import Length
    from ..cleaning.near_dup import NearDup
    from .stats import check_tokenizer_folder, load_tokenizer

    length = None
    if args.max_tokens is not None:
        try:
            check_tokenizer_folder(args.tokenizer)
            tokenizer = load_tokenizer(args.tokenizer)
        except UserError as err:
            raise UserError(str(err).replace("`lfd stats`", "`lfd clean`")) from None
        if not tokenizer.chat_template:
            raise UserError(f"--tokenizer {args.tokenizer}: the tokenizer has no chat template; pass the "
                            "Instruct/Chat model's folder")
        length = Length(token_counter(tokenizer), args.max_tokens, args.long)
    near_dup = None
    if args.near_dup is not None:
        near_dup = NearDup(args.near_dup, args.num_perm or 128, args.seed, common_shingles(args))
    return Cleaner(Options(rules=chosen_rules(args), length=length)), near_dup


def common_shingles(args) -> frozenset:
    """The template's shingles (:func:`..cleaning.near_dup.template_shingles`) of the first records as read (the
    junk rules leave a template alone; cleaning them twice would double the time)."""
    from ..cleaning.near_dup import template_shingles

    return template_shingles(record for _, record in records(args.input, False))


def run(args) -> int:
    check_args(args)
    check_outputs([("--out", args.out), ("--pii-report", args.pii_report), ("--rejects", args.rejects),
                   ("--review-out", args.review_out)], [("INPUT", args.input)])
    chosen_rules(args)
    if args.max_tokens is not None:
        from .stats import check_tokenizer_folder

        try:
            check_tokenizer_folder(args.tokenizer)
        except UserError as err:
            raise UserError(str(err).replace("`lfd stats`", "`lfd clean`")) from None
    args.long = args.long or "drop"
    total = None
    if args.max_tokens is not None:  # a bad line fails before the tokenizer's slow imports
        total = sum(1 for _ in records(args.input, True))
    cleaner, near_dup = build(args)
    with AtomicFiles() as files:
        out = files.open(args.out)
        report = files.open(args.pii_report) if args.pii_report is not None else None
        rejects = files.open(args.rejects) if args.rejects is not None else None
        sample = ReviewSample(args.review, args.seed) if args.review is not None else None
        tally = clean(args.input, cleaner, near_dup, out, report, rejects, args.show_values, total, sample)
        if sample is not None:
            written = write_review(files.open(args.review_out, binary=True), sample.items(),
                                   f"lfd clean {args.input.name}: records before and after", sample.describe(),
                                   shown=args.review_out)
        files.commit()
    for line in report_lines(args, tally):
        print(line, file=sys.stderr)
    if sample is not None:
        cut = f"; {written.cut} cells cut at Excel's 32,767 characters" if written.cut else ""
        print(f"review: {sample.describe()}, {written.rows} rows{cut} -> {args.review_out}", file=sys.stderr)
    return 0


def add_parser(sub):
    from .arguments import add_command

    p = add_command(
        sub, "clean",
        example=("lfd clean data/samples/clean/web_qa.jsonl --out build/clean/web_qa.jsonl "
                 "--rejects build/clean/rejects.jsonl --near-dup 0.9"),
        description=("Cleans a dataset `lfd convert` wrote, every text of the conversation, in one streaming pass:\n"
                     "- privacy: personal data masked with typed placeholders: [身份证号], [电话], [邮箱], [银行卡号],\n"
                     "  [病历号], [地址], [姓名]; --pii-report lists where (line, field, type, start, end);\n"
                     "- control, zero_width, html, punct, url, ads: control and zero-width characters, HTML tags and\n"
                     "  entities, runs of one punctuation mark (！！！ -> ！; …… and —— stay), URLs and advertisement\n"
                     "  phrases (点击咨询, 微信同号, 加微信, 扫码关注, 咨询热线 + number) removed;\n"
                     "- empty_answer, echo_answer: a record whose answer is empty or a placeholder (无, 略, 同上, N/A)\n"
                     "  or only repeats the question is dropped;\n"
                     "- --max-tokens N --tokenizer MODEL: records over N tokens (counted as `lfd stats` counts them)\n"
                     "  dropped, truncated at a sentence end, or split into windows of whole turns (--long);\n"
                     "- --near-dup 0.9: near-duplicates (MinHash on normalized text) dropped, the first kept.\n"
                     "Counts per rule and drops per reason go to stderr. The bundled dialogues with personal data:\n"
                     "  lfd clean data/samples/clean/dialogues.jsonl --out build/clean/dialogues.jsonl "
                     "--pii-report build/clean/pii_report.jsonl\n"
                     "Before training on a hospital dump:\n"
                     "  lfd clean data/med_dialog_train.jsonl --out data/med_dialog_train.clean.jsonl --max-tokens 2048 "
                     "--tokenizer models/Qwen2.5-7B-Instruct --long split --near-dup 0.9"),
        help="mask personal data, remove junk, over-long records and near-duplicates in a dataset",
    )
    p.add_argument("input", type=Path, metavar="INPUT_JSONL", help="a JSONL written by `lfd convert`")
    p.add_argument("--out", type=Path, required=True, metavar="OUT_JSONL", help="the cleaned records (not INPUT)")
    p.add_argument("--pii-report", type=Path, metavar="FILE", help="a JSONL of what was masked where")
    p.add_argument("--show-values", action="store_true",
                   help="put the original values into --pii-report (it then holds the personal data: keep it safe)")
    p.add_argument("--rejects", type=Path, metavar="FILE",
                   help="a JSONL of each dropped record (as cleaned, so masked) with its file, line, rule and reason")
    p.add_argument("--rules", metavar="LIST",
                   help=f"the rules to apply, comma-separated (default all: {','.join(RULES)})")
    p.add_argument("--no", action="append", metavar="RULE",
                   help="switch a rule off (repeat it or give a comma-separated list), e.g. --no echo_answer")
    p.add_argument("--max-tokens", metavar="N",
                   help="the longest record, in tokens of the model's chat template (prompt + response, as `lfd "
                        "stats` counts); needs --tokenizer. Default: no limit")
    p.add_argument("--tokenizer", metavar="PATH", help="the model folder whose tokenizer and chat template count tokens")
    p.add_argument("--long", choices=MODES,
                   help="what an over-long record becomes: drop (the default: records stay as written), truncate "
                        "(the last answer cut at its last sentence end that fits) or split (a dialogue cut into "
                        "windows of whole turns, each within N; a single turn is dropped)")
    p.add_argument("--near-dup", metavar="THRESHOLD",
                   help="drop records whose normalized text is at least this similar (MinHash estimate of the "
                        "Jaccard similarity of 3-character shingles, above 0 and at most 1) to an earlier one, which is "
                        "kept. The 3-character pieces that 1%% of the first 3,000 records share (an instruction "
                        "template) are not compared. 0.85 catches a one-character edit of an 80-character record, 0.9 of a 150-character "
                        "one. Off by default: dropping records is a choice about the data (augmented copies and "
                        "several answers to one prompt go too), and its index takes memory (about 0.6 kB a record)")
    p.add_argument("--num-perm", metavar="N", help="MinHash permutations for --near-dup (default 128; more: finer, slower)")
    p.add_argument("--seed", type=int, default=1, help="seed of the MinHash permutations and of --review's sample (default 1)")
    p.add_argument("--review", metavar="N",
                   help="write N random records the cleaning changed or dropped beside their originals, the changed "
                        "spans highlighted, as an xlsx for a person to check (--review-out)")
    p.add_argument("--review-out", type=Path, metavar="XLSX",
                   help="where --review's workbook goes (default: OUT with .review.xlsx)")
    p.set_defaults(func=run)
    return p
