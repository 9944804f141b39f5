"""One record cleaned in one pass: privacy masking, the junk rules and the length rule, for any converter's output.

The API `lfd clean` uses and `lfd convert --clean` can call, for alpaca (instruction, input, output, system,
history), sharegpt (conversations: [{from, value}]) and openai (messages: [{role, content}]) records::

    cleaner = Cleaner(Options(rules=RULES, length=None))
    result = cleaner.clean(record)     # the record is changed in place
    result.records                     # [] dropped, [record], or the windows of a split dialogue
    result.counts                      # {rule: changes}: text rules, privacy types as "privacy:电话", length counts
    result.dropped, result.reason      # the rule that dropped it (empty_answer, echo_answer, too_long) and why
    result.spans                       # [(field, privacy Span)]: positions in the field as it was read
                                       # (field "<field> (after cleaning)": in the field as the junk rules left it)

:data:`RULES` are the names ``Options.rules`` holds (all by default): ``privacy`` (:func:`.privacy.mask`, run
first, on the text as read, so its spans point into the original; and again on a text the junk rules
changed, since junk can hide personal data, its spans then in the field named ``<field> (after cleaning)``), the text rules of :mod:`.junk` (control,
zero_width, html, punct, url, ads, in that order), then the record rules (empty_answer: an assistant answer
empty or a placeholder after cleaning; echo_answer: the last answer only repeats the last question).
``Options.length`` is a :class:`.length.Length` (None: no limit). A record of no known shape raises
ValueError (the caller names its line). Near-duplicates need state across records: :mod:`.near_dup`, run on
what this stage keeps.

>>> result = Cleaner().clean({"instruction": "头痛怎么办？？", "input": "电话13812345678", "output": "多休息！！<br>"})
>>> result.records, result.counts
([{'instruction': '头痛怎么办？', 'input': '电话[电话]', 'output': '多休息！'}], {'punct': 2, 'privacy:电话': 1, 'html': 1})
>>> Cleaner().clean({"instruction": "头痛怎么办？", "output": "略。"})[2:4]
('empty_answer', 'the answer is empty or a placeholder: 略。')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .junk import RECORD_RULES, TEXT_RULES, clean_text, echoes, placeholder

RULES = ("privacy", *TEXT_RULES, *RECORD_RULES)
ASSISTANT = ("gpt", "assistant")


@dataclass
class Options:
    """What :class:`Cleaner` does: the :data:`RULES` to apply, and an optional :class:`.length.Length`."""
    rules: frozenset = field(default_factory=lambda: frozenset(RULES))
    length: object = None


class Cleaned(NamedTuple):
    records: list
    counts: dict
    dropped: str | None
    reason: str | None
    spans: list


def texts(record: dict):
    """(field name, container, key) of each text of the conversation; ValueError for a record of no known shape."""
    found = False
    for key in ("instruction", "input", "output", "system"):
        if key in record:
            found = found or key != "system"
            if isinstance(record[key], str):
                yield key, record, key
    if "history" in record and record["history"] is not None:
        history = record["history"]
        if not isinstance(history, list) or not all(isinstance(turn, list) for turn in history):
            raise ValueError("history is not a list of [question, answer] pairs")
        for i, turn in enumerate(history):
            for j, text in enumerate(turn):
                if isinstance(text, str):
                    yield f"history[{i}][{j}]", turn, j
    for key, value_key in (("conversations", "value"), ("messages", "content")):
        if key in record:
            found = True
            turns = record[key]
            if not isinstance(turns, list) or not all(isinstance(turn, dict) for turn in turns):
                raise ValueError(f"{key} is not a list of turns")
            for i, turn in enumerate(turns):
                for name in dict.fromkeys((value_key, "value", "content")):
                    if isinstance(turn.get(name), str):
                        yield f"{key}[{i}].{name}", turn, name
    if not found:
        raise ValueError("neither an alpaca (instruction/output), a sharegpt (conversations) nor an openai "
                         "(messages) record")


def dialogue(record: dict) -> tuple[list[str], str]:
    """(every assistant answer, the last question) of a record.

    >>> dialogue({"instruction": "问", "input": "补充", "output": "答", "history": [["早", "好"]]})
    (['好', '答'], '问\\n补充')
    >>> dialogue({"messages": [{"role": "user", "content": "问"}, {"role": "assistant", "content": "答"}]})
    (['答'], '问')
    """
    if "conversations" in record or "messages" in record:
        turns = record.get("conversations", record.get("messages")) or []
        answers, question = [], ""
        for turn in turns:
            role, text = turn.get("from", turn.get("role")), turn.get("value", turn.get("content"))
            if not isinstance(text, str):
                continue
            if role in ASSISTANT:
                answers.append(text)
            elif role != "system":
                question = text
        return answers, question
    answers = [pair[1] for pair in record.get("history") or [] if len(pair) > 1 and isinstance(pair[1], str)]
    if isinstance(record.get("output"), str):
        answers.append(record["output"])
    parts = [record.get(key) for key in ("instruction", "input")]
    return answers, "\n".join(part for part in parts if isinstance(part, str) and part)


def chosen_rules(args, flag: str = "--rules") -> frozenset:
    """The rules ``args.rules`` names (comma-separated; None: all :data:`RULES`) minus those ``args.no`` names (a
    list of comma-separated names, or None); a one-line UserError naming ``flag`` (or --no) for a name that is no rule.

    >>> from types import SimpleNamespace as Args
    >>> sorted(chosen_rules(Args(rules="privacy, url", no=None))), "ads" in chosen_rules(Args(rules=None, no=["ads"]))
    (['privacy', 'url'], False)
    >>> chosen_rules(Args(rules="html,spam", no=None), flag="--clean-rules")
    Traceback (most recent call last):
    ...
    llamafactory_domains.plugin.errors.UserError: --clean-rules spam: no such rule; the rules are \
