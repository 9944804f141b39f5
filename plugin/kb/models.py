"""The model behind the assistant: LLaMA-Factory's own ``ChatModel`` from a recipe, or an OpenAI-compatible endpoint.

- :class:`RecipeModel` loads a recipe (a ``*_serve.yaml`` or ``*_predict.yaml``, with ``key=value``
  overrides merged by OmegaConf as `llamafactory-cli` merges them) in this process: the same base
  model, adapter, template and ``cutoff_len`` as training. Keys only training reads (``output_dir``,
  ``eval_dataset``…) are left out, as `llamafactory-cli api` would refuse them.
- :class:`EndpointModel` asks any OpenAI-compatible server (`llamafactory-cli api`, vLLM) through the
  ``openai`` client; a server that is down, answers an error or times out is one line.

Both generate greedily unless a temperature above 0 is asked for (the rule of LLaMA-Factory's chat
engine: 0 means ``do_sample: false``). torch, LLaMA-Factory and openai are imported only here, when used.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

from ..errors import UserError

DEFAULT_CUTOFF = 2048  # LLaMA-Factory's DataArguments.cutoff_len default


@contextmanager
def quiet_llamafactory():
    """LLaMA-Factory logs warnings only (unless $LLAMAFACTORY_VERBOSITY says otherwise), and to stderr: it
    logs to stdout, where `lfd kb ask` prints its answer (and --json its JSON). The variable is set only
    while LLaMA-Factory reads it (it also turns transformers' INFO logs on), never for child processes."""
    import logging

    chosen = os.environ.get("LLAMAFACTORY_VERBOSITY")
    os.environ["LLAMAFACTORY_VERBOSITY"] = chosen or "WARNING"
    try:
        from llamafactory.extras import logging as lf_logging

        lf_logging.get_logger("llamafactory")  # configures its handler once
        handler = getattr(lf_logging, "_default_handler", None)
        if handler is not None and hasattr(handler, "setStream"):
            handler.setStream(CurrentStderr())
        if not chosen:
            logging.getLogger("llamafactory").setLevel(logging.WARNING)
        yield
    finally:
        if chosen is None:
            os.environ.pop("LLAMAFACTORY_VERBOSITY", None)


class CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is logged (a captured or redirected stderr included)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def recipe_args(recipe: Path, overrides: list[str]) -> dict:
    """The recipe's settings with ``key=value`` overrides, keeping the keys inference reads."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if not recipe.is_file():
        raise UserError(f"--recipe {recipe}: no such file; pass a recipe such as recipes/pharma_lora_serve.yaml")
    bad = [item for item in overrides if "=" not in item]
    if bad:
        raise UserError(f"override {bad[0]!r}: write key=value, e.g. adapter_name_or_path=null")
    try:
        merged = OmegaConf.to_container(OmegaConf.merge(OmegaConf.load(recipe), OmegaConf.from_cli(overrides)))
    except (OmegaConfBaseException, ValueError, OSError) as err:
        raise UserError(f"{recipe}: not a readable YAML recipe ({str(err).splitlines()[0]})") from None
    if not isinstance(merged, dict):
        raise UserError(f"{recipe}: a recipe is a mapping of LLaMA-Factory settings")
    with quiet_llamafactory():
        from llamafactory.hparams import DataArguments, FinetuningArguments, GeneratingArguments, ModelArguments

    known = {f.name for cls in (ModelArguments, DataArguments, FinetuningArguments, GeneratingArguments)
             for f in fields(cls)}
    args = {key: value for key, value in merged.items() if key in known}
    model = args.get("model_name_or_path")
    if not model:
        raise UserError(f"{recipe}: no model_name_or_path; add it or pass model_name_or_path=PATH")
    for key in ("model_name_or_path", "adapter_name_or_path"):
        for part in str(args.get(key) or "").split(","):
            if part and not Path(part).exists() and (key != "model_name_or_path" or looks_local(part)):
                raise UserError(f"{recipe}: {key} {part} does not exist (run from the folder the recipe's paths "
                                f"are relative to, or pass {key}=PATH{', or =null' if key.startswith('adapter') else ''})")
    return args


def looks_local(path: str) -> bool:
    """Whether a model path names a folder here rather than a hub id (``Qwen/Qwen2.5-7B-Instruct``).

    >>> looks_local("models/Qwen2.5-7B-Instruct") == Path("models").is_dir(), looks_local("./m"), looks_local("a/b/c")
    (True, True, True)
    """
    first = path.split("/", 1)[0]
    return path.startswith((".", "/", "~")) or path.count("/") != 1 or Path(first).is_dir()


class RecipeModel:
    """A recipe's model, adapter and template in this process (LLaMA-Factory's ``ChatModel``)."""

    def __init__(self, recipe: Path, overrides: list[str] = (), load: bool = True):
        self.args = recipe_args(recipe, list(overrides))
        self.name = str(self.args.get("adapter_name_or_path") or self.args["model_name_or_path"])
        self.cutoff_len = int(self.args.get("cutoff_len") or DEFAULT_CUTOFF)
        self.chat_model = None
        with quiet_llamafactory():
            try:
                self.load(load)
            except (ValueError, OSError, RuntimeError, ImportError) as err:
                raise UserError(f"{recipe}: LLaMA-Factory cannot load this model ({type(err).__name__}: "
                                f"{str(err).splitlines()[0] if str(err) else ''}); check the recipe's paths") from None

    def load(self, model: bool) -> None:
        """The model (ChatModel), or only the tokenizer and template: counting tokens for a remote model
        served from this recipe."""
        if model:
            from llamafactory.chat import ChatModel

            self.chat_model = ChatModel(dict(self.args))
            self.tokenizer, self.template = self.chat_model.engine.tokenizer, self.chat_model.engine.template
            return
        from llamafactory.data import get_template_and_fix_tokenizer
        from llamafactory.hparams import get_infer_args
        from llamafactory.model import load_tokenizer

        model_args, data_args, _, _ = get_infer_args(dict(self.args))
        self.tokenizer = load_tokenizer(model_args)["tokenizer"]
        self.template = get_template_and_fix_tokenizer(self.tokenizer, data_args)

    def count(self, messages: list[dict]) -> int:
        """Prompt tokens of ``messages`` under the recipe's template, as the chat engine encodes them."""
        prompt_ids, _ = self.template.encode_oneturn(self.tokenizer, [*messages, {"role": "assistant", "content": ""}])
        return len(prompt_ids)

    def reply(self, messages: list[dict], temperature: float = 0.0, max_new_tokens: int | None = None) -> str:
        options = {"do_sample": temperature > 0, **({"temperature": temperature} if temperature > 0 else {})}
        if max_new_tokens:
            options["max_new_tokens"] = max_new_tokens
        return self.chat_model.chat(messages, **options)[0].response_text


