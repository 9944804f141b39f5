"""Name -> class registries, one for converters and one for evaluators (made in their ``base`` modules).

A class's name is written once, in its decorator (``@register_converter("med_norm")``). Built-ins
are found by importing every module of their package, so a new module shows up at once, with no
reinstall. Third-party packages name their classes by entry points (groups
``llamafactory_domains.converters`` / ``llamafactory_domains.evaluators``); loading one imports its
module, whose decorator registers it (or, without a decorator, the entry point's name is used).
Everything is loaded before a name is looked up, so a clash is caught by every command.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from importlib.metadata import EntryPoint, entry_points

from .errors import UserError


class RegistryError(UserError):
    """Unknown, duplicate or broken name."""


class Registry:
    def __init__(self, kind: str, group: str, base: type | None = None, package: str | None = None):
        self.kind, self.group = kind, group
        self.base = base  # every class must subclass it
        self.package = package  # the built-ins: every module of this package but ``base``
        self._entries: dict[str, type] = {}
        self._origins: dict[str, str] = {}
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
                f"duplicate {self.kind} name {name!r}: {origin} and {self._origins[name]}; rename one of them"
            )
        obj.name = name
        self._entries[name] = obj
        self._origins.setdefault(name, origin)

    def load(self) -> None:
        """Imports the built-in modules and the third-party entry points, once."""
        if self._loaded:
            return
        if self.package:
            package = importlib.import_module(self.package)
            for module in pkgutil.iter_modules(package.__path__):
                if module.name != "base" and not module.name.startswith("_"):
                    importlib.import_module(f"{self.package}.{module.name}")
        for ep in entry_points(group=self.group):
            self._load_entry_point(ep)
        self._loaded = True

    def _load_entry_point(self, ep: EntryPoint) -> None:
        dist = ep.dist.name if ep.dist is not None else "an unknown package"
        origin = f"{ep.value} (entry point {ep.name!r} of {dist})"
        fix = f"fix or uninstall {dist} (`pip uninstall {dist}`)"
        try:
            obj = ep.load()
        except RegistryError:
            raise
        except Exception as err:  # noqa: BLE001 - a third party's broken module: one line, not its traceback
            raise RegistryError(f"{self.kind} plugin {origin} cannot be loaded ({type(err).__name__}: {err}); {fix}") from None
        known = self._entries.get(ep.name)
        if known is not None and known is not obj:
            raise RegistryError(f"duplicate {self.kind} name {ep.name!r}: {origin} and {self._origins[ep.name]}; "
                                f"rename one of them, or {fix}")
        if self.base is not None and not (isinstance(obj, type) and issubclass(obj, self.base)):
            raise RegistryError(f"{self.kind} plugin {origin} is not a subclass of "
                                f"{self.base.__module__}.{self.base.__qualname__}; {fix}")
        registered = next((name for name, cls in self._entries.items() if cls is obj), None)
        if registered is not None and registered != ep.name:
            raise RegistryError(f"{self.kind} plugin {origin} is registered as {registered!r} by its decorator; "
                                "use one name in both places")
        self._add(ep.name, obj, origin)

    def get(self, name: str):
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

    def is_builtin(self, name: str) -> bool:
        """Whether ``name`` is a class of this project's own package (not a third party's)."""
        return bool(self.package) and self.get(name).__module__.startswith(f"{self.package}.")

    def describe(self, name: str) -> str:
        """First line of the class docstring."""
        doc = (self.get(name).__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""
