from pathlib import Path

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


@pytest.fixture(scope="session")
def demo_clone(tmp_path_factory):
    """A folder laid out like a fresh clone (its bundled samples and recipes) after `lfd demo --steps 3`, the
    command `make demo` runs with fewer steps: build/demo and reports/demo as a user's `make demo` leaves them.
    {"home": that folder, "stdout": what the demo printed}; tests that run commands there add files, never
    change the demo's."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    clone = tmp_path_factory.mktemp("clone")
    (clone / "data").mkdir()
    (clone / "data" / "samples").symlink_to(root / "data" / "samples", target_is_directory=True)
    (clone / "recipes").symlink_to(root / "recipes", target_is_directory=True)
    done = subprocess.run([str(Path(sys.executable).with_name("lfd")), "demo", "--steps", "3"], cwd=clone,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"home": clone, "stdout": done.stdout}


@pytest.fixture(scope="session")
def tiny_adapter(tiny_model, tmp_path_factory):
    """A LoRA adapter of the tiny model with nonzero weights (no training: lora_B, zero at initialization, is set
    to seeded random values, so it changes the outputs), saved as peft (and LLaMA-Factory's training) saves one."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    lora = LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear")
    model = get_peft_model(model, lora)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.5)
    out = tmp_path_factory.mktemp("tiny_adapter")
    model.save_pretrained(out)
    return out


RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def serving(tmp_path_factory, recipe: Path, overrides: list[str]):
    """`llamafactory-cli api RECIPE OVERRIDES...` on a free 127.0.0.1 port: yields its /v1 URL; stopped
    (its whole process group) when the session ends, whatever happened."""
    import sys

    root = RECIPES.parent
    sys.path.insert(0, str(root / "tests" / "plugin" / "commands"))
    from board_process import free_port, running_board

    port, log = free_port(), tmp_path_factory.mktemp("api") / "api.log"
    command = [str(Path(sys.executable).with_name("llamafactory-cli")), "api", str(recipe), *overrides]
    env = {"API_HOST": "127.0.0.1", "API_PORT": str(port), "CUDA_VISIBLE_DEVICES": ""}
    with running_board(command, root, env, log, port, timeout=240, path="v1/models") as url:
        yield f"{url}v1"


@pytest.fixture(scope="session")
def tiny_api(tmp_path_factory, tiny_model):
    """The tiny model alone behind a real `llamafactory-cli api` (med_lora_serve.yaml, no adapter, 16 new tokens):
    a teacher that answers nonsense. One server for the session (each start costs ~15 s)."""
    overrides = [f"model_name_or_path={tiny_model}", "adapter_name_or_path=null", "max_new_tokens=16"]
    yield from serving(tmp_path_factory, RECIPES / "med_lora_serve.yaml", overrides)


@pytest.fixture(scope="session")
def tiny_adapter_serve(tiny_model, tiny_adapter):
    """(recipe, overrides) of the tiny model with its adapter as pharma_lora_serve.yaml serves it, 12 new tokens."""
    overrides = [f"model_name_or_path={tiny_model}", f"adapter_name_or_path={tiny_adapter}", "max_new_tokens=12"]
    return RECIPES / "pharma_lora_serve.yaml", overrides


@pytest.fixture(scope="session")
def tiny_adapter_api(tmp_path_factory, tiny_adapter_serve):
    """`tiny_adapter_serve` behind a real `llamafactory-cli api`: one server for the session."""
    recipe, overrides = tiny_adapter_serve
    yield from serving(tmp_path_factory, recipe, overrides)
