"""Knowledge-base retrieval for grounded QA: text files -> sentence chunks -> a BM25 or dense index.

A :class:`KnowledgeBase` splits each document into sentences of at most ``chunk_chars`` (the
seed's 100), each remembering its document; a hit is widened with its neighbouring sentences to
about ``context_chars`` (the seed's 250). Two indexes rank chunks for a batch of queries:

- :class:`Bm25Index`: BM25 (``bm25s``) over jieba words, no model needed;
- :class:`DenseIndex`: a local sentence-transformers model, embeddings in a FAISS inner-product index.

Each index is built once and cached on disk under a key that hashes the KB's content, the
chunking and (dense) the model files, so a second run over the same texts loads it instead.
bm25s, jieba, faiss and sentence-transformers are imported only when an index is built or used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import sys
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .io.documents import Document
from .progress import terminal, tracked

INDEX_VERSION = 1  # bump when chunking or an index's files change: old caches are then ignored
# a sentence: up to and including its closing punctuation (and closing quotes), or up to a line break;
# a full stop ends one only before a space or the end ("2.5" does not)
END = r"[。！？!?；;]|\.(?=\s|$)"
SENTENCE = re.compile(rf"(?:(?!{END})[^\n])+(?:(?:{END})+[”’」』）)\"']*)?")
SOFT_BREAK = re.compile(r"[，,、：:]")
LINE_BREAK = re.compile(r"\s*\n\s*")


@dataclass(frozen=True)
class Chunk:
    doc: int
    start: int
    end: int


Span = tuple[int, int]  # (first, last) chunk ids of one context, both inclusive, within one document


def squash(text: str) -> str:
    """Letters and digits only, NFKC-folded and lower-cased: the text that comparisons look at.

    >>> squash("第十二条　GSP（药品经营质量管理规范）？")
    '第十二条gsp药品经营质量管理规范'
    """
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())


def bigrams(text: str) -> set[str]:
    """Character bigrams of ``squash(text)`` (the single character of a one-character text)."""
    folded = squash(text)
    return {folded[i:i + 2] for i in range(len(folded) - 1)} if len(folded) > 1 else set(folded)


def coverage(part: set[str], text: str) -> float:
    """Share of the bigrams ``part`` (see :func:`bigrams`) that occur in ``text``.

    >>> round(coverage(bigrams("有效期为五年"), "药品注册证书有效期为五年。"), 2)
    1.0
    >>> coverage(bigrams("三十日"), "药品注册证书有效期为五年。")
    0.0
    """
    return len(part & bigrams(text)) / len(part) if part else 0.0


def sentence_spans(text: str, max_chars: int) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``, whitespace trimmed; a sentence longer than
    ``max_chars`` is cut after its last comma-like break that fits, else at ``max_chars``.

    >>> text = "第一条　为了加强药品管理，制定本规定。\\n第二条　本规定适用于药品研制、生产和经营活动！"
    >>> [text[s:e] for s, e in sentence_spans(text, 15)]
    ['第一条\\u3000为了加强药品管理，', '制定本规定。', '第二条\\u3000本规定适用于药品研制、', '生产和经营活动！']
    >>> english = "Store at 2.5 to 8 degrees. Valid for one day!Keep dry"
    >>> [english[s:e] for s, e in sentence_spans(english, 100)]
    ['Store at 2.5 to 8 degrees.', 'Valid for one day!', 'Keep dry']
    >>> short = "药品生产许可证"
    >>> [short[s:e] for s, e in sentence_spans(short, 4)]
    ['药品生产', '许可证']
    """
    spans = []
    for match in SENTENCE.finditer(text):
        start, end = match.span()
        while start < end:
            while start < end and text[start].isspace():
                start += 1
            stop = end
            while stop > start and text[stop - 1].isspace():
                stop -= 1
            if stop == start:
                break
            if stop - start > max_chars:
                breaks = [m.end() for m in SOFT_BREAK.finditer(text, start, start + max_chars)]
                stop = breaks[-1] if breaks else start + max_chars
            if any(ch.isalnum() for ch in text[start:stop]):  # no chunk of punctuation alone
                spans.append((start, stop))
            start = stop
    return spans


