"""Exact match, and set match for labels that join several answers with ``##``."""

from __future__ import annotations

from typing import ClassVar

from .base import Evaluator, Option, Prediction, register_evaluator

# full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space → their half-width characters
FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: " "}
# Chinese punctuation → its ASCII equivalent
PUNCT = str.maketrans(
    {
        "，": ",", "、": ",", "。": ".", "：": ":", "；": ";", "！": "!", "？": "?",
        "（": "(", "）": ")", "【": "[", "】": "]", "《": "<", "》": ">", "〈": "<", "〉": ">",
        "“": '"', "”": '"', "‘": "'", "’": "'", "～": "~", "—": "-", "－": "-", "…": "...",
    }
)


@register_evaluator("exact_match")
class ExactMatch(Evaluator):
    """Exact match after stripping whitespace; set match when the label joins answers with ##.

    The options normalize both texts before they are compared, in both metrics.

    >>> em = ExactMatch()
    >>> em.score(Prediction(prompt="", predict=" 高血压", label="高血压\\n"))
    {'exact_match': 1.0}
    >>> em.score(Prediction(prompt="", predict="膝关节游离体##膝骨关节病", label="膝骨关节病##膝关节游离体"))
    {'exact_match': 0.0, 'exact_match_set': 1.0}
    >>> ExactMatch(fullwidth=True, punct=True, ignore_case=True).score(
    ...     Prediction(prompt="", predict="ＣＯＰＤ（急性加重）", label="copd(急性加重)"))
    {'exact_match': 1.0}
    >>> em.aggregate([{"exact_match": 1.0}, {"exact_match": 0.0, "exact_match_set": 1.0}])
    {'exact_match': 0.5, 'exact_match_set': 1.0}
    """

    primary = "exact_match"
    options: ClassVar[dict[str, Option]] = {
        "ignore_case": Option(False, "compare case-insensitively (Unicode casefold): COPD matches copd"),
        "fullwidth": Option(False, "full-width letters, digits, signs and the ideographic space count as "
                                   "half-width: ＣＯＰＤ１ matches COPD1"),
        "punct": Option(False, "Chinese punctuation counts as its ASCII equivalent: （，） matches (,)"),
    }

    def normalize(self, text: str) -> str:
        if self.fullwidth:
            text = text.translate(FULLWIDTH)
        if self.punct:
            text = text.translate(PUNCT)
        if self.ignore_case:
            text = text.casefold()
        return text.strip()

    def terms(self, text: str) -> set[str]:
        return {term.strip() for term in self.normalize(text).split("##") if term.strip()}

    def score(self, item: Prediction) -> dict[str, float | None]:
        scores = {"exact_match": float(self.normalize(item.predict) == self.normalize(item.label))}
        if "##" in item.label:
            scores["exact_match_set"] = float(self.terms(item.predict) == self.terms(item.label))
        return scores
