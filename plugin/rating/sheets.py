"""`lfd rate import`: the filled sheets read back, every cell checked, and unblinded through the key.

:func:`read_ratings` returns one row per rating, ``{"model", "item", "rater", "safety", "usability",
"smoothness"}`` (item: the question's 0-based index; rater: the sheet's name; a score 1–3, or None
when left empty and ``missing_ok``). Rows are matched by their 编号, so reordered rows are fine; a
missing or out-of-range rating, an edited question or answer (its sha256 differs from the key's), an
unknown, duplicated or missing 编号, a renamed or missing sheet are each one line naming the file,
sheet and row and the fix; all of them are collected and raised together (:class:`RatingProblems`).
Several files are accepted (each rater filling their own copy): a sheet found in several files is
taken from the one where it is filled.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from . import rubric
from .export import KEY_FORMAT, fingerprint

SHOWN_PROBLEMS = 20


class RatingProblems(UserError):
    """Every problem found in the sheets, one line each (the first :data:`SHOWN_PROBLEMS`, then a count)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        if len(problems) == 1:
            text = f"{problems[0]}; nothing was imported"
        else:
            shown = problems[:SHOWN_PROBLEMS]
            more = [f"… and {len(problems) - len(shown)} more"] if len(problems) > len(shown) else []
            text = "\n".join([*shown, *more, f"{len(problems)} problems in the sheets; fix them and import again "
                                              "(nothing was imported)"])
        super().__init__(text)


def load_key(path: Path) -> dict:
    """The key `lfd rate export` wrote, checked to be one."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; pass the key `lfd rate export` wrote (sheet.key.json beside the sheet)") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; pass the key JSON `lfd rate export` wrote") from None
    try:
        key = json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: not JSON (line {err.lineno}: {err.msg}); pass the key `lfd rate export` wrote") from None
    except (ValueError, RecursionError):  # thousands of digits, thousands of levels: no key has them
        raise UserError(f"{path}: a number too long or nesting too deep to read, so not a rating key; pass the key "
                        "`lfd rate export` wrote") from None
    if not isinstance(key, dict) or key.get("format") != KEY_FORMAT or not isinstance(key.get("sheets"), dict) \
            or not isinstance(key.get("models"), list) or not isinstance(key.get("questions"), list):
        raise UserError(f"{path}: not a rating key (no \"format\": \"{KEY_FORMAT}\" with models, questions and sheets); "
                        "pass the key `lfd rate export` wrote")
    try:
        for rows in key["sheets"].values():
            for entry in rows.values():
                int(entry["item"]), str(entry["model"]), str(entry["answer_sha256"])
        for question in key["questions"]:
            str(question["question_sha256"])
        [str(model["name"]) for model in key["models"]]
    except (AttributeError, KeyError, TypeError, ValueError):
        raise UserError(f"{path}: a rating key whose entries are damaged; use the key `lfd rate export` wrote") from None
    return key


def open_book(path: Path):
    from openpyxl import load_workbook

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file; pass the rated .xlsx sheets")
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds (zip, XML, KeyError) for a damaged file
        kind = type(err).__name__
        raise UserError(f"{path}: not a readable .xlsx workbook ({kind}); save it again from Excel/WPS as .xlsx, "
                        "or export it again") from None


def score(value, here: str, column: str, problems: list[str], missing_ok: bool) -> int | None:
    """A rating cell: 1, 2 or 3 (a whole number, possibly typed as text); None when empty."""
    if isinstance(value, str):
        value = value.strip()
        if value.isdigit():
            value = int(value)
    if value is None or value == "":
        if not missing_ok:
            problems.append(f"{here}: {column} is empty; enter 1, 2 or 3")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) \
            or not rubric.LOWEST <= value <= rubric.HIGHEST:
        problems.append(f"{here}: {column} is {value!r}; enter a whole number 1, 2 or 3 (see {rubric.RUBRIC_SHEET})")
        return None
    return int(value)


def row_id(value) -> str | None:
    """A 编号 cell as the key spells it ("12"); None when it is not a whole number."""
    if isinstance(value, str) and value.strip().isdigit():
        return str(int(value.strip()))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == int(value):
        return str(int(value))
    return None


def read_sheet(path: Path, sheet, name: str, key: dict, problems: list[str], missing_ok: bool) -> list[dict]:
    """The ratings of one rater's sheet, unblinded."""
    expected = key["sheets"][name]
    rows = sheet.iter_rows(values_only=True)
    header = [("" if cell is None else str(cell).strip()) for cell in next(rows, ())]
    if tuple(header[:len(rubric.COLUMNS)]) != rubric.COLUMNS:
        problems.append(f"{path}: sheet {name}: row 1: the header is {header[:len(rubric.COLUMNS)]}, expected "
                        f"{list(rubric.COLUMNS)}; restore the columns (or export again)")
        return []
    questions = key["questions"]
    found, seen = [], {}
    for number, cells in enumerate(rows, 2):
        cells = list(cells) + [None] * (len(rubric.COLUMNS) - len(cells))
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells[:6]):
            continue  # a blank row (or one with only a comment)
        here = f"{path}: sheet {name}: row {number}"
        ident = row_id(cells[0])
        if ident is None or ident not in expected:
            problems.append(f"{here}: 编号 {cells[0]!r} is not a row of this sheet in the key; restore its 编号 "
                            "(rows are matched by 编号, never by position)")
            continue
        here += f" (编号 {ident})"
        if ident in seen:
            problems.append(f"{here}: 编号 {ident} is also on row {seen[ident]}; restore the 编号 that was changed")
            continue
        seen[ident] = number
        entry = expected[ident]
        item = int(entry["item"])
        text = lambda cell: "" if cell is None else str(cell)  # noqa: E731
        if not 0 <= item < len(questions) or fingerprint(text(cells[1])) != questions[item]["question_sha256"]:
            problems.append(f"{here}: the 问题 text was edited; restore it (copy it from the exported sheet), "
                            f"raters edit only the rating and 备注 columns")
        if fingerprint(text(cells[2])) != entry["answer_sha256"]:
            problems.append(f"{here}: the 回答 text was edited; restore it (copy it from the exported sheet), "
                            f"raters edit only the rating and 备注 columns")
        ratings = {dimension: score(cells[3 + index], here, rubric.RATING_COLUMNS[dimension], problems, missing_ok)
                   for index, dimension in enumerate(rubric.DIMENSIONS)}
        found.append((int(ident), {"model": str(entry["model"]), "item": item, "rater": name, **ratings}))
    for ident in sorted(set(expected) - set(seen), key=int):
        problems.append(f"{path}: sheet {name}: 编号 {ident} is missing (a deleted row, or its 编号 changed); "
                        "restore that row from the exported sheet")
    return [row for _, row in sorted(found, key=lambda pair: pair[0])]


