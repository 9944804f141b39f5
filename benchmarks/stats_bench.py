"""Records/second of `lfd stats` against the seed's per-record loop, on the same synthetic dialogue records.

The records are Chinese medical dialogues of realistic lengths (a patient's question of ~30-400 characters,
a doctor's answer of ~50-900, some with a system prompt or an earlier exchange, a fifth as sharegpt),
generated deterministically and written as one JSONL. Both sides read that file and use the same tokenizer:
the tiny model's (``build_tiny_model`` into a temp folder), or ``--tokenizer PATH`` (a real Qwen folder,
e.g. models/Qwen2.5-7B-Instruct, is used by default when it is there). The baseline is the seed's loop, one
``apply_chat_template(chat, tokenize=True, add_generation_prompt=True)`` and one response + eos tokenization
per record; `lfd stats` is timed as its ``run`` does it (check pass, tokenizer load, batched counting,
summary). A third row times the tokenizer alone (the backend's ``encode_batch_fast`` of the already rendered
texts): no exact count can be faster, so baseline / that is the ceiling of the speed-up. Targets: the per-length counts of prompt, response and total are identical (so every percentile is)
and `lfd stats` is at least 10× faster.

    .venv/bin/python benchmarks/stats_bench.py [--records 100000] [--tokenizer PATH]
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from llamafactory_domains.plugin.commands import stats
from llamafactory_domains.plugin.io.json_lines import read_json_lines
from targets import report

SPEEDUP_TARGET = 10.0
REAL_TOKENIZERS = ("models/Qwen2.5-7B-Instruct", "models/Qwen2.5-0.5B-Instruct")
SYMPTOMS = ("头痛", "发热", "咳嗽", "胸闷", "心悸", "腹痛", "腹泻", "恶心", "呕吐", "头晕", "乏力", "失眠", "关节疼痛",
            "腰痛", "皮疹", "咽喉痛", "血压偏高", "血糖偏高", "月经不调", "尿频")
QUESTION = ("医生您好，", "我今年{age}岁，", "最近{days}天一直{symptom}，", "有时候还会{symptom}，", "晚上睡不好，",
            "之前查过血常规，", "医生说是{disease}，", "吃了{drug}也没有明显好转，", "请问这是怎么回事？",
            "需要做什么检查吗？", "平时要注意什么？", "孩子{age}岁，", "家里老人有{disease}病史，")
ANSWER = ("您好，", "根据您的描述，", "考虑{disease}的可能性比较大，", "也不排除{disease}，", "建议到医院做{exam}检查，",
          "明确诊断后对症治疗，", "可以口服{drug}，", "每日两次，", "注意休息，", "多喝水，", "饮食清淡，低盐低脂，",
          "避免劳累和熬夜，", "如果{symptom}加重，", "请及时就医。", "一般预后良好，不必过于担心。", "定期复查{exam}。")
FILL = {"disease": ("高血压", "糖尿病", "上呼吸道感染", "胃炎", "颈椎病", "甲状腺结节", "冠心病", "支气管炎"),
        "drug": ("布洛芬", "阿莫西林", "奥美拉唑", "二甲双胍", "氨氯地平", "连花清瘟胶囊"),
        "exam": ("血常规", "心电图", "胸片", "肝功能", "肾功能", "甲状腺彩超", "胃镜", "头颅CT")}
SYSTEM = "你是一名经验丰富的全科医生，请根据患者的描述给出专业、耐心的建议。"


def synthetic_records(count: int, seed: int = 0) -> list[dict]:
    """Deterministic med_dialog-like records: alpaca (some with system/history) and, every fifth, sharegpt."""
    rng = random.Random(seed)

    def text(parts: tuple[str, ...], median_clauses: float) -> str:
        clauses = max(2, round(rng.lognormvariate(0, 0.6) * median_clauses))
        return "".join(rng.choice(parts).format(age=rng.randint(1, 85), days=rng.randint(1, 30),
                                                symptom=rng.choice(SYMPTOMS),
                                                **{k: rng.choice(v) for k, v in FILL.items()}) for _ in range(clauses))

    records = []
    for i in range(count):
        question, answer = text(QUESTION, 7), text(ANSWER, 12)
        if i % 5 == 4:
            records.append({"conversations": [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]})
            continue
        record = {"instruction": question, "input": "", "output": answer}
        if rng.random() < 0.3:
            record["system"] = SYSTEM
        if rng.random() < 0.1:
            record["history"] = [[text(QUESTION, 4), text(ANSWER, 6)]]
        records.append(record)
    return records


def per_record_loop(path: Path, tokenizer) -> dict[str, collections.Counter]:
    """The seed's counting: one apply_chat_template(tokenize=True) per record, histograms of the lengths."""
    rows = {"prompt": collections.Counter(), "response": collections.Counter(), "total": collections.Counter()}
    eos = tokenizer.eos_token or ""
    for _, record in read_json_lines(path, "a JSONL file"):
        chat, response = stats.messages(record)
        ids = tokenizer.apply_chat_template(chat, tokenize=True, add_generation_prompt=True)
        prompt = len(ids["input_ids"] if hasattr(ids, "keys") else ids)
        answer = len(tokenizer(response + eos, add_special_tokens=False)["input_ids"])
        rows["prompt"][prompt] += 1
        rows["response"][answer] += 1
        rows["total"][prompt + answer] += 1
    return rows


