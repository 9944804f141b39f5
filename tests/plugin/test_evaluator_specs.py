import pytest
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.evaluator_specs import build_evaluators, parse_spec


def test_spec_parsing_types_values():
    assert parse_spec(" exact_match : ignore_case=TRUE, n=3, t=0.5, mode=a b ") == (
        "exact_match",
        {"ignore_case": True, "n": 3, "t": 0.5, "mode": "a b"},
    )
    with pytest.raises(UserError, match="no evaluator name"):
        parse_spec(":x=1")


def test_an_option_twice_in_one_spec_is_refused_but_later_specs_win():
    """In one spec the last value silently won; across specs (the dataset's, then -e) later ones win by design."""
    with pytest.raises(UserError, match="-e: option ignore_case is given twice in 'exact_match:ignore_case=true,"):
        parse_spec("exact_match:ignore_case=true,ignore_case=false")
    (merged,) = build_evaluators([("dataset", "exact_match:ignore_case=true"), ("-e", "exact_match:ignore_case=false")])
    assert merged.ignore_case is False


@pytest.mark.parametrize("spec, said", [("assistant:k=0", "option k of evaluator 'assistant' must be at least 1, got 0"),
                                        ("assistant:k=-1", "must be at least 1, got -1")])
def test_a_number_below_its_least_value_is_refused(spec, said):
    """k=-1 scored source recall at the first -1 passages: nonsense, silently."""
    with pytest.raises(UserError, match=said):
        build_evaluators([("-e", spec)])
