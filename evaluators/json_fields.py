"""JSON report scoring: strict and repaired parse rates, per-field scores, and IMCS-V2's official ROUGE.

Parsing. ``json_parse_rate`` counts predictions that are a JSON object as they stand (outer whitespace
aside). ``json_parse_rate_repaired`` also counts those :func:`repair_json` recovers with the
``json-repair`` library (trailing or missing commas, single and Chinese “” quotes, unquoted keys,
comments, raw line breaks and unescaped quotes inside values, ...). Before it, :func:`object_text` does
what that library does not: it keeps the first ``{`` to the brace closing it (```json fences, text
around it and a second object go) and, between strings, makes ``：`` and ``，`` JSON's ``:`` and ``,``
and ``‘’``/``＂`` quotes ones the library reads; values keep their own punctuation. Output cut off
before the object closes stays unparsed: json-repair would complete it, this evaluator never does.

Fields. Each field of the ``fields`` option is scored on the parsed report (the repaired one unless
``repair=false``): exact match of the whitespace-stripped values and character ROUGE-L F (whitespace
ignored; two empty values score 1). A missing key, a non-string value (null, number, list, object)
and an unparseable prediction score 0 for the field, so means are over every prediction;
``json_field_missing_rate`` tells how many fields were absent or not strings in parsed reports and
``json_extra_keys_rate`` how many parsed reports had keys outside ``fields`` (ignored otherwise).
References are the record's ``references`` (report objects, as ``med_mrg`` writes its test split),
else the label parsed as JSON; with several, each field takes the mean (``references=mean``, as the
official IMCS-V2 score averages over references) or the best (``references=best``) of its scores.

IMCS-V2 (``imcs``). ``imcs_rouge_1``, ``imcs_rouge_2`` and ``imcs_rouge_l`` are the numbers the official
scorer prints, imcs21 task/MRG/eval_mrg.py @ 836048f491704011dba229a5bd04db5f7f4d2bbe (its means over
the items). The hypothesis is the prediction's raw text with all whitespace removed (the script's
``''.join(line.strip().split())``), JSON braces and quotes included. The references are the first two
(the script's ``report[0]``, ``report[1]``) of the record's ``official_references``, the dataset's own
reports as ``med_mrg`` keeps them, each linearised as ``key：value`` in its own key order (the script's
``process``). ROUGE-1, -2 and -L F of the ``rouge`` package (1.0.1) on characters are averaged over
them; a text the package refuses (an empty one) scores 0 on all three. ``imcs_rouge`` is our own
average of the three (the script prints no single number), ``med_mrg``'s primary metric.
``imcs_rouge_repaired`` is that average for the repaired report linearised the same way (a
prediction that does not parse even repaired: its raw text): the report's content without JSON's
braces and quotes. Without ``official_references`` (a test file converted before ``med_mrg`` kept
them, another dataset) the first two of the references the fields use stand in; ``med_mrg``'s
``references`` are rewritten (six keys in a fixed order, missing ones empty), so the numbers are
then not quite the official ones. Where the script fails, this goes on: a non-string value is
written as text (null as ``""``, others as JSON), a single report is the only reference, and a
sentence too long for the package's recursive LCS (over about 1,000 characters with its reference
sentence; RecursionError there) gets the value the package would compute. :func:`imcs_rouge` computes the package's numbers without it, quirks included:
n-grams are counted once each (sets), the text is split into sentences at ASCII ``.`` and ROUGE-L is
the summary-level union LCS over distinct characters.
"""

from __future__ import annotations

import json
import math
import re
from typing import ClassVar

from .base import Evaluator, Option, Prediction, UserError, register_evaluator

IMCS_FIELDS = ("主诉", "现病史", "辅助检查", "既往史", "诊断", "建议")
FIELD_SEPARATORS = re.compile(r"[|;,，、\s]+")  # `|` in specs: -e and dataset_info split options at commas
IMCS_PARTS = ("imcs_rouge_1", "imcs_rouge_2", "imcs_rouge_l")
QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "＂": "＂"}  # string opener → closer
AS_JSON = {"：": ":", "，": ",", "‘": "“", "’": "”", "＂": '"'}  # between strings: what json-repair reads
CLOSES = ",:}]，："  # what follows a closing quote (or nothing); other quotes are the value's own
NEXT_CHAR = re.compile(r"\s*(.?)", re.DOTALL)
TRAILING_PUNCT = "。．.！!；;，,、"


