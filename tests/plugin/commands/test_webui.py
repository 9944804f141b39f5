"""`lfd webui`: recipes -> LlamaBoard saved configurations, and the real board driven in headless chromium."""

import ast
import json
import shutil
from pathlib import Path

import pytest
import yaml
from board_process import browser_page, console_script, free_port, keep_shots, needs_chromium, running_board
from llamafactory_domains.plugin import board as llamaboard
from llamafactory_domains.plugin import dataset_info
from llamafactory_domains.plugin.board_launch import GREEDY_INFO, MODULE
from llamafactory_domains.plugin.errors import UserError

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "data" / "samples" / "med_norm"
KNOWN_RECORD = "慢性乙型病毒性肝炎"  # the first raw term of yidu_n7k_train.xlsx
TRAIN_RECIPES = sorted(p.name for p in llamaboard.RECIPES.glob("*.yaml") if llamaboard.is_train_recipe(llamaboard.load_recipe(p)))
PREDICT_RECIPES = sorted(p.name for p in llamaboard.RECIPES.glob("*.yaml") if p.name not in TRAIN_RECIPES)


def board_train_args(config: dict) -> dict:
    """What llamafactory/webui/runner.py `_parse_train_args` builds from these element values (0.9.5)."""
    get = config.__getitem__
    args = dict(
        stage=llamaboard.board_stages()[get("train.training_stage")], do_train=True,
        preprocessing_num_workers=16, finetuning_type=get("top.finetuning_type"), template=get("top.template"),
        dataset=",".join(get("train.dataset")), cutoff_len=get("train.cutoff_len"),
        learning_rate=float(get("train.learning_rate")), num_train_epochs=float(get("train.num_train_epochs")),
        max_samples=int(get("train.max_samples")), per_device_train_batch_size=get("train.batch_size"),
        gradient_accumulation_steps=get("train.gradient_accumulation_steps"),
        lr_scheduler_type=get("train.lr_scheduler_type"), max_grad_norm=float(get("train.max_grad_norm")),
        logging_steps=get("train.logging_steps"), save_steps=get("train.save_steps"),
        warmup_steps=get("train.warmup_steps"), report_to=get("train.report_to"),
        output_dir=get("train.output_dir"), fp16=get("train.compute_type") == "fp16",
        bf16=get("train.compute_type") == "bf16", plot_loss=True, trust_remote_code=True, ddp_timeout=180000000,
        packing=get("train.packing") or get("train.neat_packing"),
    )
    args.update(json.loads(get("train.extra_args")))
    if get("top.quantization_bit") != "none":
        args["quantization_bit"] = int(get("top.quantization_bit"))
        args["quantization_method"] = get("top.quantization_method")
    if args["finetuning_type"] == "freeze":
        args.update(freeze_trainable_layers=get("train.freeze_trainable_layers"),
                    freeze_trainable_modules=get("train.freeze_trainable_modules"),
                    freeze_extra_modules=get("train.freeze_extra_modules") or None)
    if args["finetuning_type"] == "lora":
        args.update(lora_rank=get("train.lora_rank"), lora_alpha=get("train.lora_alpha"),
                    lora_target=get("train.lora_target") or "all")
    return args