def lfd_stats(path: Path, folder: str) -> tuple[dict, dict[str, collections.Counter]]:
    """What `lfd stats PATH --tokenizer FOLDER` does (run()), returning the summary and the histograms."""
    n = stats.check_records(path)
    tokenizer = stats.load_tokenizer(folder)
    rows = stats.histograms(path, tokenizer, n)
    return stats.summary(rows), rows


def tokenizer_alone(path: Path, tokenizer) -> float:
    """Seconds of the Rust tokenizer alone on every rendered prompt and response + eos (rendered beforehand)."""
    eos, texts = tokenizer.eos_token or "", []
    for batch in stats.batches(path):
        texts += tokenizer.apply_chat_template([chat for chat, _ in batch], tokenize=False, add_generation_prompt=True)
        texts += [response + eos for _, response in batch]
    tokenizer(texts[:1], add_special_tokens=False)  # sets the backend up as the command's first call does
    start = time.perf_counter()
    for i in range(0, len(texts), 2 * stats.BATCH):
        tokenizer._tokenizer.encode_batch_fast(texts[i:i + 2 * stats.BATCH], add_special_tokens=False)
    return time.perf_counter() - start


def timed(work):
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--tokenizer", help="a model folder (default: a real Qwen under models/, else the tiny model)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "dialogue.jsonl"
        records = synthetic_records(args.records)
        data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        chars = sum(len(r.get("instruction", "")) + len(r.get("output", "")) for r in records if "output" in r)
        print(f"{len(records)} records, {chars / sum('output' in r for r in records):.0f} characters per alpaca "
              f"question + answer, {data.stat().st_size / 2**20:.1f} MiB")
        del records
        folder = args.tokenizer or next((p for p in REAL_TOKENIZERS if Path(p, "tokenizer.json").is_file()), None)
        if folder is None:
            from llamafactory_domains.plugin.tiny_model import build_tiny_model

            folder = str(build_tiny_model(Path(tmp) / "tiny"))
            print("tokenizer: the tiny model's (no Qwen folder under models/)")
        else:
            print(f"tokenizer: {folder}")
        tokenizer = stats.load_tokenizer(folder)  # imports transformers: neither side is charged for them
        baseline, baseline_seconds = timed(lambda: per_record_loop(data, tokenizer))
        (result, rows), seconds = timed(lambda: lfd_stats(data, folder))
        floor_seconds = tokenizer_alone(data, tokenizer)

    n = result["n"]
    speedup = baseline_seconds / seconds
    print(f"\n{'counting':<44} {'seconds':>9} {'records/s':>10} {'speed-up':>9}")
    print(f"{'lfd stats (batched, streaming histograms)':<44} {seconds:9.2f} {n / seconds:10.0f} {speedup:8.2f}×")
    print(f"{'seed loop (apply_chat_template per record)':<44} {baseline_seconds:9.2f} {n / baseline_seconds:10.0f}")
    print(f"{'tokenizer alone (Rust, texts rendered before)':<44} {floor_seconds:9.2f} {n / floor_seconds:10.0f} "
          f"{baseline_seconds / floor_seconds:8.2f}×  (the ceiling for exact counts)")
    print(f"\ncutoff_len {result['cutoff_len']}; " + "; ".join(
        f"{name} " + "/".join(str(row[k]) for k in ("p50", "p90", "p99", "max")) for name, row in result["lengths"].items()))
    checks = [
        (f"per-length counts of prompt, response and total identical to the seed loop ({n} records)", rows == baseline),
        ("summary identical to the seed loop's", result == stats.summary(baseline)),
        (f"lfd stats ≥ {SPEEDUP_TARGET:g}× the seed loop ({speedup:.2f}×)", speedup >= SPEEDUP_TARGET),
    ]
    return report(checks)


if __name__ == "__main__":
    sys.exit(main())
