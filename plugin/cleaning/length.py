"""Over-long records, in tokens of the target model counted as `lfd stats` counts them: dropped, truncated at a
sentence end, or split into windows of whole turns.

A record's length is the prompt (the chat template's text with the generation prompt) plus the response and
eos, each tokenized without special tokens: :func:`..commands.stats.messages` and
:func:`..commands.stats.count_batch`, the very code of `lfd stats` (an openai ``messages`` record is counted as
the sharegpt record with the same turns). :class:`Length` says what a record over ``max_tokens`` becomes:

- ``drop``: nothing (reason ``too_long``);
- ``truncate``: the last answer cut after its last sentence end (。！？!?；;… or a line break, closing quotes
  and brackets kept) that keeps the record within ``max_tokens``; dropped when no sentence end does, or the
  prompt alone is over;
- ``split``: a dialogue (sharegpt/openai turns, alpaca history) cut into windows of consecutive exchanges
  (a user turn and what follows it up to the next user turn), each as long as fits, every window with the
  record's system prompt and other keys; an exchange over ``max_tokens`` on its own is left out (counted),
  and a record with nothing left is dropped. A single-turn record cannot be split: it is dropped.

The counting is the caller's (a library module imports no command): `lfd clean` hands in
``commands.clean.token_counter(tokenizer)``, built on `lfd stats`' functions; nothing here imports transformers.
"""

from __future__ import annotations

import copy
import re

MODES = ("drop", "truncate", "split")
SENTENCE_END = re.compile(r"(?:[。！？!?；;…]+|\.(?=\s|$))[”’\"'）)」』】]*|\n")
USER = ("human", "user")


def sentence_ends(text: str) -> list[int]:
    """The lengths of the prefixes of ``text`` that end a sentence, shortest first.

    >>> text = "多喝水。注意休息！“按时吃药。”\\n复查"
    >>> [text[:end] for end in sentence_ends(text)]
    ['多喝水。', '多喝水。注意休息！', '多喝水。注意休息！“按时吃药。”', '多喝水。注意休息！“按时吃药。”\\n']
    >>> sentence_ends("体温37.5度")
    []
    """
    return [match.end() for match in SENTENCE_END.finditer(text)]


def turns_key(record: dict) -> tuple[str, str, str] | None:
    """(list key, role key, text key) of a sharegpt or openai record; None for alpaca."""
    if isinstance(record.get("conversations"), list):
        return "conversations", "from", "value"
    if isinstance(record.get("messages"), list):
        return "messages", "role", "content"
    return None


def counted_view(record: dict) -> dict:
    """The record as :func:`..commands.stats.messages` reads it (openai messages as sharegpt turns)."""
    if "messages" in record and "conversations" not in record:
        return {"conversations": record["messages"], "system": record.get("system")}
    return record


def exchanges(record: dict) -> tuple[list, list]:
    """(the leading system turns, the exchanges) of a dialogue; an alpaca exchange is a [question, answer] pair
    (the last one: the record's instruction/input/output).

    >>> exchanges({"conversations": [{"from": "system", "value": "s"}, {"from": "human", "value": "q1"},
    ...     {"from": "gpt", "value": "a1"}, {"from": "human", "value": "q2"}, {"from": "gpt", "value": "a2"}]})[1]
    [[{'from': 'human', 'value': 'q1'}, {'from': 'gpt', 'value': 'a1'}], [{'from': 'human', 'value': 'q2'}, \
{'from': 'gpt', 'value': 'a2'}]]
    >>> exchanges({"instruction": "q2", "input": "", "output": "a2", "history": [["q1", "a1"]]})
    ([], [['q1', 'a1'], None])
    """
    keys = turns_key(record)
    if keys is None:
        return [], [*(list(pair) for pair in record.get("history") or []), None]  # None: the record's own turn
    name, role, _ = keys
    turns = record[name]
    lead = 0
    while lead < len(turns) and turns[lead].get(role) == "system":
        lead += 1
    groups: list[list] = []
    for turn in turns[lead:]:
        if not groups or turn.get(role) in USER:
            groups.append([])
        groups[-1].append(turn)
    return turns[:lead], groups