def board_element_ids() -> set[str]:
    """The ids LlamaBoard's Manager knows (`top.<name>`, `train.<name>`), read from the installed UI source."""
    spec_dir = Path(llamaboard.importlib.util.find_spec("llamafactory").submodule_search_locations[0]) / "webui"
    ids = set()
    for tab, files in (("top", ["components/top.py"]), ("train", ["components/train.py", "components/data.py"])):
        for file in files:
            for node in ast.walk(ast.parse((spec_dir / file).read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "dict":
                    ids.update(f"{tab}.{kw.arg}" for kw in node.keywords if kw.arg)
    return ids


def test_med_norm_lora_becomes_a_saved_configuration(tmp_path):
    recipe = llamaboard.load_recipe(llamaboard.RECIPES / "med_norm_lora.yaml")
    config, _ = llamaboard.recipe_to_board(recipe, tmp_path / "data")
    assert config["train.learning_rate"] == "1e-4"  # a text box: the runner does float() on it
    assert float(config["train.learning_rate"]) == recipe["learning_rate"]
    assert config["train.dataset"] == ["med_norm_train"]  # a multiselect: the runner joins it with ","
    assert config["train.dataset_dir"] == str(tmp_path / "data")
    assert config["train.training_stage"] == "Supervised Fine-Tuning"
    assert config["top.model_name"] == "Qwen2.5-0.5B-Instruct" and config["top.template"] == "qwen"
    assert config["top.finetuning_type"] == "lora" and config["train.compute_type"] == "bf16"
    assert (config["train.cutoff_len"], config["train.batch_size"], config["train.gradient_accumulation_steps"]) \
        == (256, 16, 1)  # sliders hold numbers
    assert config["train.num_train_epochs"] == "3.0" and config["train.lr_scheduler_type"] == "cosine"
    assert (config["train.lora_rank"], config["train.lora_alpha"], config["train.lora_target"]) == (8, 16, "all")
    assert config["train.output_dir"] == "saves/med_norm/qwen2.5-0.5b/lora/sft"
    assert config["top.model_path"] == "Qwen/Qwen2.5-0.5B-Instruct"  # not downloaded: its ModelScope id
    assert json.loads(config["train.extra_args"]) == {
        "overwrite_cache": True, "preprocessing_num_workers": 4, "overwrite_output_dir": True, "warmup_ratio": 0.1,
        "eval_dataset": "med_norm_val", "per_device_eval_batch_size": 16, "eval_strategy": "steps",
        "eval_steps": 100}


@pytest.mark.parametrize("name", TRAIN_RECIPES)
def test_the_board_would_start_the_recipes_training(tmp_path, name):
    recipe = llamaboard.load_recipe(llamaboard.RECIPES / name)
    config, _ = llamaboard.recipe_to_board(recipe, tmp_path)
    assert set(config) <= board_element_ids(), "ids LlamaBoard's load_args cannot resolve"
    args = board_train_args(config)
    for key, value in recipe.items():
        if key in ("dataset_dir", "model_name_or_path", "deepspeed"):
            continue
        got = args.get(key)
        assert got == value or (key == "dataset" and got.split(",") == value.split(",")), key
    assert args["max_samples"] >= recipe.get("max_samples", 10**9)
    if "deepspeed" in recipe:
        assert Path(args["deepspeed"]).is_file() and config["train.ds_stage"] == "3"


def test_quantized_and_glm4_recipes():
    qlora, _ = llamaboard.recipe_to_board(llamaboard.load_recipe(llamaboard.RECIPES / "med_qlora.yaml"), Path("/d"))
    assert (qlora["top.quantization_bit"], qlora["top.quantization_method"]) == ("4", "bnb")
    glm4, _ = llamaboard.recipe_to_board(llamaboard.load_recipe(llamaboard.RECIPES / "safety_lora_glm4.yaml"), Path("/d"))
    assert (glm4["top.model_name"], glm4["top.template"]) == ("GLM-4-9B-Chat", "glm4")


def test_only_train_recipes_are_written_and_user_files_survive(tmp_path):
    home, data = tmp_path, tmp_path / "data"
    (home / "llamaboard_config").mkdir()
    mine = home / "llamaboard_config" / "med_lora.yaml"
    mine.write_text("train.learning_rate: '3e-4'\n", encoding="utf-8")
    stale = home / "llamaboard_config" / "gone.yaml"
    stale.write_text(llamaboard.MARK + " from recipes/gone.yaml\n", encoding="utf-8")
    names = {d for n in TRAIN_RECIPES for d in llamaboard.recipe_datasets(llamaboard.load_recipe(llamaboard.RECIPES / n))}
    data.mkdir()  # every dataset a recipe names: every train recipe is offered
    (data / "dataset_info.json").write_text(json.dumps({d: {"file_name": f"{d}.jsonl"} for d in names}), encoding="utf-8")
    written, notes = llamaboard.write_saved_configs(home, data)
    assert sorted(p.name for p in written) == sorted(set(TRAIN_RECIPES) - {"med_lora.yaml"})
    assert PREDICT_RECIPES and not any((home / "llamaboard_config" / n).exists() for n in PREDICT_RECIPES)
    assert mine.read_text(encoding="utf-8") == "train.learning_rate: '3e-4'\n" and not stale.exists()
    assert any("med_lora.yaml" in n and "left as it is" in n for n in notes)
    loaded = yaml.safe_load((home / "llamaboard_config" / "med_norm_lora.yaml").read_text(encoding="utf-8"))
    assert loaded["train.learning_rate"] == "1e-4" and loaded["train.dataset"] == ["med_norm_train"]


def test_a_downloaded_model_is_filled_in_and_remembered(tmp_path):
    model = tmp_path / "models" / "Qwen2.5-0.5B-Instruct"
    model.mkdir(parents=True)
    recipes, home = tmp_path / "recipes", tmp_path / "home"
    recipes.mkdir()
    shutil.copy(llamaboard.RECIPES / "med_norm_lora.yaml", recipes)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dataset_info.json").write_text(
        json.dumps({d: {"file_name": f"{d}.jsonl"} for d in ("med_norm_train", "med_norm_val")}), encoding="utf-8")
    written, _ = llamaboard.write_saved_configs(home, tmp_path / "data", recipes, base_dir=tmp_path)
    config = yaml.safe_load(written[0].read_text(encoding="utf-8"))
    assert config["top.model_path"] == str(model.resolve())
    user_config = home / "llamaboard_cache" / "user_config.yaml"
    llamaboard.remember_model_paths(home, written)  # what the board fills in when this model is chosen
    assert yaml.safe_load(user_config.read_text(encoding="utf-8"))["path_dict"] == {
        "Qwen2.5-0.5B-Instruct": str(model.resolve())}
    user_config.write_text("path_dict: {Qwen2.5-0.5B-Instruct: /mine}\nlang: zh\n", encoding="utf-8")
    llamaboard.remember_model_paths(home, written)
    kept = yaml.safe_load(user_config.read_text(encoding="utf-8"))
    assert kept["path_dict"] == {"Qwen2.5-0.5B-Instruct": "/mine"} and kept["lang"] == "zh"


def test_board_home_is_a_folder_whose_data_is_ours(tmp_path, monkeypatch):
    data = tmp_path / "proj" / "data"
    data.mkdir(parents=True)
    assert llamaboard.board_home(data, None) == (tmp_path / "proj", None)
    other = tmp_path / "converted"
    other.mkdir()
    monkeypatch.chdir(tmp_path)
    home, linked = llamaboard.board_home(other, None)
    assert home == tmp_path and (tmp_path / "data").resolve() == other and "linked" in linked
    with pytest.raises(UserError, match="--work-dir"):
        llamaboard.board_home(data, tmp_path / "proj" / "..")  # its data is `converted`, not proj/data


def test_cli_refuses_a_folder_without_datasets_and_prepares_with_no_start(lfd, tmp_path):
    code, _, err = lfd("webui", "--data-dir", tmp_path / "empty" / "data", "--no-start")
    assert code == 1 and "no datasets" in err and "lfd convert" in err
    data = tmp_path / "data"
    data.mkdir()
    (data / "dataset_info.json").write_text(json.dumps({name: {"file_name": f"{name}.jsonl"} for name in (
        "med_norm_train", "med_norm_val")}), encoding="utf-8")
    code, out, err = lfd("webui", "--data-dir", data, "--no-start", "--port", 7999)
    assert code == 0 and "GRADIO_SERVER_PORT=7999" in out
    assert "med_lora.yaml: not offered" in err and "med_dialog_train" in err  # its datasets are not there
    assert f"-m {MODULE}" in out  # the launcher: the same board as `lfd webui` starts, not plain llamafactory-cli
    assert (tmp_path / "llamaboard_config" / "med_norm_lora.yaml").is_file()


def test_cli_names_a_path_of_the_wrong_kind(lfd, tmp_path):
    """--recipes naming no folder offered no recipe and said nothing; a file as --data-dir or --work-dir was
    named by the OSError ("File exists") or as <file>/dataset_info.json."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "dataset_info.json").write_text(json.dumps({"med_norm_train": {"file_name": "t.jsonl"}}), encoding="utf-8")
    (tmp_path / "a_file").write_text("x")
    for argv, said in ((["--data-dir", data, "--recipes", tmp_path / "nowhere"], "--recipes {}: no such folder".format(
                            tmp_path / "nowhere")),
                       (["--data-dir", data / "dataset_info.json"], "a file; pass the folder that holds dataset_info.json"),
                       (["--data-dir", data, "--work-dir", tmp_path / "a_file"], "--work-dir {}: a file".format(
                            tmp_path / "a_file"))):
        code, out, err = lfd("webui", *argv, "--no-start")
        assert code == 1 and out == "" and said in err and err.count("\n") == 1, err
    assert not (tmp_path / "llamaboard_config").exists()


# ---------------------------------------------------------------- the real board in a real browser

@pytest.fixture
def board(tmp_path):
    """`lfd webui` on a free loopback port with a converted med_norm data dir; always stopped afterwards."""
    from llamafactory_domains.plugin.cli import main

    data = tmp_path / "data"
    assert main(["convert", "med_norm", str(SAMPLES / "yidu_n7k_train.xlsx"), "--test",
                 str(SAMPLES / "chip_cdn_dev.json"), "--val-size", "20", "--out-dir", str(data)]) == 0
    records = (data / "med_norm_train.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(records[0])["output"] == KNOWN_RECORD
    port = free_port()
    command = [console_script("lfd"), "webui", "--port", str(port), "--data-dir", str(data)]
    with running_board(command, tmp_path, {}, tmp_path / "board.log", port, timeout=100) as url:
        yield {"url": url, "data": data, "home": tmp_path, "log": tmp_path / "board.log", "records": len(records)}


@needs_chromium
def test_board_lists_previews_loads_our_recipes_and_predicts_greedily(board, tmp_path):
    from playwright.sync_api import expect

    configs = {p.name: yaml.safe_load(p.read_text(encoding="utf-8"))
               for p in sorted((board["home"] / "llamaboard_config").glob("*.yaml"))}
    have = set(dataset_info.load(board["data"] / dataset_info.FILE_NAME))
    offered = {name for name in TRAIN_RECIPES  # the train recipes whose datasets the data dir has
               if set(llamaboard.recipe_datasets(llamaboard.load_recipe(llamaboard.RECIPES / name))) <= have}
    assert set(configs) == offered and "med_norm_lora.yaml" in offered
    order = [n for n in configs if n != "med_norm_lora.yaml"] + ["med_norm_lora.yaml"]  # ours last, for the shot
    with browser_page("webui_failure.png") as page:
        page.goto(board["url"])
        data_dir = page.get_by_label("Data dir").first  # the Train tab's (Evaluate has one too, hidden)
        expect(data_dir).to_have_value("data", timeout=60000)  # preselected: the board's `data` is ours

        data_dir.fill(str(board["data"]))  # set it as a user would
        dataset = page.get_by_label("Dataset", exact=True).first
        dataset.click()  # on focus the board re-reads <data dir>/dataset_info.json
        expect(page.get_by_role("option", name="med_norm_test", exact=True)).to_be_visible()
        page.get_by_role("option", name="med_norm_train", exact=True).click()
        page.keyboard.press("Escape")

        preview = page.get_by_role("button", name="Preview dataset")
        expect(preview).to_be_enabled()
        preview.click()
        modal = page.locator(".modal-box").locator("visible=true")
        expect(modal.locator(".value.string", has_text=KNOWN_RECORD).first).to_be_visible()
        expect(page.get_by_label("Count").first).to_have_value(str(board["records"]))
        # JSON in the viewer: records as nodes with their keys, not one "root=[{'instruction': ...}]" string
        expect(modal.locator(".json-holder")).to_contain_text('"instruction"')
        expect(modal.locator(".json-holder")).to_contain_text('"output"')
        assert modal.locator(".json-node").count() > 2  # the list and each record
        expect(modal).not_to_contain_text("root=")
        page.screenshot(path=str(tmp_path / "webui_preview.png"))
        page.get_by_role("button", name="Close").first.click()

        config_path = page.get_by_label("Config path").first
        tokens = page.locator("label", has=page.get_by_text("Dataset", exact=True)).locator(".token")
        for name in order:
            config_path.click()  # lists llamaboard_config/*.yaml
            page.get_by_role("option", name=name, exact=True).click()
            page.get_by_role("button", name="Load arguments").click()
            expect(page.get_by_label("Learning rate").first).to_have_value(configs[name]["train.learning_rate"])
            expect(tokens).to_have_text(configs[name]["train.dataset"])
            expect(page.get_by_label("Chat template").first).to_have_value(configs[name]["top.template"])
            expect(page.locator(".toast-body.error")).to_have_count(0)
        expect(page.get_by_text("Arguments have been restored.")).to_be_visible()
        expect(data_dir).to_have_value(str(board["data"]))
        expect(page.get_by_label("Learning rate").first).to_have_value("1e-4")
        expect(tokens).to_have_text(["med_norm_train"])
        expect(page.get_by_label("Cutoff length").first).to_have_value("256")
        page.screenshot(path=str(tmp_path / "webui.png"), full_page=True)

        # Evaluate & Predict, with the model the last configuration chose: greedy unless told otherwise
        page.get_by_role("tab", name="Evaluate & Predict").click()
        temperature = page.get_by_label("number input for Temperature").locator("visible=true")
        expect(temperature).to_have_value("0")
        expect(page.get_by_text(GREEDY_INFO)).to_be_visible()
        page.get_by_label("Dataset", exact=True).locator("visible=true").click()
        page.get_by_role("option", name="med_norm_test", exact=True).click()
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Preview command").click()
        command = page.locator("code", has_text="llamafactory-cli train").locator("visible=true")
        expect(command).to_contain_text("--eval_dataset med_norm_test")
        expect(command).to_contain_text("--do_sample False")
        expect(command).not_to_contain_text("--temperature")
        expect(command).not_to_contain_text("--top_p")
        page.screenshot(path=str(tmp_path / "webui_eval.png"), full_page=True)
        temperature.fill("0.5")
        temperature.press("Enter")
        page.get_by_role("button", name="Preview command").click()
        expect(command).to_contain_text("--do_sample True")
        expect(command).to_contain_text("--temperature 0.5")
        expect(command).to_contain_text("--top_p 0.7")
        expect(page.locator(".toast-body.error")).to_have_count(0)
    keep_shots(tmp_path, ["webui.png", "webui_preview.png", "webui_eval.png"])
