"""A training recipe as a LlamaBoard saved configuration: {element id: the value its UI component holds}.

The element ids and value types are those of LLaMA-Factory 0.9.5's ``webui/runner.py`` (``save_args``,
``load_args``, ``_parse_train_args``); the model names, hub ids and training stages are read from the
installed ``llamafactory/extras/constants.py`` without importing it. What has no element goes, exact,
into "Extra arguments", so the board starts the same training as ``llamafactory-cli train RECIPE``.
:mod:`.board` writes these configurations where the board finds them. One cohesive thing: the mapping
of recipe keys to the board's elements (its tables are most of the module).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
from pathlib import Path

import yaml

from . import ROOT
from .catalog import catalog
from .errors import UserError

# llamafactory/extras/constants.py TRAINING_STAGES (read from the installed source when possible)
STAGES = {"Supervised Fine-Tuning": "sft", "Reward Modeling": "rm", "PPO": "ppo", "DPO": "dpo", "KTO": "kto",
          "Pre-Training": "pt"}
PEFT_METHODS = {"lora", "oft"}


def number_text(value) -> str:
    """A float as the UI's text boxes hold it.

    >>> number_text(1.0e-4), number_text(5e-5), number_text(2), number_text(0.05)
    ('1e-4', '5e-5', '2.0', '0.05')
    """
    value = float(value)
    if value != 0 and abs(value) < 1e-2:
        mantissa, exponent = f"{value:e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return repr(value)


def int_text(value) -> str:
    return str(int(value))


# recipe key -> (element id, the value type the UI component holds). runner.py `_parse_train_args` reads
# these ids back into the same training arguments (learning_rate=float(get("train.learning_rate")), ...).
FIELDS = {
    "learning_rate": ("train.learning_rate", number_text),
    "num_train_epochs": ("train.num_train_epochs", number_text),
    "max_grad_norm": ("train.max_grad_norm", number_text),
    "max_samples": ("train.max_samples", int_text),
    "cutoff_len": ("train.cutoff_len", int),
    "per_device_train_batch_size": ("train.batch_size", int),
    "gradient_accumulation_steps": ("train.gradient_accumulation_steps", int),
    "val_size": ("train.val_size", float),
    "lr_scheduler_type": ("train.lr_scheduler_type", str),
    "logging_steps": ("train.logging_steps", int),
    "save_steps": ("train.save_steps", int),
    "warmup_steps": ("train.warmup_steps", int),
    "neftune_noise_alpha": ("train.neftune_alpha", float),
    "packing": ("train.packing", bool),
    "neat_packing": ("train.neat_packing", bool),
    "train_on_prompt": ("train.train_on_prompt", bool),
    "mask_history": ("train.mask_history", bool),
    "resize_vocab": ("train.resize_vocab", bool),
    "use_llama_pro": ("train.use_llama_pro", bool),
    "enable_thinking": ("train.enable_thinking", bool),
    "report_to": ("train.report_to", str),
    "freeze_trainable_layers": ("train.freeze_trainable_layers", int),
    "freeze_trainable_modules": ("train.freeze_trainable_modules", str),
    "freeze_extra_modules": ("train.freeze_extra_modules", str),
    "lora_rank": ("train.lora_rank", int),
    "lora_alpha": ("train.lora_alpha", int),
    "lora_dropout": ("train.lora_dropout", float),
    "loraplus_lr_ratio": ("train.loraplus_lr_ratio", float),
    "create_new_adapter": ("train.create_new_adapter", bool),
    "use_rslora": ("train.use_rslora", bool),
    "use_dora": ("train.use_dora", bool),
    "pissa_init": ("train.use_pissa", bool),
    "lora_target": ("train.lora_target", str),
    "additional_target": ("train.additional_target", str),
    "pref_beta": ("train.pref_beta", float),
    "pref_ftx": ("train.pref_ftx", float),
    "pref_loss": ("train.pref_loss", str),
    "ppo_score_norm": ("train.ppo_score_norm", bool),
    "ppo_whiten_rewards": ("train.ppo_whiten_rewards", bool),
    **{f"{opt}_{key}": (f"train.{opt}_{key}", kind) for opt in ("galore", "apollo")
       for key, kind in (("rank", int), ("update_interval", int), ("scale", float), ("target", str))},
    "use_galore": ("train.use_galore", bool),
    "use_apollo": ("train.use_apollo", bool),
    "use_badam": ("train.use_badam", bool),
    "badam_mode": ("train.badam_mode", str),
    "badam_switch_mode": ("train.badam_switch_mode", str),
    "badam_switch_interval": ("train.badam_switch_interval", int),
    "badam_update_ratio": ("train.badam_update_ratio", float),
    "use_swanlab": ("train.use_swanlab", bool),
    "swanlab_project": ("train.swanlab_project", str),
    "swanlab_run_name": ("train.swanlab_run_name", str),
    "swanlab_workspace": ("train.swanlab_workspace", str),
    "swanlab_mode": ("train.swanlab_mode", str),
    "quantization_method": ("top.quantization_method", str),
    "rope_scaling": ("top.rope_scaling", str),
}

# What the board holds when a recipe says nothing: LLaMA-Factory's / transformers' own defaults (what
# `llamafactory-cli train` would use), not the UI's start values (batch 2, accumulation 8, cosine, ...).
DEFAULTS = {
    "top.finetuning_type": "lora",
    "top.quantization_bit": "none",
    "top.quantization_method": "bnb",
    "top.template": "default",
    "top.rope_scaling": "none",
    "top.booster": "auto",
    "train.training_stage": "Supervised Fine-Tuning",
    "train.learning_rate": "5e-5",
    "train.num_train_epochs": "3.0",
    "train.max_grad_norm": "1.0",
    "train.max_samples": str(10**9),  # the box must hold an integer; no recipe limit = more than any dataset
    "train.compute_type": "fp32",
    "train.cutoff_len": 2048,
    "train.batch_size": 8,
    "train.gradient_accumulation_steps": 1,
    "train.val_size": 0.0,
    "train.lr_scheduler_type": "linear",
    "train.logging_steps": 500,
    "train.save_steps": 500,
    "train.warmup_steps": 0,
    "train.neftune_alpha": 0.0,
    "train.packing": False,
    "train.neat_packing": False,
    "train.train_on_prompt": False,
    "train.mask_history": False,
    "train.resize_vocab": False,
    "train.use_llama_pro": False,
    "train.enable_thinking": True,
    "train.report_to": "none",
    "train.freeze_trainable_layers": 2,
    "train.freeze_trainable_modules": "all",
    "train.freeze_extra_modules": "",
    "train.lora_rank": 8,
    "train.lora_dropout": 0.0,
    "train.loraplus_lr_ratio": 0.0,
    "train.create_new_adapter": False,
    "train.use_rslora": False,
    "train.use_dora": False,
    "train.use_pissa": False,
    "train.lora_target": "all",
    "train.additional_target": "",
    "train.pref_beta": 0.1,
    "train.pref_ftx": 0.0,
    "train.pref_loss": "sigmoid",
    "train.ppo_score_norm": False,
    "train.ppo_whiten_rewards": False,
    "train.use_galore": False,
    "train.use_apollo": False,
    "train.use_badam": False,
    "train.use_swanlab": False,
    "train.ds_stage": "none",
    "train.ds_offload": False,
}

# Slider bounds (webui/components/train.py); a value outside stays exact through "Extra arguments".
SLIDERS = {
    "train.cutoff_len": (4, 131072), "train.batch_size": (1, 1024), "train.gradient_accumulation_steps": (1, 1024),
    "train.val_size": (0, 1), "train.logging_steps": (1, 1000), "train.save_steps": (10, 5000),
    "train.warmup_steps": (0, 5000), "train.neftune_alpha": (0, 10), "train.freeze_trainable_layers": (-128, 128),
    "train.lora_rank": (1, 1024), "train.lora_alpha": (1, 2048), "train.lora_dropout": (0, 1),
    "train.loraplus_lr_ratio": (0, 64), "train.pref_beta": (0, 1), "train.pref_ftx": (0, 10),
    "train.galore_rank": (1, 1024), "train.galore_update_interval": (1, 2048), "train.galore_scale": (0, 100),
    "train.apollo_rank": (1, 1024), "train.apollo_update_interval": (1, 2048), "train.apollo_scale": (0, 100),
    "train.badam_switch_interval": (1, 1024), "train.badam_update_ratio": (0, 1),
}

# Arguments the board always passes itself (runner.py); a recipe value equal to these adds nothing.
BOARD_FIXED = {"plot_loss": True, "ddp_timeout": 180000000, "trust_remote_code": True,
               "include_num_input_tokens_seen": True, "preprocessing_num_workers": 16}
# Recipe keys consumed by the mapping below rather than FIELDS.
HANDLED = {"model_name_or_path", "stage", "do_train", "finetuning_type", "template", "dataset", "dataset_dir",
           "output_dir", "bf16", "fp16", "pure_bf16", "quantization_bit", "flash_attn", "use_unsloth",
           "enable_liger_kernel", "deepspeed"}


def _llamafactory_source(relative: str) -> str | None:
    spec = importlib.util.find_spec("llamafactory")
    if not spec or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


HUBS = {"DEFAULT": "huggingface", "MODELSCOPE": "modelscope", "OPENMIND": "openmind"}  # DownloadSource members
HUB = "modelscope"  # the hub our boards start on (their user config): the README downloads through ModelScope


@functools.lru_cache(maxsize=1)
def board_models() -> dict[str, dict]:
    """LlamaBoard's "Model name" choices: {name: {"paths": [hub ids], "hubs": {hub: id}, "template": ...}}.

    ``template`` is the one the board selects for the model. Read from the installed
    ``llamafactory/extras/constants.py`` without importing it (that pulls in torch: ~25 s here); empty
    when it cannot be read, and every model is then "Custom".
    """
    source = _llamafactory_source("extras/constants.py")
    models: dict[str, dict] = {}
    if not source:
        return models
    for node in ast.parse(source).body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "register_model_group"):
            continue
        kw = {k.arg: k.value for k in call.keywords}
        template = kw.get("template")
        template = template.value if isinstance(template, ast.Constant) else None
        multimodal = isinstance(kw.get("multimodal"), ast.Constant) and kw["multimodal"].value is True
        group = kw.get("models")
        if not isinstance(group, ast.Dict):
            continue
        for key, value in zip(group.keys, group.values):
            if not isinstance(key, ast.Constant) or not isinstance(value, ast.Dict):
                continue
            hubs = {HUBS.get(getattr(k, "attr", ""), "?"): v.value for k, v in zip(value.keys, value.values)
                    if isinstance(v, ast.Constant)}
            chat = any(s in key.value for s in ("-Chat", "-Distill", "-Instruct", "-Thinking")) or multimodal
            models[key.value] = {"paths": list(hubs.values()), "hubs": hubs,
                                 "template": template if template and chat else "default"}
    return models


def board_hub_id(name: str, hub: str = HUB) -> str | None:
    """What the board fills in for model ``name`` with ``hub`` selected and no path of the user's
    (``webui/common.py`` ``get_model_path``): the hub's id, else the Hugging Face one."""
    hubs = board_models().get(name, {}).get("hubs", {})
    return hubs.get(hub) or hubs.get("huggingface")


