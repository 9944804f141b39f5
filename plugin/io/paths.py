"""Output paths, checked before anything is written, and the one-line message of a failed write.

Every command that writes calls :func:`check_outputs` first: an output may not be one of the
command's inputs, nor another of its outputs (compared by the file's identity, so a symlink or a
hard link to an input counts as that input), nor a folder or a device. :func:`write_error` turns
the ``OSError`` of a write (disk full, name too long, no permission) into a :class:`UserError`.

>>> import tempfile; tmp = tempfile.TemporaryDirectory(); d = Path(tmp.name); (d / "in.json").write_text("[]")
2
>>> os.symlink(d / "in.json", d / "link.json"); same_file(d / "link.json", d / "sub" / ".." / "in.json")
True
>>> same_file(d / "new.jsonl", d / "." / "new.jsonl"), same_file(d / "new.jsonl", d / "in.json")
(True, False)
>>> tmp.cleanup()
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ..errors import UserError

NAME_MAX = 255  # bytes of one path component on Linux file systems; pathconf says when it can


def _identity(path: Path):
    """What makes two paths the same file: its device and inode when it exists, else its resolved path."""
    resolved = os.path.realpath(path)
    for candidate in (path, resolved):  # `missing/../file` does not stat, its resolved path does
        try:
            info = os.stat(candidate)
        except (OSError, ValueError):
            continue
        return ("inode", info.st_dev, info.st_ino)
    return ("path", resolved)


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (through symlinks, hard links, ``..`` or not existing yet)."""
    return _identity(Path(a)) == _identity(Path(b))


def name_limit(folder: Path) -> int:
    """The longest file name (in bytes) the file system of ``folder`` (or its nearest existing parent) takes."""
    for parent in (folder, *folder.parents):
        try:
            return os.pathconf(parent, "PC_NAME_MAX")
        except (OSError, ValueError):
            continue
    return NAME_MAX


def check_output(label: str, path: Path) -> None:
    """One output path on its own: not a folder, not a device, a name the file system takes, a folder to go in."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        parent = next((p for p in path.parents if os.path.isfile(p)), path.parent)
        raise UserError(f"{path}: {parent} is a file, not a folder; pick another path for {label}") from None
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:
            raise too_long(path, label) from None
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path}: {label} is a folder; name a file inside it")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path}: {label} is not a regular file (a device, pipe or socket); name a file")
    refuse_too_long(path, label)
    parent = file_in_the_way(path)
    if parent is not None:
        raise UserError(f"{path}: {parent} is a file, not a folder; pick another path for {label}")


def refuse_too_long(path: Path, label: str) -> None:
    """A path with a part longer than its file system takes a name: :func:`too_long`."""
    limit = name_limit(path.parent)
    if any(len(os.fsencode(part)) > limit for part in path.parts):
        raise too_long(path, label)


def file_in_the_way(path: Path) -> Path | None:
    """The nearest existing parent of ``path`` when it is a file (so ``path`` cannot be made there), else None."""
    parent = next((p for p in path.parents if os.path.lexists(p)), None)
    return parent if parent is not None and not os.path.isdir(parent) else None


def too_long(path: Path, label: str = "the output") -> UserError:
    limit = name_limit(Path(path).parent)
    longest = max(Path(path).parts, key=lambda part: len(os.fsencode(part)))
    return UserError(f"{path}: a name of {len(os.fsencode(longest))} bytes is too long for this file system "
                     f"(at most {limit}); pick a shorter name for {label}")


def check_outputs(outputs: Iterable[tuple[str, Path]], inputs: Iterable[tuple[str, Path]] = ()) -> None:
    """Refuses an output that is an input or another output, or that cannot be a file (see :func:`check_output`).

    ``outputs`` and ``inputs`` are (what the user called it, path) pairs, e.g. ("--rejects", path);
    None paths are left out."""
    outputs = [(label, Path(path)) for label, path in outputs if path is not None]
    inputs = [(label, Path(path)) for label, path in inputs if path is not None]
    seen: list[tuple[str, Path, tuple]] = []
    for label, path in outputs:
        check_output(label, path)
        key = _identity(path)
        for input_label, source in inputs:
            if _identity(source) == key:
                raise UserError(f"{path}: that is the {input_label} file{_via(path, source)}, also given as {label}; "
                                f"writing it would replace what is read — pick another file for {label}")
        for other_label, other, other_key in seen:
            if other_key == key:
                raise UserError(f"{path}: both {other_label} and {label}{_via(path, other)}; give each its own file")
        seen.append((label, path, key))


def _via(path: Path, other: Path) -> str:
    return "" if os.path.abspath(path) == os.path.abspath(other) else f" ({other})"


def device_of(path: Path) -> str:
    """The file system ``path`` is on, for messages: ``/dev/sda1 (mounted on /work)``, or the mount point."""
    here = Path(os.path.abspath(path))
    while not os.path.lexists(here) and here != here.parent:
        here = here.parent
    try:
        device = os.stat(here).st_dev
        while here != here.parent and os.stat(here.parent).st_dev == device:
            here = here.parent
    except OSError:
        return f"the device of {here}"
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mounts:
            sources = [line.split(" - ", 1)[1].split()[1] for line in mounts
                       if " - " in line and line.split()[4] == str(here)]
    except (OSError, IndexError):
        sources = []
    return f"{sources[-1]} (mounted on {here})" if sources else str(here)


def write_error(err: OSError, path: Path, label: str = "the output") -> UserError:
    """The one line for a write of ``path`` that failed with ``err``."""
    path = Path(path)
    code = err.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return UserError(f"no space left on {device_of(path)} writing {path}; free some space or write elsewhere "
                         "— nothing was written")
    if code == errno.ENAMETOOLONG:
        return too_long(path, label)
    if code == errno.EISDIR:
        return UserError(f"{path}: {label} is a folder; name a file inside it")
    if code == errno.ENOTDIR:
        return UserError(f"{path}: a part of the path is a file, not a folder; pick another path for {label}")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return UserError(f"cannot write into {path.parent} ({err.strerror}); make it writable or pick a "
                         "writable folder")
    return UserError(f"{path}: cannot write it ({err.strerror or err}); check the disk or pick another folder "
                     "— nothing was written")
