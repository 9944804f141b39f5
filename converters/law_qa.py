"""Legal QA of lawzhidao (``lawzhidao_filter.csv``, columns ``title,question,reply,is_best``) -> ChatGLM3 conversations.

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert law_qa --help`, checked by tests/converters/test_examples.py).

The prompt is ``question``, or ``title`` when ``question`` is empty. By default only best replies
(``is_best`` 1) are kept and each question once: the first best reply in file order wins, later
ones are skipped as "question already answered". ``--all-replies`` keeps every reply, each distinct
(question, reply) pair once. Broken rows (ragged, ``is_best`` not 0/1, empty reply) are counted
skips, with their line in the ``--rejects`` file.

Deduplication keeps no texts: a 16-byte hash of each seen prompt (or prompt + reply) of a split
maps to the file and line of its first occurrence. The pipeline may read the inputs up to three
times (count, held-out sample, write); keying on the first occurrence makes every pass keep the
same rows. Prompts found in both splits are left to the pipeline (dropped from train).
"""

from __future__ import annotations

import hashlib

from .base import (
    Converter,
    Example,
    Row,
    Skip,
    register_converter,
    require_fields,
    text_of,
)

COLUMNS = ("title", "question", "reply", "is_best")


class CsvRecord(dict):
    """A CSV row that knows where it was read (``position``), for pass-independent deduplication."""

    position: tuple | None = None  # (file, location)


def prompt_of(record) -> str:
    """``question``, or ``title`` when the question is empty.

    >>> prompt_of({"title": "欠款不还怎么办？", "question": " "})
    '欠款不还怎么办？'
    """
    return text_of(record.get("question")) or text_of(record.get("title"))


def is_best(value) -> bool:
    """``is_best`` as a bool; anything but 0/1 is a broken row.

    >>> is_best(" 1"), is_best("0")
    (True, False)
    >>> is_best("律师")
    Traceback (most recent call last):
    llamafactory_domains.plugin.io.rows.Skip: is_best is not 0 or 1
    """
    if text_of(value) not in ("0", "1"):
        raise Skip("is_best is not 0 or 1")
    return text_of(value) == "1"


def digest(*texts: str) -> bytes:
    return hashlib.blake2b("\0".join(texts).encode("utf-8"), digest_size=16).digest()


@register_converter("law_qa")
class LawQa(Converter):
    """lawzhidao legal QA (lawzhidao_filter.csv) -> best reply per question, ChatGLM3 conversations."""

    example_command = (
        "lfd convert law_qa lawzhidao_filter.csv --test-size 1000 --rejects data/law_qa_rejects.jsonl --out-dir data"
    )
    example_raw = {
        "title": "被**打伤了怎么办？",
        "question": "",
        "reply": "你好，可以报警处理，要求对方赔偿医疗费、误工费等损失。",
        "is_best": "1",
    }
    example_output = {
        "conversations": [
            {"role": "user", "content": "被**打伤了怎么办？"},
            {"role": "assistant", "content": "你好，可以报警处理，要求对方赔偿医疗费、误工费等损失。"},
        ]
    }

    formats = ("chatglm3", "alpaca", "sharegpt")
    evaluators = ("rouge_zh", "bleu_zh")  # free text: add BERTScore with `lfd eval --bertscore-model PATH`
    primary_metric = "rouge-l"
    columns = [COLUMNS]
    expects = "lawzhidao rows with title/question/reply/is_best"
    parallel = False  # de-duplicates questions across the whole file

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument(
            "--all-replies", action="store_true", help="keep every distinct reply, not only the best one per question"
        )

    def __init__(self, options):
        super().__init__(options)
        self.all_replies = getattr(options, "all_replies", False)
        self.first_seen: dict[bytes, object] = {}  # hash of a prompt (+ reply) -> (file, location) of its first row

    def rows(self, path, split):
        for row in super().rows(path, split):
            if isinstance(row.data, dict):
                record = CsvRecord(row.data)
                record.position = (path, row.location)
                row = Row(row.location, record)
            yield row

    def convert(self, record, split):
        require_fields(record, *COLUMNS)
        best = is_best(record["is_best"])
        reply = text_of(record["reply"])
        if not reply:
            raise Skip("empty reply")
        prompt = prompt_of(record)
        if not prompt:
            raise Skip("empty question and title")
        if not (best or self.all_replies):
            raise Skip("not the best reply (--all-replies keeps it)")
        key = digest(split, prompt, reply) if self.all_replies else digest(split, prompt)
        position = getattr(record, "position", None) or object()  # a record not read by rows() is new
        if self.first_seen.setdefault(key, position) != position:
            raise Skip("reply already given to this question" if self.all_replies else "question already answered")
        return Example(instruction=prompt, output=reply)
