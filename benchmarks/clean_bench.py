"""Records/second and peak memory of `lfd clean` (the README's command) against the same rules as a plain loop.

The input is 800k synthetic medical dialogue records (``stats_bench.synthetic_records``: alpaca, some with a
system prompt or history, a fifth sharegpt) with what hospital and web dumps carry mixed in, deterministically:
patients' names in the dumps' patterns, mobile numbers, ID-card numbers with a valid check character, HTML
tags and entities, URLs, advertisement phrases, repeated punctuation, zero-width characters, placeholder
answers, exact copies of earlier records and near copies (one character changed or added).

Each side runs in its own process on the same JSONL, timed from start to exit, with its peak RSS:

- ``lfd clean IN --out OUT`` (privacy + junk) against the seed's way: one ``json.loads`` per line, the same
  rule functions (``privacy.mask``, then each junk rule) on every text of the record, the placeholder and
  echo checks, ``json.dumps``; the records written must be the same;
- ``lfd clean IN --out OUT --near-dup 0.9`` against that loop plus a plain ``datasketch`` MinHash +
  MinHashLSH near-duplicate check (128 permutations, 3-character shingles of the same normalized text),
  and how many more records near-duplicate removal finds than exact-hash dedup of the cleaned records;
- ``lfd clean`` on an eighth of the records, to show its memory without --near-dup is flat.

There is no speed target (issue 21 asks for the measurement): it prints the ratios and exits 1 only when
the records differ from the loop's, memory is not flat, or near-dup misses an exact duplicate.

    .venv/bin/python benchmarks/clean_bench.py [--records 800000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stats_bench import synthetic_records
from targets import report

FLAT_MEMORY = 1.25  # peak RSS at all records / at an eighth of them, without --near-dup
NAMES = ("王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周婷", "吴强")
ADS = ("点击咨询", "微信同号13912345678", "加微信 doctor2024", "扫码关注公众号", "咨询热线：400-123-4567")
JUNK = ("<br>", "<p>", "&nbsp;", "！！！", "？？", "\u200b", " https://health.example.cn/a?id=3 ", " www.example.com ")


def id_card(rng: random.Random) -> str:
    """A mainland ID-card number with a known province, a real birth date and its GB 11643 check character."""
    body = (f"{rng.choice((11, 31, 44, 51, 61))}{rng.randint(1, 9999):04d}"
            f"{rng.randint(1950, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}")
    total = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)))
    return body + "10X98765432"[total % 11]


def dumped(count: int, seed: int = 0) -> list[dict]:
    """``count`` records as a dump holds them: personal data, junk, placeholders, exact and near copies."""
    rng = random.Random(seed)
    records = synthetic_records(count, seed)
    for i, record in enumerate(records):
        turns = record.get("conversations")
        ask, key_q = (turns[0], "value") if turns else (record, "instruction")
        say, key_a = (turns[1], "value") if turns else (record, "output")
        roll = rng.random()
        if roll < 0.05:
            ask[key_q] = f"患者{rng.choice(NAMES)}，" + ask[key_q]
        elif roll < 0.08:
            ask[key_q] += f"我的电话是1{rng.choice('3589')}{rng.randint(0, 999999999):09d}，身份证号{id_card(rng)}。"
        if rng.random() < 0.06:
            say[key_a] = say[key_a][:20] + rng.choice(JUNK) + say[key_a][20:] + rng.choice(ADS) + "。"
        if rng.random() < 0.01:
            say[key_a] = rng.choice(("无", "略", "同上", "N/A"))
        if i > 10 and rng.random() < 0.02:
            records[i] = json.loads(json.dumps(records[rng.randrange(i)]))  # an exact copy of an earlier record
        elif i > 10 and rng.random() < 0.03:
            copy = json.loads(json.dumps(records[rng.randrange(i)]))  # a near copy: one character changed or added
            turns = copy.get("conversations")
            target, key = (turns[1], "value") if turns else (copy, "output")
            text, at = target[key], rng.randrange(max(1, len(target[key])))
            target[key] = text[:at] + rng.choice("的了呢吧，") + text[at + (rng.random() < 0.5):]
            records[i] = copy
    return records


def seed_loop(source: Path, out: Path, near_dup: bool) -> None:
    """The same rules as a plain per-record loop (and, with ``near_dup``, datasketch's MinHashLSH as documented)."""
    from llamafactory_domains.plugin.cleaning import junk, privacy
    from llamafactory_domains.plugin.cleaning.near_dup import compared_text
    from llamafactory_domains.plugin.cleaning.pipeline import dialogue, texts

    lsh = None
    if near_dup:
        from datasketch import MinHash, MinHashLSH

        lsh = MinHashLSH(threshold=0.9, num_perm=128)
    with open(source, encoding="utf-8") as lines, open(out, "w", encoding="utf-8") as written:
        for number, line in enumerate(lines, 1):
            record = json.loads(line)
            for _, container, key in list(texts(record)):
                text = privacy.mask(container[key])[0]
                for rule in (junk.control, junk.zero_width, junk.html_junk, junk.punct, junk.url, junk.ads):
                    text = rule(text)[0]
                container[key] = text
            answers, question = dialogue(record)
            if any(junk.placeholder(answer) for answer in answers) or (answers and junk.echoes(answers[-1], question)):
                continue
            if lsh is not None:
                text = compared_text(record)
                signature = MinHash(num_perm=128, seed=1)
                signature.update_batch([text[i:i + 3].encode("utf-8") for i in range(max(1, len(text) - 2))])
                if lsh.query(signature):
                    continue
                lsh.insert(number, signature)
            written.write(json.dumps(record, ensure_ascii=False) + "\n")


def measured(command: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of a command run to its end in a process of its own; it must succeed."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    error = child.stderr.read().decode("utf-8", "replace")
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{error}")
    return seconds, usage.ru_maxrss / 1024


def conversation_hash(record: dict) -> bytes:
    from llamafactory_domains.plugin.cleaning.pipeline import texts

    return hashlib.blake2b("\n".join(c[k] for _, c, k in texts(record)).encode("utf-8"), digest_size=16).digest()


def read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=800_000)
    parser.add_argument("--seed-loop", nargs=3, metavar=("IN", "OUT", "NEAR_DUP"), help=argparse.SUPPRESS)
    parser.add_argument("--write-dump", nargs=2, metavar=("ALL", "EIGHTH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed_loop:  # the baseline, in a process of its own
        source, out, near = args.seed_loop
        seed_loop(Path(source), Path(out), near == "1")
        return 0
    if args.write_dump:  # in a process of its own too: a child forked from a big parent would report its memory
        lines = [json.dumps(record, ensure_ascii=False) + "\n" for record in dumped(args.records)]
        Path(args.write_dump[0]).write_text("".join(lines), encoding="utf-8")
        Path(args.write_dump[1]).write_text("".join(lines[:max(1, len(lines) // 8)]), encoding="utf-8")
        return 0

    lfd = str(Path(sys.executable).with_name("lfd"))
    loop = [sys.executable, __file__, "--seed-loop"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data, eighth = folder / "dump.jsonl", folder / "eighth.jsonl"
        subprocess.run([sys.executable, __file__, "--records", str(args.records), "--write-dump", str(data),
                        str(eighth)], check=True)
        print(f"{args.records} records, {data.stat().st_size / 2**20:.1f} MiB", flush=True)
        rows = {
            "lfd clean": measured([lfd, "clean", str(data), "--out", str(folder / "lfd.jsonl")]),
            "seed loop": measured([*loop, str(data), str(folder / "loop.jsonl"), "0"]),
            "lfd clean --near-dup 0.9": measured([lfd, "clean", str(data), "--out", str(folder / "lfd_nd.jsonl"),
                                                  "--near-dup", "0.9"]),
            "seed loop + MinHashLSH": measured([*loop, str(data), str(folder / "loop_nd.jsonl"), "1"]),
            "lfd clean, an eighth of the records": measured([lfd, "clean", str(eighth), "--out",
                                                             str(folder / "eighth_out.jsonl")]),
        }
        cleaned, looped = read(folder / "lfd.jsonl"), read(folder / "loop.jsonl")
        near, loop_near = read(folder / "lfd_nd.jsonl"), sum(1 for _ in open(folder / "loop_nd.jsonl", "rb"))

    exact = len(cleaned) - len({conversation_hash(record) for record in cleaned})
    near_dropped = len(cleaned) - len(near)
    exact_left = len(near) - len({conversation_hash(record) for record in near})
    print(f"\n{'':<40} {'seconds':>8} {'records/s':>10} {'peak MB':>8} {'ratio':>7}")
    for name, (seconds, peak) in rows.items():
        count = args.records // 8 if "eighth" in name else args.records
        ratio = {"lfd clean": rows["seed loop"][0] / seconds,
                 "lfd clean --near-dup 0.9": rows["seed loop + MinHashLSH"][0] / seconds}.get(name)
        shown = f"{ratio:6.2f}×" if ratio is not None else ""
        print(f"{name:<40} {seconds:8.1f} {count / seconds:10.0f} {peak:8.0f} {shown:>7}")
    print(f"\nwritten: lfd clean {len(cleaned)}, seed loop {len(looped)}; with near-duplicates out: lfd clean "
          f"{len(near)}, seed loop + MinHashLSH {loop_near}")
    print(f"exact-hash dedup of the cleaned records finds {exact}; --near-dup 0.9 drops {near_dropped} "
          f"({near_dropped - exact} more)")
    flat = rows["lfd clean"][1] / rows["lfd clean, an eighth of the records"][1]
    checks = [
        ("lfd clean writes the records the seed loop writes", cleaned == looped),
        (f"--near-dup leaves no exact duplicate ({exact_left} left) and drops at least as many ({near_dropped} ≥ "
         f"{exact})", exact_left == 0 and near_dropped >= exact),
        (f"lfd clean's memory is flat: peak at all records ≤ {FLAT_MEMORY}× at an eighth ({flat:.2f}×)",
         flat <= FLAT_MEMORY),
    ]
    return report(checks)


if __name__ == "__main__":
    sys.exit(main())
