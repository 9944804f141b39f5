"""``-e NAME[:key=value,...]`` specs (and a test split's recorded ones) into evaluators."""

from __future__ import annotations

from ..evaluators.base import Evaluator, evaluators
from .errors import UserError


def parse_value(text: str) -> bool | int | float | str:
    """Typed option value.

    >>> [parse_value(v) for v in ("true", "False", "3", "0.5", "loose")]
    [True, False, 3, 0.5, 'loose']
    """
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_spec(spec: str, source: str = "-e") -> tuple[str, dict]:
    """``NAME[:key=value[,key=value]]`` → (name, options); ``source`` prefixes error messages.

    >>> parse_spec("exact_match:ignore_case=true,punct=false")
    ('exact_match', {'ignore_case': True, 'punct': False})
    """
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise UserError(f"{source}: no evaluator name in {spec!r}; write NAME or NAME:key=value[,key=value]")
    options = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, equals, value = part.partition("=")
        if not equals or not key.strip():
            raise UserError(f"{source}: {part!r} in {spec!r} is not key=value; write e.g. {name}:ignore_case=true")
        if key.strip() in options:  # which one was meant is a guess
            raise UserError(f"{source}: option {key.strip()} is given twice in {spec!r}; keep one")
        options[key.strip()] = parse_value(value.strip())
    return name, options


def build_evaluators(specs: list[tuple[str, str]]) -> list[Evaluator]:
    """Evaluators from (source, spec) pairs; a name given twice merges its options, later ones winning."""
    merged: dict[str, dict] = {}
    for source, spec in specs:
        name, options = parse_spec(spec, source)
        merged.setdefault(name, {}).update(options)
    return [evaluators.get(name)(**options) for name, options in merged.items()]
