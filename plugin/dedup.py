"""When a training example is a test item: exact prompts, prompts equal after normalization, same items.

`lfd convert` leaves out of the training split every example that asks what a test item asks.
:class:`TestItems` holds keys of the test split (16-byte hashes, so a big split stays small) and
says why a training example matches, one counted reason per kind of match:

- the exact prompt (:data:`EXACT`);
- the prompt after :func:`prompt_key` (:data:`NORMALIZED`): only its letters, digits, Chinese
  characters and comparison/arithmetic signs are compared (so whitespace, Chinese or ASCII
  punctuation and blanks such as ``___`` or ``（　　）`` do not count), in Unicode NFKC
  (full/half width) and traditional -> simplified Chinese (OpenCC, loaded on first use), with
  lettered option lines (``A. 文本``) taken as a set, so a question with its options reordered
  is the same question;
- the example's ``dedup_key`` (:data:`SAME_ITEM`), normalized the same way: what makes two
  examples one item when their prompts differ in more than form (``disc_law``: the question and
  answer, whether or not the statutes are prepended).

The validation split (``--val-size``) is held out the same way, with its own reasons
(:data:`VAL_REASONS`); :class:`HeldOut` asks the test split first, then the validation split.

Only the keys are normalized; the files keep the original text. Nothing here runs without a held-out
split (``TestItems`` is falsy while empty, and the caller asks nothing then).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

EXACT = "prompt also in the test split"
NORMALIZED = "same question as a test item after normalization (width/punctuation/繁简/option order)"
SAME_ITEM = "same question and answer as a test item (its prompt adds context, e.g. statutes)"
TEST_REASONS = (EXACT, NORMALIZED, SAME_ITEM)
# the same three kinds of match against the validation split (--val-size)
VAL_EXACT = "prompt also in the validation split"
VAL_NORMALIZED = "same question as a validation item after normalization (width/punctuation/繁简/option order)"
VAL_SAME_ITEM = "same question and answer as a validation item (its prompt adds context, e.g. statutes)"
VAL_REASONS = (VAL_EXACT, VAL_NORMALIZED, VAL_SAME_ITEM)

# whitespace, line breaks, punctuation and blanks (___) are not compared; the signs that change a
# question's meaning (血压>140 / 血压<140, 5% / 5) are
# what a comparison keeps: letters, digits, Chinese characters (word characters but "_") and signs
# (full-width signs become ASCII in NFKC); joining these runs is twice as fast as deleting the rest
_KEPT = re.compile(r"[^\W_]+|[+<>=±×÷≤≥%‰＋＜＞＝％]+")
_HAS_OPTION = re.compile(r"^[^\S\n]*[A-ZＡ-Ｚ][^\S\n]*[.．][^\S\n]*", re.MULTILINE)  # "A. 文本", "Ａ．文本"

_t2s = None  # OpenCC's converter, made on first use


def simplified(text: str) -> str:
    """Traditional Chinese characters as simplified (OpenCC's t2s; loaded on first use).

    >>> simplified("醫院應報告當地衛生行政部門")
    '医院应报告当地卫生行政部门'
    """
    global _t2s
    if _t2s is None:
        import opencc

        _t2s = opencc.OpenCC("t2s")
    return _t2s.convert(text)


def normalized(text: str) -> str:
    """Text in its comparison form: only its letters, digits, Chinese characters and signs, in NFKC
    (full-width letters and digits as ASCII) and simplified Chinese.

    >>> normalized("雷雨天氣，需要巡視室外高壓設備時，應穿（　　）。")
    '雷雨天气需要巡视室外高压设备时应穿'
    >>> normalized("ＡＴＰ  酶 ， 100 mg") == normalized("ATP酶,100mg") == normalized("ATP酶：100 mg。")
    True
    >>> normalized("收缩压＞140mmHg") == normalized("收缩压 > 140 mmHg") != normalized("收缩压<140mmHg")
    True
    """
    text = "".join(_KEPT.findall(text))
    if not unicodedata.is_normalized("NFKC", text):  # full-width letters, compatibility characters
        text = "".join(_KEPT.findall(unicodedata.normalize("NFKC", text)))
    return simplified(text)


def prompt_key(prompt: str) -> str:
    """The comparison form of a whole prompt: :func:`normalized`, with the lettered option lines
    (``A. 文本``) of each run replaced by their texts in sorted order.

    >>> prompt_key("以下是一道单选题。\\n雷雨天气应穿（　　）。\\nA. 雨鞋\\nB. 绝缘靴") == \\
    ...     prompt_key("以下是一道单选题。\\n雷雨天气应穿___。\\nA. 绝缘靴\\nB．雨鞋")
    True
    >>> prompt_key("头痛 怎么办？\\n") == prompt_key("頭痛怎麼辦?")
    True
    """
    if ("." not in prompt and "．" not in prompt) or not _HAS_OPTION.search(prompt):  # (the test is cheaper)
        return normalized(prompt)
    lines, options = [], []
    for line in prompt.splitlines():
        option = _HAS_OPTION.match(line)
        if option:
            options.append(normalized(line[option.end():]))
            continue
        if options:  # the options end: they stand where they were, as a set
            lines.append("\x1e".join(sorted(options)))
            options = []
        lines.append(normalized(line))
    if options:
        lines.append("\x1e".join(sorted(options)))
    return "\n".join(line for line in lines if line)


def _hash(tag: bytes, text: str) -> bytes:
    return hashlib.blake2b(tag + text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def loose_keys(example, prompt: str | None = None) -> list[bytes]:
    """The hashed normalized keys of an example: its prompt's (``prompt``: ``example.prompt()`` if the
    caller has it already), and its ``dedup_key``'s if it has one."""
    keys = [_hash(b"p", prompt_key(example.prompt() if prompt is None else prompt))]
    item = getattr(example, "dedup_key", None)
    if item:
        keys.append(_hash(b"i", prompt_key(item)))
    return keys


