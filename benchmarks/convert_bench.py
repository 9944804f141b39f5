"""Records/second and peak memory of the README's `lfd convert med_dialog` commands against the seed's way.

Generates synthetic Chinese-medical-dialogue data at each size (default 200,000 and 800,000 records):
a ModelScope file (ONE JSON array, indented by 4, of ``{"instruction": title, "input": ask, "output":
answer, "history": null}``, ~920 bytes a record: 736 MB at 800,000) and Toyhom-like department CSVs
(four GB18030 files ``department,title,ask,answer``, a tenth of the asks holding a newline), then
runs, each in its own process:

* options: ``lfd convert med_dialog FILE --limit 100000 --test-size 1000 --out-dir DIR`` against the
  seed's way: ``json.load``, filter, ``random.sample`` the test and training records, write them;
* csv: ``lfd convert med_dialog *.csv --out-dir DIR`` against ``pandas.read_csv(encoding="gb18030")``
  of each file and a loop writing the records;
* plain (``--only plain``): the earlier comparison without options, (a) lfd, (b) the seed's
  ``json.load`` + ``jsonlines``, (c) ``datasets.load_dataset`` + ``map`` + ``to_json``.

Records/second count the input records over the process's wall time (start-up included); peak RSS
is the larger of ``ru_maxrss`` from ``os.wait4`` and the sampled sum over the process and its children
(lfd converts big files in parts, one process per CPU; shared pages count in each: an upper bound).
Targets: options at the largest size >= 3x the seed's records/s with peak RSS < 150 MB, flat from the
smallest size; csv at the largest size >= 2x pandas + loop, with flat memory.

    .venv/bin/python benchmarks/convert_bench.py [--records 200000,800000] [--only options|csv|plain] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from targets import report

SPEEDUP_TARGET = 2.0
RSS_TARGET_MB = 300
VENV_BIN = Path(sys.executable).parent
PHRASES = (
    "医生您好 我最近 经常 头痛 头晕 发热 咳嗽 胸闷 心悸 失眠 乏力 腹痛 腹泻 恶心 呕吐 高血压 糖尿病 "
    "血糖 偏高 血压 控制 不好 孩子 宝宝 刚满 三岁 七岁 老人 孕妇 怀孕 两个月 检查 结果 显示 "
    "血常规 肝功能 肾功能 心电图 彩超 甲状腺 结节 乳腺 增生 胃炎 溃疡 关节 疼痛 腰椎 颈椎 "
    "请问 应该 怎么办 需要 吃什么药 能不能 治好 严重吗 建议 您 注意 休息 多喝水 清淡 饮食 "
    "避免 劳累 熬夜 戒烟 限酒 适当 运动 保持 心情 舒畅 按时 服药 定期 复查 及时 就医 "
    "可以 口服 布洛芬 阿莫西林 降压药 二甲双胍 中药 调理 针灸 理疗 手术 治疗 观察 病情 变化"
).split()
PUNCT = "，，，。？、"


def chinese_text(rng: random.Random, size: int) -> str:
    """``size`` characters of phrase-built Chinese text."""
    out, length = [], 0
    while length < size:
        word = rng.choice(PHRASES) if rng.random() > 0.12 else rng.choice(PUNCT)
        out.append(word)
        length += len(word)
    return "".join(out)[:size]


def generate(path: Path, records: int, seed: int = 0) -> None:
    """The synthetic ModelScope file, written as the real one is laid out (indent 4, ensure_ascii off)."""
    rng = random.Random(seed)
    pool = chinese_text(rng, 1 << 20)  # records are slices of this at random offsets: fast to generate

    def piece(mean: int, spread: int) -> str:
        size = max(4, int(rng.gauss(mean, spread)))
        start = rng.randrange(len(pool) - size)
        return pool[start : start + size].strip("，。、") or "头痛"

    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n")
        for index in range(records):
            record = {"instruction": piece(20, 5) + "？", "input": piece(100, 30) + "？",
                      "output": piece(150, 50) + "。", "history": None}
            text = json.dumps(record, ensure_ascii=False, indent=4).replace("\n", "\n    ")
            f.write(f"    {text}{',' if index < records - 1 else ''}\n")
        f.write("]\n")


# ---------------------------------------------------------------- the baselines, run as workers


def seed_way(source: Path, target: Path) -> None:
    """The seed's conversion: the whole array in memory, then one jsonlines write."""
    import jsonlines

    with open(source, encoding="utf-8") as f:
        data = json.load(f)
    records = []
    for item in data:
        records.append({"instruction": f"主题:{item['instruction']}\n内容:{item['input']}",
                        "input": "", "output": item["output"]})
    with jsonlines.open(target, "w") as writer:
        writer.write_all(records)


