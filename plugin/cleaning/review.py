"""The review sample of `lfd clean --review N`: N records the cleaning touched, beside their originals, as xlsx.

:class:`ReviewSample` picks the records while they stream by (reservoir sampling, Algorithm R, with
``random.Random(seed)``: the same input and seed give the same sample, whatever its size). Only records the
cleaning changed or dropped are eligible: a record that came through unchanged has nothing to check, and
in a dataset where one record in a hundred holds a name, a sample of all records would show almost none of
them. The sheet says how many records were eligible and how many were read, so the reader knows what the
sample stands for (a uniform draw among the changed or dropped ones, not among all records).

:func:`write_review` writes one row per changed text field (line, field such as ``output`` or
``conversations[3].value``, original, cleaned, what changed), the changed spans highlighted: deleted text
red and struck through in the original column, inserted text (placeholders like ``[姓名]``) green and bold
in the cleaned column, from a character-level :class:`difflib.SequenceMatcher` (``autojunk=False``). A
dropped record shows each text of the original and ``(dropped: reason)``. A text longer than Excel's
32,767-character cell limit is cut with a visible ``…[cut: N more characters]``. The bytes depend only on
the rows: fixed document dates and zip entry dates, so a rerun writes the same file.
"""

from __future__ import annotations

import copy
import difflib
import json
import random
import re
from pathlib import Path
from typing import NamedTuple

from ..io.atomic import AtomicFiles
from ..io.paths import write_error
from ..io.workbook import workbook_bytes

CELL_LIMIT = 32_767  # Excel's longest cell text, in UTF-16 code units
CHAR_DIFF_LIMIT = 4_000_000  # len(a) * len(b) above which texts are first matched clause by clause
HEADERS = ("line", "field", "original", "cleaned", "what changed")
WIDTHS = {"A": 8, "B": 24, "C": 70, "D": 70, "E": 30}
DELETED = dict(color="FFC00000", strike=True)  # the original column's removed text: red, struck through
INSERTED = dict(color="FF00803C", b=True)  # the cleaned column's new text: green, bold
DROPPED = dict(color="FFC00000", i=True)  # the cleaned column of a dropped record: red, italic
CLAUSE = re.compile(r"[^，。；！？、,.;!?\n]*[，。；！？、,.;!?\n]?")
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")  # what XML 1.0 / UTF-8 cannot hold
EXCEL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")  # Excel reads _x000D_ as a character: written _x005F_x000D_


class Item(NamedTuple):
    """One sampled record: its line in the input, the record as read, as cleaned (None: dropped), and why."""
    line: int
    original: object
    cleaned: object
    reason: str | None


class ReviewSample:
    """N records drawn uniformly, while they stream by, from those the cleaning changed or dropped.

    >>> sample = ReviewSample(2, seed=0)
    >>> for line in range(1, 101):
    ...     _ = sample.offer(line, {"output": f"a{line}"}, {"output": f"b{line}" if line % 2 else f"a{line}"})
    >>> [item.line for item in sample.items()], sample.eligible, sample.offered
    ([5, 91], 50, 100)
    >>> sample.offer(101, {"output": "x"}, None, reason="junk"), sample.eligible
    (False, 51)
    """

    def __init__(self, n: int, seed: int = 0):
        if n < 0:
            raise ValueError("the review sample's size is negative")
        self.n, self.seed = n, seed
        self.offered = 0  # records seen
        self.eligible = 0  # of those, changed or dropped: the population sampled
        self._random = random.Random(seed)
        self._kept: list[Item] = []

    def offer(self, line: int, original, cleaned, reason: str | None = None) -> bool:
        """One record of the stream (``cleaned`` None when dropped); whether the sample now holds it.

        ``original`` must be the record as read, not the object the cleaning changed in place; a kept
        record is copied, so the caller may reuse both afterwards."""
        self.offered += 1
        if cleaned is not None and cleaned == original:
            return False
        self.eligible += 1
        if len(self._kept) < self.n:
            slot = len(self._kept)
            self._kept.append(None)
        else:
            slot = self._random.randrange(self.eligible)  # Algorithm R: kept with probability n / eligible
            if slot >= self.n:
                return False
        self._kept[slot] = Item(line, copy.deepcopy(original), copy.deepcopy(cleaned), reason)
        return True

    def items(self) -> list[Item]:
        """The sample, by line."""
        return sorted(self._kept, key=lambda item: item.line)

    def describe(self) -> str:
        """What the sample stands for, for the sheet's header."""
        return (f"{len(self._kept)} of the {self.eligible} records the cleaning changed or dropped "
                f"(of {self.offered} read), drawn at random with seed {self.seed}")


# ------------------------------------------------------------------ the diff