class KnowledgeBase:
    """Documents, their sentence chunks and the widening of a hit into a context."""

    def __init__(self, documents: list[Document], chunk_chars: int):
        self.documents = documents
        self.chunk_chars = chunk_chars
        self.chunks: list[Chunk] = []
        self.doc_chunks: list[range] = []  # the chunk ids of each document
        for number, doc in enumerate(documents):
            first = len(self.chunks)
            self.chunks += [Chunk(number, start, end) for start, end in sentence_spans(doc.text, chunk_chars)]
            self.doc_chunks.append(range(first, len(self.chunks)))

    def digest(self) -> str:
        """A hash of the names, texts and chunking: the key of the cached indexes."""
        h = hashlib.sha256(f"kb {INDEX_VERSION} {self.chunk_chars}\0".encode())
        for doc in self.documents:
            h.update(doc.name.encode("utf-8") + b"\0" + doc.text.encode("utf-8") + b"\0")
        return h.hexdigest()

    def chunk_text(self, chunk_id: int) -> str:
        chunk = self.chunks[chunk_id]
        return self.documents[chunk.doc].text[chunk.start:chunk.end]

    def text(self, span: Span) -> str:
        """The context of a span: its documents' text from the first chunk to the last, lines joined."""
        first, last = (self.chunks[i] for i in span)
        return LINE_BREAK.sub(" ", self.documents[first.doc].text[first.start:last.end])

    def source(self, span: Span) -> str:
        return self.documents[self.chunks[span[0]].doc].name

    def doc_of(self, span: Span) -> int:
        return self.chunks[span[0]].doc

    def widen(self, chunk_id: int, chars: int, taken: set[int] = frozenset()) -> Span:
        """The hit plus neighbouring sentences of its document (after, then before, in turn) while the
        context stays within ``chars``; chunks in ``taken`` (other contexts) are not crossed.

        >>> kb = KnowledgeBase([Document("a.txt", "甲一。乙二。丙三。丁四。")], 100)
        >>> kb.widen(1, 8), kb.widen(1, 9), kb.widen(1, 100, taken={0})
        ((1, 2), (0, 2), (1, 3))
        """
        own = self.doc_chunks[self.chunks[chunk_id].doc]
        first = last = chunk_id
        grown = True
        while grown:
            grown = False
            for neighbour in (last + 1, first - 1):
                if neighbour in own and neighbour not in taken:
                    lo, hi = min(first, neighbour), max(last, neighbour)
                    if self.chunks[hi].end - self.chunks[lo].start <= chars:
                        first, last, grown = lo, hi, True
        return first, last

    def contexts(self, ranked: Iterable[int], k: int, chars: int,
                 exclude: Callable[[Span], bool] = lambda span: False) -> list[Span]:
        """The first ``k`` non-overlapping widened contexts of ranked chunk ids, skipping excluded ones."""
        spans: list[Span] = []
        taken: set[int] = set()
        for chunk_id in ranked:
            if chunk_id in taken:
                continue
            span = self.widen(chunk_id, chars, taken)
            if exclude(span):
                continue
            spans.append(span)
            taken.update(range(span[0], span[1] + 1))
            if len(spans) == k:
                break
        return spans


# ---------------------------------------------------------------- indexes


def load_jieba():
    """jieba, quiet, with its dictionary cache in a folder of our own (under the `lfd fetch` cache).

    By default jieba writes /tmp/jieba.cache: on a shared server another user's file of that name
    cannot be replaced, and jieba logs a traceback (and leaves a temporary file) on every run. Set
    before the first cut, which is when jieba builds or loads the cache."""
    with warnings.catch_warnings():  # jieba 0.42 imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        import jieba
    # no "Building prefix dict..." lines on stderr; a cache that cannot be written only costs time
    jieba.setLogLevel(logging.CRITICAL)
    if not jieba.dt.initialized and jieba.dt.tmp_dir is None:
        from .catalog import default_cache

        folder = default_cache() / "jieba"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:  # no writable home: a file of this user's own in the temporary folder
            folder = Path(tempfile.gettempdir())
            jieba.dt.cache_file = f"jieba.uid{os.getuid() if hasattr(os, 'getuid') else 0}.cache"
        jieba.dt.tmp_dir = str(folder)
    return jieba


_quiet_jieba = load_jieba


def words(text: str) -> list[str]:
    """jieba search-mode words (overlapping sub-words included), lower-cased, punctuation dropped.

    >>> words("药品经营许可证有效期？")
    ['药品', '经营', '许可', '许可证', '有效', '效期', '有效期']
    """
    return [w.lower() for w in _quiet_jieba().lcut_for_search(text) if any(ch.isalnum() for ch in w)]


def cached(folder: Path | None, build: Callable[[], object], save: Callable[[object, Path], None],
           load: Callable[[Path], object]) -> tuple[object, bool]:
    """(the index, whether it came from the cache): loaded from ``folder``, else built and saved there.

    The files are written to a temporary folder and renamed into place, so a crash or a concurrent
    run never leaves half an index; an unreadable cache is rebuilt; an unwritable one is only skipped.
    """
    if folder is not None and folder.is_dir():
        try:
            return load(folder), True
        except Exception:  # noqa: BLE001 — whatever a damaged cache raises, rebuilding repairs it
            shutil.rmtree(folder, ignore_errors=True)
    index = build()
    if folder is None:
        return index, False
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
    except OSError as err:
        print(f"index cache {folder.parent} is not writable ({err.strerror}); the index is not cached", file=sys.stderr)
        return index, False
    try:
        save(index, staging)
        os.replace(staging, folder)
    except OSError:  # another run has just cached the same index
        pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return index, False


POOL_PER_CONTEXT = 8  # chunks ranked per context wanted: room for merged neighbours and negatives' exclusions


