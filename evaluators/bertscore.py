"""BERTScore against the label with a local BERT model, the same numbers as ``bert_score.score``, faster.

The scores are bert_score's (greedy cosine matching of the last kept layer's token embeddings,
[CLS]/[SEP] weighted 0, empty texts 0), and so are the rescaled ones (``rescale=true``: P, R and F1
each mapped by (score − b) / (1 − b), b being bert_score's zh baseline for the layer), unclipped: a
pair less alike than the baseline's random pairs scores below 0, an empty prediction −b / (1 − b)
(−1.21 at bert-base-chinese's layer 8), so the rescaled metrics are declared ``unbounded``. What
differs is the work: the model is loaded once per evaluator, every distinct text is tokenized in one
call and embedded once, in batches of texts of similar length (bert_score sorts Chinese by the
number of spaces, so its batches pad short texts to the longest), and pairs are processed in
slices so memory stays bounded.
"""

from __future__ import annotations

import csv
import functools
from importlib.util import find_spec
from pathlib import Path
from typing import ClassVar

from ..plugin.progress import bar
from .base import Evaluator, Option, Prediction, UserError, register_evaluator

KEYS = ("bertscore_f1", "bertscore_precision", "bertscore_recall")
HOW_TO_GET_A_MODEL = (
    "download one with `modelscope download --model tiansz/bert-base-chinese --local_dir models/bert-base-chinese`, "
    "then pass -e bertscore:model=models/bert-base-chinese"
)
PAIRS_PER_SLICE = 32  # × batch_size pairs embedded together: bounds memory, keeps bert_score's matching batches


def baselines_folder() -> Path:
    """bert_score's shipped Chinese rescaling baselines (found without importing bert_score, which loads torch)."""
    return Path(find_spec("bert_score").submodule_search_locations[0]) / "rescale_baseline" / "zh"


def model_folder(model: str) -> Path:
    """The local model folder, or a UserError saying how to get one."""
    if not model:
        raise UserError(f"evaluator 'bertscore' needs a local BERT model: {HOW_TO_GET_A_MODEL}")
    path = Path(model).expanduser()
    if not (path / "config.json").is_file():
        what = "no config.json in that folder" if path.is_dir() else "no such folder"
        raise UserError(f"bertscore model {model}: {what}; {HOW_TO_GET_A_MODEL}")
    return path


