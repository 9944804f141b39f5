"""A merge recipe really merges: the real `llamafactory-cli export` on CPU, on the tiny model and a tiny LoRA adapter;
and the `lfd` commands the serve/merge headers show parse with lfd's own parser.

The adapter is peft's own (no training: its lora_B, zero at initialization, is set to random values, so the merge
changes the weights); the merged folder must load with plain transformers and give the logits of base + adapter.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("llamafactory-cli")
RECIPE = ROOT / "recipes" / "med_norm_lora_merge.yaml"  # the tiny model stands in for its Qwen2.5-0.5B-Instruct
SERVING = sorted([*ROOT.glob("recipes/*_serve.yaml"), *ROOT.glob("recipes/*_merge.yaml")])
LFD = re.compile(r"^#\s+(lfd .+)$|`(lfd [^`]+)`")  # a command line, or one quoted in prose


def lfd_commands(recipe: Path) -> list[str]:
    lines = recipe.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines[:next(i for i, line in enumerate(lines) if not line.startswith("#"))]]
    return [match[1] or match[2] for line in header for match in LFD.finditer(line)]


@pytest.mark.parametrize("recipe", SERVING, ids=lambda path: path.name)
def test_lfd_commands_in_headers_parse(recipe):
    from llamafactory_domains.plugin.cli import build_parser

    for command in lfd_commands(recipe):
        argv = shlex.split(command)[1:]
        try:
            build_parser(argv).parse_args(argv)
        except SystemExit as exit:
            raise AssertionError(f"{recipe.name}: `{command}` does not parse (exit {exit.code})") from None
        paths = [token for token in argv if token.startswith("recipes/")]
        assert all((ROOT / path).is_file() for path in paths), f"{recipe.name}: `{command}` names a missing recipe"


def logits(model, ids):
    import torch

    with torch.no_grad():
        return model(input_ids=ids).logits


def test_merge_recipe_exports_base_plus_adapter(tiny_model, tiny_adapter, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    merged = tmp_path / "merged"
    overrides = [f"model_name_or_path={tiny_model}", f"adapter_name_or_path={tiny_adapter}", f"export_dir={merged}",
                 "infer_dtype=float32"]  # what `auto` gives on a CPU (on a bf16 GPU: bf16), so the comparison can be tight
    done = subprocess.run([str(CLI), "export", str(RECIPE), *overrides], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1", "LLAMAFACTORY_VERBOSITY": "WARN"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    files = {path.name for path in merged.iterdir()}
    assert {"config.json", "model.safetensors", "Modelfile"} <= files, files  # export_legacy_format: false
    assert "adapter_config.json" not in files and not any(name.endswith(".bin") for name in files)
    assert json.loads((merged / "config.json").read_text(encoding="utf-8")).get("dtype", "float32") == "float32"
    assert yaml.safe_load(RECIPE.read_text(encoding="utf-8"))["export_device"] == "cpu"

    tokenizer = AutoTokenizer.from_pretrained(merged)
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "肺炎 头痛 发热"}], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    untouched = logits(base, ids)
    tuned = logits(PeftModel.from_pretrained(base, tiny_adapter).eval(), ids)
    exported = logits(AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval(), ids)
    assert not torch.allclose(tuned, untouched, atol=1e-3), "the adapter changes nothing: the test proves nothing"
    assert torch.allclose(exported, tuned, atol=1e-4, rtol=1e-4), (exported - tuned).abs().max()
