"""Character BLEU-4 of Chinese text, exactly as LLaMA-Factory's predict step scores it.

LLaMA-Factory (``ComputeSimilarity`` in llamafactory/train/sft/metric.py) calls nltk's
``sentence_bleu`` on the characters of the prediction against those of the label, with
``SmoothingFunction().method3``, and rounds each score to 4 decimals of a percent; so does this, on
the texts as they are: the label's template newline is a character too (建议低盐饮食 against
建议低盐饮食\\n scores 0.846482). ``strip=true`` adds ``bleu-4_stripped``, the score of the stripped texts;
``bleu-4`` stays LLaMA-Factory's number.
"""

from __future__ import annotations

import functools
import warnings
from typing import ClassVar

from .base import Evaluator, Option, Prediction, register_evaluator
from .rouge_zh import percent_rounded


@functools.cache
def _bleu():
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    return functools.partial(sentence_bleu, smoothing_function=SmoothingFunction().method3)


def bleu_zh(hypothesis: str, reference: str) -> dict[str, float]:
    """``bleu-4`` in [0, 1] of the characters of ``hypothesis`` against those of ``reference``.

    >>> bleu_zh("患者头痛三天", "患者头痛三天")
    {'bleu-4': 1.0}
    >>> bleu_zh("患者头痛两天", "患者头痛三天")
    {'bleu-4': 0.537285}
    >>> bleu_zh("", "头痛")
    {'bleu-4': 0.0}
    """
    with warnings.catch_warnings():  # nltk warns about n-gram orders without any overlap
        warnings.simplefilter("ignore")
        value = _bleu()([list(reference)], list(hypothesis))
    return {"bleu-4": percent_rounded(value)}


@register_evaluator("bleu_zh")
class BleuZh(Evaluator):
    """Character BLEU-4 (smoothing method 3) as LLaMA-Factory's predict step reports it (÷100).

    >>> BleuZh().score(Prediction(prompt="", predict="建议低盐饮食", label="建议低盐饮食\\n"))
    {'bleu-4': 0.846482}
    >>> BleuZh(strip=True).score(Prediction(prompt="", predict="建议低盐饮食", label="建议低盐饮食\\n"))
    {'bleu-4': 0.846482, 'bleu-4_stripped': 1.0}
    """

    primary = "bleu-4"
    options: ClassVar[dict[str, Option]] = {
        "strip": Option(False, "also report bleu-4_stripped: the score of predict and label without surrounding "
                               "whitespace (the template's newline); bleu-4 always scores the raw strings, as "
                               "LLaMA-Factory's predict step does"),
    }

    def score(self, item: Prediction) -> dict[str, float | None]:
        scores = bleu_zh(item.predict, item.label)
        if self.strip:
            scores["bleu-4_stripped"] = bleu_zh(item.predict.strip(), item.label.strip())["bleu-4"]
        return scores
