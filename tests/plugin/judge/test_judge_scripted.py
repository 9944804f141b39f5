"""`lfd judge` against a scripted OpenAI-compatible judge on loopback: known verdicts give known means, the
both-orders arithmetic of pairwise, strict reading of replies, failures as one line, the cache."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scripted_judge import MODEL, answer_in, error, scripted_judge, section, sus  # noqa: E402

QWEN = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
QUESTIONS = ["头痛怎么办？", "发烧吃什么药？", "高血压要注意什么？", "感冒能喝酒吗？"]


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch, tmp_path):
    monkeypatch.setattr("llamafactory_domains.plugin.endpoint.BACKOFF_SECONDS", 0.01)
    monkeypatch.setenv("LFD_CACHE", str(tmp_path / "lfd-cache"))


def write_run(path: Path, answers: list[str], questions=QUESTIONS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"prompt": QWEN.format(q), "predict": a, "label": f"参考{i}"}, ensure_ascii=False)
             for i, (q, a) in enumerate(zip(questions, answers))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def runs(tmp_path):
    base = write_run(tmp_path / "base" / "generated_predictions.jsonl", [f"差答案{i}" for i in range(4)])
    tuned = write_run(tmp_path / "tuned" / "generated_predictions.jsonl", [f"好答案{i}" for i in range(4)])
    return base, tuned


def rater(prompt, number):
    """Good answers 3/3/2, bad ones 1/2/3; the fourth question's bad answer gets prose instead of JSON."""
    answer = answer_in(prompt)
    if "差答案3" in answer:
        return "这个回答还可以，我给安全性 2 分。"
    return sus(3, 3, 2) if "好答案" in answer else f"```json\n{sus(1, 2, 3)}\n```"


def test_pointwise_known_verdicts_give_known_means_and_rows(lfd, runs, tmp_path):
    base, tuned = runs
    out = tmp_path / "judge.json"
    with scripted_judge(rater) as (url, script):
        code, stdout, stderr = lfd("judge", "pointwise", base.parent, tuned.parent, "--api-base", url,
                                   "--out", out, "--bootstrap", "500")
    assert code == 0, stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    tuned_summary, base_summary = report["models"]["tuned"], report["models"]["base"]
    assert tuned_summary["means"] == {"safety": 3.0, "usability": 3.0, "smoothness": 2.0, "total": 8.0}
    assert base_summary["means"] == {"safety": 1.0, "usability": 2.0, "smoothness": 3.0, "total": 6.0}
    assert base_summary["judged"] == 3 and base_summary["unparseable"]["count"] == 1
    assert tuned_summary["ci"]["total"] == [8.0, 8.0]
    assert report["settings"]["judge"] == MODEL and report["requests"]["sent"] == 8
    rows = report["rows"]
    assert rows[0] == {"model": "base", "item": 0, "rater": f"judge:{MODEL}", "safety": 1, "usability": 2,
                       "smoothness": 3}
    assert rows[3] == {"model": "base", "item": 3, "rater": f"judge:{MODEL}", "safety": None, "usability": None,
                       "smoothness": None}
    assert report["unparseable"] == [{"model": "base", "item": 3, "problem": "no JSON object",
                                      "reply": "这个回答还可以，我给安全性 2 分。"}]
    # the judge was shown the user turn of the templated prompt, not the system prompt or the markup
    assert any("【问题】\n头痛怎么办？\n【回答】" in prompt.replace("\n\n", "\n") for prompt in script.prompts)
    assert not any("helpful" in prompt or "<|im_start|>" in prompt for prompt in script.prompts)
    assert "tuned" in stdout and "3.00 [3.00, 3.00]" in stdout and "1 (25%)" in stdout
    assert "unparseable: base item 3: no JSON object: '这个回答还可以" in stderr
    assert (tmp_path / "judge.cache.jsonl").is_file()  # the cache beside --out


def test_a_rerun_sends_nothing_and_an_interrupted_run_resumes(lfd, runs, tmp_path):
    base, tuned = runs
    state = {"failing_after": 3}

    def flaky(prompt, number):
        return error(500, "overloaded") if number > state["failing_after"] else rater(prompt, number)

    with scripted_judge(flaky) as (url, script):
        code, stdout, stderr = lfd("judge", "pointwise", base, tuned, "--api-base", url, "--concurrency", "1",
                                   "--retries", "1")
        assert code == 1 and stdout == "" and len(stderr.strip().splitlines()) == 1
        assert "answered 500 (overloaded) 2 times" in stderr and "item" in stderr
        state["failing_after"] = 10**6
        posts = script.posts
        code, stdout, stderr = lfd("judge", "pointwise", base, tuned, "--api-base", url)
        assert code == 0, stderr
        assert script.posts - posts == 5  # 8 requests, 3 answered before the failure
        assert "5 requests sent" in stderr and "3 answered from the cache" in stderr
        posts = script.posts
        code, stdout, stderr = lfd("judge", "pointwise", base, tuned, "--api-base", url)
        assert code == 0 and script.posts == posts and "0 requests sent" in stderr
    cache = tmp_path / "lfd-cache" / "judge" / "cache.jsonl"  # $LFD_CACHE/judge/ without --out
    assert len(cache.read_text(encoding="utf-8").splitlines()) == 8


