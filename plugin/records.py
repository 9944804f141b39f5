"""The neutral example a converter yields, its alpaca/sharegpt rendering, and its dataset_info entry."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from .io.rows import Skip

FORMATS = ("alpaca", "sharegpt", "chatglm3")
# sharegpt-style tags of each conversation format; chatglm3 is ChatGLM3 finetune_demo's {"role", "content"}
TAGS = {
    "sharegpt": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"},
    "chatglm3": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
                 "observation_tag": "observation", "function_tag": "tool", "system_tag": "system"},
}


def text_of(value, name: str | None = None) -> str:
    """A raw field (``name``, for the skip's reason) as stripped text: "" for null, a JSON number as written; a
    JSON list, object or true/false is no text (its Python form would become training text): a counted :class:`Skip`.

    >>> text_of("  头痛 "), text_of(None), text_of(12), text_of(0.5)
    ('头痛', '', '12', '0.5')
    >>> text_of(["头痛"])
    Traceback (most recent call last):
    llamafactory_domains.plugin.io.rows.Skip: a field is a list, not text
    >>> text_of({"a": 1}, "answer")
    Traceback (most recent call last):
    llamafactory_domains.plugin.io.rows.Skip: answer is a dict, not text
    """
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict, bool)):
        raise Skip(f"{name or 'a field'} is a {type(value).__name__}, not text")
    return str(value).strip()


@dataclass
class Example:
    """One training/test example. ``extra`` keys are written to the record but LLaMA-Factory ignores them."""

    instruction: str
    output: str
    input: str = ""
    system: str = ""
    history: list[tuple[str, str]] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    # not written: what makes this example the same item as another whose prompt adds context (disc_law:
    # the question and answer, with or without statutes); compared normalized against the test split
    dedup_key: str | None = field(default=None, repr=False)

    def prompt(self) -> str:
        """Everything the model sees before the answer: the key for cross-split deduplication."""
        turns = [f"{q}\n{a}" for q, a in self.history]
        return "\n".join([self.system, *turns, self.instruction, self.input])

    def prompt_hash(self, prompt: str | None = None) -> bytes:
        """The exact prompt's key (``prompt``: ``self.prompt()`` if the caller has it already)."""
        return hashlib.blake2b((self.prompt() if prompt is None else prompt).encode("utf-8"), digest_size=16).digest()

    def render(self, fmt: str, with_system: bool, with_history: bool) -> dict:
        if fmt == "alpaca":
            record = {"instruction": self.instruction, "input": self.input, "output": self.output}
            if with_system:
                record["system"] = self.system
            if with_history:
                record["history"] = [list(turn) for turn in self.history]
        else:
            tags = TAGS[fmt]
            role, content, user, assistant = (tags[k] for k in ("role_tag", "content_tag", "user_tag", "assistant_tag"))
            query = "\n".join(part for part in (self.instruction, self.input) if part)
            turns = []
            for q, a in [*self.history, (query, self.output)]:
                turns += [{role: user, content: q}, {role: assistant, content: a}]
            if fmt == "chatglm3" and with_system and self.system:
                turns.insert(0, {role: tags["system_tag"], content: self.system})  # ChatGLM3 keeps it in the turns
            record = {"conversations": turns}
            if with_system and fmt == "sharegpt":
                record["system"] = self.system
        record.update(self.extra)
        return record

    def to_line(self, fmt: str, with_system: bool, with_history: bool) -> str:
        """``json.dumps(render(...), ensure_ascii=False)`` and a newline; an alpaca record of texts is
        joined from its escaped strings directly, which takes half the time (same bytes)."""
        if fmt == "alpaca" and not with_history and not self.extra:
            try:
                head = (f'{{"instruction": {_quoted(self.instruction)}, "input": {_quoted(self.input)}, '
                        f'"output": {_quoted(self.output)}')
                return f'{head}, "system": {_quoted(self.system)}}}\n' if with_system else head + "}\n"
            except TypeError:  # a field that is not text: the general encoder writes (or rejects) it
                pass
        return encode_line(self.render(fmt, with_system, with_history))


def _line_encoder():
    """``obj -> json.dumps(obj, ensure_ascii=False) + "\\n"``, minus the encoder json.dumps builds on every call
    (a third of the time of writing a record); plain json.dumps where the C encoder is missing or differs."""
    def plain(obj) -> str:
        return json.dumps(obj, ensure_ascii=False) + "\n"

    make = getattr(json.encoder, "c_make_encoder", None)
    try:
        iterencode = make(None, json.JSONEncoder().default, json.encoder.encode_basestring,
                          None, ": ", ", ", False, False, True)
    except TypeError:  # None, or another signature
        return plain

    def fast(obj) -> str:
        return "".join(iterencode(obj, 0)) + "\n"

    probe = {"a": ["é\n\"", 1, 2.5, None, True, {"b": []}], "c": "主题"}
    return fast if fast(probe) == plain(probe) else plain


encode_line = _line_encoder()
_quoted = json.encoder.encode_basestring  # a str as a JSON string, as json.dumps(ensure_ascii=False) writes it


def dataset_entry(file_name: str, fmt: str, with_system: bool, with_history: bool, lfd: dict) -> dict:
    """A dataset_info.json entry with the FULL columns (and tags) mapping: a partial one nulls the rest."""
    if fmt == "alpaca":
        columns = {"prompt": "instruction", "query": "input", "response": "output"}
        if with_system:
            columns["system"] = "system"
        if with_history:
            columns["history"] = "history"
        entry = {"file_name": file_name, "formatting": "alpaca", "columns": columns}
    else:
        columns = {"messages": "conversations"}
        if with_system and fmt == "sharegpt":
            columns["system"] = "system"
        entry = {"file_name": file_name, "formatting": "sharegpt", "columns": columns, "tags": dict(TAGS[fmt])}
    entry["lfd"] = lfd  # our metadata; LLaMA-Factory ignores unknown keys
    return entry