def modelscope_id(model: str, name: str) -> str | None:
    """The ModelScope id of a recipe's model (a folder such as ``models/glm-4-9b-chat-hf``, or a hub id).

    The catalog's (`lfd fetch`) id for that folder, else the board's ModelScope id of ``name`` with the
    folder's own name (GLM-4-9B-Chat is ``ZhipuAI/glm-4-9b-chat``; the recipe's ``-hf`` folder is
    ``ZhipuAI/glm-4-9b-chat-hf``); None when neither knows it.

    >>> modelscope_id("models/Qwen2.5-0.5B-Instruct", "Qwen2.5-0.5B-Instruct")
    'Qwen/Qwen2.5-0.5B-Instruct'
    """
    folder = Path(str(model).rstrip("/")).name
    for entry in catalog().values():
        if entry.get("kind") == "model" and Path(entry.get("recipe_path", "")).name.lower() == folder.lower():
            return entry["modelscope"]
    board_id = board_models().get(name, {}).get("hubs", {}).get(HUB)
    if not board_id or "/" not in board_id:
        return board_id
    return f"{board_id.rsplit('/', 1)[0]}/{folder}"


@functools.lru_cache(maxsize=1)
def board_stages() -> dict[str, str]:
    source = _llamafactory_source("extras/constants.py")
    for node in ast.parse(source).body if source else []:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "TRAINING_STAGES":
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                break
    return STAGES


