"""Every module's doctests, imported by the names the wheel installs (``llamafactory_domains.…``).

A path-based ``--doctest-modules`` would import ``plugin/x.py`` as ``plugin.x``: a second copy of the
module, whose decorators would register every converter again.
"""

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("llamafactory_domains.plugin", "llamafactory_domains.converters", "llamafactory_domains.evaluators")


def modules() -> list[str]:
    names = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names.append(package_name)
        names += [info.name for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}.")]
    return names


@pytest.mark.parametrize("name", modules())
def test_doctests(name, capsys):
    module = importlib.import_module(name)
    failed, _ = doctest.testmod(module, report=True)
    assert failed == 0, capsys.readouterr().out


def test_doctests_are_found():
    """The walk sees the modules that carry doctests (not just the packages)."""
    counted = sum(len(doctest.DocTestFinder().find(importlib.import_module(name))) for name in modules())
    assert counted > 60
