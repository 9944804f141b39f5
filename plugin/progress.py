"""Progress on the long steps, on stderr and only when stderr is a terminal: stdout stays the results,
and captured or redirected output (tests, CI logs, ``2> log``) gets no bar at all.

:func:`bar` and :func:`tracked` draw tqdm bars (as :func:`.io.text.progress_bar` does for big files);
:class:`TrainerLog` follows the ``trainer_log.jsonl`` LLaMA-Factory appends to while it trains (a
partial last line waits for its end) and :class:`RunsLine` shows the running fine-tunes' step/total
and latest loss on one redrawn line, or, on a non-terminal, one line per tenth of a run.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path


def terminal(stream=None):
    """``stream`` (default: ``sys.stderr`` as it is now) when it is a terminal, else None."""
    stream = sys.stderr if stream is None else stream
    try:
        return stream if stream.isatty() else None
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return None


def bar(total: int, desc: str, unit: str = " items", stream=None):
    """A tqdm bar of ``total`` ``unit`` (with their rate per second) on stderr, or None off a terminal."""
    out = terminal(stream)
    if out is None:
        return None
    from tqdm import tqdm  # imported only now: a quicker start

    return tqdm(total=total, desc=desc, unit=unit, file=out, leave=False)


def tracked(items: Iterable, total: int, desc: str, unit: str = " items", stream=None) -> Iterator:
    """``items`` one by one, counted on a :func:`bar` as each is handed out (no bar off a terminal)."""
    progress = bar(total, desc, unit, stream)
    if progress is None:
        yield from items
        return
    try:
        for item in items:
            yield item
            progress.update()
    finally:
        progress.close()


class TrainerLog:
    """The rows LLaMA-Factory has appended to ``<output_dir>/trainer_log.jsonl`` so far, read as they come.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "trainer_log.jsonl"
    >>> log = TrainerLog(path)
    >>> log.poll(), log.text()
    (False, '')
    >>> _ = path.write_text('{"current_steps": 3, "total_steps": 150, "loss": 2.1}\\n{"current_st')
    >>> log.poll(), log.text()
    (True, 'step 3/150, loss 2.1')
    """

    def __init__(self, path: Path, skip_old: bool = False):
        """``skip_old``: what the file holds now is an earlier run's (read only what is appended)."""
        self.path = path
        self.offset, self.inode = 0, None
        self.pending = b""  # a last line not ended yet
        if skip_old:
            try:
                stat = path.stat()
                self.offset, self.inode = stat.st_size, stat.st_ino
            except OSError:
                pass
        self.step = self.total = 0
        self.loss: float | None = None

    def poll(self) -> bool:
        """Read what was appended since the last poll; whether the step or loss moved."""
        try:
            with open(self.path, "rb") as f:
                stat = os.fstat(f.fileno())
                if stat.st_ino != self.inode or stat.st_size < self.offset:  # a new file: read it from the start
                    if self.inode is not None or stat.st_size < self.offset:
                        self.offset, self.pending = 0, b""
                    self.inode = stat.st_ino
                f.seek(self.offset)
                data = f.read()
        except OSError:  # not written yet (the run is still starting), or being replaced
            return False
        self.offset += len(data)
        *lines, self.pending = (self.pending + data).split(b"\n")
        before = (self.step, self.total, self.loss)
        for line in lines:
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):  # a damaged line: the next ones still count
                continue
            if not isinstance(row, dict):
                continue
            if isinstance(row.get("current_steps"), int) and isinstance(row.get("total_steps"), int):
                self.step, self.total = row["current_steps"], row["total_steps"]
            if isinstance(row.get("loss"), int | float):
                self.loss = row["loss"]
        return (self.step, self.total, self.loss) != before

    def text(self) -> str:
        """``step 30/150, loss 2.1`` (the loss when logged: a predict run logs none), "" before the first row."""
        if not self.total:
            return ""
        return f"step {self.step}/{self.total}" + (f", loss {self.loss:.4g}" if self.loss is not None else "")

    def tenth(self) -> int:
        """How many tenths of the run are done (0..10)."""
        return min(10, self.step * 10 // self.total) if self.total else 0


class RunsLine:
    """The running jobs' progress (:class:`TrainerLog` each): on a terminal one line, redrawn on each
    :meth:`tick`; elsewhere a line each time a run passes another tenth of its steps."""

    CLEAR = "\r\x1b[K"

    def __init__(self, stream=None):
        self.stream = stream  # None: sys.stderr as it is when shown
        self.logs: dict[str, TrainerLog] = {}
        self.tenths: dict[str, int] = {}
        self.drawn = False

    @property
    def out(self):
        return sys.stderr if self.stream is None else self.stream

    def watch(self, name: str, output_dir: Path) -> None:
        """Follow the run writing to ``output_dir`` (a log already there is an earlier run's)."""
        self.logs[name] = TrainerLog(Path(output_dir) / "trainer_log.jsonl", skip_old=True)
        self.tenths[name] = 0

    def forget(self, name: str) -> None:
        self.logs.pop(name, None)
        self.tenths.pop(name, None)

    def say(self, text: str) -> None:
        """A line of its own (started, finished), above the progress line."""
        self.clear()
        print(text, file=self.out, flush=True)

    def clear(self) -> None:
        if self.drawn:
            self.out.write(self.CLEAR)
            self.drawn = False

    def tick(self) -> None:
        """Read every watched log and show where the runs are."""
        for log in self.logs.values():
            log.poll()
        if terminal(self.out) is not None:
            parts = [f"{name} {log.text()}" for name, log in self.logs.items() if log.text()]
            if parts:
                columns = shutil.get_terminal_size().columns
                self.out.write(self.CLEAR + ("      running   " + " · ".join(parts))[: max(20, columns - 1)])
                self.out.flush()
                self.drawn = True
            return
        for name, log in self.logs.items():
            tenth = log.tenth()
            if tenth > self.tenths[name] and tenth < 10:  # the finished line says the last tenth
                self.tenths[name] = tenth
                print(f"      progress  {name}: {log.text()}", file=self.out, flush=True)
