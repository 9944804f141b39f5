"""`lfd rate export`: the blinded rating workbook of several models' answers, and its key kept apart.

Every model's answer to every question is one row; each rater's sheet holds all of them in its own
random order (seeded), under a row id (编号) that says nothing of the model. The key (JSON, written
apart from the workbook) maps each sheet's ids to (model, question index) and holds a sha256 of
each question and answer as shown, so an edited text is caught at import. The workbook's bytes
depend only on the inputs and the seed: fixed document dates and zip entry dates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...evaluators.base import Prediction
from ..errors import UserError, where
from ..io.atomic import printable_text
from ..io.workbook import workbook_bytes
from ..predictions import find_dataset, load_dataset, prompt_excerpt, question_of, read_predictions, short, squash
from . import rubric

KEY_FORMAT = "lfd-rating-key"
KEY_VERSION = 1
UNLIMITED = 10**9  # prompt_excerpt's width: the whole question
WIDTHS = {"A": 8, "B": 42, "C": 70, "D": 11, "E": 11, "F": 11, "G": 24}


@dataclass
class Model:
    name: str
    source: Path
    items: list[Prediction]


def fingerprint(text: str) -> str:
    """The sha256 of a text as shown in the sheet.

    >>> fingerprint("头痛")[:12]
    'b2ac3c986db1'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cell_text(text: str) -> str:
    """``text`` as a cell keeps it: stripped, line ends as \\n, nothing XML cannot hold (control characters,
    U+FFFE/U+FFFF; a lone surrogate becomes U+FFFD).

    >>> cell_text(" 多喝水\\r\\n休息\\x07 "), cell_text("答\\ud800")
    ('多喝水\\n休息', '答\ufffd')
    """
    text = printable_text(text.replace("\r\n", "\n").replace("\r", "\n"))  # a lone surrogate: U+FFFD
    return "".join(ch for ch in text if ch in "\n\t" or 32 <= ord(ch) and ch not in "\ufffe\uffff").strip()


def model_names(paths: list[Path], given: list[str] | None) -> list[str]:
    """--models, or each run's folder name (the file's stem when it is not generated_predictions.jsonl).

    >>> model_names([Path("saves/base/generated_predictions.jsonl"), Path("tuned.jsonl")], None)
    ['base', 'tuned']
    """
    if given:
        if len(given) != len(paths):
            raise UserError(f"--models names {len(given)} models for {len(paths)} prediction files; give one name each")
        if len(set(given)) != len(given):
            raise UserError(f"--models: {', '.join(sorted({n for n in given if given.count(n) > 1}))} is given twice; "
                            "give each model its own name")
        return list(given)
    names = [path.parent.name if path.name == "generated_predictions.jsonl" and path.parent.name else path.stem
             for path in paths]
    return [name if names.count(name) == 1 else f"{name}-{index + 1}" for index, name in enumerate(names)]


def load_models(paths: list[Path], names: list[str], dataset: str | None, info_path: Path | None) -> tuple[list[Model], list[str]]:
    """Each run's predictions, checked to answer the same questions; and the question shown for each item."""
    models = [Model(name, path, read_predictions(path)) for name, path in zip(names, paths)]
    first = models[0]
    for model in models[1:]:
        if len(model.items) != len(first.items):
            raise UserError(f"{model.source}: {len(model.items)} predictions, but {first.source} has "
                            f"{len(first.items)}; rate runs predicted on the same test split")
    entry = None
    if dataset:
        for model in models:
            load_dataset(dataset, info_path, model.items, model.source)
        entry = find_dataset(dataset, info_path)[1]
    questions = []
    for index, item in enumerate(first.items):
        question = question_of(item.record, entry) if entry is not None else ""
        question = question or prompt_excerpt(item.prompt, width=UNLIMITED) or item.prompt
        for model in models[1:] if entry is None else []:
            other = model.items[index]
            if squash(prompt_excerpt(other.prompt, width=UNLIMITED)) != squash(prompt_excerpt(item.prompt, width=UNLIMITED)):
                raise UserError(f"{where(model.source, f'line {other.line}')}: its prompt asks "
                                f"{short(prompt_excerpt(other.prompt))!r}, but line {item.line} of {first.source} asks "
                                f"{short(prompt_excerpt(item.prompt))!r}; rate runs predicted on the same test split, "
                                "in the same order (or pass --dataset NAME to check both against it)")
            if squash(other.label) != squash(item.label):
                raise UserError(f"{where(model.source, f'line {other.line}')}: label {short(other.label)!r} differs "
                                f"from line {item.line} of {first.source} ({short(item.label)!r}); rate runs "
                                "predicted on the same test split")
        questions.append(cell_text(question))
    return models, questions


