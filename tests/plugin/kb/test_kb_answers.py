"""`lfd kb ask` with real models: a real `llamafactory-cli api` on loopback, the in-process recipe, their failures,
and train/serve parity of the prompt with `lfd convert pharma_rag`'s own test split."""

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "plugin" / "commands"))
from board_process import free_port  # noqa: E402

SAMPLE = ROOT / "data" / "samples" / "pharma"
QUESTION = "药品注册证书有效期几年？"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from llamafactory_domains.plugin.cli import main

    home = tmp_path_factory.mktemp("kb-home")
    assert main(["kb", "build", "regs", str(SAMPLE / "kb"), "--kb-home", str(home)]) == 0
    return home


@pytest.fixture
def recipe(tiny_adapter_serve):
    """``--recipe`` with the served recipe and the overrides the server runs with (tests/conftest.py)."""
    path, overrides = tiny_adapter_serve
    return ["--recipe", path, *overrides]


@pytest.fixture
def api(tiny_adapter_api):
    """`llamafactory-cli api recipes/pharma_lora_serve.yaml` with the tiny model and adapter (tests/conftest.py)."""
    return tiny_adapter_api


def test_ask_through_a_real_llamafactory_api_and_in_process_give_the_same_greedy_answer(lfd, home, api, recipe):
    # with --recipe beside --api-base, the served recipe's tokenizer counts the prompt against its cutoff_len
    code, out, err = lfd("kb", "ask", "regs", QUESTION, "--kb-home", home, "--api-base", api, *recipe, "--json")
    assert code == 0, err
    served = json.loads(out)
    assert served["model"] == "gpt-3.5-turbo"  # what llamafactory-cli api lists by default
    assert served["sources"][0]["source"] == "药品注册示例办法.txt" and "五年" in served["sources"][0]["passage"]
    assert served["prompt"].startswith("已知信息：\n") and served["prompt"].endswith("问题是：" + QUESTION)
    code, out, err = lfd("kb", "ask", "regs", QUESTION, "--kb-home", home, *recipe, "--json")
    assert code == 0, err
    local = json.loads(out)
    # greedy on the same model, adapter, template and prompt: the server was asked exactly what was asked here
    assert local["answer"] == served["answer"] and local["prompt"] == served["prompt"]
    assert local["sources"] == served["sources"]
    code, out, err = lfd("kb", "ask", "regs", QUESTION, "--kb-home", home, "--api-base", api)
    assert code == 0 and "\n出处 [1] 药品注册示例办法.txt\n    " in out
    assert out.count("出处 [") == 5  # no tokenizer to count with: every passage is sent


def test_a_prompt_over_cutoff_len_keeps_the_question_and_says_so_once(lfd, home, recipe, monkeypatch):
    monkeypatch.delenv("LLAMAFACTORY_VERBOSITY", raising=False)
    code, out, err = lfd("kb", "ask", "regs", QUESTION, "--kb-home", home, *recipe,
                         "cutoff_len=120", "--json")
    assert code == 0, err
    reply = json.loads(out)
    [line] = [line for line in err.splitlines() if line.startswith("lfd kb ask:")]  # said once
    assert "over cutoff_len 120: kept the first" in line and len(reply["sources"]) < 5
    assert reply["prompt"].endswith("问题是：" + QUESTION)
    long_question = "药品注册证书的有效期是多少年，" * 40 + "请回答？"
    code, out, err = lfd("kb", "ask", "regs", long_question, "--kb-home", home, *recipe,
                         "cutoff_len=120", "--json")
    assert code == 0, err
    reply = json.loads(out)
    [line] = [line for line in err.splitlines() if line.startswith("lfd kb ask:")]  # said once
    assert "asked with no passage" in line and reply["sources"] == []
    assert reply["prompt"].endswith("问题是：" + long_question.strip())
    # quieting LLaMA-Factory's logs is this process's business: later subprocesses (a training run) log as usual
    assert "LLAMAFACTORY_VERBOSITY" not in os.environ


class Failing(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that lists a model and answers every chat request with a 500."""

    def do_GET(self):
        self.reply(200, {"object": "list", "data": [{"id": "stub", "object": "model", "owned_by": "test"}]})

    def do_POST(self):
        self.reply(500, {"error": {"message": "CUDA out of memory", "type": "server_error"}})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_an_endpoint_that_is_down_or_answers_500_is_one_line(lfd, home):
    code, out, err = lfd("kb", "ask", "regs", QUESTION, "--kb-home", home, "--api-base",
                         f"http://127.0.0.1:{free_port()}/v1", "--timeout", "5")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "cannot reach http://127.0.0.1:" in err and "Traceback" not in err
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code, out, err = lfd("kb", "ask", "regs", QUESTION, "--kb-home", home, "--api-base",
                             f"http://127.0.0.1:{server.server_port}/v1", "--timeout", "5")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "answered 500" in err and "CUDA out of memory" in err


def test_nothing_retrieved_is_the_refusal_without_asking_the_model(lfd, home):
    code, out, err = lfd("kb", "ask", "regs", "xyzzy qwerty", "--kb-home", home, "--api-base",
                         f"http://127.0.0.1:{free_port()}/v1", "--json")
    assert code == 0, err
    reply = json.loads(out)
    assert reply["answer"] == "根据已知信息无法回答该问题" and reply["refused"] and reply["sources"] == []


def test_the_served_prompt_is_the_converters_instruction_on_its_own_test_split(lfd, home, tmp_path):
    """One function builds both: for every question of pharma_rag's test split, the prompt `lfd kb ask` sends
    from the stored base equals the instruction the converter wrote, byte for byte."""
    from llamafactory_domains.plugin.kb.assistant import Assistant
    from llamafactory_domains.plugin.kb.store import StoredKb

    for kb_option in ("regs", str(SAMPLE / "kb")):  # the stored base by name, and its folder
        out = tmp_path / kb_option.replace("/", "_")
        env = {**os.environ, "LFD_KB_HOME": str(home)}
        done = subprocess.run([str(Path(sys.executable).with_name("lfd")), "convert", "pharma_rag",
                               str(SAMPLE / "pharma_qa.xlsx"), "--kb", kb_option, "--test-size", "12",
                               "--out-dir", str(out)], capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        records = [json.loads(line) for line in (out / "pharma_rag_test.jsonl").read_text(encoding="utf-8").splitlines()]
        assistant = Assistant(StoredKb.open("regs", home))
        assert len(records) == 12
        for record in records:
            question = record["instruction"].rsplit("问题是：", 1)[1]
            prompt, sources, _, _ = assistant.prompt(question)
            assert prompt == record["instruction"]
            assert [s.source for s in sources] == record["sources"]
