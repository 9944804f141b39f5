"""What the two real-board tests share (test_webui.py: `lfd webui`; test_register.py: an install's own
`llamafactory-cli webui`): Debian's chromium, a free loopback port, a bounded start, a certain stop."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("CI", "").lower() in ("", "0", "false"),
    reason="Debian chromium is not installed (apt-get install chromium; .ci/run installs it)")
BOARD_ENV = {"BROWSER": "true",  # gradio's inbrowser=True must not open a desktop browser
             "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1,localhost"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_tail(log: Path, lines: int = 30) -> str:
    return "".join(log.read_text(encoding="utf-8", errors="replace").splitlines(True)[-lines:])


def wait_until_up(url: str, process: subprocess.Popen, log: Path, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`{what}` exited with {process.returncode}:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the board did not answer on {url} within {timeout:.0f}s:\n{log_tail(log)}")


@contextmanager
def running_board(command: list[str], cwd: Path, env: dict, log: Path, port: int, timeout: float, path: str = ""):
    """``command`` (a board, or a server, on 127.0.0.1:``port``) started in its own process group, logging to
    ``log``, with ``env`` over this environment (None: unset); yields its URL once ``URL + path`` answers; the
    whole group is stopped afterwards, whatever happened."""
    merged = {key: value for key, value in {**os.environ, **BOARD_ENV, **env}.items() if value is not None}
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(command, cwd=cwd, env=merged, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_up(url + path, process, log, " ".join([Path(command[0]).name, *command[1:]]), timeout)
        yield url
    finally:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(process.pid, sig)  # the board leads its own process group (`lfd webui` execs it)
                process.wait(timeout=wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


def console_script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


SHOTS = Path(__file__).resolve().parents[3] / "build" / "test-artifacts"  # kept for a look after the run


@contextmanager
def browser_page(failure_shot: str):
    """A page of headless chromium (20 s timeouts); a failure inside leaves its screenshot in build/test-artifacts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(20000)
        try:
            yield page
        except Exception:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / failure_shot), full_page=True)
            raise
        finally:
            browser.close()


def keep_shots(folder: Path, names: list[str]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(folder / name, SHOTS / name)