def parse_strict(text: str) -> dict | None:
    """The JSON object ``text`` is, or None.

    >>> parse_strict(' {"诊断": "感冒。"}\\n'), parse_strict('[1]'), parse_strict('{"诊断": ')
    ({'诊断': '感冒。'}, None, None)
    """
    try:
        value = json.loads(text.strip())
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def object_text(text: str) -> str | None:
    """The first ``{...}`` of ``text``, ``：，‘’＂`` between its strings made ASCII or “”; None when the text
    ends inside it. A quote closes its string only when followed by one of ``,:}]，：`` (or the end).

    >>> object_text('好的：{“主诉”：“咳嗽，发热”，\\'诊断\\': "他说"好"", "x": {}} 以上{。}')
    '{“主诉”:“咳嗽，发热”,\\'诊断\\': "他说"好"", "x": {}}'
    >>> object_text('{"主诉": "咳嗽。", "诊断": {"初步": "感冒"}') is None
    True
    """
    start = text.find("{")
    if start < 0:
        return None
    out, depth, closer, i = [], 0, "", start
    while i < len(text):
        char, i = text[i], i + 1
        if not closer:
            closer = QUOTES.get(char, "")
            depth += (char == "{") - (char == "}")
            char = AS_JSON.get(char, char)
        elif char == "\\":
            char, i = text[i - 1 : i + 1], i + 1
        elif char == closer and (NEXT_CHAR.match(text, i)[1] or ",") in CLOSES:
            closer, char = "", AS_JSON.get(char, char)
        out.append(char)
        if not depth:
            return "".join(out)
    return None


def repair_json(text: str) -> dict | None:
    """The first JSON object in ``text`` as :func:`object_text` and json-repair read it, or None.

    >>> repair_json('好的：\\n```json\\n{“主诉”：“咳嗽，发热：3天。”，\\'诊断\\': \\'感冒\\',}\\n```\\n以上。')
    {'主诉': '咳嗽，发热：3天。', '诊断': '感冒'}
    >>> repair_json('{"主诉": "咳嗽。", "诊断": "感') is None  # truncated: never completed
    True
    """
    import json_repair

    text = object_text(text)
    try:
        value = None if text is None else json_repair.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _lcs_columns(x, y) -> list[int]:
    """Bit-parallel LCS table of sequences ``x``, ``y``: LCS(x[:i], y[:j]) = i - popcount(columns[j] % 2**i)."""
    masks: dict = {}
    for i, token in enumerate(x):
        masks[token] = masks.get(token, 0) | 1 << i
    full = (1 << len(x)) - 1
    column, columns = full, [full]
    for token in y:
        match = column & masks.get(token, 0)
        column = ((column + match) | (column - match)) & full
        columns.append(column)
    return columns


def lcs_length(a, b) -> int:
    """Length of the longest common subsequence.

    >>> lcs_length("患儿咳嗽三天", "咳嗽三天伴发热")
    4
    """
    if len(a) < len(b):
        a, b = b, a
    return len(a) - _lcs_columns(a, b)[-1].bit_count()


def rouge_l(predict: str, reference: str) -> float:
    """Character ROUGE-L F of two texts, whitespace ignored; 1 when both are empty.

    >>> rouge_l("暂缺", "暂缺。"), rouge_l("", ""), rouge_l("", "不详。")
    (0.8, 1.0, 0.0)
    """
    p, r = ("".join(text.split()) for text in (predict, reference))
    if not p or not r:
        return float(p == r)
    common = lcs_length(p, r)
    return 2 * common / (len(p) + len(r))


def linearise(report: dict) -> str:
    """``key：value`` of each entry in the report's own order, joined (eval_mrg.py's ``process``); a value
    that is not text is written as :func:`as_text` writes it.

    >>> linearise({"主诉": "咳嗽。", "诊断": "感冒。", "既往史": None, "x": [1]})
    '主诉：咳嗽。诊断：感冒。既往史：x：[1]'
    """
    return "".join(f"{key}：{as_text(value)}" for key, value in report.items())


def as_text(value) -> str:
    """A report value as text: itself, ``""`` for null, else its JSON."""
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def _sentences(text: str) -> list[list[str]]:
    """Tokens as the ``rouge`` package gets them from ``' '.join(text)``: characters without whitespace,
    in sentences split at ``.``; a piece with no characters between two dots is the token ``''``."""
    pieces = text.split(".")
    return [
        [char for char in piece if not char.isspace()] or [""]
        for index, piece in enumerate(pieces)
        if piece or index not in (0, len(pieces) - 1)
    ]


def _f(overlap: int, hyp: int, ref: int) -> float:
    precision, recall = overlap / hyp if hyp else 0.0, overlap / ref if ref else 0.0
    return 2.0 * ((precision * recall) / (precision + recall + 1e-8))


