"""`lfd fetch`: the seeds' public sources through ModelScope, into a cache, checked, with the next command.

The catalog (``catalog.json`` beside this file) says for each source its ModelScope id (or, for
sources not on ModelScope, the page to get it from), the files that matter with a plausible minimum
size, and the converter and split mapping that `lfd convert --from-catalog NAME` uses.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

from ..errors import UserError

CATALOG = Path(__file__).with_name("catalog.json")


def catalog() -> dict:
    return json.loads(CATALOG.read_text(encoding="utf-8"))


def default_cache() -> Path:
    return Path(os.environ.get("LFD_CACHE") or Path.home() / ".cache" / "llamafactory-domains")


def entry(name: str) -> dict:
    known = catalog()
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(map(repr, close))}?" if close else "`lfd fetch --list` shows the catalog"
        raise UserError(f"no catalog entry {name!r}; {hint}")
    return known[name]


def missing_files(name: str, cache: Path) -> list[str]:
    return [f for f in entry(name)["files"] if not (cache / name / f).is_file()]


def problems(name: str, cache: Path) -> list[str]:
    """What is wrong with the cached copy: missing files, or files smaller than plausible (cut downloads)."""
    found = []
    for file, min_bytes in entry(name)["files"].items():
        path = cache / name / file
        if not path.is_file():
            found.append(f"{file} is missing")
        elif path.stat().st_size < min_bytes:
            found.append(f"{file} has {path.stat().st_size} bytes, expected at least {min_bytes} (a cut download?)")
    return found


def hub_reachable(timeout: float = 5.0) -> bool:
    from modelscope.hub.utils.utils import get_endpoint

    host = urlparse(get_endpoint()).hostname
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def by_hand(name: str, cache: Path) -> str:
    info, target = entry(name), cache / name
    source = f"https://www.modelscope.cn/{'datasets/' if info['kind'] == 'dataset' else 'models/'}{info['modelscope']}" \
        if "modelscope" in info else info["page"]
    return (f"get {', '.join(info['files'])} from {source} and copy them into {target}/ "
            f"(keeping those relative paths), then run `lfd fetch {name}` again to check them")


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


def next_command(name: str, cache: Path) -> str:
    info = entry(name)
    if "converter" in info:
        return " ".join(["lfd convert", info["converter"], "--from-catalog", name,
                         *(["--cache-dir", shlex.quote(str(cache))] if cache != default_cache() else []),
                         *map(shlex.quote, catalog_args(name, cache)), "--out-dir", "data"])
    return (f"model_name_or_path={shlex.quote(str(cache / name))}  (a recipe override; or link it where the recipes "
            f"look: ln -s {shlex.quote(str(cache / name))} {info['recipe_path']})")


def catalog_args(name: str, cache: Path) -> list[str]:
    return [arg.replace("{cache}", str(cache / name)) for arg in entry(name).get("convert_args", [])]


def split_files(name: str, cache: Path) -> dict[str, list[Path]]:
    """The cached files of each split, for `lfd convert --from-catalog`; all must be present."""
    info = entry(name)
    if "splits" not in info:
        raise UserError(f"catalog entry {name!r} is a {info['kind']}, not data to convert")
    missing = missing_files(name, cache)
    if missing:
        raise UserError(f"{name} is not in the cache {cache / name} ({', '.join(missing)} missing); "
                        f"run `lfd fetch {name}` or {by_hand(name, cache)}")
    return {split: [cache / name / f for f in files] for split, files in info["splits"].items()}


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
                     "Cache: --cache-dir, else $LFD_CACHE, else ~/.cache/llamafactory-domains."),
        help="download a known dataset or model through ModelScope",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="a catalog entry (see --list)")
    p.add_argument("--list", action="store_true", help="show the catalog and what is already in the cache")
    p.add_argument("--cache-dir", type=Path, help="cache folder (default $LFD_CACHE or ~/.cache/llamafactory-domains)")
    p.set_defaults(func=run)
    return p