def _opcodes(a: str, b: str) -> list[tuple[str, int, int, int, int]]:
    """difflib opcodes from ``a`` to ``b``: character by character when that is quick (SequenceMatcher is
    quadratic), else clause by clause first and then character by character inside each changed clause run."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    ops = [("equal", 0, head, 0, head)] if head else []
    a_mid, b_mid = a[head:len(a) - tail], b[head:len(b) - tail]
    if len(a_mid) * len(b_mid) <= CHAR_DIFF_LIMIT:
        found = difflib.SequenceMatcher(None, a_mid, b_mid, autojunk=False).get_opcodes()
        ops += [(tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in found]
    else:
        a_parts, b_parts = [p for p in CLAUSE.findall(a_mid) if p], [p for p in CLAUSE.findall(b_mid) if p]
        a_at, b_at = _offsets(a_parts, head), _offsets(b_parts, head)
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a_parts, b_parts, autojunk=False).get_opcodes():
            x1, x2, y1, y2 = a_at[i1], a_at[i2], b_at[j1], b_at[j2]
            if tag == "equal" or (x2 - x1) * (y2 - y1) > CHAR_DIFF_LIMIT or not (x2 - x1) or not (y2 - y1):
                ops.append((tag, x1, x2, y1, y2))
            else:
                found = difflib.SequenceMatcher(None, a[x1:x2], b[y1:y2], autojunk=False).get_opcodes()
                ops += [(t, i + x1, j + x1, k + y1, m + y1) for t, i, j, k, m in found]
    if tail:
        ops.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return ops


def _offsets(parts: list[str], start: int) -> list[int]:
    offsets = [start]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return offsets


def spans(original: str, cleaned: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """The two texts as runs of (text, changed): in the original, True marks deleted text; in the
    cleaned one, inserted text. Neighbouring runs of the same kind are merged.

    >>> old, new = spans("患者王小明，男，电话13812345678。", "患者[姓名]，男，电话[电话]。")
    >>> old
    [('患者', False), ('王小明', True), ('，男，电话', False), ('13812345678', True), ('。', False)]
    >>> new
    [('患者', False), ('[姓名]', True), ('，男，电话', False), ('[电话]', True), ('。', False)]
    >>> spans("abc", "abc"), spans("", "x")
    (([('abc', False)], [('abc', False)]), ([], [('x', True)]))
    """
    old: list[tuple[str, bool]] = []
    new: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in _opcodes(original, cleaned):
        _add(old, original[i1:i2], tag != "equal")
        _add(new, cleaned[j1:j2], tag != "equal")
    return old, new


def _add(runs: list[tuple[str, bool]], text: str, changed: bool) -> None:
    if not text:
        return
    if runs and runs[-1][1] == changed:
        runs[-1] = (runs[-1][0] + text, changed)
    else:
        runs.append((text, changed))


def _units(text: str) -> int:
    """Length in UTF-16 code units, as Excel counts (an emoji is two)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def cut(runs: list[tuple[str, bool]], limit: int = CELL_LIMIT) -> tuple[list[tuple[str, bool]], int]:
    """The runs within ``limit`` (UTF-16 units), ending in ``…[cut: N more characters]`` if they were
    longer; and N (0: nothing cut).

    >>> cut([("abcdef", False), ("ghij", True)], limit=30)
    ([('abcdef', False), ('ghij', True)], 0)
    >>> cut([("a" * 20, False), ("b" * 20, True)], limit=32)
    ([('aaaaaa…[cut: 34 more characters]', False)], 34)
    """
    total = sum(len(text) for text, _ in runs)
    if sum(_units(text) for text, _ in runs) <= limit:
        return runs, 0
    budget = limit - len(f"…[cut: {total} more characters]")
    kept: list[tuple[str, bool]] = []
    for text, changed in runs:
        size = _units(text)
        if size > budget:
            piece = []
            for ch in text:
                budget -= _units(ch)
                if budget < 0:
                    break
                piece.append(ch)
            _add(kept, "".join(piece), changed)
            break
        kept.append((text, changed))
        budget -= size
    more = total - sum(len(text) for text, _ in kept)
    _add(kept, f"…[cut: {more} more characters]", False)
    return kept, more