class Bm25Index:
    """BM25 over jieba words (bm25s); chunks sharing no word with a query are not returned.

    ``tokens`` (optional) gives every chunk's words when the index is built, e.g. from a per-document
    cache (`lfd kb add` cuts only the new files); by default each chunk is cut here."""

    kind = "bm25"

    def __init__(self, kb: KnowledgeBase, cache_dir: Path | None = None,
                 tokens: Callable[[], list[list[str]]] | None = None):
        import bm25s

        def build():
            index = bm25s.BM25()
            cut = tokens() if tokens else [words(kb.chunk_text(i)) for i in tracked(
                range(len(kb.chunks)), len(kb.chunks), "bm25 index: jieba cutting", " chunks")]
            index.index(cut, show_progress=False)
            return index

        self.cache_name = f"bm25-{kb.digest()[:24]}"
        folder = cache_dir / self.cache_name if cache_dir else None
        self.size = len(kb.chunks)
        self.bm25, self.from_cache = cached(
            folder, build, lambda index, path: index.save(str(path), show_progress=False),
            lambda path: bm25s.BM25.load(str(path), show_progress=False))

    def search(self, queries: list[str], n: int) -> list[list[int]]:
        """Up to ``n`` chunk ids per query, best first (one batched call)."""
        n = min(n, self.size)
        ids, scores = self.bm25.retrieve([words(q) for q in queries], k=n, show_progress=False)
        return [[int(i) for i, s in zip(row_ids, row_scores) if s > 0] for row_ids, row_scores in zip(ids, scores)]


def model_fingerprint(path: Path) -> str:
    """A hash of a model folder's file names, sizes and small config files: which model made an index."""
    h = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f"{file.relative_to(path).as_posix()}\0{file.stat().st_size}\0".encode())
        if file.suffix == ".json" and file.stat().st_size < 1 << 20:
            h.update(file.read_bytes())
    return h.hexdigest()


def load_embedder(path: Path):
    """A local sentence-transformers model folder (a plain BERT folder gets mean pooling); never downloads."""
    if not path.is_dir():
        raise UserError(f"--embedding-model {path}: no such folder; pass a downloaded model folder, e.g. "
                        "models/text2vec-large-chinese")
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(str(path), local_files_only=True)
    except (OSError, ValueError) as err:
        raise UserError(f"--embedding-model {path}: cannot load a sentence-embedding model there "
                        f"({str(err).splitlines()[0]}); pass a sentence-transformers or BERT model folder") from None


class DenseIndex:
    """Normalized sentence embeddings of the chunks in a FAISS inner-product (cosine) index."""

    kind = "dense"
    BATCH = 64

    def __init__(self, kb: KnowledgeBase, model_path: Path, cache_dir: Path | None = None,
                 chunk_vectors: Callable[[Callable], object] | None = None):
        """``chunk_vectors`` (optional), given the embedding function, returns every chunk's vector (a cache's)."""
        import faiss

        self.model = load_embedder(model_path)
        self.size = len(kb.chunks)

        def build():
            texts = [kb.chunk_text(i) for i in range(len(kb.chunks))]
            vectors = chunk_vectors(self.embed) if chunk_vectors else self.embed(texts, progress=terminal() is not None)
            index = faiss.IndexFlatIP(vectors.shape[1])
            index.add(vectors)
            return index

        key = hashlib.sha256(f"{kb.digest()} {model_fingerprint(model_path)}".encode()).hexdigest()
        self.cache_name = f"dense-{key[:24]}"
        folder = cache_dir / self.cache_name if cache_dir else None
        self.faiss, self.from_cache = cached(
            folder, build, lambda index, path: faiss.write_index(index, str(path / "index.faiss")),
            lambda path: faiss.read_index(str(path / "index.faiss")))

    def embed(self, texts: list[str], progress: bool = False):
        import numpy as np

        vectors = self.model.encode(texts, batch_size=self.BATCH, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=progress)
        return np.ascontiguousarray(vectors, dtype="float32")

    def search(self, queries: list[str], n: int) -> list[list[int]]:
        """Up to ``n`` chunk ids per query, most similar first (one batched call)."""
        _, ids = self.faiss.search(self.embed(queries), min(n, self.size))
        return [[int(i) for i in row if i >= 0] for row in ids]


def default_cache_dir() -> Path:
    """$LFD_CACHE/indexes or ~/.cache/llamafactory-domains/indexes: shared by every output folder."""
    from .catalog import default_cache

    return default_cache() / "indexes"


def describe(kb: KnowledgeBase, index, cache_dir: Path | None) -> str:
    """One line about the index in use, for stderr."""
    where = f"loaded from the cache in {cache_dir}" if index.from_cache else (
        f"built and cached in {cache_dir}" if cache_dir else "built (not cached)")
    return (f"{index.kind} index of {len(kb.chunks)} chunks from {len(kb.documents)} knowledge-base "
            f"documents: {where}")

