"""Near-duplicate records within a split, by MinHash/LSH on normalized text: the first one (by line order) kept.

:class:`NearDup` is a streaming stage: :meth:`NearDup.check` is given the records in line order and says, for
each, which earlier kept record it nearly duplicates (its line), or None, in which case the record joins the
index. What is compared is the conversation (every text but the system prompt, joined by line breaks) in
:func:`..dedup.prompt_key` form (letters, digits, Chinese characters and signs only, NFKC, simplified Chinese,
lettered options as a set), cut into overlapping 3-character shingles (hashed by CRC-32: 4x as fast as
datasketch's SHA-1, and as good a base for its seeded permutations), less ``ignore`` (the template's:
:func:`template_shingles`, those that 1% of the first 3,000 records share; a record holding only
those is compared on all of them, so its exact copies are still found), and signed with ``datasketch``'s MinHash
(``num_perm`` permutations from ``seed``). Records sharing a band of the signature (:func:`layout`: a pair at
the threshold shares one 99 times in 100) are candidates; a candidate counts when the signatures
agree on at least ``threshold`` of their values (the estimated Jaccard similarity of the shingle sets), and
the earliest such line is named. The same input gives the same answers: the hashes are seeded, and nothing
depends on Python's per-process string hashing.

The index is compact: per kept record its signature (``num_perm`` 4-byte values in one bytearray), its line
(an array of 8-byte ints) and per band an 8-byte bucket key and a 4-byte row in sorted numpy arrays
(:class:`Buckets`; 12 bands at 0.9 with 128 permutations): about 660 bytes a record (measured: 50,000
records of 200-450 characters take 131 MB at the peak, 107 MB of them the imports and the first 10,000;
800,000 would take about 580 MB, 400 MB with ``num_perm=64``).
Texts too short to shingle (fewer than 3 characters after normalization) are compared as one shingle; an
empty one is never a near-duplicate.
"""

from __future__ import annotations

import array
import hashlib
import zlib

SHINGLE = 3


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """The distinct overlapping ``size``-character pieces of ``text``, each as its UTF-32 bytes (one encoding
    of the whole text, then slices: no encoding per piece).

    >>> sorted(piece.decode("utf-32-le") for piece in shingles("高血压吃药")), shingles("头痛") == {"头痛".encode("utf-32-le")}
    (['压吃药', '血压吃', '高血压'], True)
    >>> shingles("")
    set()
    """
    raw = text.encode("utf-32-le", "surrogatepass")
    width = 4 * size
    if len(raw) <= width:
        return {raw} if raw else set()
    return {raw[i:i + width] for i in range(0, len(raw) - width + 4, 4)}


def compared_text(record: dict) -> str:
    """The text two records are compared by: every text but the system prompt, in :func:`..dedup.prompt_key` form.

    >>> compared_text({"instruction": "頭痛怎麼辦？", "input": "", "output": "多休息。", "system": "你是医生"})
    '头痛怎么办多休息'
    """
    from ..dedup import prompt_key
    from .pipeline import texts

    parts = [container[key] for field, container, key in texts(record) if field != "system"
             and not (isinstance(container, dict) and container.get("from", container.get("role")) == "system")]
    return prompt_key("\n".join(part for part in parts if part))


def template_shingles(records, sample: int = 3_000, share: float = 0.01, minimum: int = 5) -> frozenset:
    """The shingles that at least ``share`` of the first ``sample`` records (and ``minimum`` of them) hold: a
    converter's instruction template, the passages a RAG prompt repeats. Compared, they would make two records
    with different terms after the same long template look alike; so they are not.

    >>> head = "你是一个医疗专家,你的任务是临床术语标准化。请给出下面原始词对应的标准术语。原始词:"
    >>> records = [{"instruction": head + term, "output": term} for term in ("肺结节", "肺结核", "左膝退变")]
    >>> common = template_shingles(records, minimum=2)
    >>> len(common), len(shingles(compared_text(records[0])) - common)
    (37, 3)
    """
    seen: dict[bytes, int] = {}
    counted = 0
    for record in records:
        if counted == sample:
            break
        counted += 1
        for piece in shingles(compared_text(record)):
            seen[piece] = seen.get(piece, 0) + 1
    least = max(minimum, share * counted)
    return frozenset(piece for piece, n in seen.items() if n >= least)


def layout(threshold: float, num_perm: int, recall: float = 0.99) -> tuple[int, int]:
    """(bands, rows per band) of the LSH index: the longest bands (fewest candidates to check) with which two
    records exactly at ``threshold`` share a band with probability ``recall``. (``datasketch.MinHashLSH``'s own
    choice balances misses against candidates: at 0.9 it misses a pair of similarity 0.93 two times in five.)

    >>> layout(0.9, 128), layout(0.8, 128), layout(1.0, 128)
    ((12, 10), (21, 6), (1, 128))
    """
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1 - (1 - threshold ** rows) ** bands >= recall:
            best = (bands, rows)
    return best


