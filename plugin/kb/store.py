"""Named knowledge bases on disk (`lfd kb build/add/remove/list`): the files, their text, their index.

One folder per knowledge base under the home (``--kb-home``, ``$LFD_KB_HOME`` or
``~/.local/share/llamafactory-domains/knowledge_base``), in langchain-Chatchat's layout::

    NAME/content/...            copies of the files, under the names sources cite
    NAME/kb.json                the settings and the documents (name, sha256, characters, chunks), by name
    NAME/parsed/<sha>.txt       each file's extracted text (a PDF is read once)
    NAME/parsed/<sha>-c<N>.words.json, <sha>-c<N>-<model>.npy   its chunks' BM25 words, dense vectors
    NAME/index/                 the BM25 (or FAISS) index of the whole base, keyed by its content

Chunking, widening and ranking are plugin/retrieval.py's, as `lfd convert pharma_rag` uses them; the
documents are in name order whatever the order they were added in, so adding files gives the index a
fresh build of the same files would. Adding files reads and tokenizes only those files. ``kb.json``
is written last and in one step: it is what a base holds (a file copied by an interrupted add and not
listed there is not part of it, and the next add replaces it).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..errors import UserError
from ..io.atomic import write_json
from ..io.documents import document_files, name_problem, read_document
from ..progress import bar
from ..retrieval import POOL_PER_CONTEXT, Bm25Index, DenseIndex, Document, KnowledgeBase, Span, words

MANIFEST = "kb.json"
FORMAT = 1
NAME = re.compile(r"^[^\W_][\w.\-\u4e00-\u9fff]*$")


@dataclass(frozen=True)
class Settings:
    """How a base is indexed and searched: pharma_rag's options of the same names, with its defaults."""

    chunk_chars: int = 100
    context_chars: int = 250
    top_k: int = 5
    retriever: str = "bm25"
    embedding_model: str | None = None


@dataclass(frozen=True)
class Entry:
    name: str  # the cited name: the path under content/
    sha256: str
    chars: int
    chunks: int


@dataclass
class Manifest:
    name: str
    settings: Settings
    documents: list[Entry] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"format": FORMAT, "name": self.name, "settings": asdict(self.settings),
                "documents": [asdict(entry) for entry in self.documents]}


def default_home() -> Path:
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return Path(os.environ.get("LFD_KB_HOME") or data / "llamafactory-domains" / "knowledge_base")


def names(home: Path) -> list[str]:
    """The knowledge bases under ``home``, sorted."""
    if not home.is_dir():
        return []
    return sorted(p.name for p in home.iterdir() if (p / MANIFEST).is_file())


@contextmanager
def changing(home: Path, name: str):
    """Holds the home's lock (``<home>/.lock``) while a base is built or changed: a second `lfd kb add` (or an
    upload) at the same time is refused with one line instead of one of the two manifests being lost."""
    import fcntl

    check_name(name)
    try:
        home.mkdir(parents=True, exist_ok=True)
        handle = open(home / ".lock", "w")  # noqa: SIM115 — closed below, after the lock is let go
    except OSError as err:
        raise UserError(f"{home}: cannot write there ({err.strerror}); pass a writable --kb-home") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"{home}: another `lfd kb` is changing a knowledge base there right now; run this "
                            f"again when it has finished (knowledge base {name!r} is unchanged)") from None
        yield


