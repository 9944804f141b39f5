"""Many chat requests to one OpenAI-compatible endpoint, concurrently, retried, cached: `lfd judge`'s client
(and the one `lfd synth` and `lfd distill` share).

>>> Request("item 3", [{"role": "user", "content": "你好"}]).temperature
0.0

:class:`Endpoint` sends :class:`Request`\\ s through the ``openai`` client (its own retries off) from a
thread pool of ``concurrency`` workers and returns one :class:`Result` per request, in request order.

- **Retries**: a 429, a 5xx, a timeout or a dropped connection is tried again, up to ``retries`` more
  times, after an exponential backoff (0.5 s, 1 s, 2 s… capped at 30 s) plus a jitter drawn from the
  item's key and the attempt (so reruns wait the same); a 429's ``Retry-After`` (or ``retry-after-ms``)
  is waited instead (up to 2 minutes). Still failing after the retries: a one-line :class:`UserError`
  naming the item and the status ("answered 500 (…) 5 times"). A refused key (401/403) or an unknown
  model (404) is a UserError at once; another 4xx (e.g. a prompt over the server's context) is that
  item's ``Result.error``, not retried, not cached. A server that cannot be reached at all (connection
  refused) is a UserError at once: "cannot reach URL; start the server … or fix --api-base".
- **Cache**: a JSONL file, one line per finished request: ``{"hash", "key", "text", "usage",
  "finish_reason"}``, the hash being SHA-256 of (model, messages, temperature, max_tokens). Each line
  is appended and flushed as its answer arrives, so an interrupted run (Ctrl-C, a crash, a failing
  server) resumes with what is left and a rerun sends nothing. Failures are never cached; an unreadable
  line (a torn last line) is ignored.
- **Counters** of the last :meth:`Endpoint.run`: ``sent`` (requests sent to the server, not from the
  cache), ``attempts`` (HTTP attempts, retries included), ``cached``, and ``tokens`` (prompt and
  completion totals, cached answers included).

A progress bar with the tokens so far is shown on stderr when it is a terminal (tqdm).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .commands.arguments import MAX_CONCURRENCY, seconds, temperature
from .io.atomic import escape_surrogates

BACKOFF_SECONDS = 0.5  # the first retry's wait; doubled each time
MAX_BACKOFF = 30.0
START_SERVER = "API_HOST=127.0.0.1 llamafactory-cli api recipes/pharma_lora_serve.yaml"


@dataclass(frozen=True)
class Request:
    """One chat request; ``key`` names its item in messages and results (e.g. "tuned item 3")."""

    key: str
    messages: list[dict]
    temperature: float = 0.0
    max_tokens: int | None = None


@dataclass
class Result:
    """The answer to one :class:`Request` (``text``), or why it has none (``error``)."""

    key: str
    text: str | None
    error: str | None
    cached: bool
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None = None  # the server's: "stop", "length" (cut off at a token limit), ...


class Fatal(Exception):
    """A failure that ends the run (the endpoint down, a request failing after its retries)."""


class Stopped(Exception):
    """A request not sent, or not retried, because the run is ending."""


def request_hash(model: str, request: Request) -> str:
    """The cache key of a request to ``model``: the same model, messages, temperature and max_tokens, the same hash.

    >>> request_hash("m", Request("a", [{"role": "user", "content": "x"}])) == request_hash("m", Request("b", [{"content": "x", "role": "user"}]))
    True
    """
    text = json.dumps([model, request.messages, request.temperature, request.max_tokens], ensure_ascii=False,
                      sort_keys=True)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def read_cache(path: Path | None) -> dict[str, dict]:
    """hash -> {"text", "usage"} of the cache file's readable lines (a torn or foreign line is left out)."""
    found: dict[str, dict] = {}
    if path is None or not path.is_file():
        return found
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):  # a damaged line is a request not answered yet
                continue
            if isinstance(entry, dict) and isinstance(entry.get("hash"), str) and isinstance(entry.get("text"), str):
                found[entry["hash"]] = entry
    return found


def usage_of(entry: dict) -> tuple[int, int]:
    usage = entry.get("usage") if isinstance(entry.get("usage"), dict) else {}
    return tuple(int(usage.get(name) or 0) if isinstance(usage.get(name), (int, float)) else 0
                 for name in ("prompt_tokens", "completion_tokens"))


