"""Faults while writing: a full disk (simulated in-process), a failed rename, Ctrl-C, SIGTERM and SIGKILL.

A full disk is simulated by giving AtomicFiles' temporary files a raw writer that raises ENOSPC after
a number of bytes (or an fsync that does): the real TextIOWrapper and buffering above it are used,
so the error surfaces where it would on a full file system. Signals are sent to a real `lfd convert`
subprocess whose converter is slowed down, so it is surely in the middle of its work.
"""

import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from llamafactory_domains.plugin.io import atomic

RECORD = {"instruction": "高血压患者能吃党参吗？", "input": "我有高血压这两天女婿来的时候给我拿了些党参泡水喝" * 3,
          "output": "高血压病人可以口服党参的。党参有降血脂，降血压的作用" * 3, "history": None}


def chip(path: Path, count: int, word: str = "词") -> Path:
    records = [{"text": f"{word}{i}", "normalized_result": f"标准{i % 7}" if i % 10 != 9 else ""} for i in range(count)]
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def state(folder: Path) -> dict:
    """Every file below ``folder`` (hidden ones too) -> its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class FullDisk(io.RawIOBase):
    """A raw file that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, fd: int, room: int):
        self.fd, self.room = fd, room

    def writable(self):
        return True

    def fileno(self):
        return self.fd

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return os.write(self.fd, data)

    def close(self):
        if not self.closed:
            os.close(self.fd)
        super().close()


@pytest.fixture
def disk_full(monkeypatch):
    """disk_full(match, room): temporary files whose target name contains ``match`` hold ``room`` bytes."""
    real_open = open

    def arm(match: str, room: int = 0):
        def fake_open(file, mode="r", *args, **kwargs):
            if isinstance(file, int) and mode == "wb":
                name = os.readlink(f"/proc/self/fd/{file}")
                if match in os.path.basename(name):
                    return io.BufferedWriter(FullDisk(file, room))
            return real_open(file, mode, *args, **kwargs)

        monkeypatch.setattr(atomic, "open", fake_open, raising=False)

    return arm


def one_line_error(result, command: str, *fragments):
    code, out, err = result
    assert code == 1, err
    assert err.startswith(f"lfd {command}: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize("target, room", [("med_norm_train", 0), ("med_norm_train", 3000), ("med_norm_test", 10),
                                          ("rejects", 0), ("dataset_info", 0), ("dataset_info", 100)])
def test_disk_full_while_converting_commits_nothing(lfd, tmp_path, disk_full, target, room):
    src = chip(tmp_path / "a.json", 60)
    out = tmp_path / "out"
    out.mkdir()
    (out / "dataset_info.json").write_text(json.dumps({"alpaca_zh_demo": {"file_name": "x.json"}}), encoding="utf-8")
    before = state(tmp_path)
    disk_full(target, room)
    result = lfd("convert", "med_norm", src, "--test-size", "5", "--rejects", out / "rejects.jsonl", "--out-dir", out)
    one_line_error(result, "convert", "no space left on ", f"writing {out}/", "nothing was written")
    assert state(tmp_path) == before  # no data file without its entry, no temporary file


def test_disk_full_at_fsync_commits_nothing(lfd, tmp_path, monkeypatch):
    src = chip(tmp_path / "a.json", 20)
    out = tmp_path / "out"
    real_fsync = os.fsync

    def fsync(fd):
        if "dataset_info" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    one_line_error(lfd("convert", "med_norm", src, "--out-dir", out), "convert",
                   f"writing {out / 'dataset_info.json'}", "no space left on ")
    assert state(out) == {}


