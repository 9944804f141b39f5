"""The grounded-QA prompt: one function builds it for training (`lfd convert pharma_rag`) and for serving
(`lfd kb ask`, `lfd kb serve`), so the model is asked at serving time exactly as it was taught.

The wording is the seed's 药事法规 assistant's (langchain-Chatchat's knowledge-base prompt); the two
sentences it tells the model to answer with when the passages do not hold the answer are
:data:`REFUSALS`, and :func:`is_refusal` is how a reply is read as one of them.
"""

from __future__ import annotations

import re
import unicodedata

PROMPT = ("已知信息：\n{context}\n\n根据上述已知信息，简洁和专业的来回答用户的问题。如果无法从中得到答案，"
          "请说“根据已知信息无法回答该问题”或“没有提供足够的相关信息”，不允许在答案中添加编造成分，"
          "答案请使用中文。问题是：{question}")
REFUSAL = "根据已知信息无法回答该问题"  # the answer of the training refusals (--negatives)
REFUSALS = (REFUSAL, "没有提供足够的相关信息")
_FOLD = re.compile(r"[\s\W_]+")


def build_prompt(passages: list[str], question: str) -> str:
    """The prompt for ``question`` over the retrieved ``passages`` (best first), one passage a line.

    >>> print(build_prompt(["第十条　有效期为五年。", "第十一条　……"], "有效期几年？")[:26])
    已知信息：
    第十条　有效期为五年。
    第十一条　……
    <BLANKLINE>
    """
    return PROMPT.format(context="\n".join(passages), question=question)


def is_refusal(reply: str) -> bool:
    """Whether a reply says one of the two refusal sentences (width, punctuation and spaces ignored).

    >>> is_refusal("根据已知信息，无法回答该问题。"), is_refusal("没有提供足够的相关信息"), is_refusal("有效期为五年。")
    (True, True, False)
    """
    folded = _FOLD.sub("", unicodedata.normalize("NFKC", reply))
    return any(_FOLD.sub("", sentence) in folded for sentence in REFUSALS)
