import json
from pathlib import Path

import pytest
import yaml
from board_process import browser_page, console_script, free_port, keep_shots, needs_chromium, running_board
from llamafactory_domains.plugin import board


@pytest.fixture
def converted(lfd, tmp_path):
    src = tmp_path / "chip.json"
    src.write_text(json.dumps([{"text": f"词{i}", "normalized_result": "甲"} for i in range(30)],
                              ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "ours"
    assert lfd("convert", "med_norm", src, "--test-size", "5", "--out-dir", out)[0] == 0
    return out / "dataset_info.json"


@pytest.fixture
def lf_root(tmp_path):
    root = tmp_path / "LLaMA-Factory"
    (root / "data").mkdir(parents=True)
    (root / "data" / "dataset_info.json").write_text(
        json.dumps({"alpaca_zh_demo": {"file_name": "alpaca_zh_demo.json"}}, indent=2), encoding="utf-8")
    return root


def test_register_merges_absolute_paths_backs_up_and_is_idempotent(lfd, converted, lf_root):
    target = lf_root / "data" / "dataset_info.json"
    original = target.read_bytes()
    code, out, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 0, err
    info = json.loads(target.read_text())
    assert info["alpaca_zh_demo"] == {"file_name": "alpaca_zh_demo.json"}
    assert info["med_norm_train"]["file_name"] == str(converted.parent.resolve() / "med_norm_train.jsonl")
    assert info["med_norm_test"]["columns"] == {"prompt": "instruction", "query": "input", "response": "output"}
    backups = list(target.parent.glob("dataset_info.json.*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert "added med_norm_train, med_norm_test" in err and "med_norm_train med_norm_test" in out

    after = target.read_bytes()
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 0 and "unchanged med_norm_train, med_norm_test" in err
    assert target.read_bytes() == after and len(list(target.parent.glob("*.bak"))) == 1


def test_register_refuses_a_different_entry_unless_forced(lfd, converted, lf_root):
    target = lf_root / "data" / "dataset_info.json"
    target.write_text(json.dumps({"med_norm_train": {"file_name": "mine.json"}}), encoding="utf-8")
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 1 and "med_norm_train already exists with different content; pass --force" in err
    assert json.loads(target.read_text()) == {"med_norm_train": {"file_name": "mine.json"}}
    assert lfd("register", "--llamafactory-dir", lf_root, "--from", converted, "--force")[0] == 0
    assert json.loads(target.read_text())["med_norm_train"]["file_name"].endswith("med_norm_train.jsonl")


def test_register_errors(lfd, converted, lf_root, tmp_path):
    code, _, err = lfd("register", "--llamafactory-dir", tmp_path / "nowhere", "--from", converted)
    assert code == 1 and "no data/ folder" in err
    (converted.parent / "med_norm_test.jsonl").unlink()
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 1 and "med_norm_test.jsonl, which does not exist" in err
    broken = lf_root / "data" / "dataset_info.json"
    broken.write_text("{", encoding="utf-8")
    (converted.parent / "med_norm_test.jsonl").write_text("")
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 1 and "not valid JSON" in err and broken.read_text() == "{"


def test_register_writes_through_a_symlinked_target(lfd, converted, lf_root, tmp_path):
    real = tmp_path / "shared" / "dataset_info.json"
    real.parent.mkdir()
    target = lf_root / "data" / "dataset_info.json"
    real.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(real)
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 0, err
    assert target.is_symlink() and "med_norm_train" in json.loads(real.read_text())
    backups = list(target.parent.glob("dataset_info.json.*.bak"))  # in the install, where it is looked for
    assert len(backups) == 1 and not backups[0].is_symlink() and "med_norm_train" not in backups[0].read_text()


def test_register_refuses_its_own_target_and_odd_file_names(lfd, converted, lf_root, tmp_path):
    target = lf_root / "data" / "dataset_info.json"
    before = target.read_bytes()
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", lf_root / "data" / ".." / "data" / target.name)
    assert code == 1 and "--from is the install's own dataset_info.json" in err
    for value, shown in ((None, "file_name null"), (3, "file_name a JSON int"), ([], "file_name a JSON list")):
        source = tmp_path / "odd.json"
        source.write_text(json.dumps({"odd": {"file_name": value}}))
        code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", source)
        assert code == 1 and shown in err and "Traceback" not in err and err.count("\n") == 1, err
    target.write_text(json.dumps({"med_norm_train": {"file_name": "x.json", "n": 1}}))
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 1 and "--name" not in err and "pass --force to replace it" in err
    target.write_bytes(before)
    assert not list(target.parent.glob("*.bak"))


# what LLaMA-Factory would fail on or silently misread, refused before the install changes
MISREAD = [
    ({"formatting": "Alpaca"}, "formatting 'Alpaca' is not one LLaMA-Factory reads (alpaca, sharegpt, openai)"),
    ({"columns": ["instruction", "output"]}, "columns is a JSON list, not an object of column names"),
    ({"columns": {"promt": "question"}}, "columns has 'promt', which LLaMA-Factory does not read"),
    ({"columns": {"prompt": 3}}, "columns.prompt is a JSON int, not a column name"),
    ({"tags": "from"}, "tags is 'from', not an object of tag names"),
    ({"tags": {"role_tag": ""}}, "tags.role_tag is '', not a tag name"),
    ({"tags": {"role_tag": None}}, "tags.role_tag is null, not a tag name"),
    ({"ranking": "yes"}, "ranking is 'yes', not true or false"),
    ({"split": 0}, "split is a JSON int, not a split name"),
    ({"subset": ["a"]}, "subset is a JSON list, not a name"),
    ({"num_samples": 0}, "num_samples is 0, not a whole number above 0"),
    ({"num_samples": True}, "num_samples is a JSON bool, not a whole number above 0"),
]


@pytest.mark.parametrize(("change", "said"), MISREAD, ids=[next(iter(c)) + str(i) for i, (c, _) in enumerate(MISREAD)])
def test_register_refuses_an_entry_llamafactory_would_misread(lfd, converted, lf_root, change, said):
    info = json.loads(converted.read_text())
    info["med_norm_train"].update(change)
    converted.write_text(json.dumps(info), encoding="utf-8")
    target = lf_root / "data" / "dataset_info.json"
    before = target.read_bytes()
    code, out, err = lfd("register", "--llamafactory-dir", lf_root, "--from", converted)
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert f"{converted}: entry 'med_norm_train': {said}" in err and "fix the entry (or convert again)" in err
    assert target.read_bytes() == before and not list(target.parent.glob("*.bak"))


def test_misread_entries_are_misread_by_llamafactory_itself():
    """The refusals above are LLaMA-Factory 0.9.5's own behaviour: its parser fails, or reads a default."""
    from llamafactory.data.converter import get_dataset_converter
    from llamafactory.data.parser import get_dataset_list

    def attr(change):
        return get_dataset_list(["d"], {"d": {"file_name": "d.jsonl", **change}})[0]

    with pytest.raises(ValueError, match="Dataset converter Alpaca not found"):
        get_dataset_converter(attr({"formatting": "Alpaca"}).formatting, None, None)
    with pytest.raises(AttributeError):
        attr({"columns": ["instruction", "output"]})
    assert attr({"columns": {"promt": "question"}}).prompt is None  # the typo is ignored: no prompt is read
    with pytest.raises(KeyError):  # a null tag is looked up as a key of each message
        get_dataset_converter("sharegpt", attr({"formatting": "sharegpt", "tags": {"role_tag": None}}), None)(
            {"conversations": [{"from": "human", "value": "你好"}, {"from": "gpt", "value": "好"}]})


def test_register_says_what_an_entry_that_is_not_an_object_is(lfd, lf_root, tmp_path):
    source = tmp_path / "odd.json"
    source.write_text(json.dumps({"odd": 1}))
    code, _, err = lfd("register", "--llamafactory-dir", lf_root, "--from", source)
    assert code == 1 and "entry 'odd' is a JSON int, not an object with a file_name" in err


# ---------------------------------------------------------------- --with-recipes: the recipes as board configurations

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "data" / "samples" / "med_norm"
LF_OWN = {"alpaca_zh_demo": [{"instruction": "你好", "input": "", "output": "你好！"}],
          "identity": [{"instruction": "你是谁？", "input": "", "output": "我是 {{name}}。"}]}


@pytest.fixture
def with_val(lfd, tmp_path):
    """The bundled med_norm samples converted as med_norm_lora.yaml expects: train, test and val splits."""
    out = tmp_path / "ours"
    assert lfd("convert", "med_norm", SAMPLES / "yidu_n7k_train.xlsx", "--test", SAMPLES / "chip_cdn_dev.json",
               "--val-size", "20", "--out-dir", out)[0] == 0
    return out / "dataset_info.json"


@pytest.fixture
def install(tmp_path):
    """A LLaMA-Factory folder: data/dataset_info.json with two of its own datasets, as real small files."""
    root = tmp_path / "LLaMA-Factory"
    (root / "data").mkdir(parents=True)
    for name, records in LF_OWN.items():
        (root / "data" / f"{name}.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    (root / "data" / "dataset_info.json").write_text(
        json.dumps({name: {"file_name": f"{name}.json"} for name in LF_OWN}, indent=2), encoding="utf-8")
    return root


def board_configs(root: Path) -> dict:
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((root / "llamaboard_config").glob("*"))}


def test_with_recipes_writes_configs_that_work_from_the_install(lfd, with_val, install, monkeypatch):
    monkeypatch.setattr(board, "has_cuda", lambda: (False, "no GPU in the test"))
    own = {name: json.loads((install / "data" / "dataset_info.json").read_text())[name] for name in LF_OWN}
    model = install / "models" / "Qwen2.5-0.5B-Instruct"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    code, out, err = lfd("register", "--llamafactory-dir", install, "--from", with_val, "--with-recipes")
    assert code == 0, err
    configs = board_configs(install)
    assert list(configs) == ["med_norm_lora.yaml"]  # the only train recipe whose datasets are all there
    config = configs["med_norm_lora.yaml"]
    assert config["train.dataset_dir"] == str(install.resolve() / "data") and Path(config["train.dataset_dir"]).is_dir()
    assert config["top.model_path"] == str(model.resolve()) and Path(config["top.model_path"]).is_absolute()
    assert config["train.compute_type"] == "fp32" and "top.hub_name" not in config  # the hub: the user config's
    assert config["train.output_dir"] == "saves/med_norm/qwen2.5-0.5b/lora/sft"  # relative to the install
    assert json.loads(config["train.extra_args"])["eval_dataset"] == "med_norm_val"
    info = json.loads((install / "data" / "dataset_info.json").read_text())
    assert {name: info[name] for name in LF_OWN} == own  # LLaMA-Factory's own entries untouched
    assert f"written: {install.resolve() / 'llamaboard_config' / 'med_norm_lora.yaml'}" in err
    assert "med_lora.yaml: not offered" in err and "has no med_dialog_train, med_mrg_train" in err
    assert f"cd {install.resolve()} && llamafactory-cli webui" in out and "Load arguments" in out
    user = yaml.safe_load((install / "llamaboard_cache" / "user_config.yaml").read_text())
    assert user["path_dict"] == {"Qwen2.5-0.5B-Instruct": str(model.resolve())} and user["hub_name"] == "modelscope"

    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in install.rglob("*") if p.is_file()}
    code, _, err = lfd("register", "--llamafactory-dir", install, "--from", with_val, "--with-recipes")
    assert code == 0 and "unchanged: " in err and "written: " not in err
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in install.rglob("*") if p.is_file()} == before


def test_with_recipes_offers_more_recipes_with_absolute_deepspeed_and_keeps_user_files(lfd, with_val, install,
                                                                                      monkeypatch):
    monkeypatch.setattr(board, "has_cuda", lambda: (True, "a GPU in the test"))
    info = install / "data" / "dataset_info.json"
    entries = json.loads(info.read_text())
    for name in ("med_dialog_train", "med_mrg_train"):  # the user converted these into the install
        (install / "data" / f"{name}.jsonl").write_text('{"instruction": "q", "input": "", "output": "a"}\n')
        entries[name] = {"file_name": f"{name}.jsonl"}
    info.write_text(json.dumps(entries))
    mine = install / "llamaboard_config" / "med_lora.yaml"
    mine.parent.mkdir()
    mine.write_text("train.learning_rate: '3e-4'\n", encoding="utf-8")  # saved from the board
    code, _, err = lfd("register", "--llamafactory-dir", install, "--from", with_val, "--with-recipes")
    assert code == 0, err
    configs = board_configs(install)
    assert {"med_full_ds3.yaml", "med_freeze.yaml", "med_norm_lora.yaml", "med_lora.yaml"} <= set(configs)
    assert mine.read_text(encoding="utf-8") == "train.learning_rate: '3e-4'\n" and "left as it is" in err
    deepspeed = Path(json.loads(configs["med_full_ds3.yaml"]["train.extra_args"])["deepspeed"])
    assert deepspeed.is_absolute() and deepspeed.is_file() and configs["med_full_ds3.yaml"]["train.ds_stage"] == "3"
    assert configs["med_norm_lora.yaml"]["train.compute_type"] == "bf16"
    assert configs["med_full_ds3.yaml"]["top.model_path"] == "Qwen/Qwen2.5-0.5B-Instruct"  # not downloaded
    assert "modelscope download --model Qwen/Qwen2.5-0.5B-Instruct --local_dir " \
           f"{install.resolve() / 'models' / 'Qwen2.5-0.5B-Instruct'}" in err

    entries.pop("med_mrg_train")  # its datasets gone: our configs of it go too, the user's stays
    info.write_text(json.dumps(entries))
    code, _, err = lfd("register", "--llamafactory-dir", install, "--from", with_val, "--with-recipes")
    assert code == 0 and "removed: " in err
    assert not (install / "llamaboard_config" / "med_full_ds3.yaml").exists() and mine.is_file()


def test_with_recipes_refused_before_anything_is_registered(lfd, with_val, install):
    """The datasets and the configurations land together or not at all: a board folder that cannot be written
    is refused before the install's dataset_info.json changes (and before a backup is made)."""
    before = (install / "data" / "dataset_info.json").read_bytes()
    (install / "llamaboard_config").write_text("not a folder", encoding="utf-8")
    code, out, err = lfd("register", "--llamafactory-dir", install, "--from", with_val, "--with-recipes")
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert "llamaboard_config is a file, not a folder" in err
    assert (install / "data" / "dataset_info.json").read_bytes() == before
    assert sorted(p.name for p in (install / "data").iterdir()) == ["alpaca_zh_demo.json", "dataset_info.json",
                                                                   "identity.json"]


def test_without_with_recipes_no_config_is_written(lfd, with_val, install):
    assert lfd("register", "--llamafactory-dir", install, "--from", with_val)[0] == 0
    assert not (install / "llamaboard_config").exists() and not (install / "llamaboard_cache").exists()


# ---------------------------------------------------------------- the real board of the install, in a real browser

@pytest.fixture
def install_board(with_val, install, tmp_path):
    """`lfd register --with-recipes` into the install, then its own `llamafactory-cli webui` on a free loopback
    port with cwd = the install, as a user starts it; always stopped afterwards."""
    from llamafactory_domains.plugin.cli import main

    assert main(["register", "--llamafactory-dir", str(install), "--from", str(with_val), "--with-recipes"]) == 0
    port = free_port()
    env = {"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "USE_MODELSCOPE_HUB": None}  # the hub must come from the user config we wrote
    with running_board([console_script("llamafactory-cli"), "webui"], install, env, tmp_path / "board.log", port,
                       timeout=150) as url:
        yield {"url": url, "root": install.resolve(), "source": with_val, "log": tmp_path / "board.log"}


@needs_chromium
def test_the_installs_board_loads_our_recipe_as_registered(install_board, tmp_path):
    from llamafactory_domains.plugin.cli import main
    from playwright.sync_api import expect

    root = install_board["root"]
    local_model = root / "models" / "Qwen2.5-0.5B-Instruct"
    with browser_page("install_board_failure.png") as page:
        def load_recipe(model_path: str) -> None:
            page.goto(install_board["url"])
            expect(page.get_by_label("Data dir").first).to_have_value("data", timeout=60000)
            expect(page.get_by_label("Hub name").first).to_have_value("modelscope")  # the user config's hub
            page.get_by_label("Config path").first.click()  # lists llamaboard_config/*.yaml
            page.get_by_role("option", name="med_norm_lora.yaml", exact=True).click()
            page.get_by_role("button", name="Load arguments").click()
            expect(page.get_by_text("Arguments have been restored.")).to_be_visible()
            expect(page.get_by_label("Learning rate").first).to_have_value("1e-4")
            tokens = page.locator("label", has=page.get_by_text("Dataset", exact=True)).locator(".token")
            expect(tokens).to_have_text(["med_norm_train"])
            expect(page.get_by_label("Chat template").first).to_have_value("qwen")
            expect(page.get_by_label("Compute type").first).to_have_value("fp32")  # this machine has no CUDA
            expect(page.get_by_label("Model name").first).to_have_value("Qwen2.5-0.5B-Instruct")
            expect(page.get_by_label("Model path").first).to_have_value(model_path)  # after top.py's refill
            expect(page.get_by_label("Hub name").first).to_have_value("modelscope")
            expect(page.get_by_label("Data dir").first).to_have_value(str(root / "data"))
            page.get_by_role("button", name="Preview command").click()
            command = page.locator("code", has_text="llamafactory-cli train").first
            expect(command).to_contain_text(f"--dataset_dir {root / 'data'}")
            expect(command).to_contain_text("--dataset med_norm_train")
            expect(command).to_contain_text(f"--model_name_or_path {model_path}")
            expect(command).to_contain_text("med_norm_val")  # eval_dataset, from Extra arguments
            expect(page.locator(".toast-body.error")).to_have_count(0)

        load_recipe("Qwen/Qwen2.5-0.5B-Instruct")  # not downloaded: its ModelScope id
        page.screenshot(path=str(tmp_path / "install_board_hub.png"), full_page=True)

        local_model.mkdir(parents=True)  # "downloaded" now; registering again makes it the model path
        (local_model / "config.json").write_text("{}")
        assert main(["register", "--llamafactory-dir", str(root), "--from", str(install_board["source"]),
                     "--with-recipes"]) == 0
        load_recipe(str(local_model))
        page.screenshot(path=str(tmp_path / "install_board_local.png"), full_page=True)
    keep_shots(tmp_path, ["install_board_hub.png", "install_board_local.png"])