class EndpointModel:
    """An OpenAI-compatible chat endpoint; ``model`` defaults to the first the server lists."""

    def __init__(self, api_base: str, model: str | None = None, key_env: str = "OPENAI_API_KEY",
                 timeout: float = 120.0, counter: RecipeModel | None = None):
        from openai import OpenAI

        self.api_base, self.counter = api_base.rstrip("/"), counter
        self.client = OpenAI(base_url=self.api_base, api_key=os.environ.get(key_env) or "EMPTY", timeout=timeout,
                             max_retries=1)
        self._model = model
        self.cutoff_len = counter.cutoff_len if counter else None

    @property
    def name(self) -> str:
        if self._model is None:
            listed = self.call(lambda: self.client.models.list())
            if not listed.data:
                raise UserError(f"{self.api_base} lists no model; pass --model NAME")
            self._model = listed.data[0].id
        return self._model

    def count(self, messages: list[dict]) -> int:
        return self.counter.count(messages)

    def reply(self, messages: list[dict], temperature: float = 0.0, max_new_tokens: int | None = None) -> str:
        options = {"max_tokens": max_new_tokens} if max_new_tokens else {}
        done = self.call(lambda: self.client.chat.completions.create(
            model=self.name, messages=messages, temperature=temperature, **options))
        if not done.choices:
            raise UserError(f"{self.api_base} answered with no choices; check the server's log")
        return done.choices[0].message.content or ""

    def call(self, request):
        """One request; a failure of the endpoint is a one-line UserError saying what to check."""
        import openai

        try:
            return request()
        except openai.APITimeoutError:
            raise UserError(f"{self.api_base} did not answer in time; check the server, or raise --timeout") from None
        except openai.APIConnectionError:
            raise UserError(f"cannot reach {self.api_base}; start the server (e.g. API_HOST=127.0.0.1 "
                            "llamafactory-cli api recipes/pharma_lora_serve.yaml) or fix --api-base") from None
        except openai.AuthenticationError:
            raise UserError(f"{self.api_base} refused the API key; set it in the environment variable --api-key-env "
                            "names (default OPENAI_API_KEY)") from None
        except openai.APIStatusError as err:
            detail = " ".join(str(getattr(err, "message", "") or err).split())[:200]
            raise UserError(f"{self.api_base} answered {err.status_code} ({detail}); check the server's log") from None
