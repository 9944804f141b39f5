"""Property-based tests (hypothesis): the streaming JSON scanner, the answer/JSON extractors, the split logic.

Examples are kept small (a few records, short texts) and the deadline off: the properties matter,
not the sizes; the sizes have their own tests (tests/converters/test_med_dialog.py, the benchmark).
"""

import io
import json
import string
import tempfile
import time
from argparse import Namespace
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from llamafactory_domains.evaluators.base import Prediction
from llamafactory_domains.evaluators.choice import Reader, extract, read
from llamafactory_domains.evaluators.json_fields import (
    JsonFields,
    parse_strict,
    repair_json,
)
from llamafactory_domains.plugin import parallel as in_parts
from llamafactory_domains.plugin import pipeline
from llamafactory_domains.plugin.circular import circular_examples
from llamafactory_domains.plugin.cli import build_parser
from llamafactory_domains.plugin.dedup import prompt_key
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.io import json_files
from llamafactory_domains.plugin.io.json_exact import Scanner, json_container
from llamafactory_domains.plugin.io.rows import Skip

# no example database: failing examples are not stored in the repository (shrunk ones are printed)
SMALL = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

CHINESE = "高血压头痛的是吗？，。、：“”‘’（）"
TEXT = st.text(alphabet=st.sampled_from(string.printable + CHINESE + "\u3000\U0001f600\\\"{}[],:"), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
LAYOUTS = st.fixed_dictionaries({"indent": st.sampled_from([None, 0, 1, 4, "\t"]), "ensure_ascii": st.booleans(),
                                 "separators": st.sampled_from([None, (",", ":"), (" , ", " : ")])})


def scan(text: str, chunk: int) -> list:
    path = Path("x.json")
    return [row.data for row in json_container(Scanner(io.StringIO(text), path, chunk=chunk), path)]


# ---------------------------------------------------------------- the streaming JSON scanner


@SMALL
@given(values=st.lists(JSON_VALUES, max_size=6), layout=LAYOUTS, chunk=st.integers(1, 80),
       newline=st.sampled_from(["\n", "\r\n"]))
def test_scanner_reads_any_array_like_json_loads(values, layout, chunk, newline):
    text = json.dumps(values, **layout).replace("\n", newline)
    assert scan(text, chunk) == json.loads(text)


@SMALL
@given(records=st.dictionaries(TEXT, JSON_VALUES, max_size=5), layout=LAYOUTS, chunk=st.integers(1, 80))
def test_scanner_reads_any_object_as_its_values(records, layout, chunk):
    text = json.dumps(records, **layout)
    assert scan(text, chunk) == list(json.loads(text).values())


@SMALL
@given(values=st.lists(JSON_VALUES, min_size=1, max_size=5), layout=LAYOUTS, chunk=st.integers(1, 80),
       cut=st.integers(min_value=1))
def test_a_cut_array_is_an_error_never_fewer_records(values, layout, chunk, cut):
    text = json.dumps(values, **layout)
    text = text[: len(text) - 1 - cut % (len(text) - 1)]  # at least the closing bracket is gone
    with pytest.raises(UserError, match="not valid JSON|invalid JSON|end of the file"):
        scan(text, chunk)


ODD_VALUES = st.sampled_from(["NaN", "Infinity", "-Infinity", "9" * 4301, "-" + "1" * 5000])


@SMALL
@given(records=st.lists(st.dictionaries(TEXT, JSON_VALUES, max_size=3), min_size=1, max_size=6), data=st.data(),
       layout=LAYOUTS, chunk=st.integers(1, 80))
def test_records_holding_what_json_text_cannot_are_skips_the_rest_read(records, data, layout, chunk):
    """NaN/Infinity (which the json module reads as floats) and integers too long for int() anywhere in
    a record make that record a counted skip, whatever the buffer size; every other record reads as
    json.loads reads it, and there are as many rows as records."""
    odd = data.draw(st.sets(st.integers(0, len(records) - 1)), label="odd")
    marked = [{**r, "\u0000odd": "@ODD@"} if i in odd else r for i, r in enumerate(records)]
    value = data.draw(ODD_VALUES, label="value")
    text = json.dumps(marked, **layout).replace('"@ODD@"', value)
    rows = scan(text, chunk)
    assert len(rows) == len(records)
    for i, (row, record) in enumerate(zip(rows, records)):
        if i in odd:
            reason = "NaN/Infinity is not JSON text" if "n" in value.lower() else "a number of"
            assert isinstance(row, Skip) and row.reason.startswith(reason)
        else:
            assert row == record


@settings(FEW, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(records=st.lists(st.fixed_dictionaries({"instruction": TEXT, "input": TEXT, "output": TEXT, "history": st.none()}),
                        min_size=3, max_size=30),
       count=st.integers(2, 5), jsonl=st.booleans())
def test_parts_of_a_file_hold_exactly_its_records(records, count, jsonl):
    """Split at candidate record starts (json_files.json_parts), the parts read back all records in order."""
    with tempfile.TemporaryDirectory() as folder, mock.patch.object(json_files, "PART_MIN_BYTES", 0):
        path = Path(folder) / "a.json"
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) if jsonl else \
            json.dumps(records, ensure_ascii=False, indent=4)
        path.write_text(text, encoding="utf-8")
        split = json_files.json_parts(path, None, count)
        assume(split is not None)
        found_jsonl, parts = split
        assert found_jsonl == (jsonl and len(records) > 1)
        read = [row.data for index, part in enumerate(parts)
                for row in json_files.iter_json_part(path, part, None, found_jsonl, index == 0, index == len(parts) - 1)]
    assert read == records


# ---------------------------------------------------------------- answer extractors


LETTERS = st.text(alphabet="ABCDEFGH", min_size=1, max_size=6).map(lambda s: "".join(sorted(set(s))))
REPLIES = st.lists(st.sampled_from(list("ABCDEFGHIJXYZabcdex .,、()（）【】:：\n") +
                                   ["答案", "答案是", "选", "正确", "错误", "不正确", "The answer is ", "选项A", "DNA"]),
                   max_size=15).map("".join)


@SMALL
@given(reply=REPLIES | st.text(max_size=40), valid=LETTERS, with_texts=st.booleans())
@example(reply="答案是F", valid="ABCD", with_texts=False)
def test_choice_extract_only_returns_valid_letters(reply, valid, with_texts):
    options = {letter: f"选项{letter}" for letter in valid} if with_texts else None
    chosen = extract(reply, options, valid)
    assert set(chosen) <= set(valid)
    assert chosen == "".join(sorted(set(chosen)))


@SMALL
@given(reply=REPLIES | st.text(max_size=40))
def test_choice_without_options_stays_within_a_to_e(reply):
    assert set(extract(reply)) <= set(Reader().valid) == set("ABCDE")


@SMALL
@given(reply=REPLIES | st.text(max_size=40), valid=LETTERS, with_texts=st.booleans(), judge=st.booleans())
def test_choice_read_has_three_consistent_outcomes(reply, valid, with_texts, judge):
    options = {"A": "正确", "B": "错误"} if judge else {letter: f"选项{letter}" for letter in valid} if with_texts else None
    reading = read(reply, options, "AB" if judge else valid)
    assert reading.status in ("answer", "none", "ambiguous")
    assert bool(reading.letters) == (reading.status == "answer")
    assert extract(reply, options, "AB" if judge else valid) == reading.letters


NEGATED = ["不是{}", "答案不是{}", "{}是错误的", "{}不对", "不选{}", "排除{}", "The answer is not {}.", "{} is wrong."]


@SMALL
@given(valid=LETTERS.filter(lambda v: len(v) >= 2), data=st.data(), lead=REPLIES)
def test_choice_a_negated_option_is_never_chosen_and_alternatives_are_ambiguous(valid, data, lead):
    first, second = data.draw(st.permutations(valid), label="order")[:2]
    options = {letter: f"选项{letter}" for letter in valid}
    negated = data.draw(st.sampled_from(NEGATED), label="negation").format(first)
    assert first not in read(lead + "\n" + negated, options, valid).letters
    assert read(f"{first}或{second}", options, valid).status == "ambiguous"
    assert read(f"答案是{second}，不是{first}", options, valid).letters == second


@FEW
@given(pieces=st.lists(REPLIES, min_size=1, max_size=8), judge=st.booleans())
def test_choice_long_replies_read_in_linear_time(pieces, judge):
    """A 10k-character reply (any mix of markers, letters, negations) reads in well under a second."""
    unit = "".join(pieces) or "A"
    reply = unit * (10_000 // len(unit) + 1)
    options = {"A": "正确", "B": "错误"} if judge else {"A": "雨鞋", "B": "绝缘靴", "C": "绝缘手套", "D": "安全帽"}
    start = time.perf_counter()
    read(reply, options)
    assert time.perf_counter() - start < 2.0


REPORTS = st.dictionaries(st.sampled_from(["主诉", "现病史", "诊断", "建议", "a"]),
                          TEXT | st.lists(TEXT, max_size=2) | st.none(), min_size=1, max_size=4)


@SMALL
@given(report=REPORTS, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 2]),
       lead=st.sampled_from(["", "好的：\n```json\n", "报告如下 "]), cut=st.integers(min_value=0))