class TestItems:
    """The keys of a held-out split's examples (the test split unless ``reasons`` says otherwise, e.g.
    :data:`VAL_REASONS`); :meth:`match` says why a training example is one of them.

    >>> from llamafactory_domains.plugin.records import Example
    >>> test = TestItems()
    >>> bool(test)
    False
    >>> test.add(Example(instruction="A型血和B型血的人能输血吗？", output="不能"))
    >>> test.match(Example(instruction="A型血和B型血的人能输血吗？", output="不能")) == EXACT
    True
    >>> test.match(Example(instruction="A型血和B型血的人能輸血嗎?", output="不能")) == NORMALIZED
    True
    >>> test.match(Example(instruction="O型血的人能输血吗？", output="能")) is None
    True
    >>> val = TestItems(VAL_REASONS)
    >>> val.add(Example(instruction="A型血和B型血的人能输血吗？", output="不能"))
    >>> val.match(Example(instruction="Ａ型血和Ｂ型血的人，能输血吗", output="不能")) == VAL_NORMALIZED
    True
    """

    __test__ = False  # not a pytest class

    def __init__(self, reasons: tuple[str, str, str] = TEST_REASONS):
        self.exact: set[bytes] = set()
        self.loose: set[bytes] = set()
        self.reasons = reasons  # (exact, normalized, same item)

    def __bool__(self) -> bool:
        return bool(self.exact)

    def __len__(self) -> int:
        return len(self.exact)

    def add(self, example) -> None:
        prompt = example.prompt()
        self.exact.add(example.prompt_hash(prompt))
        self.loose.update(loose_keys(example, prompt))

    def match(self, example) -> str | None:
        """The reason ``example`` is an item of this split (for the test split :data:`EXACT`,
        :data:`NORMALIZED`, :data:`SAME_ITEM`), or None."""
        if not self.exact:
            return None
        exact, normalized_prompt, same_item = self.reasons
        prompt = example.prompt()
        if example.prompt_hash(prompt) in self.exact:
            return exact
        for index, key in enumerate(loose_keys(example, prompt)):
            if key in self.loose:
                return normalized_prompt if index == 0 else same_item
        return None


class HeldOut:
    """Every held-out split a training example must not be an item of (test, then validation): the
    reason of the first that matches, or None. Falsy while all are empty.

    >>> from llamafactory_domains.plugin.records import Example
    >>> test, val = TestItems(), TestItems(VAL_REASONS)
    >>> val.add(Example(instruction="头痛怎么办？", output="休息"))
    >>> HeldOut(test, val).match(Example(instruction="頭痛怎麼辦", output="x")) == VAL_NORMALIZED
    True
    >>> bool(HeldOut(TestItems())), HeldOut(test, val).match(Example(instruction="发烧怎么办？", output="x"))
    (False, None)
    """

    def __init__(self, *splits: TestItems):
        self.splits = splits

    def __bool__(self) -> bool:
        return any(self.splits)

    def match(self, example) -> str | None:
        for split in self.splits:
            reason = split.match(example)
            if reason is not None:
                return reason
        return None