def window(record: dict, system: list, groups: list) -> dict:
    """The record holding only the exchanges ``groups`` (from :func:`exchanges`)."""
    out = {key: value for key, value in record.items()}
    keys = turns_key(record)
    if keys is not None:
        out[keys[0]] = [*system, *(turn for group in groups for turn in group)]
        return out
    *history, last = groups
    if last is not None:  # an earlier pair becomes the question: instruction, empty input
        out.update(instruction=last[0], input="", output=last[1])
    out["history"] = [list(pair) for pair in history] if "history" in record or history else record.get("history")
    return out


def last_answer(record: dict) -> tuple[dict | list, str | int]:
    """(container, key) of the record's last answer, the text truncation shortens."""
    keys = turns_key(record)
    if keys is None:
        return record, "output"
    return record[keys[0]][-1], keys[2]


class Length:
    """What becomes of a record over ``max_tokens`` (``mode``: one of :data:`MODES`). ``tokens(record)`` counts a
    record: `lfd clean` passes :func:`..commands.stats`' counting (``commands.clean.token_counter``; the library
    imports no command, so the caller hands it in). :meth:`fit` gives the records to keep and what was done.

    >>> fit = Length(lambda record: len(record["output"]), 6, "truncate").fit
    >>> fit({"instruction": "q", "output": "多喝水。多休息。"}), fit({"instruction": "q", "output": "多喝水"})
    (([{'instruction': 'q', 'output': '多喝水。'}], {'over_long': 1, 'truncated': 1}, None), \
([{'instruction': 'q', 'output': '多喝水'}], {}, None))
    """

    def __init__(self, tokens, max_tokens: int, mode: str = "truncate"):
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
        self.tokens, self.max_tokens, self.mode = tokens, max_tokens, mode

    def fit(self, record: dict) -> tuple[list[dict], dict[str, int], str | None]:
        """(records to keep, counts, why it was dropped or None): ``[record]`` when it fits."""
        if self.tokens(record) <= self.max_tokens:
            return [record], {}, None
        counts = {"over_long": 1}
        if self.mode == "truncate":
            kept, why = self.truncate(record)
        elif self.mode == "split":
            kept, why = self.split(record, counts)
        else:
            kept, why = None, f"over {self.max_tokens} tokens (--long drop)"
        if kept is None:
            return [], counts, why
        counts["truncated" if self.mode == "truncate" else "windows"] = len(kept) if self.mode == "split" else 1
        return kept, counts, None

    def truncate(self, record: dict) -> tuple[list[dict] | None, str | None]:
        out = copy.deepcopy(record)
        container, key = last_answer(out)
        answer = container[key]
        ends = sentence_ends(answer.rstrip())

        def fits(end: int) -> bool:
            container[key] = answer[:end].rstrip()
            return self.tokens(out) <= self.max_tokens

        if not fits(0):
            return None, f"the prompt alone is over {self.max_tokens} tokens (--long truncate cuts the answer only)"
        low, high = 0, len(ends)  # ends[:low] fit; binary search for the longest prefix that fits
        while low < high:
            middle = (low + high + 1) // 2
            if fits(ends[middle - 1]):
                low = middle
            else:
                high = middle - 1
        if low == 0:
            return None, f"no sentence end of the answer within {self.max_tokens} tokens (--long truncate)"
        container[key] = answer[:ends[low - 1]].rstrip()
        return [out], None

    def split(self, record: dict, counts: dict[str, int]) -> tuple[list[dict] | None, str | None]:
        system, groups = exchanges(record)
        if len(groups) < 2:
            return None, f"a single turn over {self.max_tokens} tokens (--long split keeps whole turns)"
        windows, start = [], 0
        while start < len(groups):
            if self.tokens(window(record, system, groups[start:start + 1])) > self.max_tokens:
                counts["turns_dropped"] = counts.get("turns_dropped", 0) + 1
                start += 1
                continue
            end = start + 1
            while end < len(groups) and self.tokens(window(record, system, groups[start:end + 1])) <= self.max_tokens:
                end += 1
            windows.append(window(record, system, groups[start:end]))
            start = end
        if not windows:
            return None, f"every turn over {self.max_tokens} tokens on its own (--long split keeps whole turns)"
        counts["split"] = 1
        return windows, None
