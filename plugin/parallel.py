"""Big JSONL files and indented JSON arrays converted in parts, one process per CPU, joined in order."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path

from ..converters.base import Converter
from .io.atomic import make_temp
from .io.json_files import iter_json_part, json_parts
from .io.text import CHUNK
from .run import Run, Tally

MAX_WORKERS = 4  # processes converting parts of one big file


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_PARTS_JOB: tuple | None = None  # what the forked workers of convert_in_parts convert


def convert_in_parts(run: Run, path: Path, handle, test_keys: set[bytes], args: argparse.Namespace) -> bool:
    """Converts a big JSONL file or indented JSON array (see ``io.json_files.json_parts``) in parts, one process
    per CPU, and writes the parts' lines to ``handle`` in order: the same bytes and counts as reading it
    whole. This process converts the first part straight into ``handle`` while forked workers convert
    the others into temporary files, appended afterwards (copying costs about a third of converting).
    Returns False, having written nothing, when the run or the file does not allow it or any part
    fails (an error, a wrong split point): the caller then reads the file whole, which reports errors
    with their exact location. Not with --rejects (locations count from each part's start)."""
    global _PARTS_JOB
    conv = run.converter
    if args.rejects or not conv.parallel or type(conv).rows is not Converter.rows:
        return False
    encoding = getattr(args, "encoding", None)
    split = json_parts(path, encoding, min(usable_cpus(), MAX_WORKERS))
    if split is None:
        return False
    jsonl, parts = split
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    files: dict[int, Path] = {}
    handle.flush()  # nothing buffered is copied into the workers
    mark = handle.tell()
    try:
        try:
            for index in range(1, len(parts)):  # named by this process: a next run removes them if it was killed
                files[index] = make_temp(args.out_dir, f"part{index}")
            _PARTS_JOB = (run, path, encoding, jsonl, parts, files, test_keys)
            pool = ProcessPoolExecutor(len(parts) - 1, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_worker_start, initargs=(os.getpid(),))
            try:
                others = pool.map(_convert_part, range(1, len(parts)))  # submitted: the workers start
                tallies = [_convert_part(0, handle), *others]
            except BaseException:  # Ctrl-C, SIGTERM, an error of this process: the workers stop now too
                stop_workers(pool)
                raise
            pool.shutdown()
            if None not in tallies and not any(tally.written for tally in tallies):
                tallies = [None]  # nothing usable: the whole-file pass names the first skipped record exactly
            if None not in tallies:
                for index in range(1, len(parts)):
                    append_file(handle, files[index])
        except (OSError, BrokenProcessPool):  # no room for the parts, a worker killed (out of memory?)
            tallies = [None]
        if None in tallies:  # take back what the first part wrote
            handle.flush()
            handle.seek(mark)
            handle.truncate()
            return False
        train = run.tallies["train"]
        for tally in tallies:
            train.read += tally.read
            train.written += tally.written
            train.augmented += tally.augmented
            train.skipped.update(tally.skipped)
            train.cleaned.update(tally.cleaned)
        return True
    finally:
        _PARTS_JOB = None
        for file in files.values():
            file.unlink(missing_ok=True)


def _worker_start(parent: int) -> None:
    """A forked worker dies with the process that started it: Ctrl-C is the parent's to handle (it stops
    the workers), SIGTERM ends a worker at once, and on Linux the kernel kills it when the parent dies
    (even by SIGKILL), so none waits on its pipe forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not _die_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> bool:
    """prctl(PR_SET_PDEATHSIG, SIGKILL) where there is one (Linux); whether it was set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def stop_workers(pool) -> None:
    """Kills the pool's processes (a shutdown would wait for them to finish their parts) and reaps them."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            process.join(5)


def append_file(handle, source: Path) -> None:
    """Appends the bytes of ``source`` to the open file ``handle``, inside the kernel where it can."""
    handle.flush()
    with open(source, "rb") as part:
        left, copied = os.fstat(part.fileno()).st_size, 0
        try:
            while left:
                step = os.copy_file_range(part.fileno(), handle.fileno(), left)
                if not step:
                    break
                left, copied = left - step, copied + step
        except (AttributeError, OSError):  # no copy_file_range here (other systems, file systems)
            if copied:
                raise
            shutil.copyfileobj(part, handle.buffer, CHUNK)


def _convert_part(index: int, handle=None) -> Tally | None:
    """Converts part ``index`` into ``handle``, or in a forked worker into its file; its tally, or None if
    anything failed."""
    parent, path, encoding, jsonl, parts, files, test_keys = _PARTS_JOB
    run = Run(parent.converter, parent.fmt, cleaner=parent.cleaner)
    first, last = index == 0, index == len(parts) - 1
    try:
        with open(files[index], "w", encoding="utf-8", newline="\n") if handle is None else nullcontext(handle) as out:
            rows = iter_json_part(path, parts[index], encoding, jsonl, first, last)
            run.write_train(out, run.examples_of(path, rows, "train", first=first), test_keys)
    except Exception:  # noqa: BLE001 - the whole-file pass that follows reports it properly
        return None
    return run.tallies["train"]