def orders(pairs: int, raters: int, seed: int) -> list[list[int]]:
    """Each rater's order of the (question, model) pairs: a permutation seeded by (seed, rater).

    >>> orders(4, 2, 0) == orders(4, 2, 0), sorted(orders(4, 2, 0)[1])
    (True, [0, 1, 2, 3])
    """
    return [[int(i) for i in np.random.default_rng([seed, rater]).permutation(pairs)] for rater in range(raters)]


def build(models: list[Model], questions: list[str], raters: int, seed: int) -> tuple[bytes, dict]:
    """The workbook's bytes and the key."""
    from openpyxl import Workbook

    pairs = [(q, m) for q in range(len(questions)) for m in range(len(models))]
    answers = {(q, m): cell_text(models[m].items[q].predict) for q, m in pairs}
    book = Workbook()
    book.properties.creator, book.properties.lastModifiedBy = "lfd rate", "lfd rate"
    write_rubric(book.active)
    sheets = {}
    for number, order in enumerate(orders(len(pairs), raters, seed), 1):
        name = rubric.rater_sheet(number)
        rows = [pairs[i] for i in order]
        write_sheet(book.create_sheet(name), [(row_id, questions[q], answers[(q, m)]) for row_id, (q, m) in
                                              enumerate(rows, 1)])
        sheets[name] = {str(row_id): {"model": models[m].name, "item": q, "answer_sha256": fingerprint(answers[(q, m)])}
                        for row_id, (q, m) in enumerate(rows, 1)}
    key = {
        "format": KEY_FORMAT, "version": KEY_VERSION, "seed": seed,
        "models": [{"name": model.name, "source": str(model.source)} for model in models],
        "questions": [{"item": q, "question_sha256": fingerprint(text)} for q, text in enumerate(questions)],
        "sheets": sheets,
    }
    return workbook_bytes(book), key



def write_rubric(sheet) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.title = rubric.RUBRIC_SHEET
    for row in rubric.rubric_rows():
        sheet.append(row)
    sheet["A1"].font = Font(bold=True, size=13)
    for column, width in {"A": 14, "B": 14, "C": 80, "D": 50}.items():
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_sheet(sheet, rows: list[tuple[int, str, str]]) -> None:
    """A rater's sheet: the header, one row per answer, the three rating columns validated as 1–3."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet.append(list(rubric.COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for number, (row_id, question, answer) in enumerate(rows, 2):
        sheet.cell(number, 1, row_id)
        for column, text in ((2, question), (3, answer)):
            cell = sheet.cell(number, column)
            cell.value, cell.data_type, cell.alignment = text, "s", wrap  # "s": a text starting with = stays text
    for column, width in WIDTHS.items():
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "B2"
    check = DataValidation(type="whole", operator="between", formula1="1", formula2="3", allow_blank=True,
                           showInputMessage=True, promptTitle=rubric.INPUT_TITLE, prompt=rubric.INPUT_MESSAGE,
                           showErrorMessage=True, errorTitle=rubric.ERROR_TITLE, error=rubric.ERROR_MESSAGE)
    sheet.add_data_validation(check)
    check.add(f"D2:F{max(2, len(rows) + 1)}")

