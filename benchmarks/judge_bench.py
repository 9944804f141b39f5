"""Verdicts per second of `lfd judge`'s client (plugin/endpoint.py) at concurrency 1 and N, and a resumed
run's request count, against the scripted OpenAI-compatible judge of tests/plugin/judge/scripted_judge.py.

The scripted server answers every request with a fixed well-formed SUS verdict after ``--latency``
seconds (50 ms by default: a fast hosted judge; LLM judges are slower, which only makes concurrency
matter more). ``--items`` pointwise requests are judged by :func:`judge_pointwise` (the real requests,
the strict reading, the summary with ``--bootstrap`` resamples) at concurrency 1 and ``--concurrency``,
each into a fresh cache; then the second run is repeated on its cache, which must send 0 requests.
Expected: throughput close to N times higher at concurrency N (the requests wait on the server, not
on the client), and 0 requests on the resumed run.

    nice -n 10 .venv/bin/python benchmarks/judge_bench.py [--items 200] [--latency 0.05] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "plugin" / "judge"))

from scripted_judge import scripted_judge, sus  # noqa: E402
from targets import report  # noqa: E402

from llamafactory_domains.plugin.endpoint import Endpoint  # noqa: E402
from llamafactory_domains.plugin.judge.prompts import load_template  # noqa: E402
from llamafactory_domains.plugin.judge.run import judge_pointwise  # noqa: E402


def one_run(url: str, cache: Path, items: int, concurrency: int, draws: int) -> tuple[float, int, dict]:
    endpoint = Endpoint(url, concurrency=concurrency, cache=cache)
    endpoint.model  # listing the models is not timed
    runs = {"tuned": [(f"问题{i}：头痛怎么办？", f"回答{i}：多休息。") for i in range(items)]}
    started = time.perf_counter()
    report = judge_pointwise(runs, endpoint, load_template("pointwise"), draws=draws)
    return time.perf_counter() - started, endpoint.sent, report["models"]["tuned"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the scripted judge takes per request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    with scripted_judge(lambda prompt, number: sus(3, 2, 3), latency=args.latency) as (url, script), \
            tempfile.TemporaryDirectory() as folder:
        rows = []
        for concurrency in (1, args.concurrency):
            took, sent, summary = one_run(url, Path(folder) / f"c{concurrency}.jsonl", args.items, concurrency,
                                          args.bootstrap)
            assert summary["judged"] == args.items and summary["means"]["total"] == 8.0
            rows.append((concurrency, took, sent))
            print(f"concurrency {concurrency:>3}: {args.items} verdicts in {took:.2f}s = {args.items / took:.1f} "
                  f"verdicts/s ({sent} requests sent; server saw at most {script.most_in_flight} at once)")
        posts = script.posts
        took, sent, summary = one_run(url, Path(folder) / f"c{args.concurrency}.jsonl", args.items, args.concurrency,
                                      args.bootstrap)
        print(f"resumed run on the cache: {sent} requests sent (server saw {script.posts - posts}), {took:.2f}s")
    (_, slow, _), (_, fast, _) = rows
    print(f"speed-up at concurrency {args.concurrency} vs 1: {slow / fast:.2f}x "
          f"(ideal {args.concurrency}x; latency {args.latency * 1000:.0f} ms per request)")
    return report([(f"a rerun on the cache sends no request ({sent} sent)", sent == 0)])


if __name__ == "__main__":
    sys.exit(main())