def datasets_way(source: Path, target: Path) -> None:
    """`datasets`: load the JSON file, map to the same records, write JSON lines."""
    import datasets

    datasets.disable_progress_bars()
    data = datasets.load_dataset("json", data_files=str(source), split="train")
    mapped = data.map(
        lambda item: {"instruction": f"主题:{item['instruction']}\n内容:{item['input']}",
                      "input": "", "output": item["output"]},
        remove_columns=["history"])
    mapped.to_json(str(target), force_ascii=False, lines=True)


WORKERS = {"seed": seed_way, "datasets": datasets_way}


# ---------------------------------------------------------------- measuring


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (shared pages counted in each: an upper bound)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) * 1024
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo += map(int, f.read().split())
        except (OSError, StopIteration, ValueError):
            continue  # gone meanwhile
    return total


def measure(command: list[str], env: dict | None = None) -> tuple[float, int, float]:
    """(wall seconds, peak RSS in bytes, CPU seconds) of ``command`` run as a child process.

    Peak RSS is the larger of ``ru_maxrss`` from ``os.wait4`` (the largest single process) and the
    sum over the process tree sampled every 20 ms (a run that forks workers uses them all at once).
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors, tree_peak = [], 0
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)
    reader.start()
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        tree_peak = max(tree_peak, tree_rss(process.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{errors[0].decode(errors='replace')}")
    return seconds, max(usage.ru_maxrss * 1024, tree_peak), usage.ru_utime + usage.ru_stime  # Linux: KiB


def records_of(path: Path) -> tuple[int, dict, dict]:
    """(line count, first record, last record) of a JSON-lines output, reading it as a stream."""
    count, first, last = 0, None, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            count += 1
            if first is None:
                first = line
            last = line
    return count, json.loads(first), json.loads(last)


def same_records(record: dict, expected: dict) -> bool:
    return {k: record.get(k) for k in ("instruction", "input", "output")} == expected


def seed_options_way(source: Path, target: Path) -> None:
    """The seed's way of the README's ``--limit 100000 --test-size 1000``: ``json.load``, filter, ``random.sample``."""
    with open(source, encoding="utf-8") as f:
        data = json.load(f)
    records = [{"instruction": f"主题:{item['instruction']}\n内容:{item['input']}", "input": "", "output": item["output"]}
               for item in data if item["instruction"] and item["input"] and item["output"] and item["input"] != "无"]
    rng = random.Random(42)
    test = rng.sample(range(len(records)), 1000)
    held = set(test)
    train = rng.sample([i for i in range(len(records)) if i not in held], min(LIMIT, len(records) - 1000))
    for name, chosen in (("test", test), ("train", train)):
        with open(target.with_name(f"{target.stem}_{name}.jsonl"), "w", encoding="utf-8") as out:
            out.writelines(json.dumps(records[i], ensure_ascii=False) + "\n" for i in sorted(chosen))
    target.write_text("")


def pandas_way(source: Path, target: Path) -> None:
    """The seed's way of the Toyhom CSVs: ``pandas.read_csv(encoding="gb18030")`` of each, and a loop."""
    import pandas

    with open(target, "w", encoding="utf-8") as out:
        for path in sorted(source.glob("*.csv")):
            frame = pandas.read_csv(path, encoding="gb18030")
            for row in frame.itertuples(index=False):
                if isinstance(row.title, str) and isinstance(row.ask, str) and isinstance(row.answer, str):
                    out.write(json.dumps({"instruction": f"主题:{row.title}\n内容:{row.ask}", "input": "",
                                          "output": row.answer, "department": row.department},
                                         ensure_ascii=False) + "\n")


WORKERS.update({"seed_options": seed_options_way, "pandas": pandas_way})
LIMIT = 100_000
OPTIONS_TARGET, OPTIONS_RSS_MB, CSV_TARGET = 3.0, 150, 2.0


