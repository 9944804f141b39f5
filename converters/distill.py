"""Questions -> answers written by a teacher model behind an OpenAI-compatible endpoint (distillation).

Its example raw record and the record it becomes are ``example_raw`` and ``example_output`` below
(shown by `lfd convert distill --help`, checked by tests/converters/test_examples.py).

Input: a question list — a ``.txt`` file (one question per line, blank lines skipped), a CSV/xlsx
table with a question column (``--question-column NAME``; by default the first of question, 问题,
instruction, query, prompt), or JSON/JSONL of questions (strings, or records with such a field) or
of any converter's output: alpaca (instruction and input joined by a newline, as LLaMA-Factory joins
them), sharegpt (the first human turn) or openai messages (the first user turn).

Personal data in each question is masked (:func:`clean_pair`, plugin/cleaning/privacy.py) before it is
sent, so the teacher never sees it; each question is put into ``--template`` (``{question}`` marks
where) and asked through plugin/endpoint.py (``--concurrency`` at once, retried, replies cached in
``--request-cache``: a rerun sends nothing and an interrupted run resumes). Each kept answer is
cleaned too and written as alpaca ``{instruction, input, output, teacher}`` (the teacher model's
name; LLaMA-Factory ignores the extra key). Dropped, by reason: an empty question, a repeated
question (the first is kept, compared normalized), an empty answer, a refusal (:func:`is_refusal`),
an answer cut off at ``--max-tokens`` (its completion used every token allowed), one the server cut off
at its own limit (``finish_reason`` ``length``) and a request the
endpoint answered with an error of its own (a 4xx). The notes after the summary count the requests,
tokens and masked spans. `lfd distill QUESTIONS...` is `lfd convert distill QUESTIONS...`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

from ..plugin.dedup import normalized
from ..plugin.endpoint import Endpoint, Request, add_teacher_arguments, teacher_endpoint, whole_number
from ..plugin.io.text import decode_guard, open_text
from .base import (
    Converter,
    Example,
    Row,
    Shape,
    Skip,
    UserError,
    iter_rows,
    keys_of,
    register_converter,
    require_object,
    text_of,
    where,
)

TEMPLATE = "请用中文专业、准确、简明地回答下面的问题；涉及诊断或用药时，说明应在医生指导下进行。\n\n问题：{question}"
QUESTION_COLUMNS = ("question", "问题", "instruction", "query", "prompt")
TEXT_SUFFIXES = {".txt", ".text"}
USER_ROLES = ("human", "user")
# the openings of a teacher declining to answer (compared without case, width, spaces or punctuation)
REFUSALS = ("抱歉，我无法", "抱歉，我不能", "作为一个AI", "作为AI语言模型", "作为一个人工智能", "我不能回答", "我无法回答",
            "I'm sorry, I can't", "I'm sorry, but I can't", "I cannot answer", "As an AI")
_FOLD = re.compile(r"[\s\W_]+")
EMPTY_QUESTION = "empty question"
REPEATED = "repeated question (the first is kept)"
EMPTY_ANSWER = "empty answer"
REFUSAL = "refusal (the teacher declined to answer)"
TRUNCATED = "answer cut off at --max-tokens"
CUT_BY_SERVER = "answer cut off by the server (finish_reason: length)"
NO_ANSWER = "no answer (the endpoint answered an error for this request)"


def _fold(text: str) -> str:
    return _FOLD.sub("", unicodedata.normalize("NFKC", text)).lower()


_REFUSALS = tuple(_fold(sentence) for sentence in REFUSALS)


def is_refusal(answer: str) -> bool:
    """Whether an answer opens by declining (one of :data:`REFUSALS` in its first 60 characters).

    >>> is_refusal("抱歉，我无法提供医疗建议。"), is_refusal("I'm sorry, I can't help with that."), is_refusal("可以，但要适量。")
    (True, True, False)
    """
    head = _fold(answer[:60])
    return any(sentence in head for sentence in _REFUSALS)


def clean_pair(question: str, answer: str) -> tuple[str, str, Counter]:
    """The pair with personal data masked, and the masked spans counted by type.

    >>> clean_pair("我的电话是13812345678，头痛怎么办？", "多休息。")
    ('我的电话是[电话]，头痛怎么办？', '多休息。', Counter({'电话': 1}))
    """
    from ..plugin.cleaning.privacy import mask  # (its patterns compile on import: only when distilling)

    (question, asked), (answer, told) = mask(question), mask(answer)
    return question, answer, Counter(span.type for span in [*asked, *told])


def fill(template: str, question: str) -> str:
    """The request's prompt: ``{question}`` replaced (other braces are left as they are).

    >>> fill("回答：{question}（输出 JSON {}）", "头痛怎么办？")
    '回答：头痛怎么办？（输出 JSON {}）'
    """
    return template.replace("{question}", question)


def question_of(record, column: str | None = None) -> str:
    """The question of one input record: a string, a record's question field, or a converted example's prompt.

    >>> question_of("头痛怎么办？"), question_of({"问题": "头痛怎么办？", "答案": "多休息"})
    ('头痛怎么办？', '头痛怎么办？')
    >>> question_of({"instruction": "请回答问题。", "input": "头痛怎么办？", "output": "多休息"})
    '请回答问题。\\n头痛怎么办？'
    >>> question_of({"conversations": [{"from": "human", "value": "头痛怎么办？"}, {"from": "gpt", "value": "多休息"}]})
    '头痛怎么办？'
    >>> question_of({"messages": [{"role": "system", "content": "你是医生"}, {"role": "user", "content": "头痛"}]})
    '头痛'
    """
    if isinstance(record, str):
        return record.strip()
    record = require_object(record, "a question (text, or a record with a question field)")
    if column:
        if column not in record:
            raise Shape(f"record has no {column} field (found: {keys_of(record)})")
        return text_of(record[column])
    for key in ("conversations", "messages"):
        if isinstance(record.get(key), list):
            for turn in record[key]:
                if isinstance(turn, dict) and turn.get("from", turn.get("role")) in USER_ROLES:
                    return text_of(turn.get("value", turn.get("content")))
            return ""
    if "instruction" in record:
        return "\n".join(part for part in (text_of(record["instruction"]), text_of(record.get("input"))) if part)
    for name in QUESTION_COLUMNS:
        if name in record:
            return text_of(record[name])
    raise Shape(f"record has no question field ({'/'.join(QUESTION_COLUMNS)}, conversations or messages; found: "
                f"{keys_of(record)})")


def iter_lines(path: Path, encoding: str | None):
    """The non-blank lines of a text file, one question each."""
    def lines():
        with open_text(path, encoding) as stream:
            for number, line in enumerate(stream, 1):
                if line.strip():
                    yield Row(f"line {number}", line.strip())
    return decode_guard(path, encoding, lines())


@register_converter("distill")
class Distill(Converter):
    """Questions -> answers written by a teacher model behind an OpenAI-compatible endpoint (lfd distill)."""

    example_command = (
        "lfd convert distill questions.txt --api-base http://127.0.0.1:8000/v1 --model teacher --test-size 50 --out-dir data"
    )  # or `lfd distill questions.txt ...`
    example_args = ("--api-base", "http://127.0.0.1:8000/v1")
    example_raw = {"question": "高血压患者可以喝咖啡吗？", "answer": "可以适量饮用，每天不超过一两杯，避免浓咖啡；血压控制不佳时应少喝。",
                   "teacher": "qwen2.5-72b-instruct"}
    example_output = {"instruction": "高血压患者可以喝咖啡吗？", "input": "",
                      "output": "可以适量饮用，每天不超过一两杯，避免浓咖啡；血压控制不佳时应少喝。", "teacher": "qwen2.5-72b-instruct"}

    evaluators = ("rouge_zh", "bleu_zh")
    primary_metric = "rouge-l"
    columns = [(name,) for name in QUESTION_COLUMNS]
    expects = "questions (a .txt line each, a question column, or converted examples whose prompt is the question)"
    parallel = False  # one batch of requests per file, and questions de-duplicated across the files

    @classmethod
    def add_arguments(cls, parser):
        add = parser.add_argument
        add("--question-column", metavar="NAME",
            help=f"the table column (or JSON field) holding the question (default: the first of {', '.join(QUESTION_COLUMNS)})")
        add("--template", metavar="TEXT|@FILE",
            help="the request's prompt, with {question} where the question goes; @FILE reads it from a UTF-8 file "
                 "(default: a Chinese instruction to answer professionally)")
        add("--system", metavar="TEXT", help="a system message sent before each question (default: none)")
        add("--max-tokens", metavar="N", help="longest answer asked for, in tokens; an answer using all of them is "
                                              "dropped as cut off, as is one the server cut off at its own limit "
                                              "(default: the server's limit)")
        add_teacher_arguments(add, "distill", "the endpoint's model (default: the first it lists); kept as each "
                                              "record's teacher")

    def __init__(self, options):
        super().__init__(options)
        option = vars(options).get
        self.template = TEMPLATE
        given = option("template")
        if given is not None:
            self.template = given
            if given.startswith("@"):
                try:
                    self.template = Path(given[1:]).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as err:
                    raise UserError(f"--template {given}: cannot read it ({err}); pass a UTF-8 text file") from None
            if "{question}" not in self.template:
                raise UserError(f"--template {given}: it needs {{question}} (where the question goes)")
        self.max_tokens = None if option("max_tokens") is None else whole_number("--max-tokens", option("max_tokens"), 1)
        self.first_seen: dict[str, tuple] = {}  # normalized question -> where it was first read
        self.generated: dict[Path, list[Row]] = {}
        self.endpoint: Endpoint | None = None

    def client(self, path: Path) -> Endpoint:
        if self.endpoint is None:
            self.endpoint = teacher_endpoint(self.options, path, "distill", "answers")
        return self.endpoint

    def records(self, path: Path):
        encoding = vars(self.options).get("encoding")
        if path.suffix.lower() in TEXT_SUFFIXES:
            return iter_lines(path, encoding)
        column = vars(self.options).get("question_column")
        return iter_rows(path, encoding, [(column,)] if column else self.columns)

    def questions(self, path: Path) -> tuple[list, list[tuple[str, str]], Counter]:
        """What each input record becomes (a skip Row, or the index of its question), the questions to ask
        as (location, masked question), and the spans masked in them."""
        column = vars(self.options).get("question_column")
        plan: list = []
        asked: list[tuple[str, str]] = []
        masked: Counter = Counter()
        first, found = True, 0
        for row in self.records(path):
            if isinstance(row.data, Skip):
                plan.append(row)
                continue
            try:
                question = question_of(row.data, column)
            except Shape as shape:
                if first:
                    raise UserError(f"{where(path, row.location)}: {shape.reason}; expected {self.expects} — is this "
                                    "the right file, or is --question-column needed?") from None
                plan.append(Row(row.location, shape))
                continue
            except Skip as skip:  # a JSON list or object for the question
                plan.append(Row(row.location, skip))
                first = False
                continue
            first = False
            if not question:
                plan.append(Row(row.location, Skip(EMPTY_QUESTION)))
                continue
            found += 1
            question, _, spans = clean_pair(question, "")  # masked before it is sent
            key = normalized(question) or question
            if self.first_seen.setdefault(key, (path, row.location)) != (path, row.location):
                plan.append(Row(row.location, Skip(REPEATED)))
                continue
            masked.update(spans)
            plan.append(len(asked))
            asked.append((row.location, question))
        if not found:
            raise UserError(f"{path}: no questions found; expected {self.expects}")
        return plan, asked, masked

    def requests(self, path: Path) -> tuple[list, list[tuple[str, str]], list[Request], Counter]:
        """The plan and questions of a file (see :meth:`questions`) and the request asking each."""
        plan, asked, masked = self.questions(path)
        system = vars(self.options).get("system")
        head = [{"role": "system", "content": system}] if system else []
        temperature = vars(self.options).get("temperature") or 0.0
        requests = [Request(f"{path.name} {location}", [*head, {"role": "user", "content": fill(self.template, question)}],
                            temperature, self.max_tokens) for location, question in asked]
        return plan, asked, requests, masked

    def rows(self, path, split):
        if path not in self.generated:  # the pipeline may read a file twice (--test-size): ask once
            self.generated[path] = list(self.generate(path, split))
        return iter(self.generated[path])

    def generate(self, path: Path, split: str):
        plan, asked, requests, masked = self.requests(path)
        endpoint, results, teacher = self.client(path), [], ""
        if requests:  # (a file of repeated questions only asks nothing)
            results = endpoint.run(requests, f"{split}: asking {endpoint.api_base}")
            teacher = endpoint.model or ""
            self.notes.append(f"{path}: {len(requests)} requests to {teacher}: {endpoint.sent} sent, {endpoint.cached} "
                              f"from the cache {endpoint.cache}; tokens {endpoint.tokens['prompt']} prompt + "
                              f"{endpoint.tokens['completion']} completion")
        out, errors = [], []
        for item in plan:
            if isinstance(item, Row):
                out.append(item)
                continue
            (location, question), result = asked[item], results[item]
            answer = (result.text or "").strip()
            if result.error is not None:
                errors.append(f"{result.key}: {result.error}")
                reason = NO_ANSWER
            elif not answer:
                reason = EMPTY_ANSWER
            elif self.max_tokens and result.completion_tokens >= self.max_tokens:
                reason = TRUNCATED
            elif result.finish_reason == "length":
                reason = CUT_BY_SERVER
            elif is_refusal(answer):
                reason = REFUSAL
            else:
                question, answer, spans = clean_pair(question, answer)
                masked.update(spans)
                out.append(Row(location, {"question": question, "answer": answer, "teacher": teacher}))
                continue
            out.append(Row(location, Skip(reason)))
        found = ", ".join(f"{kind} {n}" for kind, n in sorted(masked.items(), key=lambda kv: (-kv[1], kv[0])))
        self.notes.append(f"{path}: personal data masked (questions before sending, answers kept): {found or 'none found'}")
        if errors:
            self.notes.append(f"{path}: {len(errors)} request(s) answered an error, e.g. {errors[0]}")
        return out

    def convert(self, record, split):
        record = require_object(record, "a distilled pair {question, answer, teacher}")
        question, answer = text_of(record.get("question")), text_of(record.get("answer"))
        if not question:
            raise Skip(EMPTY_QUESTION)
        if not answer:
            raise Skip(EMPTY_ANSWER)
        if is_refusal(answer):
            raise Skip(REFUSAL)
        return Example(instruction=question, output=answer, extra={"teacher": text_of(record.get("teacher"))})
