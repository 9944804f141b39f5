import re
import subprocess
import sys
import textwrap

import pytest
from llamafactory_domains.converters.base import converters
from llamafactory_domains.evaluators.base import evaluators
from llamafactory_domains.plugin.registry import Registry, RegistryError


def test_builtins_are_found_by_importing_their_package():
    assert "med_norm" in converters.names()
    assert "exact_match" in evaluators.names()
    assert converters.get("med_norm").__module__ == "llamafactory_domains.converters.med_norm"


def test_unknown_name_suggests_close_matches():
    with pytest.raises(RegistryError, match=r"unknown converter 'med_nrom'; did you mean 'med_norm'"):
        converters.get("med_nrom")
    with pytest.raises(RegistryError, match=r"unknown evaluator 'zzz' \(`lfd list`"):
        evaluators.get("zzz")


def test_duplicate_name_fails():
    registry = Registry("converter", "llamafactory_domains.tests.none")

    @registry.register("same")
    class First:
        pass

    registry.register("same")(First)  # the same class again is fine
    with pytest.raises(RegistryError, match="duplicate converter name 'same'"):
        @registry.register("same")
        class Second:
            pass


def fake_plugin(tmp_path, name, module_source):
    """A real installed-looking distribution: a module plus a dist-info with entry points."""
    (tmp_path / "thirdparty_conv.py").write_text(textwrap.dedent(module_source), encoding="utf-8")
    dist = tmp_path / "thirdparty_conv-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-conv\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[llamafactory_domains.converters]\n{name} = thirdparty_conv:Hospital\n")


def run_lfd(tmp_path, *args):
    code = "import sys; from llamafactory_domains.plugin.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)


def test_third_party_converter_appears_through_its_entry_point(tmp_path):
    fake_plugin(tmp_path, "hospital_emr", '''
        from llamafactory_domains.converters.base import Converter, register_converter

        @register_converter("hospital_emr")
        class Hospital(Converter):
            """Our hospital's EMR export."""
    ''')
    result = run_lfd(tmp_path, "list")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^  hospital_emr +Our hospital's EMR export\.$", result.stdout, re.M)
    assert "med_norm" in result.stdout


def test_third_party_taking_a_builtin_name_fails_with_one_line(tmp_path):
    fake_plugin(tmp_path, "med_norm", '''
        class Hospital:
            """Clash."""
    ''')
    result = run_lfd(tmp_path, "list")
    assert result.returncode == 1
    assert "duplicate converter name 'med_norm'" in result.stderr and "Traceback" not in result.stderr


def test_third_party_taking_a_builtin_name_fails_under_convert_too(tmp_path):
    fake_plugin(tmp_path, "med_norm", '''
        from llamafactory_domains.converters.base import Converter

        class Hospital(Converter):
            """Clash."""
    ''')
    (tmp_path / "raw.json").write_text("[]", encoding="utf-8")
    result = run_lfd(tmp_path, "convert", "med_norm", tmp_path / "raw.json", "--out-dir", tmp_path / "out")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "duplicate converter name 'med_norm'" in result.stderr
    assert "thirdparty_conv:Hospital" in result.stderr  # both origins are named
    assert "llamafactory_domains.converters.med_norm.MedNorm" in result.stderr
    assert not (tmp_path / "out").exists()


def test_third_party_class_that_is_not_a_converter_fails_with_one_line(tmp_path):
    fake_plugin(tmp_path, "hospital_emr", '''
        class Hospital:
            """Not a Converter."""
    ''')
    result = run_lfd(tmp_path, "list")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "converter plugin thirdparty_conv:Hospital (entry point 'hospital_emr' of thirdparty-conv) is not a " \
           "subclass of llamafactory_domains.converters.base.Converter" in result.stderr


def test_third_party_module_that_cannot_be_imported_fails_with_one_line(tmp_path):
    fake_plugin(tmp_path, "hospital_emr", "import no_such_module_here\n")
    result = run_lfd(tmp_path, "list")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot be loaded (ModuleNotFoundError: No module named 'no_such_module_here')" in result.stderr
    assert "pip uninstall thirdparty-conv" in result.stderr


def test_a_new_builtin_module_shows_up_at_once(tmp_path):
    """A converter is one file in the package folder: no entry point, no reinstall."""
    (tmp_path / "hospital_notes.py").write_text(textwrap.dedent('''
        from .base import Converter, register_converter

        @register_converter("hospital_notes")
        class HospitalNotes(Converter):
            """Discharge notes of our hospital."""
    '''), encoding="utf-8")
    code = ("import sys, llamafactory_domains.converters as package; package.__path__.append(sys.argv[1]); "
            "from llamafactory_domains.plugin.cli import main; sys.exit(main(['list']))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^  hospital_notes +Discharge notes of our hospital\.$", result.stdout, re.M)


def test_no_module_is_imported_under_a_second_name():
    """Every module is loaded once, as llamafactory_domains.…: a top-level `plugin` or `converters`
    copy would register every converter a second time."""
    code = ("import sys; from llamafactory_domains.plugin.cli import main; main(['list']); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'plugin', 'converters', 'evaluators'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0 and result.stdout.strip().splitlines()[-1] == "[]"