def check_name(name: str) -> str:
    if not NAME.match(name) or len(name) > 100:
        raise UserError(f"knowledge base name {name!r}: use letters, digits, '.', '-' or '_' (e.g. pharma_regs)")
    return name


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Added:
    """What an add did: documents added and replaced, and one line per file left out."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class StoredKb:
    """A knowledge base on disk: its manifest, documents, :class:`KnowledgeBase` and index."""

    def __init__(self, folder: Path, manifest: Manifest):
        self.folder, self.manifest = folder, manifest
        self._kb: KnowledgeBase | None = None
        self._index = None
        self._copies: list[tuple[Path, str]] = []  # (file, cited name) added, copied into content/ by save()

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, name: str, home: Path) -> StoredKb:
        folder = home / name
        path = folder / MANIFEST
        if not path.is_file():
            known = names(home)
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = (f"did you mean {close[0]!r}? " if close else "") + (
                f"known: {', '.join(known)}" if known else f"build one with `lfd kb build {name} FILES...`")
            raise UserError(f"no knowledge base {name!r} in {home}; {hint}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = Manifest(data["name"], Settings(**data["settings"]), [Entry(**e) for e in data["documents"]])
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
            raise UserError(f"{path}: not a knowledge-base manifest ({type(err).__name__}); rebuild it with "
                            f"`lfd kb build {name} FILES... --force`") from None
        return cls(folder, manifest)

    @classmethod
    def create(cls, name: str, home: Path, settings: Settings, force: bool = False) -> tuple[StoredKb, Path | None]:
        """A new, empty base in a staging folder beside its place (see :meth:`commit`); ``force`` replaces an
        existing one at the commit, else an existing one is an error."""
        check_name(name)
        target = home / name
        if target.exists() and not force:
            raise UserError(f"knowledge base {name!r} already exists in {home}; add files with `lfd kb add {name} "
                            "FILES...`, or rebuild it with --force")
        try:
            home.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".building-{name}-", dir=home))
        except OSError as err:
            raise UserError(f"{home}: cannot create the knowledge base there ({err.strerror}); "
                            "pass a writable --kb-home") from None
        return cls(staging, Manifest(name, settings)), target

    def commit_build(self, target: Path) -> None:
        """Moves a staged base into place in one step (an old one, with --force, is removed after)."""
        self.save()
        aside = None
        if target.exists():
            aside = target.with_name(f".removing-{target.name}-{os.getpid()}")
            os.replace(target, aside)
        os.replace(self.folder, target)
        self.folder = target
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def settings(self) -> Settings:
        return self.manifest.settings

    # ------------------------------------------------------------ changing

    def add(self, paths: list[Path], replace_changed: bool = False) -> Added:
        """Copies and reads the documents of ``paths``; unreadable, empty and duplicate files are left out with
        a line each. A name already in the base with other content is an error unless ``replace_changed``."""
        done = Added()
        known = {entry.name: entry for entry in self.manifest.documents}
        digests = {entry.sha256: entry.name for entry in self.manifest.documents}
        found = document_files(paths)
        for path, name in found:
            if problem := name_problem(path, name):
                done.problems.append(problem)
                continue
            try:
                digest = sha256(path)
            except OSError as err:
                done.problems.append(f"{path}: cannot read it ({err.strerror}); check its permissions")
                continue
            old = known.get(name)
            if old is not None and old.sha256 == digest:
                done.unchanged.append(name)
                continue
            if old is not None and not replace_changed:
                raise UserError(f"{path}: {name!r} is already in knowledge base {self.name!r} with other content; "
                                f"pass --replace to index the new version, or rename the file")
            if digest in digests and digests[digest] != name:
                done.problems.append(f"{path}: the same content as {digests[digest]!r}, already in the base; left out")
                continue
            try:
                text = read_document(path)
            except UserError as err:
                done.problems.append(str(err))
                continue
            self.copy_in(path, name, digest, text)
            entry = Entry(name, digest, len(text), 0)
            (done.replaced if old is not None else done.added).append(name)
            known[name], digests[digest] = entry, name
        self.manifest.documents = sorted(known.values(), key=lambda entry: entry.name)
        self.refresh_counts()
        return done

    def copy_in(self, path: Path, name: str, digest: str, text: str) -> None:
        """Keeps the document's text (a cache by content hash, which the index reads); the file itself is
        copied into content/ when the base is saved, so a failure before that leaves content/ as it was."""
        parsed = self.folder / "parsed"
        parsed.mkdir(parents=True, exist_ok=True)
        text_file = parsed / f"{digest}.txt"
        if not text_file.exists():
            staged = parsed / f".{digest}.txt.{os.getpid()}"
            staged.write_text(text, encoding="utf-8")
            os.replace(staged, text_file)
        self._copies.append((path, name))

    def remove(self, documents: list[str]) -> list[str]:
        """Takes documents (cited names) out of the base; returns the names removed."""
        known = {entry.name: entry for entry in self.manifest.documents}
        missing = [name for name in documents if name not in known]
        if missing:
            close = difflib.get_close_matches(missing[0], list(known), n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UserError(f"knowledge base {self.name!r} has no document {missing[0]!r}; {hint}"
                            f"`lfd kb list {self.name}` lists them")
        for name in documents:
            del known[name]
        self.manifest.documents = sorted(known.values(), key=lambda entry: entry.name)
        self.save()
        for name in documents:
            (self.folder / "content" / name).unlink(missing_ok=True)
        self._kb = self._index = None
        return documents

    def rechunk(self, chunk_chars: int) -> None:
        """Another sentence-length limit: the base is chunked and indexed again from the texts it keeps."""
        self.manifest.settings = replace(self.settings, chunk_chars=chunk_chars,
                                         context_chars=max(self.settings.context_chars, chunk_chars))
        self.refresh_counts()

    def refresh_counts(self) -> None:
        self._kb = self._index = None
        kb = self.knowledge_base()
        self.manifest.documents = [replace(entry, chunks=len(kb.doc_chunks[number]))
                                   for number, entry in enumerate(self.manifest.documents)]

    def save(self) -> None:
        """The added files into content/, then the manifest (written last, in one step)."""
        for path, name in self._copies:
            target = self.folder / "content" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            staged = target.with_name(f".{target.name}.{os.getpid()}")
            shutil.copyfile(path, staged)
            os.replace(staged, target)
        self._copies = []
        write_json(self.folder / MANIFEST, self.manifest.to_json())

    # ------------------------------------------------------------ reading

    def documents(self) -> list[Document]:
        parsed = self.folder / "parsed"
        try:
            return [Document(entry.name, (parsed / f"{entry.sha256}.txt").read_text(encoding="utf-8"))
                    for entry in self.manifest.documents]
        except OSError as err:
            raise UserError(f"{self.folder}: the knowledge base lost a file ({err.filename}); rebuild it with "
                            f"`lfd kb build {self.name} FILES... --force`") from None

    def knowledge_base(self) -> KnowledgeBase:
        if self._kb is None:
            self._kb = KnowledgeBase(self.documents(), self.settings.chunk_chars)
        return self._kb

    def index(self):
        """The base's index (BM25, or dense with its embedding model), built from the per-document caches."""
        if self._index is None:
            kb = self.knowledge_base()
            if not kb.chunks:
                raise UserError(f"knowledge base {self.name!r} has no text to index; add files with "
                                f"`lfd kb add {self.name} FILES...`")
            cache = self.folder / "index"
            if self.settings.retriever == "dense":
                self._index = DenseIndex(kb, Path(self.settings.embedding_model), cache, chunk_vectors=self.vectors)
            else:
                self._index = Bm25Index(kb, cache, tokens=self.tokens)
            prune(cache, keep=self._index.cache_name)
        return self._index

    def tokens(self) -> list[list[str]]:
        """The BM25 words of every chunk, document by document, each document's read from its cache or cut once
        (with a bar of the chunks to cut, on a terminal)."""
        kb, found = self.knowledge_base(), {}
        caches = [self.folder / "parsed" / f"{entry.sha256}-c{self.settings.chunk_chars}.words.json"
                  for entry in self.manifest.documents]
        for number, cache in enumerate(caches):
            try:
                found[number] = json.loads(cache.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):
                pass
        pending = [number for number in range(len(caches)) if number not in found]
        progress = bar(sum(len(kb.doc_chunks[n]) for n in pending), "cutting words", " chunks") if pending else None
        try:
            for number in pending:
                cut = []
                for i in kb.doc_chunks[number]:
                    cut.append(words(kb.chunk_text(i)))
                    if progress is not None:
                        progress.update()
                write_cache(caches[number], json.dumps(cut, ensure_ascii=False))
                found[number] = cut
        finally:
            if progress is not None:
                progress.close()
        return [words_ for number in range(len(caches)) for words_ in found[number]]

    def vectors(self, embed) -> object:
        """The dense vectors of every chunk, each document's from its cache or embedded once (with a bar of the
        documents to embed, on a terminal)."""
        import numpy as np

        from ..retrieval import model_fingerprint

        kb, parts = self.knowledge_base(), []
        model = model_fingerprint(Path(self.settings.embedding_model))[:16]
        caches = [self.folder / "parsed" / f"{entry.sha256}-c{self.settings.chunk_chars}-{model}.npy"
                  for entry in self.manifest.documents]
        progress, started = None, False
        try:
            for number, cache in enumerate(caches):
                try:
                    part = np.load(cache)
                except (OSError, ValueError):
                    if not started:  # the first to embed: the bar counts it and those without a cache after it
                        progress, started = bar(1 + sum(not c.exists() for c in caches[number + 1:]), "embedding",
                                                " documents"), True
                    part = embed([kb.chunk_text(i) for i in kb.doc_chunks[number]])
                    staged = cache.with_name(f".{cache.name}.{os.getpid()}.npy")
                    np.save(staged, part)
                    os.replace(staged, cache)
                    if progress is not None:
                        progress.update()
                parts.append(part)
        finally:
            if progress is not None:
                progress.close()
        return np.concatenate(parts).astype("float32")

    def search(self, question: str, top_k: int | None = None) -> list[Span]:
        """The contexts for a question, as `lfd convert pharma_rag` retrieves them (best first)."""
        k = top_k or self.settings.top_k
        hits = self.index().search([question], POOL_PER_CONTEXT * k)[0]
        return self.knowledge_base().contexts(hits, k, self.settings.context_chars)


def named_bases(paths: list[Path], home: Path | None) -> dict[Path, StoredKb]:
    """The ``--kb`` values of `lfd convert pharma_rag` that name a base here (not a file or folder): each's base."""
    found = {}
    for path in paths:
        if not path.exists() and len(path.parts) == 1:
            try:
                found[path] = StoredKb.open(str(path), home or default_home())
            except UserError as err:
                raise UserError(f"--kb {path}: no such file or folder, and {err}") from None
    return found


def write_cache(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        staged.write_text(text, encoding="utf-8")
        os.replace(staged, path)
    except OSError as err:  # a cache that cannot be written only costs time
        print(f"{path.parent}: not writable ({err.strerror}); words are not cached", file=sys.stderr)


def prune(cache: Path, keep: str | None) -> None:
    """Indexes of earlier contents of the base (its index folder keeps only the current one)."""
    if keep and cache.is_dir():
        for old in cache.iterdir():
            if old.name != keep and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
