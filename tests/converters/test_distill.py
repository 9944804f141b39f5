"""`lfd distill` (converter distill): questions -> answers from a teacher behind an OpenAI-compatible endpoint.

A scripted OpenAI-compatible teacher on loopback gives exact counts (answers kept, dropped by reason, requests
sent, a rerun that sends nothing); a real `llamafactory-cli api` with the tiny model answers nonsense, which
must end without a traceback, every record it keeps naming its teacher."""

import json
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "plugin" / "judge"))
sys.path.insert(0, str(ROOT / "tests" / "plugin" / "commands"))
from board_process import free_port  # noqa: E402
from scripted_judge import MODEL, Cut, error, scripted_judge  # noqa: E402

# a blank line (not a record), a phone number (masked before it is sent), a repeat (never asked)
QUESTIONS = "头痛怎么办？\n我的电话是13812345678，发烧怎么办？\n\n失眠怎么办？\n咳嗽怎么办？\n头痛怎么办?\n腹泻怎么办？\n"
ANSWERS = {"头痛怎么办？": "多休息，必要时就医。",
           "我的电话是[电话]，发烧怎么办？": "王先生，多喝水；复诊请拨13912345678。",
           "失眠怎么办？": "抱歉，我无法回答这个问题。",
           "咳嗽怎么办？": "  ",
           "腹泻怎么办？": "I'm sorry, I can't help with that."}


def question_in(prompt: str) -> str:
    return prompt.split("问题：", 1)[1]


def teacher(prompt, number):
    return ANSWERS.get(question_in(prompt), "请遵医嘱。")


@pytest.fixture(autouse=True)
def quick(monkeypatch, tmp_path):
    monkeypatch.setattr("llamafactory_domains.plugin.endpoint.BACKOFF_SECONDS", 0.01)
    monkeypatch.setenv("LFD_CACHE", str(tmp_path / "lfd-cache"))


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def questions(tmp_path: Path, text: str = QUESTIONS, name: str = "questions.txt") -> Path:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    return source


def test_answers_are_kept_with_their_teacher_and_dropped_by_reason(lfd, tmp_path):
    source = questions(tmp_path)
    with scripted_judge(teacher) as (url, script):
        code, _, err = lfd("distill", source, "--api-base", url, "--out-dir", tmp_path / "a", "--rejects",
                           tmp_path / "rejects.jsonl")
        assert code == 0, err
        assert script.posts == 5  # the repeated question is never asked
        assert "13812345678" not in "".join(script.prompts)  # masked before it was sent
        assert lines(tmp_path / "a" / "distill_train.jsonl") == [
            {"instruction": "头痛怎么办？", "input": "", "output": "多休息，必要时就医。", "teacher": MODEL},
            {"instruction": "我的电话是[电话]，发烧怎么办？", "input": "", "output": "[姓名]先生，多喝水；复诊请拨[电话]。",
             "teacher": MODEL}]
        assert "train: read 6, wrote 2" in err
        assert "skipped 2: refusal (the teacher declined to answer)" in err
        assert "skipped 1: empty answer" in err
        assert "skipped 1: repeated question (the first is kept)" in err
        assert f"questions.txt: 5 requests to {MODEL}: 5 sent, 0 from the cache" in err
        assert "tokens 50 prompt + 25 completion" in err
        assert "personal data masked (questions before sending, answers kept): 电话 2, 姓名 1" in err
        rejects = lines(tmp_path / "rejects.jsonl")
        assert len(rejects) == 4 and all(r["reason"] for r in rejects)

        code, _, err = lfd("distill", source, "--api-base", url, "--out-dir", tmp_path / "b")
        assert code == 0, err
        assert script.posts == 5  # the rerun came from the cache: nothing sent
        assert f"5 requests to {MODEL}: 0 sent, 5 from the cache" in err
    for name in ("distill_train.jsonl", "dataset_info.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_converted_examples_tables_and_splits(lfd, tmp_path):
    examples = [{"instruction": "请回答。", "input": "头痛怎么办？", "output": "旧答案"},
                {"conversations": [{"from": "human", "value": "失眠怎么办？"}, {"from": "gpt", "value": "旧答案"}]},
                {"messages": [{"role": "system", "content": "你是医生"}, {"role": "user", "content": "咳嗽怎么办？"},
                              {"role": "assistant", "content": "旧答案"}]},
                "腹泻怎么办？"]
    source = questions(tmp_path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples), "old.jsonl")
    table = questions(tmp_path, "编号,提问\n1,胃痛怎么办？\n2,牙痛怎么办？\n", "asked.csv")
    with scripted_judge(lambda prompt, number: f"答：{prompt}") as (url, script):
        code, _, err = lfd("distill", source, "--api-base", url, "--template", "{question}", "--test-size", "1",
                           "--out-dir", tmp_path / "out")
        assert code == 0, err
        assert sorted(script.prompts) == sorted(["请回答。\n头痛怎么办？", "失眠怎么办？", "咳嗽怎么办？", "腹泻怎么办？"])
        train, test = (lines(tmp_path / "out" / f"distill_{split}.jsonl") for split in ("train", "test"))
        assert len(train) == 3 and len(test) == 1 and script.posts == 4  # asked once for both passes
        assert all(r["output"] == "答：" + r["instruction"] and r["teacher"] == MODEL for r in train + test)
        info = json.loads((tmp_path / "out" / "dataset_info.json").read_text(encoding="utf-8"))
        assert set(info) == {"distill_train", "distill_test"}

        code, _, err = lfd("distill", table, "--api-base", url, "--question-column", "提问", "--out-dir", tmp_path / "csv",
                           "--request-cache", tmp_path / "replies.jsonl")
        assert code == 0, err
        assert [r["instruction"] for r in lines(tmp_path / "csv" / "distill_train.jsonl")] == ["胃痛怎么办？", "牙痛怎么办？"]
        assert all(p.startswith("请用中文") for p in script.prompts[-2:])  # the default template
        assert sorted(p.split("\n\n")[-1] for p in script.prompts[-2:]) == ["问题：牙痛怎么办？", "问题：胃痛怎么办？"]

        from openpyxl import Workbook

        book = Workbook()
        book.active.append(["说明"])
        book.active.append(["问题", "答案"])
        book.active.append(["胃痛怎么办？", "旧答案"])
        book.save(tmp_path / "asked.xlsx")
        code, _, err = lfd("distill", tmp_path / "asked.xlsx", "--api-base", url, "--out-dir", tmp_path / "xlsx",
                           "--request-cache", tmp_path / "replies.jsonl")
        assert code == 0 and script.posts == 6, err  # the same request as the CSV's first: from the cache
        code, _, err = lfd("distill", tmp_path / "asked.xlsx", "--api-base", url, "--system", "你是一名全科医生。",
                           "--out-dir", tmp_path / "system", "--request-cache", tmp_path / "replies.jsonl")
        assert code == 0 and script.posts == 7, err  # a system message makes it another request