def board_model_name(model_path: str) -> str:
    """The board's model name for a local folder or hub id (``models/Qwen2.5-7B-Instruct`` -> that name)."""
    base = Path(str(model_path).rstrip("/")).name.lower()
    candidates = {base, base.removesuffix("-hf")}
    models = board_models()
    for name in models:
        if name.lower() in candidates:
            return name
    for name, info in models.items():
        if any(p.lower() == str(model_path).lower() or p.rsplit("/", 1)[-1].lower() in candidates
               for p in info["paths"]):
            return name
    return "Custom"


def is_train_recipe(recipe: dict) -> bool:
    return isinstance(recipe, dict) and recipe.get("do_train") is True


def _resolve(path: str, base_dir: Path) -> Path | None:
    """``path`` (relative to the recipes' base dir, as the recipes are run) if it exists there."""
    candidate = Path(path).expanduser()
    candidate = candidate if candidate.is_absolute() else base_dir / candidate
    return candidate.resolve() if candidate.exists() else None


def recipe_datasets(recipe: dict) -> list[str]:
    """The datasets a recipe trains and evaluates on (``dataset`` and ``eval_dataset``), in order.

    >>> recipe_datasets({"dataset": "a_train, b_train", "eval_dataset": ["a_test"]})
    ['a_train', 'b_train', 'a_test']
    """
    names: list[str] = []
    for key in ("dataset", "eval_dataset"):
        value = recipe.get(key) or []
        names += [d.strip() for d in value.split(",")] if isinstance(value, str) else [str(d) for d in value]
    return list(dict.fromkeys(d for d in names if d))


