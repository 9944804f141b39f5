"""plugin/endpoint.py against a scripted OpenAI-compatible server on loopback: order, concurrency, retries
(429 with Retry-After, 5xx, timeouts), one-line failures, and the cache (reruns and resumed runs)."""

import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "judge"))
from scripted_judge import MODEL, error, scripted_judge  # noqa: E402

from llamafactory_domains.plugin.endpoint import Endpoint, Request, read_cache  # noqa: E402
from llamafactory_domains.plugin.errors import UserError  # noqa: E402


def requests(count: int) -> list[Request]:
    return [Request(f"item {i}", [{"role": "user", "content": f"问题{i}"}]) for i in range(count)]


def echo(prompt, number):
    return f"答：{prompt}"


def endpoint(url, tmp_path, **options) -> Endpoint:
    made = Endpoint(url, cache=tmp_path / "cache.jsonl", **options)
    made.backoff = 0.01
    return made


def test_results_come_in_request_order_concurrently_and_a_rerun_sends_nothing(tmp_path):
    with scripted_judge(echo, latency=0.1) as (url, script):
        client = endpoint(url, tmp_path, concurrency=4)
        started = time.monotonic()
        results = client.run(requests(8), "test")
        took = time.monotonic() - started
        assert [r.text for r in results] == [f"答：问题{i}" for i in range(8)]
        assert [r.key for r in results] == [f"item {i}" for i in range(8)]
        assert client.model == MODEL  # the first the server lists
        assert client.sent == 8 and not any(r.cached for r in results) and script.posts == 8
        assert 1 < script.most_in_flight <= 4 and took < 0.8 * 8 * 0.1
        assert client.tokens == {"prompt": 80, "completion": 40}
        assert len(read_cache(tmp_path / "cache.jsonl")) == 8
        again = endpoint(url, tmp_path, concurrency=4)
        rerun = again.run(requests(8), "test")
        assert again.sent == 0 and script.posts == 8 and all(r.cached for r in rerun)
        assert [r.text for r in rerun] == [r.text for r in results]
        assert again.tokens == {"prompt": 80, "completion": 40}  # cached answers' tokens counted too


