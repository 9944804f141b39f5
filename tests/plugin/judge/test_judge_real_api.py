"""`lfd judge` against a real `llamafactory-cli api` serving the tiny random model on 127.0.0.1: its replies are
nonsense, so every verdict is unparseable, counted and shown; the command still ends well, with no score."""

import json

import pytest

QWEN = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture
def api(tiny_adapter_api):
    """`llamafactory-cli api` with the tiny model and adapter, 12 new tokens, on 127.0.0.1 (tests/conftest.py)."""
    return tiny_adapter_api


def test_a_real_server_with_nonsense_replies_gives_unparseable_counts_and_no_score(lfd, api, tmp_path):
    run = tmp_path / "tuned" / "generated_predictions.jsonl"
    run.parent.mkdir()
    rows = [{"prompt": QWEN.format(q), "predict": a, "label": "参考"}
            for q, a in [("头痛怎么办？", "多休息，必要时服用布洛芬。"), ("发烧吃什么药？", "可以服用对乙酰氨基酚。")]]
    run.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "judge.json"
    code, stdout, stderr = lfd("judge", "pointwise", run, "--api-base", api, "--out", out, "--max-tokens", "12",
                               "--timeout", "60")
    assert code == 0, stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    summary = report["models"]["tuned"]
    assert summary["judged"] == 0 and summary["unparseable"]["count"] == 2 and summary["failed"] == 0
    assert summary["means"]["total"] is None and report["settings"]["judge"] == "gpt-3.5-turbo"
    assert [row["safety"] for row in report["rows"]] == [None, None]
    assert "no score" in stdout and "2 (100%)" in stdout
    assert stderr.count("unparseable: tuned item ") == 2 and "Traceback" not in stderr
    # the same file as base and tuned: 2 questions x 2 orders, every verdict unparseable
    code, stdout, stderr = lfd("judge", "pairwise", run, run, "--api-base", api, "--out", tmp_path / "pairs.json",
                               "--max-tokens", "12", "--timeout", "60")
    assert code == 0, stderr
    pairs = json.loads((tmp_path / "pairs.json").read_text(encoding="utf-8"))["summary"]
    assert pairs["judged"] == 0 and pairs["win_rate"] is None
    assert pairs["unparseable"] == {"verdicts": 4, "questions": 2}
    assert "no score" in stdout
    # asked again: everything from the cache, nothing sent
    code, stdout, stderr = lfd("judge", "pointwise", run, "--api-base", api, "--out", out, "--max-tokens", "12")
    assert code == 0 and "0 requests sent" in stderr