def _model(recipe: dict, model_dirs: list[Path]) -> tuple[dict, list[str]]:
    """The top-row elements for the recipe's model, and notes.

    A folder found under one of ``model_dirs`` is the model path; else the ModelScope id, which is what
    the board itself fills in with the ModelScope hub selected (for GLM-4's ``-hf`` folder it is not:
    :func:`.board.remember_model_paths` records ours then).
    """
    model = str(recipe.get("model_name_or_path", ""))
    name = board_model_name(model) if model else "Custom"
    config = {"top.model_name": name}  # no top.hub_name: load_args cannot set it (not an input of the Train tab)
    local = next((found for base in model_dirs if model and (found := _resolve(model, base))), None)
    hub_id = modelscope_id(model, name) if model and not local else None
    if model:
        config["top.model_path"] = str(local) if local else hub_id or model
    if local or not model:
        return config, []
    where = " or ".join(str(d) for d in model_dirs)
    if hub_id:
        target = (model_dirs[0] / model).resolve() if model_dirs else Path(model)
        return config, [f"{model} is not downloaded (not under {where}): the board fills in the ModelScope id "
                        f"{hub_id} and downloads it at the first run; to use a local copy, run `modelscope "
                        f"download --model {hub_id} --local_dir {target}`"]
    return config, [f"{model} is not under {where} and not a model the board knows: download it there, "
                    "or set Model path in the board"]


def _deepspeed(path: str, base_dir: Path) -> tuple[str, bool, str]:
    """(ds_stage, ds_offload, absolute config path) for the recipe's DeepSpeed JSON."""
    found = _resolve(path, base_dir)
    try:
        zero = json.loads(found.read_text(encoding="utf-8")).get("zero_optimization", {}) if found else {}
    except (OSError, ValueError):
        zero = {}
    stage = str(zero.get("stage", "none"))
    offload = any(isinstance(zero.get(k), dict) and zero[k].get("device") == "cpu"
                  for k in ("offload_optimizer", "offload_param"))
    return (stage if stage in ("2", "3") else "none"), offload, str(found or path)


