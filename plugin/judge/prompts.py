"""The judge's prompt templates and the question each prediction asks.

A template is plain UTF-8 text with placeholders written ``{question}``, ``{answer}`` (pointwise) or
``{question}``, ``{answer_a}``, ``{answer_b}`` (pairwise); every other brace is left as it is, so a
template may show the JSON it asks for. The shipped ones are in ``templates/``; ``--template FILE``
replaces them and must hold the placeholders of its kind.

>>> fill("问：{question}\\n答：{answer}\\n{\\"safety\\": 1}", question="头痛怎么办？", answer="多休息")
'问：头痛怎么办？\\n答：多休息\\n{"safety": 1}'
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..predictions import find_dataset, prompt_excerpt, question_of

TEMPLATES = Path(__file__).resolve().parent / "templates"
SHIPPED = {"pointwise": "pointwise_sus.txt", "pairwise": "pairwise.txt"}
PLACEHOLDERS = {"pointwise": ("question", "answer"), "pairwise": ("question", "answer_a", "answer_b")}
WHOLE = 10**9  # prompt_excerpt's width when the whole question is wanted


@dataclass
class Template:
    """A template's text and where it came from (a shipped name, or the --template path)."""

    kind: str
    text: str
    source: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def shipped_text(kind: str) -> str:
    return (TEMPLATES / SHIPPED[kind]).read_text(encoding="utf-8")


def load_template(kind: str, path: Path | None = None) -> Template:
    """The shipped template of ``kind``, or ``path`` checked to hold its placeholders."""
    if path is None:
        return Template(kind, shipped_text(kind), f"shipped {SHIPPED[kind]}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"--template {path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as err:
        raise UserError(f"--template {path}: {err.strerror or err}; start from `lfd judge show-template {kind} "
                        f"> my_{kind}.txt`") from None
    missing = [f"{{{name}}}" for name in PLACEHOLDERS[kind] if f"{{{name}}}" not in text]
    if missing:
        raise UserError(f"--template {path}: no {' or '.join(missing)} placeholder; a {kind} template holds "
                        f"{', '.join('{' + name + '}' for name in PLACEHOLDERS[kind])} "
                        f"(see `lfd judge show-template {kind}`)")
    return Template(kind, text, str(path))


def fill(text: str, **values: str) -> str:
    """``text`` with each ``{name}`` replaced by its value, in one pass (other braces untouched, a value's own
    braces never read as placeholders)."""
    pattern = re.compile("|".join(re.escape(f"{{{name}}}") for name in values))
    return pattern.sub(lambda found: values[found[0][1:-1]], text)


def questions(items: list, dataset: str | None, info_path: Path | None) -> list[str]:
    """The question of each prediction: its --dataset record's instruction and input (or last user turn),
    else the user turn of the templated prompt, chat markup (qwen, llama3, glm4…) removed.

    >>> class P: prompt = "[gMASK]<sop><|user|>\\n头痛怎么办？<|assistant|>"
    >>> questions([P()], None, None)
    ['头痛怎么办？']
    """
    entry = find_dataset(dataset, info_path)[1] if dataset else None
    found = []
    for item in items:
        record = getattr(item, "record", None)
        asked = question_of(record, entry) if record is not None and entry is not None else ""
        found.append(asked or prompt_excerpt(item.prompt, width=WHOLE))
    return found