def test_a_failed_rename_puts_the_old_files_back(lfd, tmp_path, monkeypatch):
    src = chip(tmp_path / "a.json", 20)
    out = tmp_path / "out"
    assert lfd("convert", "med_norm", src, "--out-dir", out)[0] == 0
    before = state(out)
    real_replace, calls = os.replace, []

    def replace(a, b):
        calls.append(b)
        if str(b).endswith("dataset_info.json") and not str(a).endswith(".old.tmp"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_replace(a, b)

    monkeypatch.setattr(os, "replace", replace)
    result = lfd("convert", "med_norm", chip(tmp_path / "b.json", 30, "字"), "--format", "sharegpt", "--out-dir", out,
                 "--force")
    one_line_error(result, "convert", "dataset_info.json")
    assert any(str(c).endswith("med_norm_train.jsonl") for c in calls)  # it was renamed, then put back
    assert state(out) == before


def test_disk_full_writing_register_backup_or_target(lfd, tmp_path, disk_full):
    src = chip(tmp_path / "a.json", 20)
    ours = tmp_path / "ours"
    assert lfd("convert", "med_norm", src, "--out-dir", ours)[0] == 0
    root = tmp_path / "LLaMA-Factory"
    (root / "data").mkdir(parents=True)
    (root / "data" / "dataset_info.json").write_text(json.dumps({"alpaca_zh_demo": {"file_name": "a.json"}}))
    before = state(root)
    for match, room in (("bak", 0), ("bak", 10), ("dataset_info.json.", 0)):
        disk_full(match, room)
        result = lfd("register", "--llamafactory-dir", root, "--from", ours / "dataset_info.json")
        one_line_error(result, "register", "no space left on ", "writing ")
        assert state(root) == before


def test_register_into_a_folder_it_cannot_write(lfd, tmp_path, monkeypatch):
    src = chip(tmp_path / "a.json", 20)
    ours = tmp_path / "ours"
    assert lfd("convert", "med_norm", src, "--out-dir", ours)[0] == 0
    root = tmp_path / "LLaMA-Factory"
    (root / "data").mkdir(parents=True)
    (root / "data" / "dataset_info.json").write_text("{}")
    before = state(root)
    real_mkstemp = atomic.tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # noqa: A002 - tempfile's name
        if str(dir).startswith(str(root)):  # what a read-only folder (or file system) answers, even to root
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)
    one_line_error(lfd("register", "--llamafactory-dir", root, "--from", ours / "dataset_info.json"), "register",
                   f"cannot write into {root / 'data'}", "Read-only file system", "writable")
    assert state(root) == before


@pytest.mark.parametrize("option", ["--out", "--per-item", "--html"])
def test_disk_full_writing_eval_reports(lfd, tmp_path, disk_full, option):
    predictions = tmp_path / "generated_predictions.jsonl"
    predictions.write_text("".join(json.dumps({"prompt": f"p{i}", "predict": "a", "label": "a" if i % 2 else "b"}) + "\n"
                                   for i in range(20)), encoding="utf-8")
    reports = tmp_path / "reports"
    reports.mkdir()
    names = {"--out": "r.json", "--per-item": "items.jsonl", "--html": "r.html"}
    disk_full(names[option], 50)
    args = [arg for opt, name in names.items() for arg in (opt, reports / name)]
    one_line_error(lfd("eval", predictions, "-e", "exact_match", *args), "eval",
                   "no space left on ", f"writing {reports / names[option]}")
    assert state(reports) == {}


def test_stale_temporary_files_of_dead_runs_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".lfd-{atomic.HOST}-{pid}.x_train.jsonl.abc.tmp"
    live = tmp_path / f".lfd-{atomic.HOST}-{os.getpid()}.x_train.jsonl.abc.tmp"
    other_host = tmp_path / f".lfd-00000000-{pid}.x_train.jsonl.abc.tmp"
    mine = tmp_path / ".x_train.jsonl.abc.tmp"
    for path in (stale, live, other_host, mine):
        path.write_text("")
    assert atomic.remove_stale(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, other_host, mine))


# ------------------------------------------------------------------ signals, with a real process