def _ngrams(sentences: list[list[str]], n: int) -> set[tuple]:
    words = [word for sentence in sentences for word in sentence]
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _lcs_tokens(x: list[str], y: list[str]) -> set[str]:
    """Tokens of the LCS of ``x`` and ``y`` that the ``rouge`` package's backtrack picks."""
    columns, i, j, tokens = _lcs_columns(x, y), len(x), len(y), set()

    def table(i, j):
        return i - (columns[j] & ((1 << i) - 1)).bit_count()

    while i and j:
        if x[i - 1] == y[j - 1]:
            tokens.add(x[i - 1])
            i, j = i - 1, j - 1
        elif table(i - 1, j) > table(i, j - 1):
            i -= 1
        else:
            j -= 1
    return tokens


def _rouge_package_f(hyp: list[list[str]], ref: list[list[str]]) -> tuple[float, float, float]:
    """ROUGE-1, -2 and -L F as ``rouge.Rouge().get_scores`` (rouge 1.0.1, exclusive n-grams) computes them."""
    scores = []
    for n in (1, 2):
        hyp_ngrams, ref_ngrams = _ngrams(hyp, n), _ngrams(ref, n)
        scores.append(_f(len(hyp_ngrams & ref_ngrams), len(hyp_ngrams), len(ref_ngrams)))
    union = set().union(*(_lcs_tokens(r, h) for r in ref for h in hyp))
    distinct_hyp, distinct_ref = (len({w for s in sentences for w in s}) for sentences in (hyp, ref))
    scores.append(_f(len(union), distinct_hyp, distinct_ref))
    return tuple(scores)


def imcs_rouge(predict: str, references: list[str]) -> tuple[float, float, float]:
    """ROUGE-1, -2, -L F of ``predict`` averaged over ``references``: eval_mrg.py's ``compute_rouge``.

    >>> [round(x, 4) for x in imcs_rouge("主诉：咳嗽。诊断：感冒。", ["主诉：咳嗽。诊断：上感。", "主诉：发热。"])]
    [0.7, 0.4886, 0.7]
    >>> imcs_rouge("", ["主诉：发热。"])
    (0.0, 0.0, 0.0)
    """
    hyp, refs = _sentences(predict), [_sentences(r) for r in references]
    if not hyp or not refs or not all(refs):  # the package raises ValueError; eval_mrg.py scores 0
        return 0.0, 0.0, 0.0
    per_reference = [_rouge_package_f(hyp, ref) for ref in refs]
    return tuple(sum(scores) / len(refs) for scores in zip(*per_reference))  # summed in eval_mrg.py's order