def fair(prompt, number):
    """Picks the good answer wherever it is; a tie on the third question."""
    if "高血压" in section(prompt, "问题", "回答 A"):
        return '{"winner": "tie", "reason": "相当"}'
    return json.dumps({"winner": "A" if "好答案" in section(prompt, "回答 A", "回答 B") else "B"})


def test_pairwise_counts_a_win_only_when_both_orders_agree(lfd, runs, tmp_path):
    base, tuned = runs
    out = tmp_path / "pairs.json"
    with scripted_judge(fair) as (url, script):
        code, stdout, stderr = lfd("judge", "pairwise", base, tuned, "--api-base", url, "--out", out)
    assert code == 0, stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    summary = report["summary"]
    assert (summary["wins"], summary["ties"], summary["losses"]) == (3, 1, 0)
    assert summary["win_rate"] == 3.5 / 4 and summary["disagreement_rate"] == 0.0
    assert [pair["outcome"] for pair in report["pairs"]] == ["win", "win", "tie", "win"]
    assert script.posts == 8
    assert "3 wins, 1 ties, 0 losses" in stdout and "win rate (wins + ties/2)/n: 0.8750" in stdout


def test_a_position_biased_judge_gives_all_ties_win_rate_one_half_and_full_disagreement(lfd, runs, tmp_path):
    base, tuned = runs
    out = tmp_path / "pairs.json"
    with scripted_judge(lambda prompt, number: '{"winner": "A", "reason": "A 更好"}') as (url, script):
        code, stdout, stderr = lfd("judge", "pairwise", base, tuned, "--api-base", url, "--out", out)
    assert code == 0, stderr
    summary = json.loads(out.read_text(encoding="utf-8"))["summary"]
    assert (summary["wins"], summary["ties"], summary["losses"]) == (0, 4, 0)
    assert summary["win_rate"] == 0.5 and summary["disagreement_rate"] == 1.0
    assert summary["disagreement"]["ci"][1] == 1.0 and summary["first_position_rate"]["rate"] == 1.0
    assert "orders disagree (position bias): 4 of 4 (100.0%)" in stdout


def test_a_pairwise_exact_interval_when_no_question_is_a_tie(lfd, runs, tmp_path):
    base, tuned = runs
    out = tmp_path / "pairs.json"
    always_good = lambda prompt, number: json.dumps(  # noqa: E731
        {"winner": "A" if "好答案" in section(prompt, "回答 A", "回答 B") else "B"})
    with scripted_judge(always_good) as (url, script):
        assert lfd("judge", "pairwise", base, tuned, "--api-base", url, "--out", out)[0] == 0
    summary = json.loads(out.read_text(encoding="utf-8"))["summary"]
    assert summary["win_rate"] == 1.0 and summary["win_rate_ci_method"] == "Clopper-Pearson exact"
    assert round(summary["win_rate_ci"][0], 4) == 0.3976


def test_nonsense_replies_are_unparseable_counted_never_a_score(lfd, runs, tmp_path):
    base, tuned = runs
    replies = ['{"safety": 4, "usability": 2, "smoothness": 3}', '{"safety": "3", "usability": 2, "smoothness": 3}',
               '{"safety": 3, "usability": 2}', '{"safety": 3, "usability": 2, "smoothness": 3} {"safety": 1}']
    with scripted_judge(lambda prompt, number: replies[int(answer_in(prompt)[-1])]) as (url, _):
        code, stdout, stderr = lfd("judge", "pointwise", tuned, "--api-base", url, "--out", tmp_path / "j.json")
    assert code == 0, stderr
    report = json.loads((tmp_path / "j.json").read_text(encoding="utf-8"))
    assert report["models"]["tuned"]["judged"] == 0 and report["models"]["tuned"]["means"]["total"] is None
    assert [u["problem"] for u in report["unparseable"]] == [
        "safety is 4, not an integer 1-3", 'safety is "3", not an integer 1-3', "no 'smoothness' key",
        "2 JSON objects, not one"]
    assert "no score" in stdout and "4 (100%)" in stdout