def test_an_answer_using_every_token_allowed_is_cut_off(lfd, tmp_path):
    source = questions(tmp_path, "头痛怎么办？\n")
    with scripted_judge(teacher) as (url, script):  # it reports 5 completion tokens for every answer
        code, _, err = lfd("distill", source, "--api-base", url, "--max-tokens", "5", "--out-dir", tmp_path / "a")
        assert code == 1 and "no usable train records" in err and "answer cut off at --max-tokens" in err, err
        code, _, err = lfd("distill", source, "--api-base", url, "--max-tokens", "6", "--out-dir", tmp_path / "b")
        assert code == 0, err
        assert script.posts == 2  # another max_tokens is another request


def test_an_answer_the_server_cut_off_at_its_own_limit_is_dropped_then_and_from_the_cache(lfd, tmp_path):
    source = questions(tmp_path, "头痛怎么办？\n失眠怎么办？\n")

    def cut_one(prompt, number):  # finish_reason "length": cut at the server's limit, no --max-tokens asked
        return Cut("多休息，必要") if question_in(prompt) == "头痛怎么办？" else "规律作息，睡前少用手机。"

    with scripted_judge(cut_one) as (url, script):
        code, _, err = lfd("distill", source, "--api-base", url, "--out-dir", tmp_path / "a",
                           "--request-cache", tmp_path / "replies.jsonl")
        assert code == 0, err
        assert [r["instruction"] for r in lines(tmp_path / "a" / "distill_train.jsonl")] == ["失眠怎么办？"]
        assert "skipped 1: answer cut off by the server (finish_reason: length)" in err, err
        code, _, rerun = lfd("distill", source, "--api-base", url, "--out-dir", tmp_path / "b",
                             "--request-cache", tmp_path / "replies.jsonl")
        assert code == 0 and script.posts == 2, rerun  # the rerun sends nothing: the cache kept the finish reason
        assert "skipped 1: answer cut off by the server (finish_reason: length)" in rerun, rerun
        assert lines(tmp_path / "b" / "distill_train.jsonl") == lines(tmp_path / "a" / "distill_train.jsonl")


