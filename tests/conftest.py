import pytest


@pytest.fixture
def lfd(capsys):
    """Runs `lfd ARGS...` in-process: returns (exit code, stdout, stderr)."""
    from llamafactory_domains.plugin.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A tiny random Qwen2 model (`lfd tiny-model`, built-in corpus, seed 0), built once per session."""
    from llamafactory_domains.plugin.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"))