SLOW = """
import sys, time
from llamafactory_domains.converters.med_dialog import MedDialog
original = MedDialog.convert
def slow(self, record, split):
    time.sleep(0.0005)
    return original(self, record, split)
MedDialog.convert = slow
from llamafactory_domains.plugin.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def big_jsonl(tmp_path_factory) -> Path:
    """A 38 MB JSONL file: big enough to be converted in parallel parts."""
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for i in range(72_000):
            f.write(json.dumps({**RECORD, "instruction": f"{RECORD['instruction']}{i}"}, ensure_ascii=False) + "\n")
    assert path.stat().st_size > 36 << 20  # PART_MIN_BYTES is 32 MB
    return path


def slow_convert(source: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SLOW, "convert", "med_dialog", str(source), "--out-dir", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_temps(out: Path, proc: subprocess.Popen, pattern: str = ".lfd-*.tmp", count: int = 1) -> list[Path]:
    deadline = time.monotonic() + 60
    while len(found := list(out.glob(pattern))) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the convert never started writing"
        time.sleep(0.05)
    time.sleep(0.3)  # well inside the conversion
    return found


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_stops_a_parallel_convert_cleanly(big_jsonl, tmp_path, signum, status):
    out = tmp_path / "out"
    out.mkdir()
    proc = slow_convert(big_jsonl, out)
    try:
        wait_for_temps(out, proc, ".lfd-*part*.tmp")
        workers = children(proc.pid)
        assert workers, "no parallel workers"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    err = err.decode()
    assert proc.returncode == status, err
    assert err.count("\n") == 1 and "interrupted" in err and "no output was written" in err, err
    assert list(out.iterdir()) == []  # nothing committed, no temporary file left
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers):
        assert time.monotonic() < deadline, "a worker outlived the run"
        time.sleep(0.05)


def test_sigkill_of_a_parallel_convert_kills_its_workers_and_the_next_run_cleans_up(big_jsonl, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    proc = slow_convert(big_jsonl, out)
    try:
        temps = wait_for_temps(out, proc, ".lfd-*part*.tmp")
        workers = children(proc.pid)
        assert workers, "no parallel workers"
        proc.kill()
        proc.wait(timeout=10)
    finally:
        proc.kill()
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers):  # none is left waiting on its pipe
        assert time.monotonic() < deadline, "a worker outlived its killed parent"
        time.sleep(0.05)
    left = list(out.glob(".lfd-*.tmp"))
    assert left and set(temps) <= set(left)  # SIGKILL cannot be caught: the temporary files stay, named by pid
    small = chip(tmp_path / "small.json", 10)
    code = subprocess.run([str(Path(sys.executable).parent / "lfd"), "convert", "med_norm", str(small), "--out-dir",
                           str(out)], capture_output=True).returncode
    assert code == 0
    assert not list(out.glob(".*")), "the next run did not remove the killed run's temporary files"


def test_sigint_of_a_single_process_convert(tmp_path):
    """--limit reads twice and never in parallel: the stop works there too, and nothing is committed."""
    src = tmp_path / "a.jsonl"
    src.write_text("".join(json.dumps({**RECORD, "instruction": f"q{i}"}, ensure_ascii=False) + "\n"
                           for i in range(20_000)), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", SLOW, "convert", "med_dialog", str(src), "--limit", "19000",
                             "--out-dir", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_temps(out, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert list(out.iterdir()) == []


def test_a_signal_during_the_renames_waits_until_they_are_done(tmp_path, monkeypatch):
    """SIGTERM arriving between two renames of a commit: both files land, then the run stops."""
    real_replace, seen = os.replace, []

    def replace(a, b):
        if not seen:
            atomic.on_signal(signal.SIGTERM, None)  # what the handler does when the signal comes now
        seen.append(b)
        return real_replace(a, b)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(atomic.Interrupted) as stop, atomic.AtomicFiles() as out:
        out.open(tmp_path / "a.jsonl").write("a\n")
        out.open(tmp_path / "dataset_info.json").write("{}\n")
        out.commit()
    assert stop.value.signum == signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "dataset_info.json"]
    with pytest.raises(atomic.Interrupted):  # outside a commit it stops at once
        atomic.on_signal(signal.SIGINT, None)


def test_an_output_that_is_a_pipe_or_device_is_never_renamed_over(lfd, tmp_path):
    """(As root a rename over /dev/null replaces the device with a file: a FIFO stands in for it here.)"""
    import stat

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    src = chip(tmp_path / "a.json", 5)
    for command, args in (("convert", ["med_norm", src, "--out-dir", tmp_path / "out", "--rejects", fifo]),
                          ("dataset-info", ["--out", fifo]),
                          ("eval", [tmp_path / "p.jsonl", "-e", "exact_match", "--out", fifo])):
        (tmp_path / "p.jsonl").write_text(json.dumps({"prompt": "p", "predict": "a", "label": "a"}) + "\n")
        one_line_error(lfd(command, *args), command, "not a regular file")
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