def test_endpoint_failures_are_one_line_and_the_cache_keeps_what_finished(lfd, tmp_path):
    source = questions(tmp_path)
    cache = tmp_path / "replies.jsonl"
    code, _, err = lfd("distill", source, "--api-base", f"http://127.0.0.1:{free_port()}/v1", "--out-dir",
                         tmp_path / "out", "--request-cache", cache)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "cannot reach" in err

    def failing_on_the_fourth(prompt, number):
        return error(500, "CUDA out of memory") if question_in(prompt) == "咳嗽怎么办？" else teacher(prompt, number)

    with scripted_judge(failing_on_the_fourth) as (url, script):
        code, _, err = lfd("distill", source, "--api-base", url, "--out-dir", tmp_path / "out", "--request-cache",
                           cache, "--retries", "1", "--concurrency", "1")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "500" in err and "咳嗽" not in err, err
    assert "questions.txt line 5" in err  # the failing request, named by its line
    assert not (tmp_path / "out" / "distill_train.jsonl").exists()
    assert len(cache.read_text(encoding="utf-8").splitlines()) == 3  # the three that finished before it
    with scripted_judge(teacher) as (url, script):
        code, _, err = lfd("distill", source, "--api-base", url, "--out-dir", tmp_path / "out", "--request-cache", cache)
    assert code == 0, err
    assert script.posts == 2  # only the ones left


def test_a_real_llamafactory_api_answers_and_each_record_names_its_teacher(lfd, tmp_path, tiny_api):
    source = questions(tmp_path)
    with urllib.request.urlopen(f"{tiny_api}/models", timeout=30) as answer:
        served = json.load(answer)["data"][0]["id"]
    code, _, err = lfd("distill", source, "--api-base", tiny_api, "--out-dir", tmp_path / "out")
    assert "Traceback" not in err
    replies = [json.loads(line) for cache in (tmp_path / "lfd-cache" / "distill").glob("*.jsonl")
               for line in cache.read_text(encoding="utf-8").splitlines()]
    assert len(replies) == 5  # every question asked once (the repeat never), each answer cached
    assert all(r["finish_reason"] in ("stop", "length") for r in replies)  # read from LLaMA-Factory's answers
    if code == 0:  # nonsense, but answers: kept unless empty or a refusal, each naming the served model
        records = lines(tmp_path / "out" / "distill_train.jsonl")
        assert records and all(r["teacher"] == served and r["output"] for r in records)
        assert f"questions.txt: 5 requests to {served}: 5 sent, 0 from the cache" in err
    else:  # the tiny model answers blank lines only (LLaMA-Factory 0.9.5): all empty, nothing written
        assert len(err.strip().splitlines()) == 1 and "no usable train records" in err, err
        assert "empty answer: 5, repeated question (the first is kept): 1" in err
        assert all(not r["text"].strip() for r in replies)
        assert not (tmp_path / "out" / "distill_train.jsonl").exists()
    # no server behind the endpoint: naming the model, the rerun answers from the cache alone, to the same end
    gone = f"http://127.0.0.1:{free_port()}/v1"
    again, _, rerun = lfd("distill", source, "--api-base", gone, "--model", served, "--out-dir", tmp_path / "out")
    assert (again, rerun) == (code, err) or f"5 requests to {served}: 0 sent, 5 from the cache" in rerun, rerun


def test_answers_are_cleaned_as_lfd_clean_cleans_unless_no_clean(lfd, tmp_path):
    """`lfd distill` is `lfd convert distill --clean`: a teacher's HTML, URLs and ads are removed and a
    placeholder answer dropped by rule; --no-clean keeps them (the personal data is masked either way)."""
    junk = {"头痛怎么办？": "多休息！！！<br>详见 http://ads.example.cn/x 点击咨询",
            "发烧怎么办？": "略", "失眠怎么办？": "睡前少用手机，电话13912345678。"}
    source = questions(tmp_path, "头痛怎么办？\n发烧怎么办？\n失眠怎么办？\n")
    with scripted_judge(lambda prompt, number: junk[question_in(prompt)]) as (url, script):
        code, _, err = lfd("distill", source, "--api-base", url, "--out-dir", tmp_path / "clean")
        assert code == 0, err
        outputs = [r["output"] for r in lines(tmp_path / "clean" / "distill_train.jsonl")]
        assert outputs == ["多休息！\n详见", "睡前少用手机，电话[电话]。"]
        assert "skipped 1: --clean: the answer is empty or a placeholder" in err and "cleaned (--clean): " in err
        code, _, err = lfd("distill", source, "--api-base", url, "--out-dir", tmp_path / "raw", "--no-clean")
        assert code == 0, err
        assert script.posts == 3  # the second run came from the cache
    raw = [r["output"] for r in lines(tmp_path / "raw" / "distill_train.jsonl")]
    assert len(raw) == 3 and "<br>" in raw[0] and raw[1] == "略" and raw[2] == "睡前少用手机，电话[电话]。"