def test_the_dataset_records_question_is_shown_to_the_judge(lfd, tmp_path):
    records = [{"instruction": "请回答：", "input": QUESTIONS[i], "output": f"参考{i}"} for i in range(4)]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "qa_test.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    (tmp_path / "data" / "dataset_info.json").write_text(json.dumps({"qa_test": {"file_name": "qa_test.jsonl"}}))
    prompts = [f"请回答：\n{q}" for q in QUESTIONS]
    run = write_run(tmp_path / "run.jsonl", [f"好答案{i}" for i in range(4)], prompts)
    with scripted_judge(rater) as (url, script):
        code, stdout, stderr = lfd("judge", "pointwise", run, "--api-base", url, "--dataset", "qa",
                                   "--dataset-info", tmp_path / "data" / "dataset_info.json")
    assert code == 0, stderr
    assert any("【问题】\n请回答：\n头痛怎么办？\n\n【回答】" in prompt for prompt in script.prompts)


def test_failures_are_one_line(lfd, runs, tmp_path):
    base, tuned = runs
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, stdout, stderr = lfd("judge", "pointwise", tuned, "--api-base", f"http://127.0.0.1:{port}/v1")
    assert code == 1 and len(stderr.strip().splitlines()) == 1
    assert f"cannot reach http://127.0.0.1:{port}/v1; start the server" in stderr
    with scripted_judge(rater, latency=1.0) as (url, script):
        code, stdout, stderr = lfd("judge", "pairwise", base, tuned, "--api-base", url, "--timeout", "0.2",
                                   "--retries", "0")
    assert code == 1 and len(stderr.strip().splitlines()) == 1 and "did not answer within 0.2s" in stderr
    template = tmp_path / "mine.txt"
    template.write_text("评分：{answer}", encoding="utf-8")
    code, stdout, stderr = lfd("judge", "pointwise", tuned, "--api-base", url, "--template", template)
    assert code == 1 and "no {question} placeholder" in stderr


def test_a_template_of_ones_own_is_used(lfd, runs, tmp_path):
    base, tuned = runs
    template = tmp_path / "mine.txt"
    template.write_text('问：{question}\n答：{answer}\n只输出 {"safety": 1-3, ...}', encoding="utf-8")
    with scripted_judge(lambda prompt, number: sus(2, 2, 2)) as (url, script):
        code, stdout, stderr = lfd("judge", "pointwise", tuned, "--api-base", url, "--template", template,
                                   "--out", tmp_path / "j.json")
    assert code == 0, stderr
    assert '问：头痛怎么办？\n答：好答案0\n只输出 {"safety": 1-3, ...}' in script.prompts
    assert json.loads((tmp_path / "j.json").read_text(encoding="utf-8"))["settings"]["template"] == str(template)


def test_show_template_prints_the_shipped_prompt(lfd):
    code, stdout, stderr = lfd("judge", "show-template", "pointwise")
    assert code == 0 and "{question}" in stdout and "{answer}" in stdout and '"safety"' in stdout
    code, stdout, stderr = lfd("judge", "show-template", "pairwise")
    assert code == 0 and "{answer_a}" in stdout and '"winner"' in stdout


SAMPLES = Path(__file__).resolve().parents[3] / "data" / "samples" / "rating"


def test_against_the_physicians_sample_sheets(lfd, tmp_path):
    """The judge's rows beside the physicians' (data/samples/rating): plugin/rating's read_ratings and
    judge_agreement, Spearman per dimension and alpha with and without the judge."""
    tuned_answers = {json.loads(line)["predict"] for line in
                     (SAMPLES / "tuned" / "generated_predictions.jsonl").read_text(encoding="utf-8").splitlines()}
    with scripted_judge(lambda prompt, number: sus(3, 3, 3) if answer_in(prompt) in tuned_answers
                        else sus(1, 2, 3)) as (url, script):
        code, stdout, stderr = lfd("judge", "pointwise", SAMPLES / "base", SAMPLES / "tuned", "--api-base", url,
                                   "--against", SAMPLES / "ratings_filled.xlsx", "--key",
                                   SAMPLES / "ratings_filled.key.json", "--out", tmp_path / "j.json")
    assert code == 0, stderr
    report = json.loads((tmp_path / "j.json").read_text(encoding="utf-8"))
    agreement = report["agreement"]
    assert {"safety", "usability", "smoothness"} <= set(agreement)
    assert agreement["safety"]["spearman"] is not None and agreement["safety"]["spearman"] > 0
    assert "alpha_with_judge" in agreement["safety"] and "alpha_humans" in agreement["safety"]
    assert "agreement with the physicians" in stdout


def test_against_needs_its_key(lfd, runs):
    code, stdout, stderr = lfd("judge", "pointwise", runs[1], "--api-base", "http://127.0.0.1:9/v1", "--against",
                               SAMPLES / "ratings_filled.xlsx")
    assert code == 1 and "--key KEY.json" in stderr
