"""Knowledge-graph facts -> question-answer pairs written by a teacher model (HuaTuo's way of making its data).

Its example raw record and the record it becomes are ``example_raw`` and ``example_output`` below
(shown by `lfd convert kg_qa --help`, checked by tests/converters/test_examples.py).

Input: triples (CSV/xlsx with ``head, relation, tail`` columns — or 头实体/关系/尾实体 — or JSONL
``{"head", "relation", "tail"}``), e.g. ``肝癌 | 药物治疗 | 索拉非尼``, or entity-centred JSON, the shape
CMeKG-style exports take: ``{"entity": "肝癌", "关系": {"药物治疗": ["索拉非尼", …], "症状": […]}}``.
Facts are grouped per entity (in the order the entities first appear) and cut into groups of at most
``--facts-per-request``; each group is one request to the OpenAI-compatible endpoint (``--api-base``,
through plugin/endpoint.py: concurrency, retries, a cache that makes a rerun free and an interrupted
run resume), asking for ``--pairs`` question-answer pairs grounded in those facts as a JSON list.

Each pair keeps its source facts (those whose tail its answer names) and the teacher model's name.
Skipped, by reason: an unparseable reply (not one JSON list of {question, answer}), an empty question
or answer, an answer that names none of the group's tail entities (it ignores or contradicts the
facts: a cheap lexical check), and a repeated question (the first is kept).
`lfd synth FILES...` is `lfd convert kg_qa FILES...`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from ..plugin.endpoint import Endpoint, Request, add_teacher_arguments, teacher_endpoint
from .base import (
    Converter,
    Example,
    Row,
    Skip,
    UserError,
    iter_rows,
    keys_of,
    positive_int,
    register_converter,
    require_object,
    text_of,
)

PROMPT = ("你是一名医学专家。下面是知识图谱中关于“{entity}”的事实（头实体 | 关系 | 尾实体）：\n{facts}\n\n"
          "请只依据这些事实，写出{pairs}个患者可能提出的问题及其专业、准确的回答。每个回答必须用到至少一条事实中的"
          "尾实体原文，不要编造事实之外的内容。只输出一个 JSON 列表，形如 "
          '[{{"question": "……", "answer": "……"}}]，不要输出其他文字。')
TRIPLE_COLUMNS = [("head", "relation", "tail"), ("头实体", "关系", "尾实体"), ("实体", "关系", "属性")]
FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


def facts_of(record, columns=TRIPLE_COLUMNS) -> list[tuple[str, str, str]]:
    """The (head, relation, tail) facts of one input record: a triple, or an entity with its relations.

    >>> facts_of({"head": "肝癌", "relation": "药物治疗", "tail": "索拉非尼"})
    [('肝癌', '药物治疗', '索拉非尼')]
    >>> facts_of({"entity": "肝癌", "关系": {"药物治疗": ["索拉非尼", "仑伐替尼"], "症状": "肝区疼痛"}})
    [('肝癌', '药物治疗', '索拉非尼'), ('肝癌', '药物治疗', '仑伐替尼'), ('肝癌', '症状', '肝区疼痛')]
    """
    record = require_object(record, "a triple {head, relation, tail} or an entity {entity, 关系: {…}}")
    for names in columns:
        if all(name in record for name in names):
            head, relation, tail = (text_of(record[name]).strip() for name in names)
            return [(head, relation, tail)] if head and relation and tail else []
    entity = text_of(record.get("entity", record.get("实体", ""))).strip()
    relations = record.get("关系", record.get("relations"))
    if not entity or not isinstance(relations, dict):
        raise Skip(f"neither a triple nor an entity with relations (found: {keys_of(record)})")
    found = []
    for relation, tails in relations.items():
        for tail in tails if isinstance(tails, list) else [tails]:
            if text_of(tail).strip():
                found.append((entity, str(relation).strip(), text_of(tail).strip()))
    return found


def parse_pairs(reply: str) -> list[dict] | None:
    """The reply's JSON list of {question, answer}, or None when it is not exactly that (never repaired).

    >>> parse_pairs('```json\\n[{"question": "肝癌用什么药？", "answer": "可用索拉非尼。"}]\\n```')
    [{'question': '肝癌用什么药？', 'answer': '可用索拉非尼。'}]
    >>> parse_pairs('好的，以下是问题：……') is None, parse_pairs("[" * 100_000 + "]" * 100_000) is None
    (True, True)
    """
    text = reply.strip()
    fenced = FENCE.match(text)
    try:
        pairs = json.loads(fenced[1] if fenced else text)
    except (ValueError, RecursionError):  # not JSON, thousands of digits, nested thousands deep
        return None
    ok = isinstance(pairs, list) and pairs and all(
        isinstance(p, dict) and isinstance(p.get("question"), str) and isinstance(p.get("answer"), str) for p in pairs)
    return [{"question": p["question"], "answer": p["answer"]} for p in pairs] if ok else None


def folded(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())


def named_facts(record: dict) -> list:
    """The facts whose tail entity the pair's answer names (width, case and punctuation folded).

    >>> named_facts({"answer": "可选用索拉非尼。", "facts": [["肝癌", "药物治疗", "索拉非尼"], ["肝癌", "症状", "肝区疼痛"]]})
    [['肝癌', '药物治疗', '索拉非尼']]
    """
    answer = folded(text_of(record.get("answer", "")))
    facts = record.get("facts") if isinstance(record.get("facts"), list) else []
    return [fact for fact in facts if isinstance(fact, list | tuple) and len(fact) == 3
            and folded(text_of(fact[2])) and folded(text_of(fact[2])) in answer]


@register_converter("kg_qa")
class KgQa(Converter):
    """Knowledge-graph facts -> grounded question-answer pairs written by a teacher model (lfd synth)."""

    example_command = (
        "lfd convert kg_qa cmekg_triples.csv --api-base http://127.0.0.1:8000/v1 --pairs 3 --test-size 50 --out-dir data"
    )  # or `lfd synth cmekg_triples.csv ...`
    example_args = ("--api-base", "http://127.0.0.1:8000/v1")
    example_raw = {"entity": "肝癌", "facts": [["肝癌", "药物治疗", "索拉非尼"], ["肝癌", "症状", "肝区疼痛"]],
                   "question": "肝癌可以用什么药物治疗？", "answer": "肝癌的药物治疗可选用索拉非尼。", "teacher": "gpt-3.5-turbo"}
    example_output = {"instruction": "肝癌可以用什么药物治疗？", "input": "", "output": "肝癌的药物治疗可选用索拉非尼。",
                      "facts": [["肝癌", "药物治疗", "索拉非尼"]], "entity": "肝癌", "teacher": "gpt-3.5-turbo"}

    evaluators = ("rouge_zh", "bleu_zh")
    primary_metric = "rouge-l"
    columns = TRIPLE_COLUMNS
    expects = "knowledge-graph facts (head/relation/tail triples, or {entity, 关系: {relation: [tails]}})"
    parallel = False  # one batch of requests for the whole file, and questions de-duplicated across it

    @classmethod
    def add_arguments(cls, parser):
        add = parser.add_argument
        add("--pairs", type=positive_int, default=3, metavar="N", help="question-answer pairs asked per group (default 3)")
        add("--facts-per-request", type=positive_int, default=8, metavar="N",
            help="an entity's facts are asked about in groups of at most N (default 8)")
        add("--template", type=Path, metavar="FILE",
            help="the request's prompt, with {entity}, {facts} and {pairs} (default: the built-in Chinese one)")
        add_teacher_arguments(add, "synth")

    def __init__(self, options):
        super().__init__(options)
        option = vars(options).get
        self.template = PROMPT
        if option("template"):
            try:
                self.template = Path(option("template")).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise UserError(f"--template {option('template')}: cannot read it ({err}); pass a UTF-8 text file") from None
            missing = [name for name in ("{entity}", "{facts}", "{pairs}") if name not in self.template]
            if missing:
                raise UserError(f"--template {option('template')}: it needs {', '.join(missing)} (the entity, its facts "
                                "and the number of pairs asked)")
        self.first_seen: dict[str, tuple] = {}  # folded question -> where it was first generated
        self.generated: dict[Path, list[Row]] = {}
        self.endpoint: Endpoint | None = None

    def client(self, path: Path) -> Endpoint:
        if self.endpoint is None:
            self.endpoint = teacher_endpoint(self.options, path, "synth", "writes the pairs")
        return self.endpoint

    def groups(self, path: Path) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
        """(entity, where its first fact is, facts) per request, entities in order of first appearance."""
        by_entity: dict[str, list] = {}
        where: dict[str, str] = {}
        for row in iter_rows(path, vars(self.options).get("encoding"), self.columns):
            if isinstance(row.data, Skip):
                continue
            try:
                facts = facts_of(row.data)
            except Skip:
                continue
            for fact in facts:
                if fact not in by_entity.setdefault(fact[0], []):
                    by_entity[fact[0]].append(fact)
                    where.setdefault(fact[0], row.location)
        size = vars(self.options).get("facts_per_request") or 8
        return [(entity, where[entity], facts[i:i + size]) for entity, facts in by_entity.items()
                for i in range(0, len(facts), size)]

    def rows(self, path, split):
        if path not in self.generated:  # the pipeline may read a file twice (--test-size): ask once
            self.generated[path] = list(self.generate(path, split))
        return iter(self.generated[path])

    def requests(self, path: Path) -> tuple[list, list[Request]]:
        """The fact groups of a file and the request asking about each."""
        groups = self.groups(path)
        if not groups:
            raise UserError(f"{path}: no facts found; expected {self.expects}")
        pairs = vars(self.options).get("pairs") or 3
        temperature = vars(self.options).get("temperature") or 0.0
        return groups, [Request(f"{entity} {location}", [{"role": "user", "content": self.template.format(
            entity=entity, facts="\n".join(" | ".join(fact) for fact in facts), pairs=pairs)}], temperature)
            for entity, location, facts in groups]

    def generate(self, path: Path, split: str):
        groups, requests = self.requests(path)
        endpoint = self.client(path)
        results = endpoint.run(requests, f"{split}: asking {endpoint.api_base}")
        self.notes.append(f"{path}: {len(requests)} requests to {endpoint.model}: {endpoint.sent} sent, {endpoint.cached} "
                          f"from the cache {endpoint.cache}; tokens {endpoint.tokens['prompt']} prompt + "
                          f"{endpoint.tokens['completion']} completion")
        teacher = endpoint.model or ""
        for (entity, location, facts), result in zip(groups, results):
            parsed = parse_pairs(result.text or "")
            if parsed is None:
                yield Row(f"{location} ({entity})", Skip("unparseable reply (not one JSON list of {question, answer})"))
                continue
            for number, pair in enumerate(parsed, 1):
                where = f"{location} ({entity}, pair {number})"
                record = {"entity": entity, "facts": [list(f) for f in facts], **pair, "teacher": teacher}
                key = folded(pair["question"])  # only a pair that would be kept can make a later one a duplicate
                if key and named_facts(record) and self.first_seen.setdefault(key, (path, where)) != (path, where):
                    yield Row(where, Skip("duplicate question (the first is kept)"))
                    continue
                yield Row(where, record)

    def convert(self, record, split):
        record = require_object(record, "a generated pair {entity, facts, question, answer}")
        question, answer = text_of(record.get("question", "")).strip(), text_of(record.get("answer", "")).strip()
        if not question or not answer:
            raise Skip("empty question or answer")
        named = named_facts(record)
        if not named:
            raise Skip("the answer names none of its facts' tail entities")
        return Example(instruction=question, output=answer,
                       extra={"facts": named, "entity": record.get("entity", ""), "teacher": record.get("teacher", "")})
