"""Atomic file output: files written to temporary files beside their targets, then renamed together.

:class:`AtomicFiles` is a transaction over several files (a convert's data files, its rejects and
dataset_info.json; a report and its page): every temporary file is written and put on disk first
(fsync), then all are renamed onto their targets at once, with SIGINT/SIGTERM held back while that
happens; if any step fails every temporary file is removed and the renames already done are undone,
so the old files come back. A write that fails (disk full, no permission, a name too long) is one
:class:`UserError` line naming the file (:func:`.paths.write_error`). A symlinked target (say a
dataset_info.json linked into a LLaMA-Factory install) is written through the link: the temporary
file goes beside the link's target and is renamed onto it.

Temporary files are named ``.lfd-<host>-<pid>.<name>.<random>.tmp``: a run killed with SIGKILL
leaves them behind, and the next run writing into that folder removes those whose process is gone.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
from pathlib import Path

from ..errors import UserError
from .paths import check_output, write_error

_UMASK = os.umask(0)
os.umask(_UMASK)
HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
STALE = re.compile(r"\.lfd-([0-9a-f]{8})-(\d+)\..*\.tmp\Z", re.DOTALL)
COMPARE_CHUNK = 1 << 20

# ------------------------------------------------------------------ signals held back during a commit


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised in the main thread by :func:`on_signal` (the CLI installs it)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


_held = 0  # > 0 while renames are under way: a signal waits until they are done
_pending: list[int] = []
commits = 0  # transactions completed by this process (the CLI says whether anything was written)


def on_signal(signum, frame) -> None:
    """The SIGINT/SIGTERM handler: stops the run, except in the middle of a commit (then right after it)."""
    if _held:
        _pending.append(signum)
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_held():
    global _held
    _held += 1
    try:
        yield
    finally:
        _held -= 1
    if not _held and _pending:
        raise Interrupted(_pending.pop(0))


# ------------------------------------------------------------------ temporary files


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def remove_stale(folder: Path) -> list[Path]:
    """Removes the temporary files in ``folder`` of runs on this host whose process has ended."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        found = STALE.match(name)
        if found and found[1] == HOST and int(found[2]) != os.getpid() and not _alive(int(found[2])):
            with contextlib.suppress(OSError):
                os.unlink(Path(folder) / name)
                removed.append(Path(folder) / name)
    return removed


def temp_name(name: str) -> str:
    """The prefix of a temporary file for ``name``: ours (host, pid), short enough for any file system."""
    short = os.fsencode(name)[:80].decode("utf-8", "ignore") if isinstance(name, str) else "x"
    return f".lfd-{HOST}-{os.getpid()}.{short}."


def make_temp(folder: Path, name: str) -> Path:
    """An empty temporary file in ``folder`` (which must exist), named as :data:`STALE` recognises."""
    fd, temp = tempfile.mkstemp(dir=folder, prefix=temp_name(name), suffix=".tmp")
    os.close(fd)
    return Path(temp)


class _Output(io.TextIOWrapper):
    """A temporary file's text handle whose failed writes say which output they were for."""

    def write(self, text):
        try:
            return super().write(text)
        except OSError as err:
            raise write_error(err, self.shown) from None
        except UnicodeEncodeError as err:  # half of a surrogate pair: no UTF-8 for it
            raise UserError(f"{self.shown}: text holding a lone surrogate ({err.object[err.start:err.end]!r}, half of "
                            "an emoji?) cannot be written as UTF-8; fix the input text — nothing was written") from None

    def flush(self):
        try:
            return super().flush()
        except OSError as err:
            raise write_error(err, self.shown) from None


class _Entry:
    def __init__(self, shown: Path, target: Path, temp: Path | None, handle):
        self.shown, self.target, self.temp, self.handle = shown, target, temp, handle


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
        with open(a, "rb") as one, open(b, "rb") as two:
            while True:
                left, right = one.read(COMPARE_CHUNK), two.read(COMPARE_CHUNK)
                if left != right:
                    return False
                if not left:
                    return True
    except OSError:
        return False


