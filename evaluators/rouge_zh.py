"""ROUGE-1/2/L F of Chinese text: jieba words exactly as LLaMA-Factory's predict step scores them, or characters.

LLaMA-Factory (``ComputeSimilarity`` in llamafactory/train/sft/metric.py) cuts both texts with jieba,
joins the words with spaces and hands them to ``rouge_chinese.Rouge``; a text with no word scores
0. The same token lists, n-gram sets and LCS are computed here without rouge_chinese's
O(n·m) dictionary (which runs out of memory on a runaway generation), and each score is rounded
as LLaMA-Factory rounds it (4 decimals of a percent), so ``100 × rouge-1`` is its number. Like
LLaMA-Factory, the texts are scored as they are, the label's template newline included (ROUGE mostly
ignores whitespace; not always). ``strip=true`` adds ``rouge-1_stripped``, ``rouge-2_stripped`` and
``rouge-l_stripped``, the scores of the stripped texts; ``level=char`` reports ``rouge-1_char``, … (not
LLaMA-Factory's numbers, so not under their names). ``rouge-1/2/l`` are always LLaMA-Factory's numbers.
"""

from __future__ import annotations

import functools
import warnings
from typing import ClassVar

from .base import Evaluator, Option, Prediction, UserError, register_evaluator

LEVELS = ("word", "char")
ZERO = {"rouge-1": 0.0, "rouge-2": 0.0, "rouge-l": 0.0}


@functools.cache
def _jieba():
    from ..plugin.retrieval import load_jieba

    return load_jieba()  # quiet, its cache in a folder of our own (not /tmp/jieba.cache)


@functools.cache
def _sentence_cutter():
    with warnings.catch_warnings():  # rouge_chinese's regexes have invalid escapes
        warnings.simplefilter("ignore")
        from rouge_chinese import Rouge

    return Rouge().cut_sent


def units(text: str, level: str = "word") -> list[str]:
    """jieba words or characters, as rouge_chinese sees them: whitespace dropped, sentences joined.

    >>> units("患者头痛。建议休息") == ["患者", "头痛", "。", "建议", "休息"]
    True
    >>> units("头 痛\\n", "char")
    ['头', '痛']
    """
    pieces = _jieba().cut(text) if level == "word" else text
    # rouge_chinese: split into sentences, squash whitespace, split each sentence on single spaces
    sentences = _sentence_cutter()(" ".join(pieces))
    return [word for sentence in sentences if sentence for word in " ".join(sentence.split()).split(" ")]


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison–Dix/Hyyrö): a few big-int operations per b unit.

    >>> lcs_length(list("ABCBDAB"), list("BDCABA"))
    4
    """
    positions: dict[str, int] = {}
    for index, unit in enumerate(a):
        positions[unit] = positions.get(unit, 0) | 1 << index
    full = (1 << len(a)) - 1
    row = full  # a zero bit marks a position where the LCS grew
    for unit in b:
        matched = row & positions.get(unit, 0)
        row = ((row + matched) | (row - matched)) & full
    return len(a) - row.bit_count()


def _f(overlap: int, hyp_count: int, ref_count: int) -> float:
    """rouge_chinese's F, with its 1e-8 in the denominator and its operation order."""
    precision = overlap / hyp_count if hyp_count else 0.0
    recall = overlap / ref_count if ref_count else 0.0
    return 2.0 * ((precision * recall) / (precision + recall + 1e-8))


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def percent_rounded(value: float) -> float:
    """LLaMA-Factory's rounding (4 decimals of a percent), as a fraction without float noise.

    >>> percent_rounded(0.846482034)
    0.846482
    """
    return round(round(value * 100, 4) / 100, 6)


def rouge_zh(hypothesis: str, reference: str, level: str = "word") -> dict[str, float]:
    """``rouge-1``, ``rouge-2``, ``rouge-l`` F in [0, 1] of ``hypothesis`` against ``reference``.

    >>> rouge_zh("患者头痛三天", "患者头痛两天")
    {'rouge-1': 0.666667, 'rouge-2': 0.5, 'rouge-l': 0.666667}
    >>> rouge_zh("", "头痛")
    {'rouge-1': 0.0, 'rouge-2': 0.0, 'rouge-l': 0.0}
    """
    hyp, ref = units(hypothesis, level), units(reference, level)
    if not hyp or not ref:  # LLaMA-Factory's rule for an empty text
        return dict(ZERO)
    scores = {}
    for n in (1, 2):
        hyp_set, ref_set = _ngrams(hyp, n), _ngrams(ref, n)
        scores[f"rouge-{n}"] = _f(len(hyp_set & ref_set), len(hyp_set), len(ref_set))
    scores["rouge-l"] = _f(lcs_length(ref, hyp), len(hyp), len(ref))
    return {name: percent_rounded(value) for name, value in scores.items()}


@register_evaluator("rouge_zh")
class RougeZh(Evaluator):
    """ROUGE-1/2/L F on jieba words as LLaMA-Factory's predict step reports them (÷100), or on characters.

    >>> rouge = RougeZh()
    >>> rouge.score(Prediction(prompt="", predict="建议低盐饮食", label="建议低盐饮食\\n"))
    {'rouge-1': 1.0, 'rouge-2': 1.0, 'rouge-l': 1.0}
    >>> RougeZh(level="char").score(Prediction(prompt="", predict="头痛三天", label="头疼三天"))
    {'rouge-1_char': 0.75, 'rouge-2_char': 0.333333, 'rouge-l_char': 0.75}
    >>> RougeZh(strip=True).score(Prediction(prompt="", predict="头痛", label=" \\n头痛"))  # doctest: +NORMALIZE_WHITESPACE
    {'rouge-1': 0.666667, 'rouge-2': 0.0, 'rouge-l': 0.666667,
     'rouge-1_stripped': 1.0, 'rouge-2_stripped': 0.0, 'rouge-l_stripped': 1.0}
    """

    primary = "rouge-l"
    options: ClassVar[dict[str, Option]] = {
        "level": Option("word", "word: jieba words, as LLaMA-Factory scores them; char: characters, reported "
                                "as rouge-1_char, rouge-2_char, rouge-l_char (whitespace dropped either way)"),
        "strip": Option(False, "also report rouge-1_stripped, rouge-2_stripped, rouge-l_stripped: the scores of "
                               "predict and label without surrounding whitespace (the template's newline); "
                               "rouge-1/2/l always score the raw strings, as LLaMA-Factory's predict step does"),
    }

    def __init__(self, **options):
        super().__init__(**options)
        if self.level not in LEVELS:
            raise UserError(f"option level of evaluator 'rouge_zh' must be word or char, got {self.level!r}")
        self.suffix = "_char" if self.level == "char" else ""
        self.primary = f"rouge-l{self.suffix}"

    def score(self, item: Prediction) -> dict[str, float | None]:
        scores = {f"{name}{self.suffix}": value for name, value in rouge_zh(item.predict, item.label, self.level).items()}
        if self.strip:
            stripped = rouge_zh(item.predict.strip(), item.label.strip(), self.level)
            scores.update({f"{name}{self.suffix}_stripped": value for name, value in stripped.items()})
        return scores
