"""The structure the README describes, checked on the source: no import circle (function-level imports
included), commands on top of the library, short modules, a docstring in each."""

import ast
from pathlib import Path

import pytest
from llamafactory_domains.plugin import ROOT

PACKAGES = ("plugin", "converters", "evaluators")
MAX_LINES = 450  # longer only when the module's docstring says it is one cohesive thing


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules that ``name`` imports anywhere in its code (not only at the top)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name.removeprefix("llamafactory_domains.") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = (node.module or "").removeprefix("llamafactory_domains.")
            # `from pkg import sub` imports the sub-module when there is one, else a name of pkg
            targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in known else stem for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target in known and target != name}
    return found


GRAPH = {name: imports(name, path, set(modules())) for name, path in modules().items()}


def test_no_import_circle():
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        stack.append(name)
        for target in sorted(GRAPH[name]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)


def test_the_library_never_imports_a_command():
    """`lfd` commands sit on top: what they use lives in the library, so nothing imports a command module."""
    offenders = sorted(f"{name} -> {target}" for name, targets in GRAPH.items() for target in targets
                       if target.startswith("plugin.commands.") and target != "plugin.commands.arguments"
                       and not name.startswith("plugin.commands") and name != "plugin.cli")
    assert offenders == []


def test_converters_and_evaluators_import_only_their_base_and_the_library():
    offenders = sorted(f"{name} -> {target}" for name, targets in GRAPH.items() for target in targets
                       if name.startswith(("converters.", "evaluators.")) and target.startswith("plugin.commands.")
                       and target != "plugin.commands.arguments")
    assert offenders == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_are_short_and_say_what_they_are(name):
    path = modules()[name]
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert docstring, f"{path}: no docstring"
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES or "cohesive" in docstring, f"{path}: {lines} lines; split it or say why it is one thing"
