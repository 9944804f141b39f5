"""`lfd fetch`: the seeds' public sources through ModelScope, into a cache, checked, with the next command.

What each source is, and where it goes, is in :mod:`..catalog`.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

from ..catalog import (
    by_hand,
    catalog,
    default_cache,
    entry,
    missing_files,
    next_command,
    problems,
)
from ..errors import UserError


def hub_reachable(timeout: float = 5.0) -> bool:
    from modelscope.hub.utils.utils import get_endpoint

    host = urlparse(get_endpoint()).hostname
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def download(name: str, cache: Path) -> None:
    info = entry(name)
    if not hub_reachable():
        raise UserError(f"cannot reach the ModelScope hub (no network?); {by_hand(name, cache)}")
    from modelscope.hub.snapshot_download import (
        dataset_snapshot_download,
        snapshot_download,
    )

    print(f"downloading {info['modelscope']} into {cache / name}", file=sys.stderr)

    fetcher = dataset_snapshot_download if info["kind"] == "dataset" else snapshot_download
    try:  # resumable: ModelScope continues partial files in local_dir
        fetcher(info["modelscope"], local_dir=str(cache / name), allow_patterns=list(info["files"]) + ["*.json", "*.txt"])
    except (ConnectionError, OSError) as err:
        raise UserError(f"download of {info['modelscope']} failed ({str(err).splitlines()[0][:120]}); "
                        f"run `lfd fetch {name}` again to resume, or {by_hand(name, cache)}") from None


def list_catalog(cache: Path) -> None:
    rows = []
    for name, info in catalog().items():
        state = "cached" if not problems(name, cache) else "partial" if len(missing_files(name, cache)) < len(
            info["files"]) else "-"
        where = info.get("modelscope", "by hand: " + info.get("page", ""))
        rows.append((name, info["kind"], state, info.get("converter", ""), where, info["description"]))
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    print(f"catalog (cache: {cache}; state: cached / partial / -)")
    for row in rows:
        print("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths)) + f"  {row[5]}")
        print("  " + " " * widths[0] + f"  from {row[4]}")


def run(args) -> int:
    cache = args.cache_dir or default_cache()
    if args.list:
        list_catalog(cache)
        return 0
    if not args.name:
        raise UserError("name a catalog entry (e.g. `lfd fetch imcs-v2-mrg`) or pass --list")
    info = entry(args.name)
    if problems(args.name, cache) and "modelscope" in info:
        download(args.name, cache)
    left = problems(args.name, cache)
    if left and "modelscope" not in info and missing_files(args.name, cache):
        raise UserError(f"{args.name} is not on ModelScope: {by_hand(args.name, cache)}")
    if left:
        again = f"run `lfd fetch {args.name}` again to resume" if "modelscope" in info else "copy the complete files"
        raise UserError(f"{cache / args.name}: {'; '.join(left)}; {again}")
    print(f"{args.name}: all expected files are in {cache / args.name}", file=sys.stderr)
    print(next_command(args.name, cache))
    return 0


def add_parser(sub):
    from .arguments import add_command

    p = add_command(
        sub, "fetch", example="lfd fetch imcs-v2-mrg",
        description=("Download a known source through ModelScope into the cache (resumable), check what arrived and\n"
                     "print the next command. Sources not on ModelScope say where to get them and where to put them.\n"
                     "Without network (the example then fails in one line) copy the files by hand into the folder\n"
                     "it names; `lfd fetch NAME` then checks them.\n"
                     "Cache: --cache-dir, else $LFD_CACHE, else ~/.cache/llamafactory-domains."),
        help="download a known dataset or model through ModelScope",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="a catalog entry (see --list)")
    p.add_argument("--list", action="store_true", help="show the catalog and what is already in the cache")
    p.add_argument("--cache-dir", type=Path, help="cache folder (default $LFD_CACHE or ~/.cache/llamafactory-domains)")
    p.set_defaults(func=run)
    return p