def generate_csvs(folder: Path, records: int, files: int = 4, seed: int = 1) -> None:
    """Toyhom-like department CSVs in GB18030 (``department,title,ask,answer``; some asks hold newlines)."""
    import csv

    rng = random.Random(seed)
    pool = chinese_text(rng, 1 << 20)

    def piece(mean: int, spread: int) -> str:
        size = max(4, int(rng.gauss(mean, spread)))
        start = rng.randrange(len(pool) - size)
        return pool[start : start + size].strip("，。、") or "头痛"

    folder.mkdir(parents=True, exist_ok=True)
    for number in range(files):  # written as a stream: this process stays small (its children start from it)
        with open(folder / f"dept{number}.csv", "w", encoding="gb18030", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["department", "title", "ask", "answer"])
            for index in range(records // files):
                ask = piece(100, 30) + ("？\n" + piece(20, 5) if index % 10 == 0 else "？")
                writer.writerow([f"科室{number}", piece(20, 5) + "？", ask, piece(150, 50) + "。"])


def lines_of(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


def compare(label: str, ours: list[str], theirs: list[str], records: int, env: dict) -> dict:
    """Runs both commands; records/s and peak RSS of each."""
    result = {}
    for who, command in (("lfd", ours), ("seed", theirs)):
        seconds, rss, cpu = measure(command, env)
        result[who] = (records / seconds, rss / 2**20, seconds, cpu)
        print(f"  {label} {who}: {seconds:.1f} s, {rss / 2**20:.0f} MB, {cpu:.1f} CPU s", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        WORKERS[argv[1]](Path(argv[2]), Path(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", default="200000,800000", help="sizes to run, comma-separated (default 200000,800000)")
    parser.add_argument("--dir", type=Path, help="working folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--only", choices=("options", "csv", "plain"), action="append",
                        help="run only these comparisons (default: options and csv)")
    parser.add_argument("--skip-datasets", action="store_true", help="plain: leave out (c), the slowest")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.records.split(",")]
    only = args.only or ["options", "csv"]
    table, checks = {}, []
    for records in sizes:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            work = Path(tmp)
            env = {**os.environ, "HF_DATASETS_CACHE": str(work / "hf_cache"), "HF_DATASETS_OFFLINE": "1",
                   "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1"}
            print(f"{records} records; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
            lfd = str(VENV_BIN / "lfd")
            if "options" in only or "plain" in only:
                source = work / "train_0001_of_0001.json"
                generate(source, records)
            if "options" in only:
                table["options", records] = compare(
                    "--limit/--test-size", [lfd, "convert", "med_dialog", str(source), "--limit", str(LIMIT),
                                            "--test-size", "1000", "--out-dir", str(work / "lfd")],
                    [sys.executable, __file__, "--worker", "seed_options", str(source), str(work / "seed.jsonl")],
                    records, env)
                written = lines_of(work / "lfd" / "med_dialog_train.jsonl")
                if written != min(LIMIT, records - 1000):
                    raise SystemExit(f"--limit {LIMIT} wrote {written} training records")
            if "csv" in only:
                generate_csvs(work / "csv", records)
                csvs = sorted(str(p) for p in (work / "csv").glob("*.csv"))
                table["csv", records] = compare(
                    "Toyhom CSVs", [lfd, "convert", "med_dialog", *csvs, "--out-dir", str(work / "lfd_csv")],
                    [sys.executable, __file__, "--worker", "pandas", str(work / "csv"), str(work / "pandas.jsonl")],
                    records, env)
                if lines_of(work / "lfd_csv" / "med_dialog_train.jsonl") != lines_of(work / "pandas.jsonl"):
                    raise SystemExit("the CSV conversions wrote different numbers of records")
            if "plain" in only:
                checks += plain(work, source, records, env, args.skip_datasets)
    return report(table_checks(table, sizes) + checks)


def table_checks(table: dict, sizes: list[int]) -> list[tuple[str, bool]]:
    """Prints the records/s and peak RSS of each comparison; its targets, checked."""
    print()
    print(f"{'':28}{'records':>9}{'lfd rec/s':>12}{'seed rec/s':>12}{'ratio':>7}{'lfd MB':>8}{'seed MB':>9}")
    for (kind, records), result in sorted(table.items()):
        (ours, our_rss, *_), (seed, seed_rss, *_) = result["lfd"], result["seed"]
        name = "README --limit/--test-size" if kind == "options" else "Toyhom CSVs vs pandas"
        print(f"{name:28}{records:9}{ours:12,.0f}{seed:12,.0f}{ours / seed:7.2f}{our_rss:8.0f}{seed_rss:9.0f}")
    big, small = max(sizes), min(sizes)
    checks = []
    for kind, target in (("options", OPTIONS_TARGET), ("csv", CSV_TARGET)):
        if (kind, big) not in table:
            continue
        (ours, rss, *_), (seed, *_) = table[kind, big]["lfd"], table[kind, big]["seed"]
        flat = rss < 1.25 * table[kind, small]["lfd"][1] + 10 if small != big else None
        met = ours / seed >= target and flat is not False and (kind != "options" or rss < OPTIONS_RSS_MB)
        checks.append((f"{kind} at {big}: >= {target:g}x the seed's way ({ours / seed:.2f}x)"
                       + (f", peak RSS < {OPTIONS_RSS_MB} MB ({rss:.0f} MB)" if kind == "options" else "")
                       + (f", flat from {small} ({table[kind, small]['lfd'][1]:.0f} -> {rss:.0f} MB)"
                          if flat is not None else " (flatness needs two sizes)"), met))
    return checks


def plain(work: Path, source: Path, records: int, env: dict, skip_datasets: bool) -> list[tuple[str, bool]]:
    """The earlier comparison without options: (a) lfd, (b) the seed's json.load + jsonlines, (c) datasets."""
    size_mb = source.stat().st_size / 1e6
    runs = {
        "(a) lfd convert med_dialog": ([str(VENV_BIN / "lfd"), "convert", "med_dialog", str(source),
                                       "--out-dir", str(work / "lfd_plain")], work / "lfd_plain" / "med_dialog_train.jsonl"),
        "(b) seed: json.load + jsonlines": ([sys.executable, __file__, "--worker", "seed", str(source),
                                             str(work / "seed_plain.jsonl")], work / "seed_plain.jsonl"),
    }
    if not skip_datasets:
        runs["(c) datasets load_dataset + map"] = ([sys.executable, __file__, "--worker", "datasets", str(source),
                                                   str(work / "datasets.jsonl")], work / "datasets.jsonl")
    results = {}
    for label, (command, output) in runs.items():
        seconds, rss, cpu = measure(command, env)
        results[label] = (records / seconds, rss / 2**20, seconds, cpu)
        print(f"  {label}: {seconds:.1f} s", flush=True)
        count, first, last = records_of(output)
        expected = [(r["instruction"], r["input"], r["output"]) for r in _ends(source)]
        for record, (title, ask, answer) in zip((first, last), expected):
            want = {"instruction": f"主题:{title}\n内容:{ask}", "input": "", "output": answer}
            if count != records or not same_records(record, want):
                raise SystemExit(f"{label} wrote {count} records, or not the expected ones: {record}")
        output.unlink()
    print()
    print(f"{'':34}{'records/s':>12}{'peak RSS MB':>14}{'seconds':>10}{'CPU s':>8}")
    for label, (rate, rss, seconds, cpu) in results.items():
        print(f"{label:34}{rate:12,.0f}{rss:14,.0f}{seconds:10.1f}{cpu:8.1f}")
    (ours, our_rss, *_), (seed, seed_rss, *_) = results["(a) lfd convert med_dialog"], results["(b) seed: json.load + jsonlines"]
    speedup = ours / seed
    return [(f"plain at {records}: records/s >= {SPEEDUP_TARGET:g}x the seed's ({speedup:.2f}x)", speedup >= SPEEDUP_TARGET),
            (f"plain at {records}: peak RSS < {RSS_TARGET_MB} MB while the seed's grows with the file ({size_mb:.0f} MB): "
             f"{our_rss:.0f} MB vs the seed's {seed_rss:.0f} MB", our_rss < RSS_TARGET_MB and seed_rss > size_mb)]


def _ends(source: Path) -> list[dict]:
    """The first and last record of the synthetic array, without loading it."""
    with open(source, "rb") as f:
        head = f.read(1 << 14).decode("utf-8", errors="ignore")
        f.seek(max(0, os.fstat(f.fileno()).st_size - (1 << 14)))
        tail = f.read().decode("utf-8", errors="ignore")
    first = json.JSONDecoder().raw_decode(head, head.index("{"))[0]
    last = json.JSONDecoder().raw_decode(tail, tail.rindex("{", 0, tail.rindex('"instruction"')))[0]
    return [first, last]


if __name__ == "__main__":
    sys.exit(main())
