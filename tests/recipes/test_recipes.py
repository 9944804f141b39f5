"""Every recipe, and every command its header documents, passes LLaMA-Factory's own argument parsing.
Train and predict recipes go through `get_train_args` as `llamafactory-cli train` parses them; serve (`*_serve.yaml`)
and merge (`*_merge.yaml`) ones through `get_infer_args` as `api`/`webchat`/`export` do (and export_model's checks).

Parsing runs in ONE subprocess for all recipes (importing LLaMA-Factory takes ~20 s here, and
`get_train_args` changes global logging/seed state), through the same `read_args` path as
`llamafactory-cli train RECIPE key=value...`. Only the unavoidable CPU overrides are added.
The same subprocess reports LLaMA-Factory's template registry and runs its `merge_dataset` on the
interleave settings of the mixing recipe, so the checks beyond its parser need no second import.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from itertools import takewhile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ALL_RECIPES = sorted((ROOT / "recipes").glob("*.yaml"))
SERVING_KINDS = {"_serve.yaml": ("api", "webchat"), "_merge.yaml": ("export",)}  # inference configs: their CLIs
SERVING = [recipe for recipe in ALL_RECIPES if recipe.name.endswith(tuple(SERVING_KINDS))]
SERVE, MERGE = ([recipe for recipe in SERVING if recipe.name.endswith(kind)] for kind in SERVING_KINDS)
CLIS = {recipe: clis for kind, clis in SERVING_KINDS.items() for recipe in SERVING if recipe.name.endswith(kind)}
RECIPES = [recipe for recipe in ALL_RECIPES if recipe not in SERVING]  # train and predict recipes
CPU_OVERRIDES = ["bf16=false"]  # bf16 needs a GPU; everything else in a recipe must parse as is
# a command line (optionally behind env vars such as FORCE_TORCHRUN=1), not a mention
COMMAND = re.compile(r"^#\s+(?:[A-Z_]+=\S+\s+)*llamafactory-cli train (recipes/\S+\.yaml)(.*)$")
# the same, quoted in prose: "after `llamafactory-cli train recipes/med_lora.yaml`"
INLINE = re.compile(r"`(?:[A-Z_]+=\S+\s+)*llamafactory-cli train (recipes/\S+\.yaml)([^`]*)`")
README_COMMAND = re.compile(r"^\s*(?:[A-Z_]+=\S+\s+)*llamafactory-cli train (recipes/\S+\.yaml)(.*)$")
INFER_COMMAND = re.compile(r"^#\s+((?:[A-Z_]+=\S+\s+)*)llamafactory-cli (api|webchat|export) (recipes/\S+\.yaml)(.*)$")
VLLM_OPTION = re.compile(r"^# (infer_backend|vllm_[a-z_]+): (\S+)")  # a commented-out option: `# vllm_maxlen: 4096`
INFER_KEYS = {"model_name_or_path", "adapter_name_or_path", "template", "finetuning_type", "infer_backend", "do_sample",
              "max_new_tokens", "cutoff_len", "temperature", "export_dir", "export_device", "vllm_maxlen", "vllm_gpu_util"}
QUANTIZE = ("export_quantization_bit=4", "export_quantization_dataset=c4")  # export_model refuses it with an adapter
RECIPE_PATH = re.compile(r"recipes/[\w.-]+\.yaml")
OVERRIDE = re.compile(r"\b[a-z_]+=\S")  # key=value: only parsed command lines may carry one
MIX_RECIPE, MIX_DOMAIN = "med_lora_mix.yaml", "med_dialog_train"
LEAN = re.compile(r"([\d.]+,[\d.]+) leans on the domain")
SECTIONS = ["### model", "### method", "### dataset", "### output"]

PARSE = """
import json, sys
from contextlib import suppress
from collections import Counter
from datasets import Dataset
from llamafactory.data.data_utils import merge_dataset
from llamafactory.data.template import TEMPLATES
from llamafactory.hparams import DataArguments, get_infer_args, get_train_args
from llamafactory.hparams.parser import _parse_infer_args
from llamafactory.train import tuner

