import json

import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.tiny_model import (
    DEFAULT_SYSTEM,
    build_tiny_model,
    corpus_lines,
)

TEXT = "左膝退变伴游离体 -> 膝骨关节病##膝关节游离体 (ICD-10 M17.9)"


def file_bytes(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_model_loads_and_runs(tiny_model):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert model.config.model_type == "qwen2"
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    logits = model(torch.tensor([[1, 2, 3]])).logits
    assert logits.shape == (1, 3, model.config.vocab_size)


def test_tokenizer_round_trips_chinese_and_has_qwen_tokens(tiny_model):
    from transformers import AutoTokenizer, GenerationConfig

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    assert tokenizer.decode(tokenizer(TEXT).input_ids) == TEXT
    assert (tokenizer.eos_token, tokenizer.pad_token, tokenizer.bos_token) == ("<|im_end|>", "<|endoftext|>", None)
    for token in ("<|endoftext|>", "<|im_start|>", "<|im_end|>"):
        assert tokenizer(token).input_ids == [tokenizer.convert_tokens_to_ids(token)]
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "你好"}], tokenize=False,
                                           add_generation_prompt=True)
    assert prompt == f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n"
    assert tokenizer.eos_token_id in GenerationConfig.from_pretrained(tiny_model).eos_token_id


def test_same_corpus_and_seed_give_identical_bytes(tiny_model, tmp_path):
    assert file_bytes(build_tiny_model(tmp_path / "again")) == file_bytes(tiny_model)
    other_seed = file_bytes(build_tiny_model(tmp_path / "seed1", seed=1))
    assert other_seed["model.safetensors"] != file_bytes(tiny_model)["model.safetensors"]
    assert other_seed["tokenizer.json"] == file_bytes(tiny_model)["tokenizer.json"]


def test_tokenizer_is_trained_on_the_corpus(tmp_path):
    from transformers import AutoTokenizer

    corpus = tmp_path / "terms.jsonl"
    corpus.write_text("".join(json.dumps({"output": "膝关节游离体"}, ensure_ascii=False) + "\n" for _ in range(50)),
                      encoding="utf-8")
    tokenizer = AutoTokenizer.from_pretrained(build_tiny_model(tmp_path / "model", corpus=[corpus]))
    assert len(tokenizer("膝关节游离体").input_ids) == 1  # 18 bytes merged into one token


def test_corpus_lines_reads_json_jsonl_and_text(tmp_path):
    (tmp_path / "a.json").write_text('[{"text": "甲", "n": 1, "tags": ["乙", {"x": "丙"}]}]', encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"instruction": "丁", "output": "戊"}\n\n', encoding="utf-8")
    (tmp_path / "c.txt").write_text("己\n\n庚\n", encoding="utf-8")
    assert list(corpus_lines([tmp_path / "a.json", tmp_path / "b.jsonl", tmp_path / "c.txt"])) == [
        "甲", "乙", "丙", "丁", "戊", "己", "庚"]


def test_mistakes_are_one_line_user_errors(tmp_path):
    with pytest.raises(UserError, match="corpus file not found"):
        build_tiny_model(tmp_path / "m", corpus=[tmp_path / "missing.jsonl"])
    with pytest.raises(UserError, match="corpus file is a folder"):
        build_tiny_model(tmp_path / "m", corpus=[tmp_path])
    (tmp_path / "bad.jsonl").write_text('{"a": "x"}\n{"b": \n', encoding="utf-8")
    with pytest.raises(UserError, match="bad.jsonl: line 2: not valid JSON"):
        build_tiny_model(tmp_path / "m", corpus=[tmp_path / "bad.jsonl"])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "keep.txt").write_text("x")
    with pytest.raises(UserError, match="not made by `lfd tiny-model`"):
        build_tiny_model(tmp_path / "data")


def test_help_opens_with_an_example_that_runs(lfd, capsys, tmp_path, monkeypatch):
    from llamafactory_domains.plugin.commands.tiny_model import EXAMPLE

    with pytest.raises(SystemExit) as exit_info:
        lfd("tiny-model", "--help")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"example:\n  {EXAMPLE}\n")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "med_norm_train.jsonl").write_text('{"output": "膝骨关节病"}\n', encoding="utf-8")
    code, out, err = lfd(*EXAMPLE.split()[1:])
    assert (code, err) == (0, "")
    assert "CPU stand-in" in out and (tmp_path / "models" / "tiny-qwen2" / "model.safetensors").is_file()
