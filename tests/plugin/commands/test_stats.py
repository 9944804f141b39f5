import json

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
