"""Every recipe, and every command its header documents, passes LLaMA-Factory's own argument parsing.

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
RECIPES = sorted((ROOT / "recipes").glob("*.yaml"))
CPU_OVERRIDES = ["bf16=false"]  # bf16 needs a GPU; everything else in a recipe must parse as is
# a command line (optionally behind env vars such as FORCE_TORCHRUN=1), not a mention
COMMAND = re.compile(r"^#\s+(?:[A-Z_]+=\S+\s+)*llamafactory-cli train (recipes/\S+\.yaml)(.*)$")
# the same, quoted in prose: "after `llamafactory-cli train recipes/med_lora.yaml`"
INLINE = re.compile(r"`(?:[A-Z_]+=\S+\s+)*llamafactory-cli train (recipes/\S+\.yaml)([^`]*)`")
README_COMMAND = re.compile(r"^\s*(?:[A-Z_]+=\S+\s+)*llamafactory-cli train (recipes/\S+\.yaml)(.*)$")
OVERRIDE = re.compile(r"\b[a-z_]+=\S")  # key=value: only parsed command lines may carry one
MIX_RECIPE, MIX_DOMAIN = "med_lora_mix.yaml", "med_dialog_train"
LEAN = re.compile(r"([\d.]+,[\d.]+) leans on the domain")
SECTIONS = ["### model", "### method", "### dataset", "### output"]

PARSE = """
import json, sys
from collections import Counter
from datasets import Dataset
from llamafactory.data.data_utils import merge_dataset
from llamafactory.data.template import TEMPLATES
from llamafactory.hparams import DataArguments, get_train_args

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
json.dump({"runs": results, "templates": sorted(TEMPLATES), "mixes": mixes}, open(out, "w", encoding="utf-8"), default=str)
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
    commands += [command for recipe in RECIPES for command in documented_commands(recipe)] + readme_commands()
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
    job = {"runs": [argv + cpu for argv in runs.values()], "mixes": mixes}
    (work / "runs.json").write_text(json.dumps(job), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", PARSE, str(work / "runs.json"), str(work / "results.json")],
        cwd=work, capture_output=True, text=True, timeout=600,
        env={**os.environ, "LLAMAFACTORY_VERBOSITY": "WARN"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((work / "results.json").read_text(encoding="utf-8"))
    return dict(zip(runs, results["runs"])) | {"templates": results["templates"], "mixes": results["mixes"]}


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