def cell_text(value) -> str:
    """A field's value as the sheet shows it: text as it is (line ends as \\n, what XML cannot hold as
    U+FFFD), anything else as JSON.

    >>> cell_text("a\\r\\nb\\x07"), cell_text(3), cell_text(None)
    ('a\\nb\\ufffd', '3', '')
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return UNSAFE.sub("\ufffd", value.replace("\r\n", "\n").replace("\r", "\n"))


def fields(record, name: str = "") -> dict[str, object]:
    """The leaves of a record by path (``output``, ``conversations[3].value``, ``history[0][1]``).

    >>> fields({"conversations": [{"from": "human", "value": "hi"}], "n": 1})
    {'conversations[0].from': 'human', 'conversations[0].value': 'hi', 'n': 1}
    """
    if isinstance(record, dict) and record:
        found: dict[str, object] = {}
        for key, value in record.items():
            found.update(fields(value, f"{name}.{key}" if name else str(key)))
        return found
    if isinstance(record, list) and record:
        found = {}
        for i, value in enumerate(record):
            found.update(fields(value, f"{name}[{i}]"))
        return found
    return {name or "(record)": record}


class Row(NamedTuple):
    line: int
    field: str
    original: str
    cleaned: str | None  # None: the record was dropped
    changed: str


def rows(items: list[Item]) -> list[Row]:
    """One row per changed field of each changed record; one per non-empty field of each dropped one.

    >>> rows([Item(3, {"output": "王先生", "id": 1}, {"output": "[姓名]先生", "id": 1}, "privacy: 姓名")])
    [Row(line=3, field='output', original='王先生', cleaned='[姓名]先生', changed='privacy: 姓名')]
    """
    found = []
    for item in items:
        before = fields(item.original)
        if item.cleaned is None:
            shown = {key: value for key, value in before.items() if cell_text(value).strip()} or before
            found += [Row(item.line, key, cell_text(value), None, f"dropped: {item.reason or 'no reason given'}")
                      for key, value in shown.items()]
            continue
        after = fields(item.cleaned)
        for key in list(before) + [key for key in after if key not in before]:
            if key in before and key in after and before[key] == after[key]:
                continue
            what = item.reason or "changed"
            if key not in after:
                what += " (field removed)"
            elif key not in before:
                what += " (field added)"
            found.append(Row(item.line, key, cell_text(before.get(key)), cell_text(after.get(key)), what))
    return found


# ------------------------------------------------------------------ the workbook


class Written(NamedTuple):
    rows: int  # the sheet's rows below the header
    cut: int  # cells cut at Excel's limit


def write_review(target, items: list[Item], title: str, note: str = "", shown: Path | None = None) -> Written:
    """The review workbook of ``items`` written to ``target``: a binary file object (say one that
    :meth:`AtomicFiles.open` gave with ``binary=True``; the caller commits it) or a path (written atomically).

    ``note`` (say :meth:`ReviewSample.describe`) goes under the title; ``shown`` is the file's name in the
    message of a failed write to a file object (whose own name may be a descriptor number)."""
    data, written = review_bytes(items, title, note)
    if isinstance(target, (str, Path)):
        with AtomicFiles() as out:
            _write(out.open(Path(target), binary=True), Path(target), data)
            out.commit()
    else:
        name = getattr(target, "name", None)
        _write(target, Path(shown or (name if isinstance(name, str) else "the review workbook")), data)
    return written


def _write(handle, path: Path, data: bytes) -> None:
    try:
        handle.write(data)
    except OSError as err:
        raise write_error(err, path) from None


def review_bytes(items: list[Item], title: str, note: str = "") -> tuple[bytes, Written]:
    """The workbook's bytes (the same rows give the same bytes) and what was written."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    book.properties.creator = book.properties.lastModifiedBy = "lfd clean"
    sheet = book.active
    sheet.title = "review"
    found = rows(items)
    cuts = 0
    wrap = Alignment(wrap_text=True, vertical="top")
    for number, row in enumerate(found, 4):
        sheet.cell(number, 1, row.line).alignment = wrap
        if row.cleaned is None:
            old = [(row.original, False)]
            new = [(f"(dropped: {row.changed.removeprefix('dropped: ')})", True)]
        else:
            old, new = spans(row.original, row.cleaned)
        for column, (runs, style) in enumerate(((old, DELETED), (new, INSERTED if row.cleaned is not None
                                                                   else DROPPED)), 3):
            runs, more = cut(runs)
            cuts += more > 0
            _set(sheet.cell(number, column), runs, style, wrap)
        for column, text in ((2, row.field), (5, row.changed)):
            runs, more = cut([(text, False)])
            cuts += more > 0
            _set(sheet.cell(number, column), runs, None, wrap)
    summary = f"{len(found)} rows" + (f"; {cuts} cells cut at Excel's {CELL_LIMIT:,}-character limit" if cuts else "")
    sheet["A1"] = cut([(title, False)])[0][0][0]
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = cut([(f"{note}; {summary}" if note else summary, False)])[0][0][0]
    for column, header in enumerate(HEADERS, 1):
        sheet.cell(3, column, header).font = Font(bold=True)
    for column, width in WIDTHS.items():
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "C4"
    return workbook_bytes(book), Written(len(found), cuts)


def _set(cell, runs: list[tuple[str, bool]], style: dict | None, alignment) -> None:
    """The cell holds the runs, the changed ones in ``style``; text that starts with = stays text."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    shown = [(EXCEL_ESCAPE.sub(r"_x005F_\1", text), changed) for text, changed in runs]
    if style is None or not any(changed for _, changed in shown):
        cell.value = "".join(text for text, _ in shown)
    else:
        cell.value = CellRichText([TextBlock(InlineFont(**style), text) if changed else text
                                   for text, changed in shown])
    cell.data_type, cell.alignment = "s", alignment