def test_json_fields_repair_never_completes_a_cut_report(report, ensure_ascii, indent, lead, cut):
    whole = json.dumps(report, ensure_ascii=ensure_ascii, indent=indent)
    truncated = lead + whole[: cut % len(whole)]  # the closing brace (at least) is gone
    assert repair_json(truncated) is None and parse_strict(truncated) is None
    label = json.dumps({"主诉": "咳嗽。"}, ensure_ascii=False)
    scores = JsonFields(fields="主诉|诊断", imcs=False).score(Prediction("", truncated, label))
    assert scores["json_parse_rate"] == scores["json_parse_rate_repaired"] == 0.0
    assert scores["json_field_exact_match"] == 0.0


# ---------------------------------------------------------------- splits, deduplication, determinism


def convert(folder: Path, records: list[dict], *options: str) -> dict | None:
    """`lfd convert med_norm` of ``records`` into ``folder``; its summary, or None for a refused run."""
    src = folder / "src.json"
    src.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    argv = ["convert", "med_norm", str(src), "--out-dir", str(folder / "out"), *options]
    try:
        return pipeline.convert(build_parser(argv).parse_args(argv))
    except UserError:
        assert not (folder / "out" / "med_norm_train.jsonl").exists()  # nothing half-written
        return None


def prompts(path: Path) -> list[str]:
    return [json.loads(line)["instruction"] for line in path.read_text(encoding="utf-8").splitlines()] \
        if path.exists() else []


