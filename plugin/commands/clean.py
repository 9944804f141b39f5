"""`lfd clean`: personal data (ID, phone, card and record numbers, e-mail, addresses, names) masked in a converted dataset.

Reads the alpaca, sharegpt or openai JSONL that `lfd convert` writes, one record at a time, and masks every
text of the conversation (instruction, input, output, system, history; conversations[*].value;
messages[*].content) with :func:`..privacy.mask`; other keys are copied as they are. The same input gives the
same bytes. ``--pii-report`` lists each masked span (line, field, type, start, end: character positions in
the original field) without the masked text unless ``--show-values``. The outputs appear together, or not at
all (a bad line stops the run with nothing written).
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

from ..errors import UserError, where
from ..io.atomic import AtomicFiles
from ..io.json_lines import read_json_lines
from ..io.paths import check_outputs
from ..privacy import TYPES, mask
from ..records import encode_line

EXPECTED = "a JSONL file written by `lfd convert` (alpaca, sharegpt or openai records)"


def texts(record: dict):
    """(field name, container, key) of each text of the conversation; ValueError for a record of no known shape."""
    found = False
    for key in ("instruction", "input", "output", "system"):
        if key in record:
            found = found or key != "system"
            if isinstance(record[key], str):
                yield key, record, key
    if "history" in record and record["history"] is not None:
        history = record["history"]
        if not isinstance(history, list) or not all(isinstance(turn, list) for turn in history):
            raise ValueError("history is not a list of [question, answer] pairs")
        for i, turn in enumerate(history):
            for j, text in enumerate(turn):
                if isinstance(text, str):
                    yield f"history[{i}][{j}]", turn, j
    for key, value_key in (("conversations", "value"), ("messages", "content")):
        if key in record:
            found = True
            turns = record[key]
            if not isinstance(turns, list) or not all(isinstance(turn, dict) for turn in turns):
                raise ValueError(f"{key} is not a list of turns")
            for i, turn in enumerate(turns):
                for name in dict.fromkeys((value_key, "value", "content")):
                    if isinstance(turn.get(name), str):
                        yield f"{key}[{i}].{name}", turn, name
    if not found:
        raise ValueError("neither an alpaca (instruction/output), a sharegpt (conversations) nor an openai "
                         "(messages) record")


def clean(source: Path, out, report, show_values: bool) -> tuple[int, collections.Counter]:
    """Writes the masked records to ``out`` (and their spans to ``report``); (records, counts by type)."""
    counts: collections.Counter = collections.Counter()
    records = 0
    for number, record in read_json_lines(source, EXPECTED):
        try:
            fields = list(texts(record))
        except ValueError as err:
            raise UserError(f"{where(source, f'line {number}')}: {err}; pass {EXPECTED}") from None
        for field, container, key in fields:
            masked, spans = mask(container[key])
            container[key] = masked
            for span in spans:
                counts[span.type] += 1
                if report is not None:
                    entry = {"line": number, "field": field, "type": span.type, "start": span.start, "end": span.end}
                    if show_values:
                        entry["value"] = span.text
                    report.write(encode_line(entry))
        out.write(encode_line(record))
        records += 1
    return records, counts


def summary(counts: collections.Counter) -> str:
    """``masked: 身份证号 3, 电话 12`` (the types found, in a fixed order).

    >>> summary(collections.Counter({"电话": 12, "身份证号": 3})), summary(collections.Counter())
    ('masked: 身份证号 3, 电话 12', 'masked: nothing')
    """
    found = [f"{kind} {counts[kind]}" for kind in TYPES if counts[kind]]
    return "masked: " + (", ".join(found) if found else "nothing")


def run(args) -> int:
    check_outputs([("--out", args.out), ("--pii-report", args.pii_report)], [("INPUT", args.input)])
    if args.show_values and args.pii_report is None:
        raise UserError("--show-values puts the masked values into --pii-report: give --pii-report FILE too")
    with AtomicFiles() as files:
        out = files.open(args.out)
        report = files.open(args.pii_report) if args.pii_report is not None else None
        records, counts = clean(args.input, out, report, args.show_values)
        files.commit()
    print(f"{summary(counts)} in {records} records -> {args.out}", file=sys.stderr)
    if args.pii_report is not None:
        values = "with" if args.show_values else "without"
        print(f"pii report ({sum(counts.values())} spans, {values} the values) -> {args.pii_report}", file=sys.stderr)
    return 0


def add_parser(sub):
    from .arguments import add_command

    p = add_command(
        sub, "clean",
        example=("lfd clean data/samples/clean/dialogues.jsonl --out build/clean/dialogues.jsonl "
                 "--pii-report build/clean/pii_report.jsonl"),
        description=("Masks personal data in a dataset `lfd convert` wrote, with typed placeholders: [身份证号],\n"
                     "[电话], [邮箱], [银行卡号], [病历号], [地址], [姓名]. Every text of the conversation is cleaned;\n"
                     "the counts by type go to stderr. --pii-report lists where each one was (line, field, type,\n"
                     "start, end), without the values unless --show-values. Before training on a hospital dump:\n"
                     "  lfd clean data/med_dialog_train.jsonl --out data/med_dialog_train.clean.jsonl"),
        help="mask names, phone, ID, card and record numbers, e-mail and addresses in a dataset",
    )
    p.add_argument("input", type=Path, metavar="INPUT_JSONL", help="a JSONL written by `lfd convert`")
    p.add_argument("--out", type=Path, required=True, metavar="OUT_JSONL", help="the cleaned records (not INPUT)")
    p.add_argument("--pii-report", type=Path, metavar="FILE", help="a JSONL of what was masked where")
    p.add_argument("--show-values", action="store_true",
                   help="put the original values into --pii-report (it then holds the personal data: keep it safe)")
    p.set_defaults(func=run)
    return p