job, out = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2]
mixes = []
for mix in job["mixes"]:  # each dataset: 1,000 rows tagged with its name, merged as the recipe says
    names = mix["dataset"].split(",")
    args = DataArguments(dataset=mix["dataset"], mix_strategy=mix["mix_strategy"], interleave_probs=mix["interleave_probs"])
    merged = merge_dataset([Dataset.from_dict({"source": [name] * 1000}) for name in names], args, seed=42)
    mixes.append(dict(Counter(merged["source"])))
results = []
for argv in job["runs"]:
    sys.argv = ["llamafactory-cli", *argv]  # what `llamafactory-cli train` leaves for read_args()
    try:
        parsed = get_train_args()
    except Exception as err:
        results.append({"error": f"{type(err).__name__}: {err}"})
        continue
    keys = [arg.split("=", 1)[0] for arg in argv[1:]]
    results.append({key: next((getattr(p, key) for p in parsed if hasattr(p, key)), "?") for key in keys})

class Loading(Exception):  # export_model passed its own checks; a real export loads the tokenizer next
    pass
def stop(*args, **kwargs):
    raise Loading
tuner.load_tokenizer = stop
infer = []
for run in job["infer"]:
    sys.argv = ["llamafactory-cli", *run["argv"]]  # what `llamafactory-cli api|webchat|export` leave
    try:
        if run["cli"] == "export":
            with suppress(Loading):
                tuner.export_model()
        parsed = _parse_infer_args() if run["cli"] == "parse" else get_infer_args()
    except Exception as err:
        infer.append({"error": f"{type(err).__name__}: {err}"})
        continue
    infer.append({key: getattr(p, key) for p in parsed for key in vars(p) if key in job["infer_keys"]})
json.dump({"runs": results, "templates": sorted(TEMPLATES), "mixes": mixes, "infer": infer},
          open(out, "w", encoding="utf-8"), default=str)
"""


def header(recipe: Path) -> list[str]:
    """The comment block the recipe opens with."""
    return list(takewhile(lambda line: line.startswith("#"), recipe.read_text(encoding="utf-8").splitlines()))


def documented_commands(recipe: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(recipe path, overrides) of every `llamafactory-cli train recipes/...` in the header: command lines and quoted ones."""
    found = []
    for line in header(recipe):
        found += [COMMAND.match(line)] if COMMAND.match(line) else list(INLINE.finditer(line))
    return [(match[1], tuple(shlex.split(match[2]))) for match in found]


def readme_commands() -> list[tuple[str, tuple[str, ...]]]:
    """(recipe path, overrides) of every `llamafactory-cli train recipes/...` in the README: command lines (a
    trailing backslash continues one, a `#` starts a comment) and quoted ones."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.split("  #", 1)[0] for line in text.splitlines()]
    found = [m for line in lines for m in [README_COMMAND.match(line)] if m]
    found += [m for line in lines if not README_COMMAND.match(line) for m in INLINE.finditer(line)]
    return [(match[1], tuple(shlex.split(match[2]))) for match in found]


def all_commands() -> list[tuple[str, tuple[str, ...]]]:
    """Every recipe as is, and every command any header or the README documents, each once (a header naming a
    missing recipe fails test_documented_commands_parse, the README test_readme_commands_name_recipes)."""
    commands = [(f"recipes/{recipe.name}", ()) for recipe in RECIPES]
    commands += [command for recipe in ALL_RECIPES for command in documented_commands(recipe)] + readme_commands()
    return [command for command in dict.fromkeys(commands) if (ROOT / command[0]).is_file()]


def effective(path: str, overrides=()) -> dict:
    """The settings `llamafactory-cli train PATH OVERRIDES...` runs with: read_args' own OmegaConf merge."""
    from omegaconf import OmegaConf

    merged = OmegaConf.merge(OmegaConf.load(ROOT / path), OmegaConf.from_cli(list(overrides)))
    return OmegaConf.to_container(merged)


