"""`lfd list`: converters, evaluators (with their options) and recipes with a one-line description each."""

from __future__ import annotations

from pathlib import Path

from ...converters.base import converters
from ...evaluators.base import evaluators
from .. import RECIPES


def recipe_summary(path: Path) -> str:
    """The first line of a recipe's header comment."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and not line.startswith("###") and line.strip("# "):
            return line.strip("# ").strip()
    return ""


def recipes() -> list[Path]:
    return sorted(RECIPES.glob("*.yaml"))


def evaluator_rows() -> list[tuple[str, str, list[str]]]:
    """(name, description, its option lines ``key=default (type): help``) of every evaluator."""
    return [(n, evaluators.describe(n), evaluators.get(n).describe_options() or ["(no options)"])
            for n in evaluators.names()]


def listing(rows: list[tuple[str, str, list[str]]]) -> list[str]:
    """``  NAME  description`` lines, names padded to one width, each followed by its details indented
    under the description; `lfd eval --help` lists the evaluators with it too."""
    width = max((len(name) for name, _, _ in rows), default=0)
    lines = []
    for name, text, details in rows:
        lines.append(f"  {name.ljust(width)}  {text}")
        lines += [f"  {' ' * width}    {detail}" for detail in details]
    return lines or ["  (none)"]


def run(args) -> int:
    sections = [
        ("converters", [(n, converters.describe(n), []) for n in converters.names()]),
        ("evaluators", evaluator_rows()),
        (f"recipes ({RECIPES})", [(p.name, recipe_summary(p), []) for p in recipes()]),
    ]
    for title, rows in sections:
        print(f"{title}:")
        print("\n".join(listing(rows)))
    return 0


def add_parser(sub):
    from .arguments import add_command

    p = add_command(sub, "list", example="lfd list",
                    description="List the converters, evaluators (built-in and from installed plugins) and recipes.",
                    help="list converters, evaluators and recipes")
    p.set_defaults(func=run)
    return p
