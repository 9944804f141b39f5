"""A full fine-tuning recipe really trains on CPU (the LoRA one does in tests/test_round_trip.py)."""

import os
import subprocess
import sys
from pathlib import Path

from llamafactory_domains.plugin.commands.demo import QUIET_ENV, SAMPLES

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("llamafactory-cli")


def test_med_full_recipe_trains_the_tiny_model(lfd, tiny_model, tmp_path):
    data = tmp_path / "data"
    assert lfd("convert", "med_norm", SAMPLES / "yidu_n7k_train.xlsx", "--out-dir", data)[0] == 0
    out = tmp_path / "full"
    overrides = [f"model_name_or_path={tiny_model}", "bf16=false", f"dataset_dir={data}", "dataset=med_norm_train",
                 f"output_dir={out}", "max_steps=2", "save_steps=100000", "plot_loss=false",
                 "preprocessing_num_workers=1"]
    done = subprocess.run([str(CLI), "train", str(ROOT / "recipes" / "med_full.yaml"), *overrides], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env={**os.environ, **QUIET_ENV})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (out / "model.safetensors").is_file() and (out / "trainer_log.jsonl").is_file()