class AtomicFiles:
    """A set of output files that appear together at ``commit()``, or not at all.

    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> with AtomicFiles() as out:
    ...     _ = out.open(d / "a.txt").write("x")
    ...     out.commit()
    >>> (d / "a.txt").read_text()
    'x'
    """

    def __init__(self):
        self._files: list[_Entry] = []
        self._cleaned: set[str] = set()

    def _temp(self, path: Path) -> tuple[Path, int, Path]:
        check_output("the output", path)  # never renamed over a folder or a device (/dev/null, as root)
        target = Path(os.path.realpath(path))  # through a symlink: its target is what changes
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if str(target.parent) not in self._cleaned:
                self._cleaned.add(str(target.parent))
                remove_stale(target.parent)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=temp_name(target.name), suffix=".tmp")
        except OSError as err:
            if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.ENAMETOOLONG, errno.EACCES, errno.EPERM, errno.EROFS):
                raise write_error(err, path) from None
            raise UserError(f"cannot write into {path.parent} ({err.strerror}); pick a writable folder") from None
        try:  # mkstemp makes 0600: a replaced file keeps its permissions, a new one gets ordinary ones
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except OSError:
            mode = 0o666 & ~_UMASK
        os.fchmod(fd, mode)
        return target, fd, Path(temp)

    def open(self, path: Path, binary: bool = False):
        """A handle to write ``path``'s new content into (text, UTF-8, ``\\n`` lines; or bytes)."""
        target, fd, temp = self._temp(Path(path))
        raw = open(fd, "wb")
        handle = raw if binary else _Output(raw, encoding="utf-8", newline="\n")
        if not binary:
            handle.shown = Path(path)
        self._files.append(_Entry(Path(path), target, temp, handle))
        return handle

    def copy(self, source: Path, path: Path) -> None:
        """``path`` becomes a copy of ``source`` (bytes, permissions and times), like ``shutil.copy2``."""
        handle = self.open(path, binary=True)
        try:
            with open(source, "rb") as original:
                shutil.copyfileobj(original, handle, COMPARE_CHUNK)
            handle.flush()
        except OSError as err:
            raise write_error(err, path) from None
        shutil.copystat(source, self._files[-1].temp)

    def remove(self, path: Path) -> None:
        """``path`` is deleted at commit (and comes back if the commit fails)."""
        self._files.append(_Entry(Path(path), Path(path), None, None))

    def pending(self, path: Path) -> Path | None:
        """The temporary file holding ``path``'s new content so far (flushed), or None."""
        for entry in self._files:
            if entry.shown == Path(path) and entry.handle is not None:
                entry.handle.flush()
                return entry.temp
        return None

    def differs(self, path: Path) -> bool | None:
        """None if ``path`` does not exist yet, else whether its new content differs from its bytes on disk."""
        temp = self.pending(path)
        if temp is None or not os.path.lexists(path):
            return None
        return not _same_bytes(temp, Path(os.path.realpath(path)))

    def commit(self, durable: bool = True) -> None:
        """Puts every file in place: all of them on disk first (fsync), then renamed, or none at all.

        ``durable`` is kept for callers of the old signature: a commit is always durable."""
        global commits
        for entry in self._files:
            if entry.handle is not None and not entry.handle.closed:
                try:
                    entry.handle.flush()
                    os.fsync(entry.handle.fileno())
                    entry.handle.close()
                except OSError as err:
                    raise write_error(err, entry.shown) from None
        done: list[tuple[_Entry, Path | None, bool | None]] = []
        with signals_held():
            current = None
            try:
                for current in self._files:
                    done.append(self._put(current))
                for folder in {str(entry.target.parent) for entry in self._files}:
                    _fsync_folder(folder)
            except BaseException as err:
                for entry, aside, existed in reversed(done):
                    _undo(entry, aside, existed)
                self.discard()
                if isinstance(err, OSError):
                    raise write_error(err, current.shown if current else Path(".")) from None
                raise
            for _, aside, _ in done:
                if aside is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(aside)
            self._files.clear()
            commits += 1

    def _put(self, entry: _Entry) -> tuple[_Entry, Path | None, bool | None]:
        """One rename (or removal); returns what undoes it: the old file set aside, and whether it existed
        (None: nothing was done)."""
        existed = os.path.lexists(entry.target)
        if entry.temp is None:  # a removal: the old file is set aside, deleted once all is done
            if not existed:
                return entry, None, None
            aside = _aside_name(entry.target)
            os.rename(entry.target, aside)
            return entry, aside, True
        if existed and _same_bytes(entry.temp, entry.target):  # unchanged: the old file stays as it was
            os.unlink(entry.temp)
            entry.temp = None
            return entry, None, None
        aside = _link_aside(entry.target) if existed else None
        try:
            os.replace(entry.temp, entry.target)
        except BaseException:
            if aside is not None:
                with contextlib.suppress(OSError):
                    os.unlink(aside)
            raise
        entry.temp = None
        return entry, aside, existed

    def discard(self) -> None:
        for entry in self._files:
            if entry.handle is not None:
                with contextlib.suppress(OSError, ValueError):
                    entry.handle.close()
            if entry.temp is not None:
                with contextlib.suppress(OSError):
                    entry.temp.unlink()
        self._files.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.discard()  # after commit() there is nothing left to discard


def _aside_name(target: Path) -> Path:
    return target.parent / f"{temp_name(target.name)}{secrets.token_hex(6)}.old.tmp"


def _link_aside(target: Path) -> Path | None:
    """A second name for the old file, so a failed commit can put it back; None where links do not work."""
    for _ in range(10):
        aside = _aside_name(target)
        try:
            os.link(target, aside)
        except FileExistsError:
            continue
        except OSError:
            return None
        return aside
    return None


def _undo(entry: _Entry, aside: Path | None, existed: bool | None) -> None:
    with contextlib.suppress(OSError):
        if existed is None:  # left as it was
            return
        if aside is not None:
            os.replace(aside, entry.target)
        elif not existed:
            os.unlink(entry.target)


def _fsync_folder(folder: str) -> None:
    """The renames on disk too (a crash right after cannot bring the old names back)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def dumps_json(obj) -> str:
    """Indented JSON, non-ASCII as it is; a lone surrogate (from a ``\\ud800`` escape) stays an escape."""
    return escape_surrogates(json.dumps(obj, ensure_ascii=False, indent=2)) + "\n"


_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    r"""JSON text with each lone surrogate written as its ``\uXXXX`` escape, so it can be UTF-8.

    >>> escape_surrogates(json.dumps({"a": "x\ud800"}, ensure_ascii=False))
    '{"a": "x\\ud800"}'
    """
    return _SURROGATE.sub(lambda found: f"\\u{ord(found[0]):04x}", text)


def lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in ``text`` (half of an emoji, from a ``\\ud83d``-like escape), or None."""
    found = _SURROGATE.search(text)
    return found[0] if found else None


def printable_text(text: str) -> str:
    """Text for a page or a terminal: a lone surrogate becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def write_json(path: Path, obj) -> None:
    """Replaces ``path`` in one step: a reader sees the old file or the new one, never a partial one."""
    with AtomicFiles() as out:
        out.open(path).write(dumps_json(obj))
        out.commit(durable=True)