# few distinct texts, so duplicates are common; an empty text or answer is a counted skip
CHIP_RECORDS = st.lists(st.fixed_dictionaries({
    "text": st.sampled_from(["头痛", "高血压", "糖尿病", "胃炎", "咳嗽", "发热", "失眠", "腹泻", ""]),
    "normalized_result": st.sampled_from(["甲", "乙##丙", "丁", "戊", ""])}), min_size=3, max_size=25)


@FEW
@given(records=CHIP_RECORDS, data=st.data(), limit=st.none() | st.integers(1, 10), seed=st.integers(0, 3))
def test_held_out_split_counts_dedup_and_determinism(records, data, limit, seed):
    test_size = data.draw(st.integers(1, len(records) // 2), label="test_size")
    options = ["--test-size", str(test_size), "--seed", str(seed)] + (["--limit", str(limit)] if limit else [])
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        summary = convert(Path(first), records, *options)
        again = convert(Path(second), records, *options)
        assume(summary is not None)
        outputs = [[(Path(folder) / "out" / f"med_norm_{s}.jsonl").read_bytes() for s in ("train", "test")]
                   for folder in (first, second)]
        train, test = (prompts(Path(first) / "out" / f"med_norm_{s}.jsonl") for s in ("train", "test"))
    assert again is not None and outputs[0] == outputs[1]  # same seed, same bytes
    assert not set(train) & set(test)  # no prompt in both splits
    tally, held = summary["tallies"]["train"], summary["tallies"]["test"]
    assert len(test) == held.written and len(train) == tally.written
    # every record read is written to one split or skipped for a counted reason
    assert tally.read == len(records) == tally.written + held.written + sum(tally.skipped.values())
    if limit is not None:
        assert tally.written <= limit


@FEW
@given(records=CHIP_RECORDS, data=st.data(), limit=st.none() | st.integers(1, 10), seed=st.integers(0, 3),
       with_test=st.booleans())
def test_val_split_counts_dedup_and_determinism(records, data, limit, seed, with_test):
    """--val-size: no two splits share a question after normalization, every record read is in one split or
    a counted skip, and the same seed writes the same bytes."""
    from llamafactory_domains.plugin.dedup import prompt_key

    val_size = data.draw(st.integers(1, len(records) // 2), label="val_size")
    options = ["--val-size", str(val_size), "--seed", str(seed)] + (["--limit", str(limit)] if limit else [])
    options += ["--test-size", str(data.draw(st.integers(1, 3), label="test_size"))] if with_test else []
    splits = ("train", "val", "test")
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        summary = convert(Path(first), records, *options)
        again = convert(Path(second), records, *options)
        assume(summary is not None)
        outputs = [[(Path(folder) / "out" / f"med_norm_{s}.jsonl").read_bytes() if s != "test" or with_test else b""
                    for s in splits] for folder in (first, second)]
        keys = {s: {prompt_key(p) for p in prompts(Path(first) / "out" / f"med_norm_{s}.jsonl")} for s in splits}
    assert again is not None and outputs[0] == outputs[1]
    assert not keys["train"] & keys["val"] and not keys["train"] & keys["test"] and not keys["val"] & keys["test"]
    tally, val, test = (summary["tallies"][s] for s in splits)
    assert val.written == val_size and tally.written >= 1
    assert tally.read == len(records) == tally.written + val.written + test.written + sum(tally.skipped.values())
    if limit is not None:
        assert tally.written <= limit


@FEW
@given(records=CHIP_RECORDS, test_records=CHIP_RECORDS)
def test_separate_test_files_dedup_and_counts(records, test_records):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "test.json").write_text(json.dumps(test_records, ensure_ascii=False), encoding="utf-8")
        summary = convert(Path(folder), records, "--test", str(Path(folder) / "test.json"))
        assume(summary is not None)
        train, test = (prompts(Path(folder) / "out" / f"med_norm_{s}.jsonl") for s in ("train", "test"))
    tally, held = summary["tallies"]["train"], summary["tallies"]["test"]
    assert not set(train) & set(test)
    assert tally.read == len(records) == tally.written + sum(tally.skipped.values())
    assert held.read == len(test_records) == held.written + sum(held.skipped.values())


MODELSCOPE = st.lists(st.fixed_dictionaries({"instruction": TEXT, "input": TEXT, "output": TEXT, "history": st.none()}),
                      min_size=1, max_size=40)


@FEW
@given(records=MODELSCOPE, workers=st.integers(2, 4), held_out=st.integers(0, 3))
def test_conversion_in_parallel_parts_writes_the_same_bytes(records, workers, held_out):
    """A big file converted in parts by forked workers gives the bytes and counts of one sequential pass
    (with ``held_out`` records also in a --test file, whose prompts the workers leave out)."""
    results = []
    for parallel in (False, True):
        with tempfile.TemporaryDirectory() as folder, \
                mock.patch.object(json_files, "PART_MIN_BYTES", 0 if parallel else 1 << 62), \
                mock.patch.object(in_parts, "usable_cpus", lambda: workers):
            src, test = Path(folder) / "train_0001_of_0001.json", Path(folder) / "test.json"
            src.write_text(json.dumps(records, ensure_ascii=False, indent=4), encoding="utf-8")
            test.write_text(json.dumps(records[:held_out], ensure_ascii=False), encoding="utf-8")
            argv = ["convert", "med_dialog", str(src), "--out-dir", str(Path(folder) / "out")]
            argv += ["--test", str(test)] if held_out else []
            try:
                summary = pipeline.convert(build_parser(argv).parse_args(argv))
            except UserError as err:
                results.append(str(err).replace(folder, "DIR"))
                continue
            out = Path(folder) / "out"
            results.append(((out / "med_dialog_train.jsonl").read_bytes(), summary["tallies"]["train"],
                            sorted(p.name for p in out.iterdir())))
    assert results[0] == results[1]


def test_a_wrong_split_point_falls_back_to_one_pass(tmp_path, monkeypatch):
    """Irregular indentation puts a nested object where a record start is expected: the part before it
    does not end cleanly, so the file is read whole and the output is the same."""
    monkeypatch.setattr(json_files, "PART_MIN_BYTES", 0)
    monkeypatch.setattr(in_parts, "usable_cpus", lambda: 2)
    record = {"instruction": "头痛", "input": "怎么办", "output": "休息", "history": None}
    nested = '    {"instruction": "高血压", "input": "能吃党参吗", "output": "可以", "history": [\n    {"q": 1},\n    {"q": 2}]}'
    body = ",\n".join(["    " + json.dumps(record, ensure_ascii=False)] * 3 + [nested] * 3 + ["    " + json.dumps(record)] * 2)
    src = tmp_path / "irregular.json"
    src.write_text("[\n" + body + "\n]\n", encoding="utf-8")
    jsonl, parts = json_files.json_parts(src, None, 2)  # a split point is found, and it is wrong:
    with pytest.raises(UserError, match="not whole records|invalid JSON"):
        list(json_files.iter_json_part(src, parts[0], None, jsonl, True, False))
    argv = ["convert", "med_dialog", str(src), "--out-dir", str(tmp_path / "out")]
    summary = pipeline.convert(build_parser(argv).parse_args(argv))
    assert summary["tallies"]["train"].written == 8
    lines = (tmp_path / "out" / "med_dialog_train.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["instruction"].split("\n")[0] for line in lines] == \
        ["主题:头痛"] * 3 + ["主题:高血压"] * 3 + ["主题:头痛"] * 2
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------- --circular: every layout the MCQ converters read

def _med(**_):
    from llamafactory_domains.converters.med_mcq import MedMcq
    return MedMcq(Namespace(answers=None, encoding=None))


def _law(**_):
    from llamafactory_domains.converters.law_mcq import LawMcq
    return LawMcq(Namespace())


def _safety(**_):
    from llamafactory_domains.converters.safety_exam import SafetyExam
    return SafetyExam(Namespace(style="options", shuffle_options=None, seed=42, circular="all"))


def _letters_of(texts):
    return {"ABCDE"[i]: text for i, text in enumerate(texts)}


def _joined(texts, answer):
    return ",".join(f"{letter}. {text}" for letter, text in _letters_of(texts).items()), \
        ",".join(f"{letter}. {texts['ABCDE'.index(letter)]}" for letter in answer)


# layout -> (converter, raw record of (question, option texts, answer letters, multi), single answers only)
LAYOUTS_MCQ = {
    "CMB": (_med, lambda q, t, a, m: {"question": q, "option": _letters_of(t), "answer": a,
                                      "question_type": "多项选择题" if m else "单项选择题"}, False),
    "CMExam": (_med, lambda q, t, a, m: {"Question": q, "Options": "\n".join(f"{k} {v}" for k, v in _letters_of(t).items()),
                                         "Answer": a}, False),
    "MedQA": (_med, lambda q, t, a, m: {"question": q, "options": _letters_of(t), "answer_idx": a}, True),
    "C-Eval": (_med, lambda q, t, a, m: {"question": q, **_letters_of(t), "answer": a}, True),
    "JEC-QA": (_law, lambda q, t, a, m: {"statement": q, "option_list": _letters_of(t), "answer": list(a)}, False),
    "DISC-Law-Eval": (_law, lambda q, t, a, m: {"input": q, "output": a, **_letters_of(t), "multichoice": str(m)}, False),
    "安规 seed table": (_safety, lambda q, t, a, m: {"题型": "多选题" if m else "单选题", "题目内容": q,
                                                  "选项": _joined(t, a)[0], "正确答案": _joined(t, a)[1]}, False),
    "安规 competition bank": (_safety, lambda q, t, a, m: {
        "题目（必填）：": q, "正确答案（必填）": a, **{f"选项{k}": v for k, v in _letters_of(t).items()},
        "_sheet": "多选题" if m else "单选题"}, False),
    "安规 GB 26860": (_safety, lambda q, t, a, m: {"序号": 1, "题目": q, **_letters_of(t), "答案": a, "题型": "填空题"}, False),
}
OPTION_TEXT = st.text(alphabet="甲乙丙丁戊己庚辛壬癸电压绝缘靴手套雨鞋", min_size=1, max_size=4)


@settings(SMALL, max_examples=300)  # ~30 per layout, ~1 s
@given(layout=st.sampled_from(sorted(LAYOUTS_MCQ)), texts=st.lists(OPTION_TEXT, min_size=2, max_size=5),
       data=st.data(), k=st.sampled_from([2, 3, 4, 5, 7, "all"]))
def test_circular_variants_keep_the_options_and_the_answer_of_every_layout(layout, texts, data, k):
    make, record_of, single_only = LAYOUTS_MCQ[layout]
    multi = not single_only and data.draw(st.booleans(), label="multi")
    letters = "ABCDE"[: len(texts)]
    size = data.draw(st.integers(2, len(texts)), label="answers") if multi else 1
    answer = "".join(sorted(data.draw(st.permutations(letters), label="answer")[:size]))
    converter = make()
    example = converter.convert(record_of("下列正确的是？", texts, answer, multi), "test")
    question = example.question
    made, reason = circular_examples(example, converter.render_choice, k, 9)
    assert reason is None and made
    n = len(texts)
    expected = n if k == "all" else min(k, n)
    arrangements = {tuple(texts[(j + r) % n] for j in range(n)) for r in range(expected)}
    assert len(made) == len(arrangements)  # rotations showing the same texts are dropped
    assert made[0].instruction == example.instruction and made[0].output == example.output  # rotation 0 = the test record
    answer_texts = sorted(question.options[letter] for letter in question.answer)
    for variant in made:
        circular = variant.extra["circular"]
        options, order = variant.extra["options"], circular["order"]
        assert circular["question"] == 9 and circular["rotations"] == len(made) and len(order) == n
        assert sorted(options.values()) == sorted(texts)  # the same texts, as a multiset
        assert sorted(options[letter] for letter in variant.extra["answer"]) == answer_texts
        for slot, letter in zip(options, order):  # `order` maps each slot back to its original letter
            assert options[slot] == question.options[letter]
        assert variant.extra["answer"] == "".join(s for s, o in zip(options, order) if o in question.answer)
        assert order == "".join(letters[(j + circular["rotation"]) % n] for j in range(n))
        assert variant.extra["question_type"] == example.extra["question_type"]
        if variant is not made[0]:
            assert prompt_key(variant.instruction) == prompt_key(example.instruction)  # dedup: the same item
    assert len({tuple(m.extra["options"].values()) for m in made}) == len(made)


@SMALL
@given(layout=st.sampled_from(["安规 seed table", "CMB", "JEC-QA"]), texts=st.lists(OPTION_TEXT, min_size=2, max_size=4),
       last=st.sampled_from(["以上都对", "以上均不正确", "A和B", "都不对", "ABC"]), k=st.sampled_from([2, "all"]))
def test_a_question_with_an_option_that_refers_to_others_is_written_once(layout, texts, last, k):
    make, record_of, _ = LAYOUTS_MCQ[layout]
    converter = make()
    example = converter.convert(record_of("下列正确的是？", [*texts, last], "A", False), "test")
    made, reason = circular_examples(example, converter.render_choice, k, 1)
    assert reason == "options refer to other options (以上…)" and len(made) == 1
    assert made[0].instruction == example.instruction