def show(path: str, overrides=()) -> str:
    return " ".join(["llamafactory-cli train", path, *overrides])


def commands_by_kind() -> tuple[dict, dict]:
    """(train, predict) commands: {(path, overrides): effective settings}."""
    train, predict = {}, {}
    for command in all_commands():
        settings = effective(*command)
        if settings.get("do_train"):
            train[command] = settings
        elif settings.get("do_predict"):
            predict[command] = settings
    return train, predict


def run_key(recipe: Path, overrides=()) -> str:
    return " ".join([recipe.name, *overrides])


def config(recipe: Path) -> dict:
    return yaml.safe_load(recipe.read_text(encoding="utf-8"))


def cpu_overrides(recipe: Path, overrides=()) -> list[str]:
    """bf16 off; DeepSpeed needs torchrun on GPUs, so its config file is checked separately (below)."""
    return CPU_OVERRIDES + ["deepspeed=null"] * bool(effective(recipe, overrides).get("deepspeed"))


def serving_commands(recipe: Path) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(env vars, cli, recipe path, overrides) of every `llamafactory-cli api|webchat|export recipes/...` in the header."""
    found = [INFER_COMMAND.match(line) for line in header(recipe)]
    return [(match[1], match[2], match[3], tuple(shlex.split(match[4]))) for match in found if match]


def all_serving_commands() -> list[tuple[str, str, tuple[str, ...]]]:
    """(cli, path, overrides): each serve/merge recipe as is and every one a header documents (webchat parses as api)."""
    commands = [(CLIS[recipe][0], f"recipes/{recipe.name}", ()) for recipe in SERVING]
    commands += [("api" if cli == "webchat" else cli, path, overrides)
                 for recipe in ALL_RECIPES for _, cli, path, overrides in serving_commands(recipe)]
    return [command for command in dict.fromkeys(commands) if (ROOT / command[1]).is_file()]


def infer_key(cli: str, path, overrides=()) -> str:
    return " ".join([cli, Path(path).name, *overrides])


def vllm_options(recipe: Path) -> list[str]:
    """The commented-out GPU options (`# infer_backend: vllm`, `# vllm_maxlen: N`) as key=value overrides."""
    found = [VLLM_OPTION.match(line) for line in recipe.read_text(encoding="utf-8").splitlines()]
    return [f"{match[1]}={match[2]}" for match in found if match]


def infer_runs(work: Path) -> dict:
    """infer_key -> {"cli", "argv"}: what the subprocess runs through get_infer_args (export: export_model too)."""
    def run(cli, path, overrides=()):
        return {infer_key(cli, path, overrides): {"cli": cli, "argv": [str(ROOT / path), *overrides]}}

    runs = {}
    for command in all_serving_commands():
        runs |= run(*command)
    for recipe in SERVING:
        runs |= run("parse", recipe, tuple(vllm_options(recipe))) if vllm_options(recipe) else {}
    bogus = work / "unknown_key_serve.yaml"
    bogus.write_text(SERVING[0].read_text(encoding="utf-8") + "\nno_such_knob: 1\n", encoding="utf-8")
    return runs | run("api", bogus) | run("export", MERGE[0], QUANTIZE)


@pytest.fixture(scope="session")
def parsed(tiny_model, tmp_path_factory):
    """run_key -> parsed values of the overridden keys, or {"error": ...}; one subprocess for all runs."""
    work = tmp_path_factory.mktemp("recipe_parse")
    bogus = work / "unknown_key.yaml"
    bogus.write_text(RECIPES[0].read_text(encoding="utf-8") + "\nno_such_knob: 1\n", encoding="utf-8")
    runs = {run_key(bogus): [str(bogus), *cpu_overrides(RECIPES[0])]}
    for path, overrides in all_commands():
        runs[run_key(ROOT / path, overrides)] = [str(ROOT / path), *overrides, *cpu_overrides(ROOT / path, overrides)]
    cpu = [f"model_name_or_path={tiny_model}"]
    mix = config(ROOT / "recipes" / MIX_RECIPE)
    lean = LEAN.search((ROOT / "recipes" / MIX_RECIPE).read_text(encoding="utf-8"))
    mixes = [{key: mix[key] for key in ("dataset", "mix_strategy")} | {"interleave_probs": probs}
             for probs in (mix["interleave_probs"], lean[1] if lean else None)]
    infer = infer_runs(work)
    job = {"runs": [argv + cpu for argv in runs.values()], "mixes": mixes, "infer": [*infer.values()], "infer_keys": [*INFER_KEYS]}
    (work / "runs.json").write_text(json.dumps(job), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", PARSE, str(work / "runs.json"), str(work / "results.json")],
        cwd=work, capture_output=True, text=True, timeout=600,
        env={**os.environ, "LLAMAFACTORY_VERBOSITY": "WARN"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((work / "results.json").read_text(encoding="utf-8"))
    return dict(zip(runs, results["runs"])) | {"templates": results["templates"], "mixes": results["mixes"],
                                               "infer": dict(zip(infer, results["infer"]))}


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda path: path.name)
def test_recipe_parses_with_llamafactory(parsed, recipe):
    assert "error" not in parsed[run_key(recipe)], parsed[run_key(recipe)]


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda path: path.name)
def test_documented_commands_parse(parsed, recipe):
    commands = documented_commands(recipe)
    assert commands, f"{recipe.name}: header has no `llamafactory-cli train recipes/...` command"
    for path, overrides in commands:
        assert (ROOT / path).is_file(), f"{recipe.name}: header runs {path}, which does not exist"
        result = parsed[run_key(ROOT / path, overrides)]
        assert "error" not in result, (overrides, result)
        for key, value in (override.split("=", 1) for override in overrides):
            if value == "null":
                assert result[key] is None, f"{key}=null did not clear {key}"


def test_readme_commands_name_recipes(parsed):
    commands = readme_commands()
    assert len(commands) >= 4, commands  # section 4's, the multi-GPU ones
    for path, overrides in commands:
        assert (ROOT / path).is_file(), f"README runs {path}, which does not exist"
        assert "error" not in parsed[run_key(ROOT / path, overrides)], (path, overrides)


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda path: path.name)
def test_every_header_command_is_parsed(recipe):
    """A `llamafactory-cli` the tests cannot see, or key=value overrides in prose ("... plus key=value"), go unchecked."""
    for line in header(recipe):
        commands = 1 if COMMAND.match(line) else len(INLINE.findall(line))
        assert line.count("llamafactory-cli") == commands, f"{recipe.name}: not a `llamafactory-cli train recipes/X.yaml` command: {line}"
        if not COMMAND.match(line):
            assert not OVERRIDE.search(INLINE.sub("", line)), f"{recipe.name}: overrides outside a command line: {line}"


def test_predict_commands_write_their_own_output_dir():
    """Two predictions into one output_dir replace each other (overwrite_output_dir: true); one into a train dir mixes them."""
    train, predict = commands_by_kind()
    assert predict, "no predict command found"
    writers = {}
    for command, settings in predict.items():
        writers.setdefault(settings["output_dir"], []).append(show(*command))
    assert {out: cmds for out, cmds in writers.items() if len(cmds) > 1} == {}
    train_dirs = {settings["output_dir"] for settings in train.values()}
    assert sorted(set(writers) & train_dirs) == []


def test_predict_commands_load_what_a_train_recipe_saves():
    """An adapter is some LoRA train recipe's output_dir on its base model and template; adapter null means the base
    model (models/...) or a full/freeze train recipe's output_dir, which LLaMA-Factory's parser does not check."""
    train, predict = commands_by_kind()
    saved = {settings["output_dir"]: settings for settings in train.values()}
    for command, settings in predict.items():
        adapter, model = settings.get("adapter_name_or_path"), settings["model_name_or_path"]
        source = saved.get(adapter if adapter else model)
        if adapter:
            assert source is not None, f"{show(*command)}: adapter {adapter} is no train recipe's output_dir"
            assert source["finetuning_type"] in ("lora", "oft"), f"{show(*command)}: {adapter} holds no adapter"
            assert model == source["model_name_or_path"], f"{show(*command)}: adapter trained on another base model"
        elif not model.startswith("models/"):
            assert source is not None, f"{show(*command)}: model {model} is no train recipe's output_dir"
            assert source["finetuning_type"] in ("full", "freeze"), f"{show(*command)}: {model} holds an adapter only"
        if source is not None:
            assert settings["template"] == source["template"], f"{show(*command)}: trained with another template"


def test_templates_are_registered(parsed):
    """LLaMA-Factory's parser accepts any template name; loading fails only later, on the GPU."""
    unknown = {show(*command): effective(*command).get("template") for command in all_commands()
               if effective(*command).get("template") not in parsed["templates"]}
    assert unknown == {}


