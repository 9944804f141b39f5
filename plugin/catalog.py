"""The catalog of the seeds' public sources (``catalog.json``) and the `lfd fetch` cache.

For each source the catalog gives its ModelScope id (or, for sources not on ModelScope, the page to
get it from), the files that matter with a plausible minimum size, and the converter and split
mapping that `lfd convert --from-catalog NAME` uses. The cache is ``$LFD_CACHE``, else
``~/.cache/llamafactory-domains``.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from .errors import UserError

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


def by_hand(name: str, cache: Path) -> str:
    info, target = entry(name), cache / name
    source = f"https://www.modelscope.cn/{'datasets/' if info['kind'] == 'dataset' else 'models/'}{info['modelscope']}" \
        if "modelscope" in info else info["page"]
    return (f"get {', '.join(info['files'])} from {source} and copy them into {target}/ "
            f"(keeping those relative paths), then run `lfd fetch {name}` again to check them")


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
