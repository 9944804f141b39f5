"""General instruction data (alpaca_zh and the like) to mix with domain data against forgetting.

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert general_mix --help`, checked by tests/converters/test_examples.py).

Each record's shape is detected on its own, so one file may mix them:

- alpaca ``{"instruction", "input"?, "output", "history"?: [[q, a], ...], "system"?}``
- sharegpt ``{"conversations": [{"from": "human"|"gpt"|"system", "value"}], "system"?}``
- ChatGLM3 ``{"conversations": [{"role": "system"|"user"|"assistant", "content"}]}`` (also under ``messages``)
- ChatGLM-6B ``{"content", "summary"}`` and ``{"prompt", "response", "history": [[q, a], ...]}``

Texts are kept as they are. Records with tool calls, turns that do not alternate user/assistant,
or no answer are skipped with their reason counted.
"""

from __future__ import annotations

from .base import Converter, Example, Shape, Skip, register_converter, require_object, text_of

USER, ASSISTANT, SYSTEM = "user", "assistant", "system"
ROLES = {"user": USER, "human": USER, "assistant": ASSISTANT, "gpt": ASSISTANT, "system": SYSTEM}
TOOL_ROLES = {"observation", "function_call", "function", "tool"}


def as_text(value, name: str) -> str:
    """A text value as it is (not stripped): null is empty, numbers become text, anything else is a counted skip."""
    return value if value.__class__ is str else text_of(value, name)


def text(record: dict, key: str) -> str:
    return as_text(record.get(key), f"field {key}")


def pairs(value) -> list[tuple[str, str]]:
    """An alpaca/ChatGLM-6B history: ``[[question, answer], ...]`` (null is no history).

    >>> pairs([["你好", "你好！"], ["1+1=?", 2]])
    [('你好', '你好！'), ('1+1=?', '2')]
    """
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(turn, list) and len(turn) == 2 for turn in value):
        raise Skip("history is not a list of [question, answer] pairs")
    return [(as_text(q, "a history question"), as_text(a, "a history answer")) for q, a in value]


def from_turns(turns, system: str) -> Example:
    """A sharegpt/ChatGLM3 conversation: leading system turns, then user/assistant pairs."""
    if not isinstance(turns, list) or not all(isinstance(turn, dict) for turn in turns):
        raise Skip("conversations is not a list of turns")
    systems, dialogue = [system] if system else [], []
    for turn in turns:
        raw_role = turn.get("role", turn.get("from"))
        if str(raw_role).lower() in TOOL_ROLES or turn.get("tools"):
            raise Skip("tool calls are not supported")
        role = ROLES.get(str(raw_role).lower())
        content = as_text(turn.get("content", turn.get("value")), "a turn's content")
        if role is None:
            raise Skip(f"unknown role {raw_role!r} in conversations")
        if role == SYSTEM:
            if dialogue:
                raise Skip("system turn after the dialogue started")
            systems.append(content)
        else:
            dialogue.append((role, content))
    if not dialogue or [role for role, _ in dialogue] != [USER, ASSISTANT] * (len(dialogue) // 2):
        raise Skip("turns do not alternate user/assistant ending with an assistant reply")
    said = [content for _, content in dialogue]
    history = list(zip(said[:-2:2], said[1:-2:2]))
    return Example(instruction=said[-2], output=said[-1], history=history, system="\n".join(s for s in systems if s))


@register_converter("general_mix")
class GeneralMix(Converter):
    """General instruction data (alpaca, sharegpt, ChatGLM formats) to mix 1:1 with domain data against forgetting."""

    example_command = "lfd convert general_mix alpaca_gpt4_data_zh.json --limit 100000 --out-dir data"
    example_raw = {
        "conversations": [
            {"role": "system", "content": "你是一个汽修师傅。"},
            {"role": "user", "content": "长城h3风扇不转"},
            {"role": "assistant", "content": "水温多少"},
            {"role": "user", "content": "95"},
            {"role": "assistant", "content": "要检查线路了"},
        ]
    }
    example_output = {
        "instruction": "95",
        "input": "",
        "output": "要检查线路了",
        "system": "你是一个汽修师傅。",
        "history": [["长城h3风扇不转", "水温多少"]],
    }

    with_system = True
    with_history = True
    expects = (
        "alpaca instruction/output, sharegpt/ChatGLM3 conversations, "
        "ChatGLM-6B content/summary or prompt/response records"
    )

    def convert(self, record, split):
        require_object(record)
        if "conversations" in record or "messages" in record:
            if record.get("tools"):
                raise Skip("tool calls are not supported")
            turns = record.get("conversations", record.get("messages"))
            example = from_turns(turns, text(record, "system"))
        elif "instruction" in record and "output" in record:
            example = Example(
                instruction=text(record, "instruction"),
                input=text(record, "input"),
                output=text(record, "output"),
                history=pairs(record.get("history")),
                system=text(record, "system"),
            )
        elif "prompt" in record and "response" in record:
            example = Example(
                instruction=text(record, "prompt"),
                output=text(record, "response"),
                history=pairs(record.get("history")),
                system=text(record, "system"),
            )
        elif "content" in record and "summary" in record:
            example = Example(instruction=text(record, "content"), output=text(record, "summary"))
        else:
            raise Shape(f"record has keys {', '.join(map(str, record)) or '(none)'}")
        if not (example.instruction.strip() or example.input.strip()):
            raise Skip("empty prompt")
        if not example.output.strip():
            raise Skip("empty answer")
        return example
