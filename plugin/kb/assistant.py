"""One question to the knowledge-base assistant: retrieve, build the training prompt, generate, cite.

The prompt is :func:`plugin.rag_prompt.build_prompt` over the passages the base retrieves, the
function `lfd convert pharma_rag` builds its instructions with, so a model tuned on that data is
asked at serving time exactly as it was taught. When the prompt is longer than the model's
``cutoff_len`` the lowest-ranked passages are left out until it fits, and the reply says so (a
question longer than cutoff_len on its own is asked with no passage). When nothing is retrieved
(BM25: no passage shares a word with the question) the answer is the refusal sentence, and the
model is not asked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..rag_prompt import REFUSAL, build_prompt, is_refusal
from .store import StoredKb


@dataclass(frozen=True)
class Source:
    rank: int
    source: str  # the document's cited name
    passage: str


@dataclass
class Reply:
    question: str
    answer: str
    sources: list[Source] = field(default_factory=list)
    refused: bool = False  # the answer is a refusal sentence (said by the model, or nothing was retrieved)
    retrieved: int = 0  # passages retrieved before any trimming
    trimmed: str | None = None  # what was left out to fit cutoff_len, said once
    model: str = ""
    prompt: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def messages_for(prompt: str) -> list[dict]:
    """The chat messages of one alpaca record whose instruction is ``prompt`` (no input, no system)."""
    return [{"role": "user", "content": prompt}]


class Assistant:
    """A stored knowledge base and a model (:mod:`.models`); ``model`` may be None for retrieval alone."""

    def __init__(self, kb: StoredKb, model=None, top_k: int | None = None, temperature: float = 0.0,
                 max_new_tokens: int | None = None):
        self.kb, self.model, self.top_k = kb, model, top_k
        self.temperature, self.max_new_tokens = temperature, max_new_tokens

    def prompt(self, question: str) -> tuple[str, list[Source], int, str | None]:
        """(prompt, its sources, passages retrieved, the trimming note) for a question."""
        base = self.kb.knowledge_base()
        spans = self.kb.search(question, self.top_k)
        sources = [Source(rank, base.source(span), base.text(span)) for rank, span in enumerate(spans, 1)]
        kept = len(sources)
        prompt = build_prompt([s.passage for s in sources], question)
        limit = getattr(self.model, "cutoff_len", None)
        if not limit or not sources:
            return prompt, sources, len(sources), None
        full = tokens = self.model.count(messages_for(prompt))  # each count runs the tokenizer: once per prompt
        while kept and tokens > limit:
            kept -= 1
            prompt = build_prompt([s.passage for s in sources[:kept]], question)
            tokens = self.model.count(messages_for(prompt))
        if kept == len(sources):
            return prompt, sources, len(sources), None
        note = (f"the prompt with {len(sources)} passages is {full} tokens, over cutoff_len {limit}: "
                f"kept the first {kept} passages ({tokens} tokens)")
        if tokens > limit:
            note += "; the question alone is over cutoff_len, so it is asked with no passage"
        return prompt, sources[:kept], len(sources), note

    def ask(self, question: str) -> Reply:
        question = question.strip()
        prompt, sources, retrieved, note = self.prompt(question)
        if not retrieved:  # the model is not asked (nor, for an endpoint, reached)
            return Reply(question, REFUSAL, [], True, 0, None, "", prompt)
        answer = self.model.reply(messages_for(prompt), self.temperature, self.max_new_tokens).strip()
        return Reply(question, answer, sources, is_refusal(answer), retrieved, note, self.model.name, prompt)

    def chat(self, history: list[dict], message: str) -> str:
        """Plain chat (no retrieval): the conversation so far and the new message."""
        turns = [{"role": t["role"], "content": t["content"]} for t in history if t.get("role") in ("user", "assistant")]
        return self.model.reply([*turns, {"role": "user", "content": message}], self.temperature,
                                self.max_new_tokens).strip()


def render(reply: Reply) -> str:
    """The terminal text: the answer, then each numbered source with its passage.

    >>> print(render(Reply("q", "五年。", [Source(1, "药品注册示例办法.txt", "第十条　有效期为五年。")], retrieved=1)))
    五年。
    <BLANKLINE>
    出处 [1] 药品注册示例办法.txt
        第十条　有效期为五年。
    """
    lines = [reply.answer]
    if reply.sources:
        lines.append("")
    for source in reply.sources:
        lines += [f"出处 [{source.rank}] {source.source}", f"    {source.passage}"]
    return "\n".join(lines)
