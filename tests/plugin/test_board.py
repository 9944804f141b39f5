"""plugin/board.py: which recipes become LlamaBoard configurations, with which hub, model path and precision."""

import ast
import json
import shutil
from pathlib import Path

import pytest
import yaml
from llamafactory_domains.plugin import board

RECIPES = board.RECIPES


def write_info(data: Path, names) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    (data / "dataset_info.json").write_text(json.dumps({n: {"file_name": f"{n}.jsonl"} for n in names}),
                                            encoding="utf-8")
    return data


@pytest.fixture
def recipes(tmp_path):
    """med_norm_lora (Qwen2.5-0.5B, bf16, med_norm_train + eval med_norm_val) and safety_lora_glm4."""
    folder = tmp_path / "recipes"
    folder.mkdir()
    for name in ("med_norm_lora.yaml", "safety_lora_glm4.yaml", "med_norm_predict.yaml"):
        shutil.copy(RECIPES / name, folder)
    return folder


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- CUDA or not

def test_has_cuda_without_importing_torch(tmp_path):
    gpu_build = lambda: None  # noqa: E731  (a torch with CUDA support)
    assert board.has_cuda({"CUDA_VISIBLE_DEVICES": ""}, tmp_path, gpu_build)[0] is False
    assert board.has_cuda({"CUDA_VISIBLE_DEVICES": "-1"}, tmp_path, gpu_build)[0] is False
    assert board.has_cuda({"PATH": ""}, tmp_path, lambda: "the installed torch is a CPU build") == (
        False, "the installed torch is a CPU build")
    nothing = board.has_cuda({"PATH": str(tmp_path / "bin")}, tmp_path, gpu_build)
    assert nothing[0] is False and "nvidia-smi" in nothing[1]
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "nvidia0").touch()
    assert board.has_cuda({"CUDA_VISIBLE_DEVICES": "0", "PATH": ""}, tmp_path, gpu_build)[0] is True
    (tmp_path / "dev" / "nvidia0").unlink()
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text("#!/bin/sh\n")
    smi.chmod(0o755)
    assert board.has_cuda({"PATH": str(smi.parent)}, tmp_path, gpu_build) == (True, f"{smi} is on PATH")


