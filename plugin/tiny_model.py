"""A tiny random Qwen2 model with its own tokenizer, a CPU stand-in for tests and the demo.

It is NOT a model to fine-tune for real: the weights are random. Real runs use Qwen2.5-0.5B-Instruct::

    modelscope download --model Qwen/Qwen2.5-0.5B-Instruct --local_dir models/Qwen2.5-0.5B-Instruct

The stand-in has the same architecture (``Qwen2ForCausalLM``), the ``qwen`` template's special tokens and a
Qwen-style chat template, so ``llamafactory-cli train recipes/... model_name_or_path=OUT_DIR bf16=false``
runs LoRA or full fine-tuning and prediction end to end in seconds. The byte-level BPE tokenizer is trained
on the given corpus files, so same corpus + same seed give byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import UserError

ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END]
DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\n" + DEFAULT_SYSTEM + "<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message['role'] != 'system' or not loop.first %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
BUILTIN_CORPUS = """\
你是一个医疗专家,你的任务是临床术语标准化。请把原始词归一到标准术语。
原始词:左膝退变伴游离体
该词的标准术语为:膝骨关节病##膝关节游离体
原始词:糖尿病反复低血糖;骨质疏松;高血压冠心病不稳定心绞痛
该词的标准术语为:糖尿病性低血糖症##骨质疏松##高血压##冠状动脉粥样硬化性心脏病##不稳定性心绞痛
原始词:右乳腺癌IV期
该词的标准术语为:乳腺恶性肿瘤##癌
患者男,65岁,反复胸闷气短3年,加重1周入院。诊断:慢性阻塞性肺疾病急性加重。
根据《电力安全工作规程》,高压设备发生接地时,室内人员不得接近故障点4米以内。
当事人可以依照《中华人民共和国民法典》的规定,向人民法院提起诉讼。
The quick brown fox jumps over the lazy dog. Clinical term normalization maps raw terms to standard ones.
Fine-tune a small language model on domain data, then evaluate it with exact match and ROUGE.
"""
VOCAB_SIZE = 2000
MARKER = "README.md"
MARKER_TEXT = (
    "# Tiny random Qwen2 (made by `lfd tiny-model`)\n\n"
    "Random weights: a CPU stand-in for tests and the demo, not a model to use.\n"
    "Real runs: `modelscope download --model Qwen/Qwen2.5-0.5B-Instruct --local_dir models/Qwen2.5-0.5B-Instruct`.\n"
)


def corpus_lines(paths: Iterable[str | Path]) -> Iterator[str]:
    """Every string value of JSON/JSONL records, or every line of a text file, in file order."""
    for path in map(Path, paths):
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "is not a regular file" if path.exists() else "not found"
            raise UserError(f"{path}: corpus file {what}; pass existing JSON, JSONL or text files to --corpus")
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".json":
            yield from _strings(_parse_json(path, text, 0))
        elif path.suffix == ".jsonl":
            for number, line in enumerate(text.splitlines()):
                if line.strip():
                    yield from _strings(_parse_json(path, line, number))
        else:
            yield from (line for line in text.splitlines() if line.strip())


def _parse_json(path: Path, text: str, first_line: int):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(
            f"{path}: line {first_line + err.lineno}: not valid JSON; fix it or rename the file to .txt"
        ) from None
    except (ValueError, RecursionError):  # thousands of digits, thousands of levels
        raise UserError(f"{path}: line {first_line + 1}: a number too long or nesting too deep to read; fix it or "
                        "rename the file to .txt") from None


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def train_tokenizer(lines: list[str]):
    """A ``Qwen2Tokenizer`` whose byte-level BPE vocabulary is trained on ``lines``."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        trainers,
    )
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    backend = Tokenizer(models.BPE())  # same pipeline as Qwen2Tokenizer, so the trained merges fit it
    backend.normalizer = normalizers.NFC()
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte: any text round-trips
        show_progress=False,
    )
    backend.train_from_iterator(lines, trainer=trainer)
    bpe = json.loads(backend.to_str())["model"]
    tokenizer = Qwen2Tokenizer(  # the real Qwen pre-tokenizer/decoder, rebuilt from the trained vocab and merges
        vocab=bpe["vocab"],
        merges=[tuple(merge) for merge in bpe["merges"]],
        bos_token=None,
        eos_token=IM_END,
        pad_token=ENDOFTEXT,
        unk_token=None,
        extra_special_tokens=[IM_START, IM_END],
        model_max_length=2048,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(out_dir: str | Path, corpus: Iterable[str | Path] = (), seed: int = 0) -> Path:
    """Write a tiny random Qwen2ForCausalLM + tokenizer to ``out_dir`` and return it (see the module docstring)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: is a file; pass a folder path as OUT_DIR")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UserError(f"{out}: folder is not empty and was not made by `lfd tiny-model`; pick a new folder")
    corpus = list(corpus)
    lines = list(corpus_lines(corpus)) if corpus else BUILTIN_CORPUS.splitlines()

    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM
    from transformers.utils import logging as hf_logging

    tokenizer = train_tokenizer(lines)
    pad_id, eos_id = tokenizer.convert_tokens_to_ids([ENDOFTEXT, IM_END])
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=None,  # like the tokenizer: Qwen adds no BOS
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=[eos_id, pad_id], pad_token_id=pad_id)

    out.mkdir(parents=True, exist_ok=True)
    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Writing model shards" bar for a 0.5 MB file
    try:
        model.save_pretrained(out)
    finally:
        if bar:
            hf_logging.enable_progress_bar()
    tokenizer.save_pretrained(out)
    (out / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    return out
