"""`lfd list`: converters, evaluators and recipes with a one-line description each."""

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


def run(args) -> int:
    sections = [
        ("converters", [(n, converters.describe(n)) for n in converters.names()]),
        ("evaluators", [(n, evaluators.describe(n)) for n in evaluators.names()]),
        (f"recipes ({RECIPES})", [(p.name, recipe_summary(p)) for p in recipes()]),
    ]
    for title, rows in sections:
        print(f"{title}:")
        width = max((len(name) for name, _ in rows), default=0)
        for name, text in rows:
            print(f"  {name.ljust(width)}  {text}")
        if not rows:
            print("  (none)")
    return 0


def add_parser(sub):
    from .arguments import add_command

    p = add_command(sub, "list", example="lfd list",
                    description="List the converters, evaluators (built-in and from installed plugins) and recipes.",
                    help="list converters, evaluators and recipes")
    p.set_defaults(func=run)
    return p
