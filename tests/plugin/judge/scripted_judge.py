"""A scripted OpenAI-compatible judge on loopback (http.server in a thread) for the judge's and the endpoint's
tests and benchmarks/judge_bench.py: ``reply(prompt, number)`` says what each chat request gets."""

import http.server
import json
import threading
import time
from contextlib import contextmanager

MODEL = "scripted-judge"


class Script:
    """What the server answers and what it saw: ``posts`` (chat requests, retries included), ``prompts``."""

    def __init__(self, reply, latency: float = 0.0):
        self.reply, self.latency = reply, latency
        self.posts, self.prompts, self.in_flight, self.most_in_flight = 0, [], 0, 0
        self.lock = threading.Lock()

    def answer(self, body: dict):
        with self.lock:
            self.posts += 1
            number = self.posts
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            prompt = body["messages"][-1]["content"]
            self.prompts.append(prompt)
        try:
            if self.latency:
                time.sleep(self.latency)
            return self.reply(prompt, number)
        finally:
            with self.lock:
                self.in_flight -= 1


def completion(text: str, finish_reason: str = "stop") -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


class Cut(str):
    """A reply the server cut off at its own token limit (``finish_reason: "length"``)."""


def error(status: int, message: str, headers: dict | None = None):
    """A reply that is an HTTP error (``reply`` returns it instead of a text)."""
    return status, {"error": {"message": message, "type": "server_error"}}, headers or {}


def make_handler(script: Script):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "test"}]})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            got = script.answer(body)
            if isinstance(got, tuple):
                self.send(*got)
            elif isinstance(got, Cut):
                self.send(200, completion(str(got), "length"))
            else:
                self.send(200, completion(got))

        def send(self, status, body, headers=None):
            data = json.dumps(body, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                pass

        def log_message(self, *args):
            pass

    return Handler


@contextmanager
def scripted_judge(reply, latency: float = 0.0):
    """Yields (its /v1 URL, the Script) while the server runs on 127.0.0.1."""
    script = Script(reply, latency)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1", script
    finally:
        server.shutdown()
        server.server_close()


def section(prompt: str, title: str, next_title: str | None) -> str:
    """The text of ``【title】`` up to ``【next_title】`` (or the end) in a filled template."""
    start = prompt.index(f"【{title}】") + len(title) + 2
    end = prompt.index(f"【{next_title}】", start) if next_title else len(prompt)
    return prompt[start:end]


def sus(safety: int, usability: int, smoothness: int, reason: str = "理由") -> str:
    return json.dumps({"safety": safety, "usability": usability, "smoothness": smoothness, "reason": reason},
                      ensure_ascii=False)


def answer_in(prompt: str) -> str:
    """The answer a filled pointwise template shows (the paragraph after 【回答】)."""
    return section(prompt, "回答", None).strip().split("\n\n")[0]