def test_a_429_is_retried_after_its_retry_after_and_counted_once(tmp_path):
    def limited(prompt, number):
        return error(429, "slow down", {"Retry-After": "1"}) if number == 1 else "好"

    with scripted_judge(limited) as (url, script):
        client = endpoint(url, tmp_path, concurrency=1)
        started = time.monotonic()
        [result] = client.run(requests(1), "test")
        assert time.monotonic() - started >= 0.95  # Retry-After, not the 0.01 s backoff
        assert result.text == "好" and result.error is None
        assert script.posts == 2 and client.attempts == 2 and client.sent == 1
        assert len((tmp_path / "cache.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_a_500_after_the_retries_is_one_line_naming_the_item_and_the_cache_keeps_the_rest(tmp_path):
    def broken_on_3(prompt, number):
        return error(500, "CUDA out of memory") if prompt == "问题3" else "好"

    with scripted_judge(broken_on_3) as (url, script):
        client = endpoint(url, tmp_path, concurrency=1, retries=4)
        with pytest.raises(UserError) as raised:
            client.run(requests(6), "test")
        message = str(raised.value)
        assert "\n" not in message and message.startswith("item 3: ")
        assert "answered 500 (CUDA out of memory) 5 times" in message
        assert script.prompts.count("问题3") == 5
        lines = (tmp_path / "cache.jsonl").read_text(encoding="utf-8").splitlines()
        kept = [json.loads(line) for line in lines]  # every line whole, no failure among them
        assert sorted(entry["key"] for entry in kept) == ["item 0", "item 1", "item 2"]
        assert all(entry["text"] == "好" for entry in kept)


def test_an_interrupted_run_resumes_sending_only_the_rest(tmp_path):
    state = {"failing_after": 4}

    def flaky(prompt, number):
        return error(503, "overloaded") if number > state["failing_after"] else "好"

    with scripted_judge(flaky) as (url, script):
        with pytest.raises(UserError, match="answered 503"):
            endpoint(url, tmp_path, concurrency=1, retries=0).run(requests(10), "test")
        assert len(read_cache(tmp_path / "cache.jsonl")) == 4
        state["failing_after"] = 10**6
        posts = script.posts
        client = endpoint(url, tmp_path, concurrency=2)
        results = client.run(requests(10), "test")
        assert client.sent == 6 and script.posts - posts == 6 and client.cached == 4
        assert [r.cached for r in results] == [True] * 4 + [False] * 6


def test_a_torn_last_line_is_ignored_and_the_next_answer_starts_a_line(tmp_path):
    with scripted_judge(echo) as (url, script):
        endpoint(url, tmp_path).run(requests(2), "test")
        cache = tmp_path / "cache.jsonl"
        with open(cache, "a", encoding="utf-8") as handle:
            handle.write('{"hash": "abc", "text": "半')  # a crash mid-write
        client = endpoint(url, tmp_path)
        client.run(requests(3), "test")
        assert client.sent == 1 and len(read_cache(cache)) == 3


def test_a_timeout_is_retried_then_one_line(tmp_path):
    with scripted_judge(echo, latency=1.5) as (url, script):
        client = endpoint(url, tmp_path, model=MODEL, timeout=0.3, retries=1)
        started = time.monotonic()
        with pytest.raises(UserError) as raised:
            client.run(requests(1), "test")
        assert time.monotonic() - started < 1.4
        assert "did not answer within 0.3s 2 times" in str(raised.value) and "--timeout" in str(raised.value)
        assert not (tmp_path / "cache.jsonl").exists() or read_cache(tmp_path / "cache.jsonl") == {}


def test_an_endpoint_that_is_down_is_one_line_at_once(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for model in (None, "m"):  # when listing the models, and on the first chat request
        client = endpoint(f"http://127.0.0.1:{port}/v1", tmp_path, model=model, retries=4)
        client.backoff = 5.0  # were it retried, this test would take 75 s
        started = time.monotonic()
        with pytest.raises(UserError) as raised:
            client.run(requests(3), "test")
        assert time.monotonic() - started < 5
        assert str(raised.value).startswith(f"cannot reach http://127.0.0.1:{port}/v1; start the server")
        assert "fix --api-base" in str(raised.value)


def test_a_400_is_that_items_error_not_retried_not_cached(tmp_path):
    def too_long(prompt, number):
        return error(400, "prompt too long") if prompt == "问题1" else "好"

    with scripted_judge(too_long) as (url, script):
        client = endpoint(url, tmp_path)
        results = client.run(requests(3), "test")
        assert [r.error for r in results] == [None, "answered 400 (prompt too long)", None]
        assert results[1].text is None and script.prompts.count("问题1") == 1
        assert len(read_cache(tmp_path / "cache.jsonl")) == 2


def test_the_same_request_twice_is_asked_once(tmp_path):
    with scripted_judge(echo) as (url, script):
        client = endpoint(url, tmp_path)
        same = [Request("a", [{"role": "user", "content": "x"}]), Request("b", [{"role": "user", "content": "x"}])]
        results = client.run(same, "test")
        assert script.posts == 1 and [r.text for r in results] == ["答：x", "答：x"]
        assert [r.key for r in results] == ["a", "b"]


def test_ctrl_c_keeps_every_answer_so_far_and_the_rerun_sends_only_the_rest(tmp_path):
    import os
    import signal

    def interrupting(prompt, number):
        if number == 4:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the fourth request is under way
        return "好"

    with scripted_judge(interrupting, latency=0.05) as (url, script):
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            endpoint(url, tmp_path, concurrency=1).run(requests(10), "test")
        assert time.monotonic() - started < 3
        kept = len(read_cache(tmp_path / "cache.jsonl"))
        assert 3 <= kept <= 4
        client = endpoint(url, tmp_path, concurrency=2)
        results = client.run(requests(10), "test")
        assert client.sent == 10 - kept and [r.text for r in results] == ["好"] * 10