def test_the_installed_torch_is_read_not_imported():
    import subprocess
    import sys

    code = ("import sys; from llamafactory_domains.plugin import board; board.has_cuda(); "
            "assert 'torch' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode == 0


@pytest.mark.parametrize("cuda, compute", [(True, "bf16"), (False, "fp32")])
def test_compute_type_follows_the_machine(tmp_path, recipes, cuda, compute):
    data = write_info(tmp_path / "data", ["med_norm_train", "med_norm_val", "safety_exam_train"])
    configs, notes = board.write_saved_configs(tmp_path, data, recipes, tmp_path, cuda=cuda)
    assert sorted(p.name for p in configs) == ["med_norm_lora.yaml", "safety_lora_glm4.yaml"]  # not predict
    assert {load(p)["train.compute_type"] for p in configs} == {compute}
    cpu_notes = [n for n in notes if "no CUDA GPU" in n]
    assert cpu_notes == ([] if cuda else [
        "no CUDA GPU here (as told): compute type fp32, not the recipes' bf16/fp16 (for CUDA GPUs), in "
        "med_norm_lora.yaml, safety_lora_glm4.yaml; on a GPU machine, start `lfd webui` again"])


def test_undecided_cuda_is_detected(tmp_path, recipes, monkeypatch):
    data = write_info(tmp_path / "data", ["med_norm_train", "med_norm_val"])
    monkeypatch.setattr(board, "has_cuda", lambda: (False, "test machine"))
    configs, notes = board.write_saved_configs(tmp_path, data, recipes, tmp_path)
    assert load(configs[0])["train.compute_type"] == "fp32" and any("(test machine)" in n for n in notes)


# ---------------------------------------------------------------- datasets the data dir lacks

def test_recipes_whose_datasets_are_missing_are_left_out_with_the_fix(tmp_path, recipes):
    data = write_info(tmp_path / "data", ["med_norm_train", "safety_exam_train"])  # no med_norm_val
    target = tmp_path / board.CONFIG_DIR
    target.mkdir()
    (target / "med_norm_lora.yaml").write_text(board.MARK + " from an earlier run\n", encoding="utf-8")
    done = board.generate_configs(tmp_path, data, recipes, tmp_path, cuda=True)
    assert [p.name for p in done["configs"]] == ["safety_lora_glm4.yaml"]
    assert done["left_out"] == ["med_norm_lora.yaml"] and done["removed"] == [target / "med_norm_lora.yaml"]
    assert not (target / "med_norm_lora.yaml").exists()  # our stale copy goes with the datasets
    assert f"med_norm_lora.yaml: not offered, {data / 'dataset_info.json'} has no med_norm_val; convert it " \
           f"(`lfd convert med_norm ... --val-size N --out-dir {data}`), then start `lfd webui` again" in done["notes"]

    mine = target / "med_norm_lora.yaml"
    mine.write_text("train.learning_rate: '3e-4'\n", encoding="utf-8")  # saved from the board
    done = board.generate_configs(tmp_path, data, recipes, tmp_path, cuda=True)
    assert mine.read_text(encoding="utf-8") == "train.learning_rate: '3e-4'\n" and done["removed"] == []


def test_converter_names_and_notes_for_several_datasets(tmp_path):
    recipe = tmp_path / "r"
    recipe.mkdir()
    shutil.copy(RECIPES / "med_lora_mix.yaml", recipe)
    data = write_info(tmp_path / "data", ["med_norm_train"])
    _, notes = board.write_saved_configs(tmp_path, data, recipe, tmp_path, cuda=True)
    assert len(notes) == 1 and "has no med_dialog_train, general_mix_train" in notes[0]
    assert "`lfd convert med_dialog ... --out-dir" in notes[0] and "`lfd convert general_mix ... --out-dir" in notes[0]


# ---------------------------------------------------------------- hub and model path

def test_a_model_not_downloaded_is_its_modelscope_id_with_the_download_command(tmp_path, recipes):
    data = write_info(tmp_path / "data", ["med_norm_train", "med_norm_val", "safety_exam_train"])
    configs, notes = board.write_saved_configs(tmp_path, data, recipes, tmp_path, cuda=True)
    qwen, glm = (load(p) for p in configs)
    assert (qwen["top.model_name"], qwen["top.model_path"]) == ("Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct")
    # the recipe's -hf folder, not the board's ZhipuAI/glm-4-9b-chat (another format of the weights)
    assert (glm["top.model_name"], glm["top.model_path"]) == ("GLM-4-9B-Chat", "ZhipuAI/glm-4-9b-chat-hf")
    command = ("modelscope download --model Qwen/Qwen2.5-0.5B-Instruct --local_dir "
               f"{tmp_path / 'models' / 'Qwen2.5-0.5B-Instruct'}")
    assert any(n.startswith("models/Qwen2.5-0.5B-Instruct is not downloaded") and f"`{command}`" in n for n in notes)


def test_the_board_fills_in_what_the_config_holds(tmp_path, recipes):
    """Load arguments changes the model name, and top.py then refills the path from path_dict or the hub."""
    data = write_info(tmp_path / "data", ["med_norm_train", "med_norm_val", "safety_exam_train"])
    configs, _ = board.write_saved_configs(tmp_path, data, recipes, tmp_path, cuda=True)
    changes = board.remember_model_paths(tmp_path, configs)
    user_config = tmp_path / "llamaboard_cache" / "user_config.yaml"
    user = load(user_config)
    assert user["hub_name"] == "modelscope"  # the board starts on it: no Hugging Face id is filled in
    assert user["path_dict"] == {"GLM-4-9B-Chat": "ZhipuAI/glm-4-9b-chat-hf"}  # Qwen's ModelScope id is the board's
    assert len(changes) == 2 and board.remember_model_paths(tmp_path, configs) == []

    model = tmp_path / "models" / "glm-4-9b-chat-hf"  # downloaded now: the folder replaces our id
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    configs, notes = board.write_saved_configs(tmp_path, data, recipes, tmp_path, cuda=True)
    assert load(configs[1])["top.model_path"] == str(model.resolve())
    assert not any("glm-4-9b-chat-hf is not downloaded" in n for n in notes)
    board.remember_model_paths(tmp_path, configs)
    assert load(user_config)["path_dict"] == {"GLM-4-9B-Chat": str(model.resolve())}


def test_the_users_hub_and_paths_are_kept(tmp_path, recipes):
    data = write_info(tmp_path / "data", ["med_norm_train", "med_norm_val", "safety_exam_train"])
    (tmp_path / "models" / "Qwen2.5-0.5B-Instruct").mkdir(parents=True)
    configs, _ = board.write_saved_configs(tmp_path, data, recipes, tmp_path, cuda=True)
    user_config = tmp_path / "llamaboard_cache" / "user_config.yaml"
    user_config.parent.mkdir()
    user_config.write_text("hub_name: huggingface\npath_dict: {GLM-4-9B-Chat: /mine}\n", encoding="utf-8")
    assert board.remember_model_paths(tmp_path, configs) == [
        f"{user_config}: Qwen2.5-0.5B-Instruct -> {tmp_path.resolve() / 'models' / 'Qwen2.5-0.5B-Instruct'}"]
    user = load(user_config)
    assert user["hub_name"] == "huggingface" and user["path_dict"]["GLM-4-9B-Chat"] == "/mine"


def test_several_model_folders_are_searched_in_order(tmp_path):
    recipe = board.load_recipe(RECIPES / "med_norm_lora.yaml")
    first, second = tmp_path / "lf", tmp_path / "repo"
    (second / "models" / "Qwen2.5-0.5B-Instruct").mkdir(parents=True)
    config, notes = board.recipe_to_board(recipe, tmp_path, model_dirs=[first, second])
    assert config["top.model_path"] == str(second / "models" / "Qwen2.5-0.5B-Instruct") and notes == []
    (first / "models" / "Qwen2.5-0.5B-Instruct").mkdir(parents=True)
    config, _ = board.recipe_to_board(recipe, tmp_path, model_dirs=[first, second])
    assert config["top.model_path"] == str(first / "models" / "Qwen2.5-0.5B-Instruct")


def test_rewriting_unchanged_configs_changes_nothing(tmp_path, recipes):
    data = write_info(tmp_path / "data", ["med_norm_train", "med_norm_val"])
    first = board.generate_configs(tmp_path, data, recipes, tmp_path, cuda=False)
    stamp = first["configs"][0].stat().st_mtime_ns
    again = board.generate_configs(tmp_path, data, recipes, tmp_path, cuda=False)
    assert again["written"] == [] and again["unchanged"] == first["written"]
    assert first["configs"][0].stat().st_mtime_ns == stamp


def loadable_ids() -> set[str]:
    """The ids "Load arguments" can set: the outputs of its click (components/train.py ``input_elems``: the
    Manager's base elements and the Train tab's own), read from the installed UI source."""
    webui = Path(board.importlib.util.find_spec("llamafactory").submodule_search_locations[0]) / "webui"
    manager = ast.parse((webui / "manager.py").read_text(encoding="utf-8"))
    base = next(n for n in ast.walk(manager) if isinstance(n, ast.FunctionDef) and n.name == "get_base_elems")
    ids = {n.value for n in ast.walk(base) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    train = ast.parse((webui / "components" / "train.py").read_text(encoding="utf-8"))
    for node in ast.walk(train):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "update" \
                and getattr(node.func.value, "id", "") == "input_elems":
            ids |= {f"train.{n.id}" for arg in node.args for n in ast.walk(arg) if isinstance(n, ast.Name)}
    return ids


@pytest.mark.parametrize("name", sorted(p.name for p in RECIPES.glob("*.yaml")
                                        if board.is_train_recipe(board.load_recipe(p))))
def test_every_element_of_a_config_is_one_load_arguments_sets(tmp_path, name):
    """An id outside the click's outputs makes the board show "Error" in every field (top.hub_name did)."""
    config, _ = board.recipe_to_board(board.load_recipe(RECIPES / name), tmp_path, cuda=False)
    assert "top.model_path" in loadable_ids() and "train.extra_args" in loadable_ids()
    assert set(config) - loadable_ids() == set()
