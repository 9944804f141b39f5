"""Pharmaceutical-regulation QA grounded in a knowledge base (the seed's 药事法规 assistant) -> retrieval prompts.

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert pharma_rag --help`, checked by tests/converters/test_examples.py).

Knowledge base (``--kb``): files, one per document — text (.txt/.md), Word (.docx), PDF (with a text
layer), Excel (.xlsx/.xlsm, every sheet) or CSV, or a langchain-Chatchat ``<kb>/content/`` folder (read
by plugin/io/documents.py) — e.g. ``药品注册示例办法.txt``::

    第十条　药品注册证书有效期为五年，证书上写明药品批准文号、上市许可持有人和生产企业等信息。

Texts are cut into sentences of at most ``--chunk-chars``; the ``--top-k`` best chunks for the
question (BM25 over jieba words, or ``--retriever dense`` with a local sentence-embedding model)
are widened with their neighbouring sentences to about ``--context-chars`` each, without overlap.
The index is built once per KB and cached on disk (see plugin/retrieval.py); questions are
retrieved in batches of 256 as the rows stream by. Columns with context (上下文, context, …) in the
QA files join the knowledge base as documents of their own.

An answer is "in the KB" when at least half of its character bigrams occur in one context-sized
passage (found by BM25 with the answer as the query); one that is not is kept, marked
``answer_in_kb: false`` and counted in the line printed after each split. ``answer_in_context``
tells the same about the record's own contexts, and ``gold_rank`` is the rank of the first context
that holds it (None when none does: `lfd eval -e assistant` scores source recall@k with it).
``--negatives F`` adds, to about F of the training examples (picked by --seed and the question), a
copy whose contexts come from other documents than the answer's source and none of which holds the
answer, with the refusal answer (:meth:`PharmaRag.augment`); ``--test-negatives F`` adds such
refusal items, marked ``negative: true``, to the test split (:meth:`PharmaRag.held_out_copies`). Rows without question or answer, questions
shorter than ``--min-question-chars`` and repeated questions (the first is kept) are counted skips.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..plugin.rag_prompt import PROMPT, REFUSAL, build_prompt  # noqa: F401 — PROMPT: the prompt this converter writes
from ..plugin.io.documents import Document, load_documents
from ..plugin.kb.store import named_bases
from ..plugin.retrieval import (
    POOL_PER_CONTEXT,
    Bm25Index,
    DenseIndex,
    KnowledgeBase,
    bigrams,
    coverage,
    default_cache_dir,
    describe,
    squash,
)
from .base import (
    Converter,
    Example,
    Row,
    Shape,
    Skip,
    UserError,
    iter_rows,
    keys_of,
    positive_int,
    register_converter,
    require_object,
    text_of,
)

QUESTION_NAMES = ("问题", "question", "题目", "问", "提问", "query", "instruction")
ANSWER_NAMES = ("答案", "answer", "回答", "答", "答复", "参考答案", "标准答案", "response", "output")
CONTEXT_NAMES = ("上下文", "背景资料", "参考资料", "context", "passage")
HOLDS = 0.5  # share of an answer's bigrams a passage must contain to hold the answer
BATCH = 256  # questions per retrieval call
GROUNDING_POOL = 10  # passages checked for each answer


def fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be a share between 0 and 1, e.g. 0.2")
    return value


def variants(names) -> list[str]:
    """Header spellings matched exactly by the table readers: question, Question, QUESTION."""
    return list(dict.fromkeys(v for name in names for v in (name, name.title(), name.upper())))


def shortlist(names) -> str:
    """The first names of a list, for messages.

    >>> shortlist(ANSWER_NAMES)
    '答案, answer, 回答, …'
    """
    return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")


def pick(record: dict, names) -> str | None:
    """The record's key for the first of ``names`` it has (case and surrounding spaces ignored).

    >>> pick({"Question ": "q", "答案": "a"}, ("问题", "question"))
    'Question '
    """
    keys = {str(key).strip().lower(): key for key in record}
    return next((keys[name.lower()] for name in names if name.lower() in keys), None)


class QaRecord(dict):
    """A row as read (written to --rejects as is), with its parsed (question, answer) or the reason it is skipped."""

    pair: tuple[str, str] | None = None
    problem: Skip | None = None


@dataclass(frozen=True)
class Grounding:
    """What retrieval found for one (question, answer): chunk spans of the contexts, and of a negative's."""

    contexts: tuple
    negative: tuple | None
    answer_in_kb: bool
    answer_in_context: bool
    gold_rank: int | None  # the first context holding the answer (1-based), None when none does


