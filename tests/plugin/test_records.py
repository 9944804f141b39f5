import json

from hypothesis import given, settings
from hypothesis import strategies as st
from llamafactory_domains.plugin.records import FORMATS, Example

TEXT = st.text(max_size=20)


@settings(max_examples=200, deadline=None)
@given(instruction=TEXT, output=TEXT, input=TEXT, system=TEXT,
       history=st.lists(st.tuples(TEXT, TEXT), max_size=2),
       extra=st.dictionaries(st.sampled_from(["department", "answer"]), TEXT | st.integers(), max_size=2),
       fmt=st.sampled_from(FORMATS), with_system=st.booleans(), with_history=st.booleans())
def test_a_line_is_json_dumps_of_the_record(instruction, output, input, system, history, extra, fmt,
                                            with_system, with_history):
    """The alpaca short cut writes the same bytes as json.dumps(..., ensure_ascii=False) of render()."""
    example = Example(instruction, output, input=input, system=system, history=history, extra=extra)
    line = example.to_line(fmt, with_system, with_history)
    assert line == json.dumps(example.render(fmt, with_system, with_history), ensure_ascii=False) + "\n"


def test_a_field_that_is_not_text_is_written_as_json_writes_it():
    example = Example("题目", 3)  # e.g. a converter that forgot str(): written, not lost or mangled
    assert example.to_line("alpaca", False, False) == '{"instruction": "题目", "input": "", "output": 3}\n'


def test_the_dedup_key_is_not_written():
    example = Example(instruction="参考法条：\n某条\n\n问题", output="答", dedup_key="问题\n答")
    for fmt in ("alpaca", "sharegpt", "chatglm3"):
        assert "dedup_key" not in example.to_line(fmt, True, True) and "问题\\n答" not in example.to_line(fmt, True, True)
    assert example.to_line("alpaca", False, False) == Example(instruction=example.instruction, output="答").to_line("alpaca", False, False)