def test_mix_probabilities_follow_dataset_order(parsed):
    """interleave_probs pair with `dataset:` in order (LLaMA-Factory's merge_dataset); the lean the comment names favours the domain."""
    settings = config(ROOT / "recipes" / MIX_RECIPE)
    names = settings["dataset"].split(",")
    assert MIX_DOMAIN in names and settings["mix_strategy"].startswith("interleave")
    as_set, leaning = parsed["mixes"]
    share = {name: as_set.get(name, 0) / sum(as_set.values()) for name in names}
    for name, prob in zip(names, map(float, str(settings["interleave_probs"]).split(","))):
        assert abs(share[name] - prob) < 0.05, (share, settings["interleave_probs"])
    assert leaning and max(leaning, key=leaning.get) == MIX_DOMAIN, f"the '... leans on the domain' probs give {leaning}"
    assert leaning[MIX_DOMAIN] / sum(leaning.values()) > 0.6


def test_unknown_keys_are_rejected(parsed):
    [error] = [result["error"] for key, result in parsed.items() if key.startswith("unknown_key.yaml")]
    assert "no_such_knob" in error
    assert "no_such_knob" in parsed["infer"][infer_key("api", "unknown_key_serve.yaml")]["error"]  # get_infer_args
    assert "merge adapters before quantizing" in parsed["infer"][infer_key("export", MERGE[0], QUANTIZE)]["error"]


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda path: path.name)
def test_recipe_layout(recipe):
    text = recipe.read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    assert f"llamafactory-cli train recipes/{recipe.name}" in "\n".join(header(recipe)), "header lacks its command"
    sections = SECTIONS + ["### train"] * bool(config.get("do_train")) + ["### eval"] * bool(config.get("do_predict"))
    assert [section for section in sections if section not in text.splitlines()] == []
    if config.get("do_predict"):
        assert config.get("predict_with_generate") is True
        assert config.get("do_sample") is False, "predictions must be greedy (do_sample: false)"


