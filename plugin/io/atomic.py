"""Atomic file output: write to a temp file beside the target, then rename over it."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path

from ..errors import UserError

_UMASK = os.umask(0)
os.umask(_UMASK)


def _temp_beside(path: Path):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise UserError(f"cannot write into {path.parent} ({err.strerror}); pick a writable folder") from None
    try:  # mkstemp makes 0600: a replaced file keeps its permissions, a new one gets ordinary ones
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_UMASK
    os.fchmod(fd, mode)
    return os.fdopen(fd, "w", encoding="utf-8", newline="\n"), Path(temp)


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
        self._files: list[tuple[object, Path, Path]] = []

    def open(self, path: Path):
        handle, temp = _temp_beside(Path(path))
        self._files.append((handle, temp, Path(path)))
        return handle

    def commit(self, durable: bool = False) -> None:
        """Puts every file in place; ``durable``: on disk first (fsync), so a crash cannot leave an empty one."""
        for handle, _, _ in self._files:
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
            handle.close()
        for _, temp, path in self._files:
            os.replace(temp, path)
        self._files.clear()

    def discard(self) -> None:
        for handle, temp, _ in self._files:
            handle.close()
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        self._files.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.discard()  # after commit() there is nothing left to discard


def dumps_json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def write_json(path: Path, obj) -> None:
    """Replaces ``path`` in one step: a reader sees the old file or the new one, never a partial one."""
    with AtomicFiles() as out:
        out.open(path).write(dumps_json(obj))
        out.commit(durable=True)