class Scorer:
    """A model cut to ``num_layers`` (-1: bert_score's layer for the folder's name, else all) and its tokenizer."""

    def __init__(self, path: Path, num_layers: int = -1, model_max_length: int = 512, batch_size: int = 64):
        import torch
        from bert_score.utils import get_model, model2layers
        from transformers import AutoConfig, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        config = AutoConfig.from_pretrained(path)
        layers = config.num_hidden_layers
        self.num_layers = num_layers if num_layers >= 0 else model2layers.get(path.name, layers)
        if not 0 <= self.num_layers <= layers:
            chosen = "" if num_layers >= 0 else f" (bert_score's choice for a model named {path.name})"
            raise UserError(
                f"bertscore model {path} has {layers} layers, not {self.num_layers}{chosen}: "
                f"pass num_layers=0..{layers}"
            )
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        # transformers 5 reports a huge model_max_length when tokenizer_config.json has none: truncation overflows
        self.tokenizer.model_max_length = min(model_max_length, getattr(config, "max_position_embeddings", 512))
        bars = transformers_logging.is_progress_bar_enabled()
        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on stderr
        try:
            self.model = get_model(str(path), self.num_layers)
        finally:
            if bars:
                transformers_logging.enable_progress_bar()
        self.model.to("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = batch_size
        self.unweighted = {self.tokenizer.cls_token_id, self.tokenizer.sep_token_id}

    def embed(self, texts: list[str], progress=None) -> dict[str, tuple]:
        """Text → (token embeddings, token weights) for each distinct text, embedded in length-sorted batches;
        ``progress``: a bar counting the batches."""
        import torch

        texts = list(dict.fromkeys(texts))
        # bert_score strips each text and encodes it with special tokens, truncated to model_max_length
        ids = self.tokenizer([text.strip() for text in texts], add_special_tokens=True, truncation=True)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        device, found = next(self.model.parameters()).device, {}
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                tokens = torch.full((len(batch), len(ids[batch[-1]])), self.tokenizer.pad_token_id)
                mask = torch.zeros_like(tokens)
                for row, i in enumerate(batch):
                    tokens[row, : len(ids[i])], mask[row, : len(ids[i])] = torch.tensor(ids[i]), 1
                hidden = self.model(tokens.to(device), attention_mask=mask.to(device))[0]
                for row, i in enumerate(batch):
                    weights = torch.tensor([float(t not in self.unweighted) for t in ids[i]], device=device)
                    found[texts[i]] = (hidden[row, : len(ids[i])], weights)
                if progress is not None:
                    progress.update()
        return found

    def score(self, hypotheses: list[str], references: list[str]):
        """(n, 3) tensor of precision, recall, F1 of each hypothesis against its reference."""
        import torch

        results, step = [], self.batch_size * PAIRS_PER_SLICE
        starts = range(0, len(hypotheses), step)
        # a bar of the forward passes (on a terminal's stderr): each slice embeds its distinct texts in batches
        batches = sum(-(-len(set(hypotheses[at : at + step] + references[at : at + step])) // self.batch_size)
                      for at in starts)
        progress = bar(batches, "bertscore batches", " batches") if batches else None
        try:
            for start in starts:
                hyps, refs = hypotheses[start : start + step], references[start : start + step]
                embedded = self.embed(hyps + refs, progress)
                # matched in bert_score's batches (batch_size pairs in input order): its padding can move a score
                for at in range(0, len(hyps), self.batch_size):
                    hyp = _padded([embedded[text] for text in hyps[at : at + self.batch_size]])
                    ref = _padded([embedded[text] for text in refs[at : at + self.batch_size]])
                    results.append(torch.stack(_greedy_match(hyp, ref), dim=-1).cpu())
        finally:
            if progress is not None:
                progress.close()
        return torch.cat(results) if results else torch.zeros(0, 3)


def _padded(stats: list[tuple]):
    """Embeddings padded with 2.0 (as bert_score pads them), the token mask and the padded weights."""
    import torch
    from torch.nn.utils.rnn import pad_sequence

    lengths = torch.tensor([len(weights) for _, weights in stats])
    mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
    embeddings = pad_sequence([emb for emb, _ in stats], batch_first=True, padding_value=2.0)
    weights = pad_sequence([weights for _, weights in stats], batch_first=True)
    return embeddings, mask.to(embeddings.device), weights


def _greedy_match(hyp, ref):
    """bert_score's greedy_cos_idf, without its stderr warnings: (precision, recall, F1)."""
    (hyp_emb, hyp_mask, hyp_w), (ref_emb, ref_mask, ref_w) = hyp, ref
    hyp_emb = hyp_emb / hyp_emb.norm(dim=-1, keepdim=True)
    ref_emb = ref_emb / ref_emb.norm(dim=-1, keepdim=True)
    # padding counts as similarity 0, as in bert_score (it only matters when every similarity is negative)
    sim = hyp_emb @ ref_emb.transpose(1, 2) * (hyp_mask[:, :, None] & ref_mask[:, None, :])
    precision = (sim.max(dim=2).values * (hyp_w / hyp_w.sum(dim=1, keepdim=True))).sum(dim=1)
    recall = (sim.max(dim=1).values * (ref_w / ref_w.sum(dim=1, keepdim=True))).sum(dim=1)
    f1 = 2 * precision * recall / (precision + recall)
    empty = (hyp_mask.sum(dim=1) == 2) | (ref_mask.sum(dim=1) == 2)  # only [CLS] [SEP]
    return precision.masked_fill(empty, 0.0), recall.masked_fill(empty, 0.0), f1.masked_fill(f1.isnan(), 0.0)


@register_evaluator("bertscore")
class BertScore(Evaluator):
    """BERTScore F1, precision and recall against the label, with a local BERT model (bert-base-chinese).

    ``score_batch(items)`` scores many items in one pass; ``score(item)`` reuses its result, else
    scores the item alone.

    >>> BertScore()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    llamafactory_domains.plugin.errors.UserError: evaluator 'bertscore' needs a local BERT model: download one with `modelscope ...
    """

    primary = "bertscore_f1"
    unbounded = KEYS  # cosines lie in [-1, 1]; rescaled scores fall below 0 for pairs less alike than random ones
    options: ClassVar[dict[str, Option]] = {
        "model": Option("", "the local BERT model folder (required), e.g. models/bert-base-chinese"),
        "num_layers": Option(-1, "the layer whose token embeddings are matched; -1: bert_score's layer for the "
                                 "folder's name (8 for bert-base-chinese), else the last", least=-1),
        "model_max_length": Option(512, "tokens kept of each text (at most the model's max_position_embeddings)",
                                   least=2),
        "rescale": Option(False, "rescale with the zh baseline bert_score ships for the model (the folder must "
                                 "be named after it: bert-base-chinese), as bert_score does: not clipped, below 0 "
                                 "for pairs less alike than random ones (an empty prediction: about -1.21)"),
        "batch_size": Option(64, "texts per forward pass of the model", least=1),
    }

    def __init__(self, **options):
        super().__init__(**options)
        self.path = model_folder(self.model)
        self.baseline = baselines_folder() / f"{self.path.name}.tsv"
        if self.rescale and not self.baseline.is_file():
            shipped = ", ".join(sorted(p.stem for p in baselines_folder().glob("*.tsv")))
            raise UserError(
                f"bertscore rescale=true: bert_score ships no zh baseline for {self.path.name!r} (only {shipped}); "
                "name the model folder after the model it holds, or drop rescale"
            )
        self._scores: dict[tuple[str, str], dict[str, float]] = {}

    @functools.cached_property
    def scorer(self) -> Scorer:
        return Scorer(self.path, self.num_layers, self.model_max_length, self.batch_size)

    def _rescaled(self, scores):
        """bert_score's rescale_with_baseline for the scorer's layer."""
        import torch

        with open(self.baseline, encoding="utf-8") as f:
            row = list(csv.reader(f))[1 + self.scorer.num_layers]  # LAYER,P,R,F
        baseline = torch.tensor([float(value) for value in row[1:]], dtype=torch.float64).float()
        return (scores - baseline) / (1 - baseline)

    def score_batch(self, items: list[Prediction]) -> list[dict[str, float]]:
        """Scores of all ``items``, computed together."""
        pairs = [(item.predict.strip(), item.label.strip()) for item in items]
        scores = self.scorer.score([hyp for hyp, _ in pairs], [ref for _, ref in pairs])
        if self.rescale:
            scores = self._rescaled(scores)
        per_item = [
            {"bertscore_f1": f1, "bertscore_precision": precision, "bertscore_recall": recall}
            for precision, recall, f1 in scores.tolist()
        ]
        self._scores.update(zip(pairs, per_item))
        return per_item

    def score(self, item: Prediction) -> dict[str, float | None]:
        pair = (item.predict.strip(), item.label.strip())
        if pair not in self._scores:
            self.score_batch([item])
        return self._scores[pair]


def bertscore(predictions: list[str], references: list[str], model: str, **options) -> list[dict[str, float]]:
    """Per-pair ``bertscore_*`` scores with a :class:`BertScore` made for this call (options as its options)."""
    items = [Prediction("", predict, label) for predict, label in zip(predictions, references, strict=True)]
    return BertScore(model=model, **options).score_batch(items)