@pytest.mark.parametrize("command", all_commands(), ids=lambda command: " ".join([command[0][8:], *command[1]]))
def test_every_dataset_named_is_registered(command):
    """`dataset` / `eval_dataset` must be entries of the dataset_info.json in `dataset_dir` (from the repo root)."""
    settings = effective(*command)
    info = json.loads((ROOT / settings.get("dataset_dir", "data") / "dataset_info.json").read_text(encoding="utf-8"))
    names = [n.strip() for key in ("dataset", "eval_dataset") for n in str(settings.get(key) or "").split(",") if n.strip()]
    assert names and [name for name in names if name not in info] == []


@pytest.mark.parametrize("command", [c for c in all_commands() if effective(*c).get("deepspeed")],
                         ids=lambda command: " ".join([command[0][8:], *command[1]]))
def test_deepspeed_config_is_shipped(command):
    path = ROOT / effective(*command)["deepspeed"]
    assert path.is_file(), f"{show(*command)}: {path} does not exist"
    settings = json.loads(path.read_text(encoding="utf-8"))
    assert settings["zero_optimization"]["stage"] == 3
    assert settings["train_micro_batch_size_per_gpu"] == "auto"  # filled in from the recipe by transformers


# ---------------------------------------------------------------- serve and merge recipes (get_infer_args)
def lora_sources() -> dict[str, tuple[str, dict]]:  # {output_dir: (recipe name, settings)} of the train recipes
    return {config(r)["output_dir"]: (r.name, config(r)) for r in RECIPES if config(r).get("do_train")}


