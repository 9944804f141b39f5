"""Name → class registries for converters and evaluators.

Built-ins and third-party packages are found the same way: through the entry-point groups
``llamafactory_domains.converters`` and ``llamafactory_domains.evaluators``. A module registers
its class with the decorator; loading the entry point imports the module, which runs it.
"""

from __future__ import annotations

import difflib
from importlib.metadata import entry_points

from .errors import UserError


class RegistryError(UserError):
    """Unknown or duplicate name."""


class Registry:
    def __init__(self, kind: str, group: str):
        self.kind = kind
        self.group = group
        self._entries: dict[str, type] = {}
        self._loaded = False

    def register(self, name: str):
        """Class decorator: ``@register_converter("med_norm")``. A second, different class of the same name fails."""

        def decorate(obj):
            self._add(name, obj, origin=f"{obj.__module__}.{obj.__qualname__}")
            return obj

        return decorate

    def _add(self, name: str, obj, origin: str) -> None:
        known = self._entries.get(name)
        if known is not None and known is not obj:
            raise RegistryError(
                f"duplicate {self.kind} name {name!r}: {origin} and "
                f"{known.__module__}.{known.__qualname__}; rename one of them"
            )
        obj.name = name
        self._entries[name] = obj

    def load(self, only: str | None = None) -> None:
        """Import every entry point of the group once (built-ins included); with ``only``, just those of
        that name (what `lfd convert NAME` needs: the other modules are not imported)."""
        if self._loaded:
            return
        self._loaded = only is None
        seen: dict[str, str] = {}
        for ep in entry_points(group=self.group):
            if only is not None and ep.name != only:
                continue
            if ep.name in seen and seen[ep.name] != ep.value:
                raise RegistryError(
                    f"duplicate {self.kind} name {ep.name!r} in entry points: {seen[ep.name]} and {ep.value}; "
                    "uninstall or rename one of the packages providing it"
                )
            seen[ep.name] = ep.value
            obj = ep.load()
            if self._entries.get(ep.name) is not obj:
                self._add(ep.name, obj, origin=ep.value)

    def get(self, name: str):
        if name not in self._entries:
            self.load(only=name)
        if name not in self._entries:
            self.load()
        if name not in self._entries:
            close = difflib.get_close_matches(name, self._entries, n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise RegistryError(
                f"unknown {self.kind} {name!r}{hint} (`lfd list` shows all {self.kind}s)"
            )
        return self._entries[name]

    def names(self) -> list[str]:
        self.load()
        return sorted(self._entries)

    def describe(self, name: str) -> str:
        """First line of the class docstring."""
        doc = (self.get(name).__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


converters = Registry("converter", "llamafactory_domains.converters")
evaluators = Registry("evaluator", "llamafactory_domains.evaluators")


def register_converter(name: str):
    return converters.register(name)


def register_evaluator(name: str):
    return evaluators.register(name)