privacy,control,zero_width,html,punct,url,ads,empty_answer,echo_answer
    """
    from ..errors import UserError

    given = list(RULES) if args.rules is None else [r.strip() for r in args.rules.split(",") if r.strip()]
    off = [r.strip() for text in getattr(args, "no", None) or [] for r in text.split(",") if r.strip()]
    for name in [*given, *off]:
        if name not in RULES:
            raise UserError(f"{flag if name in given else '--no'} {name}: no such rule; the rules are {','.join(RULES)}")
    return frozenset(given) - frozenset(off)


class Cleaner:
    """Cleans one record at a time (see the module docstring); keeps no state between records."""

    def __init__(self, options: Options | None = None):
        self.options = options or Options()
        unknown = set(self.options.rules) - set(RULES)
        if unknown:
            raise ValueError(f"unknown rule {', '.join(sorted(unknown))}: expected some of {', '.join(RULES)}")
        self.text_rules = tuple(rule for rule in TEXT_RULES if rule in self.options.rules)

    def clean(self, record: dict) -> Cleaned:
        from .privacy import mask

        rules, counts, spans = self.options.rules, {}, []
        for name, container, key in list(texts(record)):
            text = container[key]
            if "privacy" in rules:
                text, found = mask(text)
                for span in found:
                    spans.append((name, span))
                    counts[f"privacy:{span.type}"] = counts.get(f"privacy:{span.type}", 0) + 1
            if self.text_rules:
                text, changed = clean_text(text, self.text_rules)
                for rule, n in changed.items():
                    counts[rule] = counts.get(rule, 0) + n
                if changed and "privacy" in rules:  # junk can hide data: 138<b>1234</b>5678, 患者<b>王建国</b>
                    text, found = mask(text)
                    for span in found:
                        spans.append((f"{name} (after cleaning)", span))
                        counts[f"privacy:{span.type}"] = counts.get(f"privacy:{span.type}", 0) + 1
            container[key] = text
        answers, question = dialogue(record)
        if "empty_answer" in rules:
            for answer in answers:
                if placeholder(answer):
                    shown = answer.strip()[:20] or "(empty)"
                    return Cleaned([], counts, "empty_answer", f"the answer is empty or a placeholder: {shown}", spans)
        if "echo_answer" in rules and answers and echoes(answers[-1], question):
            return Cleaned([], counts, "echo_answer", "the answer only repeats the question", spans)
        if self.options.length is None:
            return Cleaned([record], counts, None, None, spans)
        kept, length_counts, why = self.options.length.fit(record)
        for name, n in length_counts.items():
            counts[name] = counts.get(name, 0) + n
        return Cleaned(kept, counts, "too_long" if why else None, why, spans)