@pytest.mark.parametrize("recipe", SERVING, ids=lambda path: path.name)
def test_serving_recipe_and_its_header_commands_parse(parsed, recipe):
    result = parsed["infer"][infer_key(CLIS[recipe][0], recipe)]
    assert "error" not in result, result
    commands = serving_commands(recipe)
    own = {cli for _, cli, path, overrides in commands if path == f"recipes/{recipe.name}" and not overrides}
    assert own == set(CLIS[recipe]), f"header lacks its own command(s): has {own}"
    for env, cli, path, overrides in commands:
        assert (ROOT / path).is_file(), f"{recipe.name}: header runs {path}, which does not exist"
        assert path.endswith(next(kind for kind, clis in SERVING_KINDS.items() if cli in clis)), (cli, path)
        bind = {"api": "API_HOST=127.0.0.1", "webchat": "GRADIO_SERVER_NAME=127.0.0.1"}.get(cli)
        assert bind is None or bind in env.split(), f"`{cli} {path}` listens on 0.0.0.0 (all interfaces) without {bind}"
        result = parsed["infer"][infer_key("api" if cli == "webchat" else cli, path, overrides)]
        assert "error" not in result, (cli, overrides, result)
        for key, value in (override.split("=", 1) for override in overrides):
            assert str(result[key]) == value or value == "null" and result[key] is None, (key, result[key])
    for path, overrides in documented_commands(recipe):  # "after `llamafactory-cli train recipes/X.yaml`"
        assert (ROOT / path).is_file() and "error" not in parsed[run_key(ROOT / path, overrides)], path
    for line in header(recipe):
        count = 1 if COMMAND.match(line) or INFER_COMMAND.match(line) else len(INLINE.findall(line))
        assert line.count("llamafactory-cli") == count, f"{recipe.name}: a command the tests cannot see: {line}"
        if not (COMMAND.match(line) or INFER_COMMAND.match(line)):
            assert not OVERRIDE.search(INLINE.sub("", line)), f"{recipe.name}: overrides outside a command line: {line}"
    missing = [path for line in header(recipe) for path in RECIPE_PATH.findall(line) if not (ROOT / path).is_file()]
    assert missing == [], f"{recipe.name}: header names recipes that do not exist"


