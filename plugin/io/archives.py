"""A JSON or JSONL member of a .zip archive, read as a stream (nothing extracted to disk)."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from .json_exact import Scanner, head, json_container, jsonl_rows, looks_like_jsonl
from .json_files import JSON_SUFFIXES
from .rows import Row
from .text import (
    SNIFF,
    Decoded,
    decode_error,
    decode_guard,
    encoding_of,
    open_bytes,
    text_stream,
)


def _zip_member(archive: zipfile.ZipFile, path: Path, member: str | None, option: str | None) -> zipfile.ZipInfo:
    """The member named ``member`` (full name or file name), or the archive's only JSON member."""
    files = [info for info in archive.infolist()
             if not info.is_dir() and not info.filename.startswith("__MACOSX/")
             and not Path(info.filename).name.startswith("._")]  # macOS resource forks
    if member is None:
        found = [info for info in files if Path(info.filename).suffix.lower() in JSON_SUFFIXES]
        problem = f"holds {len(found)} JSON members, not one"
    else:
        found = [info for info in files if info.filename == member] or [
            info for info in files if Path(info.filename).name == Path(member).name]
        problem = f"has no member {member!r}" if not found else f"has {len(found)} members named {member!r}"
    fix = f"pass {option} with the full name of one of them" if option else "unzip it and pass the file you want"
    if len(found) != 1:
        names = ", ".join(info.filename for info in files) or "nothing"
        raise UserError(f"{path}: {problem} (it holds: {names}); {fix}")
    if Path(found[0].filename).suffix.lower() not in JSON_SUFFIXES:
        raise UserError(f"{path}: member {found[0].filename} is not .json/.jsonl; {fix}")
    return found[0]


def iter_zip(path: Path, member: str | None = None, encoding: str | None = None,
             option: str | None = None) -> Iterator[Row]:
    """Records of one JSON/JSONL member of a .zip, decompressed as a stream (nothing extracted to disk).

    ``member`` is its full name or file name (``IMCS-V2_train.json`` finds ``IMCS-V2-MRG/IMCS-V2_train.json``);
    without it the archive must hold exactly one JSON member. ``option`` is the converter option that
    picks the member, for the error when it is missing. Locations start with the member's name.
    """
    open_bytes(path).close()  # a missing, unreadable or folder input: one line
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise UserError(f"{path}: not a readable .zip archive ({err}); re-download or re-zip it") from None
    with archive:
        info = _zip_member(archive, path, member, option)
        label = f"{path}:{info.filename}"  # the prefix of every error about its records
        if info.flag_bits & 0x1:
            raise UserError(f"{label}: the member is encrypted (password-protected); unzip it with its password "
                            "and pass the file")
        try:
            with archive.open(info) as raw:
                encoding = encoding or encoding_of(raw.read(SNIFF), label)
            with text_stream(archive.open(info), encoding) as stream:
                jsonl = info.filename.lower().endswith(".jsonl") or looks_like_jsonl(head(stream))
            opened = text_stream(archive.open(info), encoding) if jsonl else Decoded(archive.open(info), encoding)
            with opened as stream:
                rows = jsonl_rows(stream, label) if jsonl else json_container(Scanner(stream, label), label)
                for row in decode_guard(label, encoding, rows, reopen=lambda: archive.open(info)):
                    yield Row(f"{info.filename} {row.location}", row.data)
        except UnicodeDecodeError as err:  # in the sniffed start
            raise decode_error(label, encoding, err, "the start", lambda: archive.open(info)) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as err:
            raise UserError(f"{label}: the member is damaged in the archive ({_brief(err)}); re-download or "
                            "re-zip it") from None


def _brief(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