def retry_after(err) -> float | None:
    """Seconds a 429 asks to wait (``retry-after-ms`` or ``Retry-After`` in seconds), if it says."""
    headers = getattr(getattr(err, "response", None), "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers.get(name)) * scale)
        except (TypeError, ValueError):
            continue
    return None


def detail_of(err) -> str:
    """What the server said, on one line: its error message, else the client's."""
    body = getattr(err, "body", None)
    said = body.get("message") if isinstance(body, dict) else None
    text = said if isinstance(said, str) and said.strip() else str(getattr(err, "message", "") or err)
    return " ".join(re.sub(r"^Error code: \d+ - ", "", text).split())[:160]


class Endpoint:
    """An OpenAI-compatible chat endpoint; ``model`` defaults to the first the server lists."""

    def __init__(self, api_base: str, model: str | None = None, key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 4, retries: int = 4, timeout: float = 120.0, cache: Path | None = None):
        from openai import OpenAI

        self.api_base, self.concurrency, self.retries, self.timeout = api_base.rstrip("/"), max(1, concurrency), \
            max(0, retries), timeout
        self.cache = Path(cache) if cache is not None else None
        self.client = OpenAI(base_url=self.api_base, api_key=os.environ.get(key_env) or "EMPTY", timeout=timeout,
                             max_retries=0)
        self._model = model
        self.backoff = BACKOFF_SECONDS
        self.sent = self.attempts = self.cached = 0
        self.tokens = {"prompt": 0, "completion": 0}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @property
    def model(self) -> str:
        """The model asked: --model, else the first the server lists (asked once)."""
        if self._model is None:
            import openai

            try:
                listed = self._with_retries("listing the models", lambda: self.client.models.list())
            except openai.APIStatusError as err:
                raise UserError(f"{self.api_base} answered {err.status_code} ({detail_of(err)}) when asked for its "
                                "models; pass --model NAME or check --api-base") from None
            if not listed.data:
                raise UserError(f"{self.api_base} lists no model; pass --model NAME")
            self._model = listed.data[0].id
        return self._model

    def run(self, requests: list[Request], label: str) -> list[Result]:
        """The results of ``requests`` in their order: cached ones from the cache, the rest asked."""
        self._stop.clear()
        model = self.model
        self.sent = self.attempts = self.cached = 0  # of this run's chat requests (listing the models aside)
        self.tokens = {"prompt": 0, "completion": 0}
        hashes = [request_hash(model, request) for request in requests]
        known = read_cache(self.cache)
        results: list[Result | None] = [None] * len(requests)
        waiting: dict[str, list[int]] = {}
        for index, (request, digest) in enumerate(zip(requests, hashes)):
            if digest in known:
                results[index] = self._from_cache(request, known[digest])
            else:
                waiting.setdefault(digest, []).append(index)
        bar = self._bar(len(requests), len(requests) - sum(map(len, waiting.values())), label)
        try:
            if waiting:
                self._ask(requests, waiting, results, bar)
        finally:
            if bar is not None:
                bar.close()
        return results

    def _from_cache(self, request: Request, entry: dict) -> Result:
        prompt, completion = usage_of(entry)
        self.cached += 1
        self.tokens["prompt"] += prompt
        self.tokens["completion"] += completion
        finish = entry.get("finish_reason") if isinstance(entry.get("finish_reason"), str) else None
        return Result(request.key, entry["text"], None, True, prompt, completion, finish)

    def _bar(self, total: int, done: int, label: str):
        if not sys.stderr.isatty() or not total:
            return None
        from tqdm import tqdm

        bar = tqdm(total=total, initial=done, desc=label, unit="req", file=sys.stderr, leave=False)
        bar.set_postfix_str(self._token_text())
        return bar

    def _token_text(self) -> str:
        return f"tokens {self.tokens['prompt']}+{self.tokens['completion']}"

    def _ask(self, requests: list[Request], waiting: dict[str, list[int]], results: list, bar) -> None:
        if self.cache is not None:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
        torn = self.cache is not None and self.cache.is_file() and not ends_with_newline(self.cache)
        futures: dict = {}
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="endpoint")
        handle = open(self.cache, "a", encoding="utf-8") if self.cache is not None else None
        try:
            if torn:
                handle.write("\n")  # a torn last line stays on its own line, ignored
            futures = {pool.submit(self._one, requests[indices[0]]): digest for digest, indices in waiting.items()}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    self._finish(future, futures[future], requests, waiting, results, handle, bar)
        except UserError:  # the requests under way finish (their retries stop), and what they got is kept
            self._stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            for future, digest in futures.items():
                if future.done() and not future.cancelled() and future.exception() is None \
                        and results[waiting[digest][0]] is None:
                    self._finish(future, digest, requests, waiting, results, handle, None)
            raise
        except BaseException:  # Ctrl-C: stop at once (requests under way are cut); the cache keeps every answer
            self._stop.set()
            self.client.close()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            if handle is not None:
                handle.close()

    def _finish(self, future, digest: str, requests, waiting, results, handle, bar) -> None:
        try:
            text, prompt, completion, finish, error = future.result()
        except Stopped:
            return
        except Fatal as err:
            raise UserError(str(err)) from None
        if error is None and handle is not None:
            line = {"hash": digest, "key": requests[waiting[digest][0]].key, "text": text,
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion}, "finish_reason": finish}
            handle.write(escape_surrogates(json.dumps(line, ensure_ascii=False)) + "\n")
            handle.flush()
        for number, index in enumerate(waiting[digest]):
            shared = number > 0  # the same request twice in one run: asked once
            results[index] = Result(requests[index].key, text, error, shared and error is None,
                                    prompt, completion, finish)
            self.tokens["prompt"] += prompt
            self.tokens["completion"] += completion
        if bar is not None:
            bar.update(len(waiting[digest]))
            bar.set_postfix_str(self._token_text())

    def _one(self, request: Request) -> tuple[str | None, int, int, str | None, str | None]:
        """(text, prompt tokens, completion tokens, finish reason, error) of one request, retried; Fatal ends the run."""
        import openai

        options = {"max_tokens": request.max_tokens} if request.max_tokens else {}
        if self._stop.is_set():
            raise Stopped(request.key)
        with self._lock:
            self.sent += 1
        try:
            done = self._with_retries(request.key, lambda: self.client.chat.completions.create(
                model=self.model, messages=request.messages, temperature=request.temperature, **options))
        except openai.APIStatusError as err:  # a 4xx of this request alone: its error, not retried
            return None, 0, 0, None, f"answered {err.status_code} ({detail_of(err)})"
        if not done.choices:
            return None, 0, 0, None, "answered with no choices"
        usage = done.usage
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0) if usage else 0
        completion = int(getattr(usage, "completion_tokens", 0) or 0) if usage else 0
        finish = done.choices[0].finish_reason
        return done.choices[0].message.content or "", prompt, completion, finish if isinstance(finish, str) else None, None

    def _with_retries(self, what: str, call):
        """``call()`` tried 1 + retries times; raises Fatal (or a UserError outside a run) when it gives up."""
        import openai

        last = ""
        for attempt in range(self.retries + 1):
            if self._stop.is_set():
                raise Stopped(what)
            with self._lock:
                self.attempts += 1
            wait_for = None
            try:
                return call()
            except openai.APITimeoutError:
                last = f"did not answer within {self.timeout:g}s"
            except openai.APIConnectionError as err:
                if refused(err):
                    self._stop.set()
                    raise self._fail(f"cannot reach {self.api_base}; start the server (e.g. {START_SERVER}) "
                                     "or fix --api-base")
                last = f"dropped the connection ({detail_of(err)})"
            except (openai.AuthenticationError, openai.PermissionDeniedError):
                raise self._fail(f"{self.api_base} refused the API key; set it in the environment variable "
                                 "--api-key-env names (default OPENAI_API_KEY)")
            except openai.NotFoundError as err:
                raise self._fail(f"{self.api_base} answered 404 ({detail_of(err)}); check --api-base (it ends in /v1) "
                                 "and --model")
            except openai.RateLimitError as err:
                last, wait_for = f"answered 429 ({detail_of(err)})", retry_after(err)
            except openai.APIStatusError as err:
                if err.status_code < 500:
                    raise
                last = f"answered {err.status_code} ({detail_of(err)})"
            if attempt < self.retries:  # a 429's Retry-After is honoured (up to 2 minutes), else the backoff
                self._stop.wait(self.delay(what, attempt) if wait_for is None else min(wait_for, 4 * MAX_BACKOFF))
        cached = f"; what finished is kept in {self.cache}" if self.cache else ""
        times = self.retries + 1
        raise self._fail(f"{what}: {self.api_base} {last} {times} time{'s' if times > 1 else ''}; check the server's "
                         f"log{' or raise --timeout' if last.startswith('did not') else ''}{cached}")

    def _fail(self, message: str) -> Exception:
        self._stop.set()
        return Fatal(message) if threading.current_thread() is not threading.main_thread() else UserError(message)

    def delay(self, key: str, attempt: int) -> float:
        """The wait before retry ``attempt + 1``: exponential, capped, with a jitter seeded by key and attempt.

        >>> e = Endpoint.__new__(Endpoint); e.backoff = 0.5
        >>> [round(e.delay("item 1", a), 3) == round(e.delay("item 1", a), 3) for a in range(2)], e.delay("x", 9) <= 45
        ([True, True], True)
        """
        base = min(MAX_BACKOFF, self.backoff * 2 ** attempt)
        return base + random.Random(f"{key}\0{attempt}").uniform(0, base / 2)