@pytest.mark.parametrize("recipe", SERVING, ids=lambda path: path.name)
def test_serving_recipe_layout(parsed, recipe):
    """Serve recipes generate greedily, the commented-out vLLM options parse and fit prompt + answer; merges are plain."""
    settings, lines = config(recipe), recipe.read_text(encoding="utf-8").splitlines()
    serve = recipe in SERVE
    sections = ["### model", "### method", "### generate" if serve else "### export"]
    assert [section for section in sections if section not in lines] == []
    assert settings["finetuning_type"] == "lora" and settings.get("adapter_name_or_path")
    if serve:
        assert settings["infer_backend"] == "huggingface" and settings["do_sample"] is False, "serve greedily"
        assert settings["temperature"] == 0, "LLaMA-Factory's vLLM engine ignores do_sample: greedy there is temperature 0"
        assert 64 <= settings["max_new_tokens"] <= 4096
        assert {option.split("=")[0] for option in vllm_options(recipe)} == {"infer_backend", "vllm_maxlen", "vllm_gpu_util"}
        result = parsed["infer"][infer_key("api", recipe)]
        vllm = parsed["infer"][infer_key("parse", recipe, vllm_options(recipe))]
        assert result["do_sample"] is False and result["temperature"] == 0 and result["infer_backend"] == "huggingface"
        assert "error" not in vllm and vllm["infer_backend"] == "vllm", vllm
        _, source = lora_sources()[settings["adapter_name_or_path"]]
        assert vllm["vllm_maxlen"] >= source["cutoff_len"] + result["max_new_tokens"], "vllm_maxlen < prompt + answer"
    else:  # export_model refuses a quantized base only after loading it: the parse run cannot tell
        assert "quantization_bit" not in settings and settings["export_dir"].startswith("models/")
        assert settings["export_device"] == "cpu" and settings["export_legacy_format"] is False
        assert isinstance(settings["export_size"], int)


def test_serving_loads_what_a_lora_recipe_saves(parsed):
    """An adapter is a LoRA train recipe's output_dir on its base model and template (X_lora_serve/merge: X_lora's);
    no adapter means a merge recipe's export_dir; a cutoff_len set is the training one (RAG prompts need it)."""
    saved, merged = lora_sources(), {config(r)["export_dir"]: config(r) for r in MERGE}
    for cli, path, overrides in all_serving_commands():
        settings, what = effective(path, overrides), infer_key(cli, path, overrides)
        adapter = settings.get("adapter_name_or_path")
        if adapter:
            name, source = saved.get(adapter, (None, None))
            assert source is not None, f"{what}: adapter {adapter} is no train recipe's output_dir"
            assert source["finetuning_type"] == "lora", f"{what}: {name} saves no adapter"
            assert settings["model_name_or_path"] == source["model_name_or_path"], f"{what}: {name} tuned another model"
            assert Path(path).name.startswith(Path(name).stem + "_"), f"{what}: serves {name}'s adapter"
        else:
            assert settings["model_name_or_path"] in merged, f"{what}: neither an adapter nor a merged model"
            merge = merged[settings["model_name_or_path"]]
            assert settings["template"] == merge["template"], f"{what}: merged with another template"
            name, source = saved[merge["adapter_name_or_path"]]
        assert settings["template"] == source["template"] and settings["template"] in parsed["templates"], what
        assert settings.get("cutoff_len", source["cutoff_len"]) == source["cutoff_len"], f"{what}: {name}'s cutoff_len"
        if "_rag_" in source["dataset"] and cli == "api":  # a caller trims the retrieved passages to it
            assert "cutoff_len" in settings, f"{what}: set {name}'s cutoff_len"


def test_every_lora_recipe_is_served_and_merged_into_a_new_folder():
    lora = [r for r in RECIPES if r.name.endswith("_lora.yaml") and config(r).get("do_train")]
    assert len(lora) >= 5 and [f"{r.stem}{kind}" for r in lora for kind in SERVING_KINDS
                               if not (r.parent / f"{r.stem}{kind}").is_file()] == []
    exports = [config(r)["export_dir"] for r in MERGE]
    assert len(set(exports)) == len(exports) and not set(exports) & set(lora_sources())
    for recipe, export in zip(MERGE, exports):
        runs = [(cli, effective(path, overrides)) for _, cli, path, overrides in serving_commands(recipe)]
        served = [cli for cli, run in runs if run["model_name_or_path"] == export and not run.get("adapter_name_or_path")]
        assert sorted(served) == ["api", "webchat"], f"{recipe.name}: header does not serve {export}"
