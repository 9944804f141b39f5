"""The wheel as users install it: one top-level import name, and `lfd` working beside packages that
take the generic names (the PyPI distributions `evaluators` and `converters` exist)."""

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from llamafactory_domains.plugin import ROOT
from packaging.requirements import Requirement


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built offline by the build backend of pyproject.toml's [build-system]."""
    out = tmp_path_factory.mktemp("dist")
    code = "import sys; from hatchling.build import build_wheel; print(build_wheel(sys.argv[1]))"
    result = subprocess.run([sys.executable, "-c", code, str(out)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return out / result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel pip-installed --no-deps; it sees this project's dependencies (not its
    source) through a .pth line, and a folder of other packages named plugin, converters, evaluators."""
    home = tmp_path_factory.mktemp("install")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel]
    subprocess.run(pip, check=True, timeout=120, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    site = Path(subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "project_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    others = home / "others"
    for name in ("plugin", "converters", "evaluators"):
        (others / name).mkdir(parents=True)
        (others / name / "__init__.py").write_text(f'WHO = "the other {name}"\n')
    return venv


def run(venv: Path, *args, cwd: Path):
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "PYTHONPATH": str(venv.parent / "others"),
           "HOME": str(venv.parent), "LFD_CACHE": str(venv.parent / "cache")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_wheel_installs_one_top_level_import_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"llamafactory_domains"}
    for path in ("plugin/cli.py", "converters/base.py", "converters/med_norm.py", "evaluators/base.py",
                 "recipes/med_norm_lora.yaml", "data/samples/med_norm/yidu_n7k_train.xlsx", "plugin/catalog.json"):
        assert f"llamafactory_domains/{path}" in names
    assert not [name for name in names if "__pycache__" in name or name.startswith("llamafactory_domains/tests")]
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "lfd = llamafactory_domains.plugin.cli:main" in text
    assert "llamafactory_domains.converters]" not in text  # built-ins need no entry points


def test_lfd_runs_from_the_wheel_beside_other_packages_of_the_generic_names(installed, tmp_path):
    result = run(installed, "python", "-c", "import evaluators, converters, plugin, llamafactory_domains; "
                 "print(evaluators.WHO, converters.WHO, plugin.WHO, llamafactory_domains.__file__, sep='|')", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    who = result.stdout.strip().split("|")
    assert who[:3] == ["the other evaluators", "the other converters", "the other plugin"]
    assert who[3].startswith(str(installed))  # the wheel's copy, not this checkout

    result = run(installed, "lfd", "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "  med_norm " in result.stdout and "  exact_match " in result.stdout and "  cmedqa2 " in result.stdout
    assert "med_norm_lora.yaml" in result.stdout  # the recipes ship in the wheel


def test_the_wheel_converts_its_bundled_samples(installed, tmp_path):
    site = Path(run(installed, "python", "-c", "import llamafactory_domains as p; print(p.__path__[0])",
                    cwd=tmp_path).stdout.strip())
    raw = site / "data" / "samples" / "med_norm" / "yidu_n7k_train.xlsx"
    result = run(installed, "lfd", "convert", "med_norm", raw, "--test-size", "5", "--out-dir", tmp_path / "data",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "med_norm_train.jsonl").stat().st_size > 0


def test_the_host_range_admits_the_tested_llamafactory():
    """The package asks for LLaMA-Factory 0.9.x (a source checkout at 0.9.6.dev0 too); the lock tests 0.9.5."""
    wanted = next(Requirement(r) for r in importlib.metadata.requires("llamafactory-domains")
                  if Requirement(r).name == "llamafactory")
    assert str(wanted.specifier) in ("<0.10,>=0.9.5", ">=0.9.5,<0.10")
    assert wanted.specifier.contains(importlib.metadata.version("llamafactory"))
    assert wanted.specifier.contains("0.9.6.dev0", prereleases=True)


def test_the_editable_install_exposes_one_import_name_too():
    """`pip install -e` (what `make setup` does) puts editable/ on sys.path, not the repo root: outside the
    checkout, `plugin`, `converters` and `evaluators` are not importable from this project."""
    code = ("import importlib.util, llamafactory_domains.plugin.cli; "
            "print([n for n in ('plugin', 'converters', 'evaluators', 'tests') if importlib.util.find_spec(n)])")
    result = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