def add_teacher_arguments(add, kind: str, model_help: str = "the endpoint's model (default: the first it lists)"):
    """The options every teacher-model converter (``kind``: synth, distill) takes, for its add_arguments."""
    add("--api-base", metavar="URL", help="the teacher: an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    add("--model", metavar="NAME", help=model_help)
    add("--api-key-env", default="OPENAI_API_KEY", metavar="VAR", help="environment variable with the key")
    add("--temperature", type=temperature, default=0.0, metavar="T", help="sampling temperature (default 0: greedy)")
    add("--concurrency", default="4", metavar="N", help="requests at once (default 4)")
    add("--retries", default="4", metavar="N", help="retries of a failed request, with backoff (default 4)")
    add("--timeout", type=seconds, default=120.0, metavar="S", help="seconds to wait for one reply")
    add("--request-cache", type=Path, metavar="FILE",
        help="replies kept here (JSONL): a rerun sends nothing, an interrupted one resumes "
             f"(default $LFD_CACHE/{kind}/<input digest>.jsonl)")


def whole_number(option: str, value, least: int, most: int | None = None) -> int:
    """An option's whole number of at least ``least``, else a one-line UserError.

    >>> whole_number("--retries", "0", 0), whole_number("--concurrency", 4, 1)
    (0, 4)
    >>> whole_number("--concurrency", "0", 1)
    Traceback (most recent call last):
    ...
    llamafactory_domains.plugin.errors.UserError: --concurrency '0': expected a whole number of at least 1
    """
    text = str(value).strip()
    if not text.isdigit() or int(text) < least:
        raise UserError(f"{option} {text!r}: expected a whole number of at least {least}")
    if most is not None and int(text) > most:
        raise UserError(f"{option} {text!r}: expected a whole number from {least} to {most}")
    return int(text)


def teacher_endpoint(options, path: Path, kind: str, role: str) -> Endpoint:
    """The Endpoint a teacher-model converter (``kind``: synth, distill) asks, from the options of
    add_teacher_arguments; the cache defaults to one file per input's digest. ``role`` says what the
    teacher does, for the error when --api-base is missing."""
    option = vars(options).get
    concurrency = whole_number("--concurrency", option("concurrency") or "4", 1, MAX_CONCURRENCY)  # each a thread
    retries = whole_number("--retries", "4" if option("retries") is None else option("retries"), 0)
    if not option("api_base"):
        raise UserError(f"--api-base URL is needed: the teacher model that {role}, e.g. http://127.0.0.1:8000/v1 "
                        "(API_HOST=127.0.0.1 llamafactory-cli api recipes/med_lora_serve.yaml)")
    cache = option("request_cache")
    if cache is None:
        from .catalog import default_cache

        cache = default_cache() / kind / f"{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}.jsonl"
    return Endpoint(option("api_base"), option("model"), option("api_key_env") or "OPENAI_API_KEY",
                    concurrency, retries, option("timeout") or 120.0, cache)


def refused(err) -> bool:
    """Whether a connection error is the server not listening (nothing to retry) rather than a dropped link."""
    seen, cause = 0, err
    while cause is not None and seen < 8:
        if isinstance(cause, ConnectionRefusedError) or type(cause).__name__ == "ConnectError":
            return True
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return False


def ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