def filled(sheet) -> bool:
    """Whether any rating cell of a sheet holds something."""
    for cells in sheet.iter_rows(min_row=2, min_col=4, max_col=6, values_only=True):
        if any(cell not in (None, "") for cell in cells):
            return True
    return False


def sheet_problems(unknown: list[tuple[Path, str]], missing: list[str], paths: list[Path], names: list[str]) -> list[str]:
    """Sheets not in the key and key sheets found nowhere; a renamed sheet is one line (both halves of it)."""
    if unknown and missing:
        return [f"{path}: sheet {name!r} is not in the key and {', '.join(missing)} is missing: renamed? give it "
                "back its exported name" for path, name in unknown]
    if unknown:
        return [f"{path}: sheet {name!r} is not in the key (its sheets: {', '.join(names)}); give it back its "
                "exported name, or delete it" for path, name in unknown]
    where = ", ".join(str(path) for path in paths)
    return [f"{where}: no sheet {name} (deleted or renamed?); pass the file holding it, or restore its exported name"
            for name in missing]


def read_ratings(sheets, key, missing_ok: bool = False) -> list[dict]:
    """One row per (rater, answer) of the filled ``sheets`` (paths of .xlsx files), unblinded by ``key``
    (its path, or the loaded key): ``{"model", "item", "rater", "safety", "usability", "smoothness"}``, in
    the key's sheet order and each sheet's 编号 order. Raises :class:`RatingProblems` listing every problem;
    ``missing_ok``: an empty rating is None instead of a problem."""
    key = load_key(key) if not isinstance(key, dict) else key
    books = [(Path(path), open_book(path)) for path in sheets]
    problems: list[str] = []
    chosen: dict[str, tuple[Path, object]] = {}
    unknown: list[tuple[Path, str]] = []
    try:
        for path, book in books:
            for name in book.sheetnames:
                if name == rubric.RUBRIC_SHEET:
                    continue
                if name not in key["sheets"]:
                    unknown.append((path, name))
                    continue
                sheet = book[name]
                if name in chosen and filled(sheet):
                    if filled(chosen[name][1]):
                        problems.append(f"{path}: sheet {name} is filled here and in {chosen[name][0]}; import "
                                        "each rater's sheet from one file")
                        continue
                if name not in chosen or filled(sheet):
                    chosen[name] = (path, sheet)
        missing = [name for name in key["sheets"] if name not in chosen]
        problems += sheet_problems(unknown, missing, [path for path, _ in books], list(key["sheets"]))
        rows = []
        for name in key["sheets"]:
            if name in chosen:
                rows += read_sheet(chosen[name][0], chosen[name][1], name, key, problems, missing_ok)
    finally:
        for _, book in books:
            book.close()
    if problems:
        raise RatingProblems(problems)
    return rows