@dataclass
class RagExample(Example):
    """An example with its refusal copy (not written), which augment() adds to the training split
    (--negatives) or held_out_copies() to the test split (--test-negatives)."""

    refusal: Example | None = None
    refusal_in: tuple[str, ...] = ()  # the splits the copy goes to: "train", "test"


@register_converter("pharma_rag")
class PharmaRag(Converter):
    """Drug-regulation QA grounded in a knowledge base (药事法规): retrieved contexts + question -> answer."""

    example_command = 'lfd convert pharma_rag qa.xlsx --kb kb/ --test-size 50 --out-dir data'
    example_args = ("--kb", "data/samples/pharma/kb", "--top-k", "2", "--chunk-chars", "60", "--context-chars", "60")
    example_raw = {"问题": "药品注册证书有效期几年？", "答案": "五年。"}
    example_output = {
        "instruction": "已知信息：\n"
        "可以提交药品上市许可申请。 第十条\u3000药品注册证书有效期为五年，证书上写明药品批准文号、上市许可持有人和生产企业等信息。\n"
        "受到污染的；没有标明有效期或者擅自改动有效期的；已过有效期的；未经批准自行添加防腐剂或辅料的。\n"
        "\n"
        "根据上述已知信息，简洁和专业的来回答用户的问题。如果无法从中得到答案，请说“根据已知信息无法回答该问题”或“没有提供足够的相关信息”，不允许在答案中添加编造成分，答案请使用中文。问题是：药品注册证书有效期几年？",
        "input": "",
        "output": "五年。",
        "sources": ["药品注册示例办法.txt", "药品管理通则（示例）.txt"],
        "answer_in_kb": True,
        "answer_in_context": True,
        "gold_rank": 1,
        "negative": False,
    }

    evaluators = ("rouge_zh", "bleu_zh", "assistant")
    primary_metric = "rouge-l"
    expects = "question/answer records (fields such as 问题/答案 or question/answer)"
    parallel = False  # de-duplicates questions and builds one index across all QA files

    @classmethod
    def add_arguments(cls, parser):
        add = parser.add_argument
        add("--kb", nargs="+", type=Path, metavar="DIR_OR_FILE",
            help="knowledge base: folders (searched recursively; a Chatchat <kb>/content/ layout too) or files of "
                 ".txt/.md/.docx/.pdf/.xlsx/.xlsm/.csv documents, or the NAME of a base `lfd kb build` made (its "
                 "documents and settings: what `lfd kb ask` retrieves from)")
        add("--kb-home", type=Path, metavar="DIR",
            help="where `lfd kb` keeps named bases (default $LFD_KB_HOME, else ~/.local/share/llamafactory-domains/"
                 "knowledge_base)")
        add("--retriever", choices=("bm25", "dense"),
            help="bm25 (jieba words, no model; default) or dense (needs --embedding-model); a named base's own by default")
        add("--embedding-model", type=Path, metavar="LOCAL_PATH",
            help="a downloaded sentence-embedding model folder, e.g. models/text2vec-large-chinese")
        add("--top-k", type=positive_int, metavar="K", help="contexts per question (default 5, or a named base's)")
        add("--chunk-chars", type=positive_int, metavar="N",
            help="longest sentence chunk indexed (default 100, or a named base's)")
        add("--context-chars", type=positive_int, metavar="N",
            help="a hit is widened to about this many characters (default 250, or a named base's)")
        add("--negatives", type=fraction, default=0.0, metavar="FRACTION",
            help=f"add this share of extra training examples whose contexts lack the answer, answered “{REFUSAL}” "
                 "(default 0)")
        add("--test-negatives", type=fraction, default=0.0, metavar="FRACTION",
            help="add this share of refusal items to the test split, made the same way (marked negative: true), so "
                 "`lfd eval` measures refusal accuracy beside the false-refusal rate (evaluator assistant; default 0)")
        add("--question-col", metavar="NAME", help="question column (default: detect 问题, question, …)")
        add("--answer-col", metavar="NAME", help="answer column (default: detect 答案, answer, …)")
        add("--min-question-chars", type=positive_int, default=4, metavar="N",
            help="shorter questions (letters and digits counted) are skipped (default 4)")
        add("--index-cache", type=Path, metavar="DIR",
            help="where built indexes are kept (default $LFD_CACHE/indexes or ~/.cache/llamafactory-domains/indexes)")

    def __init__(self, options):
        super().__init__(options)
        option = vars(options).get
        self.kb_paths = option("kb") or []
        self.stored = named_bases(self.kb_paths, option("kb_home"))
        named = next(iter(self.stored.values())).settings if self.stored else None
        self.retriever = option("retriever") or (named.retriever if named else "bm25")
        self.embedding_model = option("embedding_model") or (
            Path(named.embedding_model) if named and named.embedding_model else None)
        self.top_k = option("top_k") or (named.top_k if named else 5)
        self.chunk_chars = option("chunk_chars") or (named.chunk_chars if named else 100)
        self.context_chars = option("context_chars") or (named.context_chars if named else 250)
        self.negatives, self.seed = option("negatives") or 0.0, option("seed") or 0
        self.test_negatives = option("test_negatives") or 0.0
        self.min_question_chars = option("min_question_chars") or 4
        if self.context_chars < self.chunk_chars:
            raise UserError(f"--context-chars {self.context_chars} is below --chunk-chars {self.chunk_chars}; "
                            "a context holds at least one whole chunk")
        if self.retriever == "dense" and not self.embedding_model:
            raise UserError("--retriever dense needs --embedding-model LOCAL_PATH (a downloaded sentence-embedding "
                            "model folder, e.g. models/text2vec-large-chinese)")
        self.question_names = (option("question_col"),) if option("question_col") else QUESTION_NAMES
        self.answer_names = (option("answer_col"),) if option("answer_col") else ANSWER_NAMES
        self.header_sets = list(itertools.product(variants(self.question_names), variants(self.answer_names)))
        self.kb: KnowledgeBase | None = None
        self.first_seen: dict[bytes, object] = {}  # (split, question) hash -> (file, location) of its first row
        self.grounded: dict[tuple, Grounding] = {}
        self.tallies: dict[str, Counter] = {}  # split -> counts for the line printed after its files
        self.counted: set[tuple[str, Path]] = set()

    # ------------------------------------------------------------ reading

    def qa_rows(self, path: Path):
        """Rows of a QA file; a table without question/answer columns is an error naming the headers found."""
        try:
            yield from iter_rows(path, vars(self.options).get("encoding"), self.header_sets)
        except UserError as err:
            wanted = " or ".join("/".join(cols) for cols in self.header_sets)
            if wanted not in str(err):
                raise
            raise UserError(
                str(err).replace(wanted, "question/answer") + f" (question column: "
                f"{shortlist(self.question_names)}; answer column: {shortlist(self.answer_names)}; "
                "or name them with --question-col/--answer-col)"
            ) from None

    def rows(self, path, split):
        self.index()
        first_pass = (split, path) not in self.counted
        self.counted.add((split, path))
        batch = []
        for row in self.qa_rows(path):
            batch.append(Row(row.location, self.parse(row.data, (path, row.location), split)))
            if len(batch) == BATCH:
                yield from self.ready(batch, split, first_pass)
                batch = []
        yield from self.ready(batch, split, first_pass)
        if first_pass and path == self.last_file(split):
            self.report(split)

    def parse(self, record, position, split):
        """A QaRecord with its (question, answer), or with the Skip/Shape that convert() raises."""
        if not isinstance(record, dict):
            return record
        parsed = QaRecord(record)
        q_key, a_key = pick(record, self.question_names), pick(record, self.answer_names)
        if q_key is None or a_key is None:
            missing = " and ".join(what for what, key in (("question", q_key), ("answer", a_key)) if key is None)
            parsed.problem = Shape(f"record has no {missing} field (found: {keys_of(record)}; "
                                   "--question-col/--answer-col name them)")
            return parsed
        try:
            question, answer = text_of(record[q_key], q_key), text_of(record[a_key], a_key)
        except Skip as skip:
            parsed.problem = skip
            return parsed
        if not squash(answer):
            parsed.problem = Skip("empty row" if not question else "no answer")
        elif not question:
            parsed.problem = Skip("no question")
        elif len(squash(question)) < self.min_question_chars:
            parsed.problem = Skip(f"question shorter than {self.min_question_chars} characters")
        else:
            key = hashlib.blake2b(f"{split}\0{squash(question)}".encode(), digest_size=16).digest()
            if self.first_seen.setdefault(key, position) != position:
                parsed.problem = Skip("duplicate question (the first is kept)")
            else:
                parsed.pair = (question, answer)
        return parsed

    def ready(self, batch: list[Row], split: str, count: bool):
        """The rows of a batch after one batched retrieval for all their questions."""
        records = [row.data for row in batch if isinstance(row.data, QaRecord) and row.data.pair]
        self.prepare([record.pair for record in records], split)
        if count:
            tally = self.tallies.setdefault(split, Counter())
            for record in records:
                found = self.grounded[(split == "train", *record.pair)]
                tally.update(questions=1, in_context=found.answer_in_context, not_in_kb=not found.answer_in_kb)
        return batch

    def last_file(self, split: str) -> Path | None:
        files = vars(self.options).get("test" if split == "test" else "inputs") or []
        return files[-1] if files else None

    def report(self, split: str) -> None:
        """The grounding counts of a split, once, on stderr beside the read/wrote/skipped counts."""
        tally = self.tallies.get(split, Counter())
        files = "--test files" if split == "test" else "INPUT files"
        print(
            f"grounding of the {files}: {tally['questions']} questions; the answer is in the retrieved contexts of "
            f"{tally['in_context']}; {tally['not_in_kb']} answers found in no knowledge-base text "
            "(kept, marked answer_in_kb: false)",
            file=sys.stderr,
        )

    # ------------------------------------------------------------ retrieval

    def index(self):
        """The knowledge base and its indexes, built (or loaded from the cache) on first use."""
        if self.kb is None:
            documents = load_documents([path for path in self.kb_paths if path not in self.stored])
            cited = {doc.name for doc in documents}
            for path, base in self.stored.items():  # a name another --kb also cites is prefixed by its base's
                for doc in base.documents():
                    doc = Document(f"{base.name}/{doc.name}", doc.text) if doc.name in cited else doc
                    cited.add(doc.name)
                    documents.append(doc)
            contexts = self.context_documents()
            if contexts and self.stored:
                print(f"{len(contexts)} texts of the QA files' context columns join the knowledge base of this "
                      f"conversion, not the base {next(iter(self.stored))}: `lfd kb ask` will not retrieve them",
                      file=sys.stderr)
            documents += contexts
            if not documents:
                raise UserError("no knowledge base: pass --kb with the folder of regulation texts "
                                "(.txt/.md/.docx/.pdf/.xlsx/.csv files)")
            kb = KnowledgeBase(documents, self.chunk_chars)
            if not kb.chunks:
                raise UserError("the knowledge base has no text to index (only punctuation?); check the --kb files")
            cache = vars(self.options).get("index_cache") or default_cache_dir()
            self.lexical = Bm25Index(kb, cache)
            self.dense = DenseIndex(kb, self.embedding_model, cache) if self.retriever == "dense" else None
            print(describe(kb, self.dense or self.lexical, cache), file=sys.stderr)
            self.kb = kb
        return self.dense or self.lexical

    def context_documents(self) -> list[Document]:
        """Distinct texts of the QA files' context columns (上下文, context, …), each a document."""
        documents, seen = [], set()
        files = [*(vars(self.options).get("inputs") or []), *(vars(self.options).get("test") or [])]
        for path in files:
            for row in self.qa_rows(path):
                key = pick(row.data, CONTEXT_NAMES) if isinstance(row.data, dict) else None
                value = row.data[key] if key else ""  # not text (a JSON list, a number): no document
                context = value.strip() if isinstance(value, str) else ""
                if squash(context) and context not in seen:
                    seen.add(context)
                    documents.append(Document(f"{path.name} {row.location}", context))
        return documents

    def prepare(self, pairs: list[tuple[str, str]], split: str) -> None:
        """Retrieves contexts (and a negative's) for the pairs not seen yet: one search per index."""
        train = split == "train"
        todo = list(dict.fromkeys(pair for pair in pairs if (train, *pair) not in self.grounded))
        if not todo:
            return
        ranked = self.index().search([q for q, _ in todo], POOL_PER_CONTEXT * self.top_k)
        passages = self.lexical.search([a for _, a in todo], GROUNDING_POOL)
        for (question, answer), hits, answer_hits in zip(todo, ranked, passages):
            self.grounded[(train, question, answer)] = self.ground(question, answer, hits, answer_hits, train)

    def ground(self, question: str, answer: str, hits: list[int], answer_hits: list[int], train: bool) -> Grounding:
        """Contexts from the question's ranked chunks; the answer's source document is that of the first
        passage found for the answer that holds it; a chosen negative excludes that document and any
        context holding the answer."""
        kb, chars, grams = self.kb, self.context_chars, bigrams(answer)

        def holds(span) -> bool:
            return coverage(grams, kb.text(span)) >= HOLDS

        contexts = tuple(kb.contexts(hits, self.top_k, chars))
        source = next((kb.doc_of(span) for span in (kb.widen(i, chars) for i in answer_hits) if holds(span)), None)
        negative = None
        if source is not None and self.refusal_splits(question, train):
            negative = (
                tuple(
                    kb.contexts(
                        hits, self.top_k, chars, exclude=lambda span: kb.doc_of(span) == source or holds(span)
                    )
                )
                or None
            )
        in_context = coverage(grams, "\n".join(kb.text(span) for span in contexts)) >= HOLDS
        gold = next((rank for rank, span in enumerate(contexts, 1) if holds(span)), None)
        return Grounding(contexts, negative, source is not None, in_context, gold)

    def refusal_splits(self, question: str, train: bool) -> tuple[str, ...]:
        """The splits this question's refusal copy goes to: the same choice whatever the file order or pass.
        A question read as training data may still be drawn into the test split (--test-size)."""
        draw = random.Random(f"{self.seed}:{question}").random()
        return (("train",) if train and draw < self.negatives else ()) + (("test",) if draw < self.test_negatives else ())

    # ------------------------------------------------------------ examples

    def prompt(self, spans, question: str) -> str:
        return build_prompt([self.kb.text(span) for span in spans], question)

    def convert(self, record, split):
        require_object(record, "an object with question/answer fields")
        if not isinstance(record, QaRecord):  # not read by rows(): parse and retrieve it alone
            self.index()
            record = self.parse(record, object(), split)
            if record.pair:
                self.prepare([record.pair], split)
        if record.problem:
            raise record.problem
        question, answer = record.pair
        found = self.grounded[(split == "train", question, answer)]
        if not found.contexts:
            raise Skip("no knowledge-base passage shares a word with the question")
        sources = [self.kb.source(span) for span in found.contexts]
        extra = {
            "sources": sources,
            "answer_in_kb": found.answer_in_kb,
            "answer_in_context": found.answer_in_context,
            "gold_rank": found.gold_rank,
            "negative": False,
        }
        example = RagExample(instruction=self.prompt(found.contexts, question), output=answer, extra=extra,
                             refusal_in=self.refusal_splits(question, split == "train") if found.negative else ())
        if found.negative:
            example.refusal = Example(
                instruction=self.prompt(found.negative, question),
                output=REFUSAL,
                extra={
                    "sources": [self.kb.source(span) for span in found.negative],
                    "answer_in_kb": True,
                    "answer_in_context": False,
                    "gold_rank": None,
                    "negative": True,
                },
            )
        return example

    def augment(self, example):
        """The refusal copy of a training example chosen by --negatives."""
        refusal = getattr(example, "refusal", None)
        return [refusal] if refusal is not None and "train" in example.refusal_in else []

    def held_out_copies(self, example):
        """The refusal item of a test example chosen by --test-negatives."""
        refusal = getattr(example, "refusal", None)
        return [refusal] if refusal is not None and "test" in getattr(example, "refusal_in", ()) else []