def recipe_to_board(recipe: dict, dataset_dir: Path, base_dir: Path = ROOT, *,
                    model_dirs: list[Path] | None = None, cuda: bool = True) -> tuple[dict, list[str]]:
    """A TRAIN recipe as a LlamaBoard saved configuration ({element id: UI value}) and notes for the user.

    What has no element goes, exact, into "Extra arguments" (``train.extra_args``: JSON the runner
    applies last), so the board starts the same training as ``llamafactory-cli train RECIPE``.
    The recipe's relative paths are relative to ``base_dir`` (where the recipes are run); its model
    folder is looked for under ``model_dirs`` (default: ``base_dir``). ``cuda=False`` (a machine without
    a CUDA GPU): compute type fp32 instead of the recipe's bf16/fp16, which are for CUDA GPUs.
    """
    if not is_train_recipe(recipe):
        raise ValueError("not a training recipe (no `do_train: true`)")
    config = dict(DEFAULTS)
    extra: dict = {}

    top, notes = _model(recipe, list(model_dirs) if model_dirs is not None else [base_dir])
    config.update(top)
    name = top["top.model_name"]
    finetuning = recipe.get("finetuning_type", "lora")
    config["top.finetuning_type"] = finetuning
    if recipe.get("template"):
        config["top.template"] = recipe["template"]
        board_template = board_models().get(name, {}).get("template", "default")
        if board_template != recipe["template"]:
            notes.append(f"choosing model {name} makes the board switch the chat template to {board_template}; "
                         f"the recipe uses {recipe['template']}")
    if recipe.get("quantization_bit") is not None:
        config["top.quantization_bit"] = str(int(recipe["quantization_bit"]))
    booster = ("flashattn2" if recipe.get("flash_attn") == "fa2" else "unsloth" if recipe.get("use_unsloth")
               else "liger_kernel" if recipe.get("enable_liger_kernel") else "auto")
    config["top.booster"] = booster
    if recipe.get("flash_attn") not in (None, "auto", "fa2"):
        extra["flash_attn"] = recipe["flash_attn"]

    stage = recipe.get("stage", "sft")
    labels = {v: k for k, v in board_stages().items()}
    if stage not in labels:
        raise ValueError(f"stage {stage!r} is not one LlamaBoard offers ({', '.join(labels)})")
    config["train.training_stage"] = labels[stage]
    config["train.dataset_dir"] = str(dataset_dir)
    datasets = recipe.get("dataset", [])
    config["train.dataset"] = ([d.strip() for d in datasets.split(",") if d.strip()]
                               if isinstance(datasets, str) else list(datasets))
    config["train.compute_type"] = ("fp32" if not cuda else "pure_bf16" if recipe.get("pure_bf16")
                                    else "bf16" if recipe.get("bf16") else "fp16" if recipe.get("fp16") else "fp32")
    if recipe.get("output_dir"):
        config["train.output_dir"] = str(recipe["output_dir"])
    config["train.packing"] = stage == "pt"  # LLaMA-Factory packs pre-training data unless told otherwise
    config["train.lora_alpha"] = 2 * int(recipe.get("lora_rank", DEFAULTS["train.lora_rank"]))  # its default

    for key, value in recipe.items():
        if key in HANDLED:
            continue
        if key in FIELDS and value is not None and not (key == "report_to" and not isinstance(value, str)):
            elem_id, kind = FIELDS[key]
            config[elem_id] = kind(value)
            low, high = SLIDERS.get(elem_id, (None, None))
            if low is not None and not low <= config[elem_id] <= high:
                config[elem_id] = min(max(config[elem_id], low), high)
                extra[key] = value
                notes.append(f"{key}={value} is outside the board's slider; kept exact in Extra arguments")
        elif BOARD_FIXED.get(key, object()) != value:
            extra[key] = value

    if recipe.get("deepspeed"):
        config["train.ds_stage"], config["train.ds_offload"], extra["deepspeed"] = _deepspeed(
            str(recipe["deepspeed"]), base_dir)
    config["train.extra_args"] = json.dumps(extra, ensure_ascii=False, default=str)
    if finetuning not in PEFT_METHODS and config["top.quantization_bit"] != "none":
        notes.append("the board only quantizes LoRA/OFT runs")
    return config, notes


def load_recipe(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: the recipe is not UTF-8 text (byte {err.start}: {err.reason}); "
                        "re-save it as UTF-8") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read the recipe ({err.strerror or err})") from None
    except yaml.YAMLError as err:
        mark, problem = getattr(err, "problem_mark", None), getattr(err, "problem", None) or str(err).split("\n")[0]
        at = f": line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}{at}: not a YAML recipe ({problem}); fix or remove it") from None

