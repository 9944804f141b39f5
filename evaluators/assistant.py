"""The knowledge-base assistant's scores: does it refuse when it should, answer when it can, and was the source found?

On a test split of `lfd convert pharma_rag` (``--test-negatives`` adds refusal items whose passages
lack the answer):

- ``refusal_accuracy``: on the refusal items, the reply is a refusal sentence;
- ``false_refusal_rate`` (lower is better): on the answerable items, the reply is one;
- ``source_recall@1`` / ``source_recall@K``: on answerable items whose answer some knowledge-base
  passage holds, one of the first 1 / K retrieved passages holds it (the record's ``gold_rank``).
  This scores the retrieval, so it is the same for every model on one split.

A reply is a refusal when it says "根据已知信息无法回答该问题" or "没有提供足够的相关信息", the prompt's two
sentences (width, punctuation and spaces ignored: plugin/rag_prompt.py). Without ``--dataset``
an item is a refusal item when its label is a refusal sentence, and recall is not scored.
"""

from __future__ import annotations

from typing import ClassVar

from ..plugin.rag_prompt import is_refusal
from .base import Evaluator, Option, Prediction, register_evaluator


@register_evaluator("assistant")
class Assistant(Evaluator):
    """Refusal accuracy on unanswerable items, false refusals on answerable ones, source recall@k.

    >>> a = Assistant()
    >>> a.score(Prediction("", "根据已知信息，无法回答该问题。", "根据已知信息无法回答该问题", {"negative": True}))
    {'refusal_accuracy': 1.0}
    >>> a.score(Prediction("", "有效期为五年。", "五年。", {"negative": False, "gold_rank": 3}))
    {'false_refusal_rate': 0.0, 'source_recall@1': 0.0, 'source_recall@5': 1.0}
    >>> a.score(Prediction("", "没有提供足够的相关信息", "五年。", {"negative": False, "gold_rank": None,
    ...                                                  "answer_in_kb": False}))
    {'false_refusal_rate': 1.0, 'source_recall@1': None, 'source_recall@5': None}
    """

    primary = "refusal_accuracy"
    options: ClassVar[dict[str, Option]] = {
        "k": Option(5, "source recall at the first k retrieved passages (pharma_rag's --top-k)", least=1),
    }

    def score(self, item: Prediction) -> dict[str, float | None]:
        record = item.record or {}
        negative = record["negative"] if isinstance(record.get("negative"), bool) else is_refusal(item.label)
        refused = float(is_refusal(item.predict))
        if negative:
            return {"refusal_accuracy": refused}
        scores = {"false_refusal_rate": refused}
        if "gold_rank" in record:
            rank = record["gold_rank"] if isinstance(record["gold_rank"], int) else None
            found = rank is not None or record.get("answer_in_kb") is not False
            for k in dict.fromkeys((1, self.k)):
                scores[f"source_recall@{k}"] = float(rank is not None and rank <= k) if found else None
        return scores
