"""Over-long records with the real tiny tokenizer: counted as `lfd stats` counts them, dropped, truncated at a
sentence end, or split into windows of whole turns, each within the limit."""

import json

import pytest
from llamafactory_domains.plugin.cleaning.length import Length, exchanges, sentence_ends
from llamafactory_domains.plugin.commands.clean import token_counter
from llamafactory_domains.plugin.commands.stats import load_tokenizer

TURNS = [("孩子发烧三天了，最高39度，怎么办？", "先物理降温，多喝温水。体温超过38.5℃可以用布洛芬。如果持续高热，请及时就医。"),
         ("吃了布洛芬还是不退烧。", "两次用药要间隔6小时以上。持续不退请到医院查血常规，排除细菌感染。"),
         ("血常规白细胞偏高。", "可能是细菌感染，需要医生评估是否用抗生素。不要自行用药。"),
         ("需要住院吗？", "一般不需要。若精神差、抽搐或呼吸急促，应立即住院。"),
         ("好的，谢谢医生。", "不客气，祝孩子早日康复。")]


@pytest.fixture(scope="module")
def tokens(tiny_model):
    return token_counter(load_tokenizer(str(tiny_model)))


def sharegpt(turns=TURNS, system="你是儿科医生。"):
    return {"system": system, "conversations": [{"from": speaker, "value": text} for pair in turns
                                                for speaker, text in zip(("human", "gpt"), pair)], "lfd_id": "d1"}


def stats_total_max(lfd, path, tokenizer):
    """The longest record of ``path`` as `lfd stats` counts it."""
    code, out, err = lfd("stats", path, "--tokenizer", tokenizer, "--json")
    assert code == 0, err
    return json.loads(out)["lengths"]["total"]["max"]


def write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_the_count_is_the_one_lfd_stats_prints(lfd, tiny_model, tokens, tmp_path):
    for record in (sharegpt(), {"instruction": TURNS[0][0], "input": "补充", "output": TURNS[0][1],
                                "history": [list(TURNS[1])]}):
        assert tokens(record) == stats_total_max(lfd, write(tmp_path / "one.jsonl", [record]), tiny_model)
    openai = {"messages": [{"role": "user", "content": TURNS[0][0]}, {"role": "assistant", "content": TURNS[0][1]}]}
    as_sharegpt = {"conversations": [{"from": "human", "value": TURNS[0][0]}, {"from": "gpt", "value": TURNS[0][1]}]}
    assert tokens(openai) == tokens(as_sharegpt)


def test_a_dialogue_is_split_into_windows_of_whole_turns_each_within_the_limit(lfd, tiny_model, tokens, tmp_path):
    record = sharegpt()
    whole = tokens(record)
    limit = whole // 2
    kept, counts, why = Length(tokens, limit, "split").fit(json.loads(json.dumps(record)))
    assert why is None and len(kept) >= 2 and counts == {"over_long": 1, "split": 1, "windows": len(kept)}
    turns = [turn for window in kept for turn in window["conversations"]]
    assert turns == record["conversations"]  # every turn, in order, none cut
    for window in kept:
        assert window["system"] == record["system"] and window["lfd_id"] == "d1"
        assert window["conversations"][0]["from"] == "human" and window["conversations"][-1]["from"] == "gpt"
        assert tokens(window) <= limit
    assert stats_total_max(lfd, write(tmp_path / "windows.jsonl", kept), tiny_model) <= limit


def test_openai_and_alpaca_dialogues_split_the_same_way(tokens):
    openai = {"messages": [{"role": "system", "content": "你是儿科医生。"},
                           *({"role": role, "content": text} for pair in TURNS for role, text in zip(("user", "assistant"), pair))]}
    limit = tokens(openai) // 2
    kept, _, why = Length(tokens, limit, "split").fit(openai)
    assert why is None and len(kept) >= 2
    assert all(w["messages"][0] == openai["messages"][0] and tokens(w) <= limit for w in kept)
    assert [t for w in kept for t in w["messages"][1:]] == openai["messages"][1:]
    alpaca = {"instruction": TURNS[-1][0], "input": "", "output": TURNS[-1][1], "history": [list(p) for p in TURNS[:-1]]}
    kept, _, why = Length(tokens, tokens(alpaca) // 2, "split").fit(alpaca)
    assert why is None and len(kept) >= 2
    pairs = [pair for w in kept for pair in [*w["history"], [w["instruction"], w["output"]]]]
    assert pairs == [list(p) for p in TURNS] and kept[-1]["instruction"] == TURNS[-1][0]


def test_a_turn_over_the_limit_on_its_own_is_left_out_and_a_single_turn_is_dropped(tokens):
    long_answer = "多喝水。" * 200
    record = sharegpt([TURNS[0], ("还有呢？", long_answer), TURNS[1]])
    limit = tokens(sharegpt([TURNS[0]])) + 5
    kept, counts, why = Length(tokens, limit, "split").fit(record)
    assert why is None and counts["turns_dropped"] == 1 and len(kept) == 2
    assert all(long_answer not in json.dumps(w, ensure_ascii=False) for w in kept)
    kept, _, why = Length(tokens, limit, "split").fit(sharegpt([("还有呢？", long_answer)]))
    assert kept == [] and "single turn" in why


def test_truncation_ends_at_a_sentence_end_within_the_limit(tokens):
    answer = "先物理降温，多喝温水。体温超过38.5℃可以用布洛芬！如果持续高热，请及时就医？" * 6 + "最后一句没有句号"
    record = {"instruction": "孩子发烧怎么办", "input": "", "output": answer}
    limit = tokens({**record, "output": answer[:len(answer) // 2]})
    kept, counts, why = Length(tokens, limit, "truncate").fit(dict(record))
    assert why is None and counts == {"over_long": 1, "truncated": 1}
    cut = kept[0]["output"]
    assert answer.startswith(cut) and cut[-1] in "。！？" and tokens(kept[0]) <= limit
    assert len(cut) in sentence_ends(answer)  # the longest sentence prefix that fits: one more sentence does not
    longer = min(end for end in sentence_ends(answer) if end > len(cut))
    assert tokens({**record, "output": answer[:longer]}) > limit


def test_drop_and_what_cannot_be_cut(tokens):
    record = {"instruction": "孩子发烧怎么办" * 30, "input": "", "output": "多喝水。"}
    limit = tokens({"instruction": "孩子发烧怎么办", "input": "", "output": "多喝水。"})
    assert Length(tokens, limit, "drop").fit(record)[0] == []
    kept, _, why = Length(tokens, limit, "truncate").fit(record)
    assert kept == [] and "prompt alone" in why
    fits = {"instruction": "问", "input": "", "output": "答。"}
    assert Length(tokens, 10_000, "split").fit(fits) == ([fits], {}, None)


def test_exchanges_group_tool_turns_with_their_question():
    record = {"conversations": [{"from": "human", "value": "q"}, {"from": "function_call", "value": "f"},
                                {"from": "observation", "value": "o"}, {"from": "gpt", "value": "a"}]}
    assert exchanges(record) == ([], [record["conversations"]])