@register_evaluator("json_fields")
class JsonFields(Evaluator):
    """JSON reports: strict and repaired parse rates, per-field exact match and ROUGE-L, IMCS-V2 ROUGE.

    Each option's help says what it changes; the module docstring has the details. The primary metric
    is ``imcs_rouge``.

    >>> jf = JsonFields(fields="主诉|诊断", imcs=False)
    >>> label = '{"主诉": "咳嗽。", "诊断": "感冒。"}\\n'
    >>> scores = jf.score(Prediction("", "```json\\n{“主诉”：“咳嗽。”，“诊断”：“感冒”}\\n```", label))
    >>> {k: round(v, 4) for k, v in scores.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'json_parse_rate': 0.0, 'json_parse_rate_repaired': 1.0, 'json_field_exact_match': 0.5,
     'json_field_rouge_l': 0.9, 'json_field_exact_match/主诉': 1.0, 'json_field_exact_match/诊断': 0.0,
     'json_field_rouge_l/主诉': 1.0, 'json_field_rouge_l/诊断': 0.8, 'json_field_missing_rate': 0.0,
     'json_extra_keys_rate': 0.0}
    >>> JsonFields(fields="诊断", ignore_trailing_punct=True).score(
    ...     Prediction("", '{"诊断": "感冒"}', label))["json_field_exact_match/诊断"]
    1.0

    IMCS-V2's ROUGE scores the raw text, braces and quotes included; the repaired report is linearised:

    >>> scores = JsonFields(fields="主诉").score(Prediction("", '{"主诉": "咳嗽"}', '{"主诉": "咳嗽"}'))
    >>> {k: round(v, 4) for k, v in scores.items() if k.startswith("imcs")}  # doctest: +NORMALIZE_WHITESPACE
    {'imcs_rouge': 0.5055, 'imcs_rouge_1': 0.6154, 'imcs_rouge_2': 0.2857, 'imcs_rouge_l': 0.6154,
     'imcs_rouge_repaired': 1.0}
    """

    primary = "imcs_rouge"
    options: ClassVar[dict[str, Option]] = {
        "fields": Option("|".join(IMCS_FIELDS), "the report fields scored one by one, separated by | "
                                                "(default: the six IMCS-V2 fields)"),
        "references": Option("mean", "with several reference reports (the record's references), each field "
                                     "takes the mean of its scores against them (mean, as IMCS-V2's official "
                                     "score averages over references) or the best (best)"),
        "repair": Option(True, "score the fields of the repaired report (json-repair, after fences, text "
                               "around it, ：，‘’＂ between strings); false: only of predictions that are strict "
                               "JSON"),
        "ignore_trailing_punct": Option(False, "trailing punctuation (。.！!；;，,、) of a field value does not "
                                               "count: 暂缺。 matches 暂缺"),
        "imcs": Option(True, "also report imcs_rouge_1, imcs_rouge_2, imcs_rouge_l (the numbers IMCS-V2's "
                             "eval_mrg.py prints: the raw prediction against the dataset's reports), "
                             "imcs_rouge (their mean) and imcs_rouge_repaired (the repaired report's)"),
    }

    def __init__(self, **options):
        super().__init__(**options)
        self.field_list = list(dict.fromkeys(filter(None, FIELD_SEPARATORS.split(self.fields))))
        self.fields = self.settings["fields"] = "|".join(self.field_list)  # so that `spec` reads back through -e
        if not self.field_list:
            raise UserError(f"option fields of evaluator {self.name!r} names no field; write e.g. fields=主诉|诊断")
        if self.references not in ("best", "mean"):
            raise UserError(
                f"option references of evaluator {self.name!r} must be best or mean, got {self.references!r}"
            )

    def reference_reports(self, item: Prediction) -> list[dict]:
        """The record's ``references``, else the label as a JSON object."""
        listed = (item.record or {}).get("references")
        if listed:
            if not isinstance(listed, list) or not all(isinstance(r, dict) for r in listed):
                raise UserError(f"line {item.line}: the test record's references must be a list of report objects")
            return listed
        label = parse_strict(item.label)
        if label is None:
            raise UserError(
                f"line {item.line}: the label is not a JSON object ({item.label.strip()[:40]!r}); "
                f"evaluator {self.name!r} scores JSON reports"
            )
        return [label]

    def official_references(self, item: Prediction, references: list[dict]) -> list[str]:
        """eval_mrg.py's references, linearised: the first two of the record's ``official_references``,
        else of ``references`` (those the fields use)."""
        listed = (item.record or {}).get("official_references")
        if listed and (not isinstance(listed, list) or not all(isinstance(r, dict) for r in listed)):
            raise UserError(
                f"line {item.line}: the test record's official_references must be a list of report objects"
            )
        return [linearise(report) for report in (listed or references)[:2]]

    def clean(self, value: str) -> str:
        value = value.strip()
        return value.rstrip(TRAILING_PUNCT).rstrip() if self.ignore_trailing_punct else value

    def field_scores(self, value, references: list[str]) -> tuple[float, float]:
        """(exact match, ROUGE-L) of one predicted value against the field's reference values."""
        if not isinstance(value, str):
            return 0.0, 0.0
        value = self.clean(value)
        exact = [float(value == self.clean(r)) for r in references]
        rouge = [rouge_l(value, self.clean(r)) for r in references]
        pick = max if self.references == "best" else lambda xs: math.fsum(xs) / len(xs)
        return pick(exact), pick(rouge)

    def score(self, item: Prediction) -> dict[str, float | None]:
        references = self.reference_reports(item)
        strict = parse_strict(item.predict)
        repaired = strict if strict is not None else repair_json(item.predict)
        report = repaired if self.repair else strict
        exact, rouge = {}, {}
        for field in self.field_list:
            values = [as_text(r.get(field)) for r in references]
            exact[field], rouge[field] = self.field_scores((report or {}).get(field), values)
        scores = {
            "json_parse_rate": float(strict is not None),
            "json_parse_rate_repaired": float(repaired is not None),
            "json_field_exact_match": math.fsum(exact.values()) / len(exact),
            "json_field_rouge_l": math.fsum(rouge.values()) / len(rouge),
            **{f"json_field_exact_match/{field}": value for field, value in exact.items()},
            **{f"json_field_rouge_l/{field}": value for field, value in rouge.items()},
            "json_field_missing_rate": None,
            "json_extra_keys_rate": None,
        }
        if report is not None:
            missing = sum(not isinstance(report.get(field), str) for field in self.field_list)
            scores["json_field_missing_rate"] = missing / len(self.field_list)
            scores["json_extra_keys_rate"] = float(any(key not in self.field_list for key in report))
        if self.imcs:
            targets = self.official_references(item, references)
            parts = imcs_rouge("".join(item.predict.split()), targets)  # eval_mrg.py's hypothesis
            scores["imcs_rouge"] = math.fsum(parts) / 3
            scores.update(zip(IMCS_PARTS, parts))
            text = item.predict if repaired is None else linearise(repaired)
            scores["imcs_rouge_repaired"] = math.fsum(imcs_rouge("".join(text.split()), targets)) / 3
        return scores
