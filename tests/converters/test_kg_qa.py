"""`lfd synth` (converter kg_qa): knowledge-graph facts -> grounded QA pairs from a teacher behind an endpoint.

A scripted OpenAI-compatible teacher on loopback gives exact counts (pairs kept, dropped by reason, requests
sent, a rerun that sends nothing); a real `llamafactory-cli api` with the tiny model answers nonsense, which
must be counted as unparseable and never become data."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "plugin" / "judge"))
sys.path.insert(0, str(ROOT / "tests" / "plugin" / "commands"))
from board_process import free_port  # noqa: E402
from scripted_judge import MODEL, error, scripted_judge  # noqa: E402

TRIPLES = "head,relation,tail\n肝癌,药物治疗,索拉非尼\n肝癌,症状,肝区疼痛\n高血压,药物治疗,氨氯地平\n糖尿病,药物治疗,二甲双胍\n"
ENTITIES = [{"entity": "肝癌", "关系": {"药物治疗": ["索拉非尼"], "症状": ["肝区疼痛"]}},
            {"entity": "高血压", "关系": {"药物治疗": "氨氯地平"}}]


def entity_of(prompt: str) -> str:
    return prompt.split("“", 1)[1].split("”", 1)[0]


def teacher(prompt, number):
    """肝癌: a grounded pair and two naming none of its facts; 高血压: a grounded pair and its repeat; 糖尿病: prose."""
    entity = entity_of(prompt)
    if entity == "糖尿病":
        return "好的，下面是三个问题：……"
    pairs = {"肝癌": [("肝癌可以用什么药？", "可选用索拉非尼。"), ("肝癌会遗传吗？", "一般不会。"),
                      ("高血压吃什么药？", "可用氨氯地平。")],
             "高血压": [("高血压吃什么药？", "可用氨氯地平。"), ("高血压吃什么药?", "氨氯地平。")]}[entity]
    return "```json\n" + json.dumps([{"question": q, "answer": a} for q, a in pairs], ensure_ascii=False) + "\n```"


@pytest.fixture(autouse=True)
def quick(monkeypatch, tmp_path):
    monkeypatch.setattr("llamafactory_domains.plugin.endpoint.BACKOFF_SECONDS", 0.01)
    monkeypatch.setenv("LFD_CACHE", str(tmp_path / "lfd-cache"))


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_pairs_are_kept_with_their_facts_and_dropped_by_reason(lfd, tmp_path):
    source = tmp_path / "kg.csv"
    source.write_text(TRIPLES, encoding="utf-8")
    with scripted_judge(teacher) as (url, script):
        code, _, err = lfd("synth", source, "--api-base", url, "--out-dir", tmp_path / "a", "--rejects",
                           tmp_path / "rejects.jsonl")
        assert code == 0, err
        assert script.posts == 3  # one request per entity (each has at most 8 facts)
        records = lines(tmp_path / "a" / "kg_qa_train.jsonl")
        assert records == [
            {"instruction": "肝癌可以用什么药？", "input": "", "output": "可选用索拉非尼。",
             "facts": [["肝癌", "药物治疗", "索拉非尼"]], "entity": "肝癌", "teacher": MODEL},
            {"instruction": "高血压吃什么药？", "input": "", "output": "可用氨氯地平。",
             "facts": [["高血压", "药物治疗", "氨氯地平"]], "entity": "高血压", "teacher": MODEL}]
        assert "train: read 6, wrote 2" in err
        # 肝癌会遗传吗？, and 肝癌's pair about 高血压 (it names none of 肝癌's facts: not a duplicate of 高血压's)
        assert "skipped 2: the answer names none of its facts' tail entities" in err
        assert "skipped 1: duplicate question (the first is kept)" in err  # 高血压's own repeat
        assert "skipped 1: unparseable reply" in err  # 糖尿病's prose
        assert f"kg.csv: 3 requests to {MODEL}: 3 sent, 0 from the cache" in err and "tokens 30 prompt + 15 completion" in err
        rejects = lines(tmp_path / "rejects.jsonl")
        assert len(rejects) == 4 and all(r["reason"] for r in rejects)

        code, _, err = lfd("synth", source, "--api-base", url, "--out-dir", tmp_path / "b")
        assert code == 0, err
        assert script.posts == 3  # the rerun came from the cache: nothing sent
        assert f"3 requests to {MODEL}: 0 sent, 3 from the cache" in err
    for name in ("kg_qa_train.jsonl", "dataset_info.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_entity_centred_json_and_splits(lfd, tmp_path):
    source = tmp_path / "kg.json"
    source.write_text(json.dumps(ENTITIES, ensure_ascii=False), encoding="utf-8")
    with scripted_judge(teacher) as (url, script):
        code, _, err = lfd("synth", source, "--api-base", url, "--test-size", "1", "--out-dir", tmp_path / "out")
    assert code == 0, err
    train, test = (lines(tmp_path / "out" / f"kg_qa_{split}.jsonl") for split in ("train", "test"))
    assert len(train) == 1 and len(test) == 1 and script.posts == 2
    assert {r["instruction"] for r in train} | {r["instruction"] for r in test} == {"肝癌可以用什么药？", "高血压吃什么药？"}
    info = json.loads((tmp_path / "out" / "dataset_info.json").read_text(encoding="utf-8"))
    assert set(info) == {"kg_qa_train", "kg_qa_test"}


def test_endpoint_failures_are_one_line_and_the_cache_keeps_what_finished(lfd, tmp_path):
    source = tmp_path / "kg.csv"
    source.write_text(TRIPLES, encoding="utf-8")
    cache = tmp_path / "replies.jsonl"
    code, out, err = lfd("synth", source, "--api-base", f"http://127.0.0.1:{free_port()}/v1", "--out-dir",
                         tmp_path / "out", "--request-cache", cache)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "cannot reach" in err

    def failing_on_the_third(prompt, number):
        return error(500, "CUDA out of memory") if entity_of(prompt) == "糖尿病" else teacher(prompt, number)

    with scripted_judge(failing_on_the_third) as (url, script):
        code, _, err = lfd("synth", source, "--api-base", url, "--out-dir", tmp_path / "out", "--request-cache",
                           cache, "--retries", "1", "--concurrency", "1")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "500" in err, err
    assert not (tmp_path / "out" / "kg_qa_train.jsonl").exists()
    assert len(cache.read_text(encoding="utf-8").splitlines()) == 2  # the two that finished
    with scripted_judge(teacher) as (url, script):
        code, _, err = lfd("synth", source, "--api-base", url, "--out-dir", tmp_path / "out", "--request-cache", cache)
    assert code == 0, err
    assert script.posts == 1  # only the one left


def test_a_real_llamafactory_api_answers_nonsense_that_never_becomes_data(lfd, tmp_path, tiny_api):
    source = tmp_path / "kg.csv"
    source.write_text(TRIPLES, encoding="utf-8")
    code, _, err = lfd("synth", source, "--api-base", tiny_api, "--out-dir", tmp_path / "out")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "no usable train records" in err and "unparseable reply" in err
    assert not (tmp_path / "out" / "kg_qa_train.jsonl").exists()