class Buckets:
    """One band's bucket keys -> indices of the kept records: sorted numpy arrays (12 bytes an entry) and a
    small dict of the latest ones, merged into the arrays every :data:`MERGE` entries. The rows of a key come in
    no set order (the caller sorts the candidates).

    >>> band = Buckets()
    >>> band.add(7, 0); band.add(3, 1); band.add(7, 2); band.merge(); band.add(7, 3)
    >>> sorted(band.get(7)), band.get(3), band.get(5)
    ([0, 2, 3], [1], [])
    """

    def __init__(self):
        import numpy

        self.keys, self.rows = numpy.empty(0, numpy.uint64), numpy.empty(0, numpy.uint32)
        self.recent: dict[int, list[int]] = {}
        self.pending = 0

    def get(self, key: int) -> list[int]:
        import numpy

        rows = []
        if len(self.keys):
            at = numpy.uint64(key)
            low, high = numpy.searchsorted(self.keys, at, "left"), numpy.searchsorted(self.keys, at, "right")
            rows = self.rows[low:high].tolist()
        found = self.recent.get(key)
        return rows if found is None else rows + (found if isinstance(found, list) else [found])

    def add(self, key: int, row: int) -> None:
        found = self.recent.get(key)
        self.recent[key] = row if found is None else (found + [row] if isinstance(found, list) else [found, row])
        self.pending += 1
        if self.pending >= MERGE:
            self.merge()

    def merge(self) -> None:
        """The latest entries into the sorted arrays (sorted among themselves, then inserted: no full re-sort)."""
        import numpy

        if not self.recent:
            return
        pairs = [(key, row) for key, found in self.recent.items()
                 for row in (found if isinstance(found, list) else (found,))]
        keys = numpy.fromiter((key for key, _ in pairs), numpy.uint64, len(pairs))
        rows = numpy.fromiter((row for _, row in pairs), numpy.uint32, len(pairs))
        order = numpy.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
        at = numpy.searchsorted(self.keys, keys, "right")
        self.keys, self.rows = numpy.insert(self.keys, at, keys), numpy.insert(self.rows, at, rows)
        self.recent, self.pending = {}, 0


MERGE = 4096


class NearDup:
    """The near-duplicate stage: :meth:`check` each record in line order.

    >>> stage = NearDup(threshold=0.8)
    >>> answer = "高血压患者可以适量服用党参，但要注意监测血压，如果出现不适应及时就医。"
    >>> stage.check(1, {"instruction": "高血压患者能吃党参吗？", "output": answer})
    >>> stage.check(2, {"instruction": "高血压患者能吃党参吗", "output": answer.replace("及时", "尽快")})
    1
    >>> stage.check(3, {"instruction": "糖尿病患者能吃西瓜吗？", "output": "可以少量吃，注意监测血糖。"})
    >>> len(stage)
    2
    """

    def __init__(self, threshold: float = 0.9, num_perm: int = 128, seed: int = 1, ignore: frozenset = frozenset()):
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold {threshold}: expected a number above 0 and at most 1")
        from datasketch import MinHash

        self.bands, self.rows = layout(threshold, num_perm)
        self.threshold, self.num_perm, self.seed, self.ignore = threshold, num_perm, seed, ignore
        self._minhash = MinHash
        self._permutations = MinHash(num_perm, seed=seed, scheme="affine32").permutations
        self.buckets = [Buckets() for _ in range(self.bands)]
        self.signatures = bytearray()
        self.lines = array.array("q")

    def __len__(self) -> int:
        return len(self.lines)

    def signature(self, text: str):
        """The MinHash values (uint32) of ``text``'s shingles, or None when it has none."""
        pieces = shingles(text)
        pieces = pieces - self.ignore or pieces  # a record of template pieces only is compared on all of them
        if not pieces:
            return None
        minhash = self._minhash(self.num_perm, seed=self.seed, hashfunc=zlib.crc32, permutations=self._permutations,
                                scheme="affine32")
        minhash.update_batch(list(pieces))  # the minimum of each permutation: the order does not matter
        return minhash.hashvalues.astype("<u4")

    def _keys(self, values) -> list[int]:
        raw = values.tobytes()
        width = self.rows * 4
        return [int.from_bytes(hashlib.blake2b(raw[band * width:(band + 1) * width], digest_size=8,
                                               person=band.to_bytes(2, "little")).digest(), "little")
                for band in range(self.bands)]

    def check(self, line: int, record: dict) -> int | None:
        """The line of the earliest kept record ``record`` nearly duplicates; None (and ``record`` is kept in the
        index) when there is none."""
        import numpy

        values = self.signature(compared_text(record))
        if values is None:
            return None
        keys = self._keys(values)
        candidates = set()
        for bucket, key in zip(self.buckets, keys):
            candidates.update(bucket.get(key))
        size = self.num_perm * 4
        for index in sorted(candidates):  # the earliest first: the kept record named is deterministic
            other = numpy.frombuffer(self.signatures[index * size:(index + 1) * size], dtype="<u4")  # a copy
            if numpy.count_nonzero(other == values) >= self.threshold * self.num_perm:
                return self.lines[index]
        index = len(self.lines)
        self.lines.append(line)
        self.signatures += values.tobytes()
        for bucket, key in zip(self.buckets, keys):
            bucket.add(key, index)
        return None
