import pytest
from llamafactory_domains.evaluators.base import Prediction, evaluators
from llamafactory_domains.evaluators.exact_match import ExactMatch
from llamafactory_domains.plugin.errors import UserError


def score(predict, label, **options):
    return ExactMatch(**options).score(Prediction(prompt="", predict=predict, label=label))


def test_entry_point_finds_the_class():
    assert evaluators.get("exact_match") is ExactMatch
    assert evaluators.describe("exact_match").startswith("Exact match")


@pytest.mark.parametrize("label", ["高血压\n", "\n高血压", " 高血压 \n"])
def test_template_whitespace_is_stripped(label):
    assert score("高血压\n", label) == {"exact_match": 1.0}


@pytest.mark.parametrize(
    "option, predict, label",
    [
        ("ignore_case", "copd", "COPD"),
        ("fullwidth", "ＣＯＰＤ２型", "COPD2型"),
        ("fullwidth", "肺炎　支原体", "肺炎 支原体"),
        ("punct", "高血压（3级），伴糖尿病。", "高血压(3级),伴糖尿病."),
        ("punct", "“肺炎”：重症；", '"肺炎":重症;'),
    ],
)
def test_each_option_is_off_by_default_and_makes_the_match(option, predict, label):
    assert score(predict, label) == {"exact_match": 0.0}
    assert score(predict, label, **{option: True}) == {"exact_match": 1.0}


def test_options_do_not_merge_different_words():
    assert score("高血压", "低血压", ignore_case=True, fullwidth=True, punct=True) == {"exact_match": 0.0}


def test_set_match_ignores_order_empty_terms_and_spaces():
    assert score("膝关节游离体 ## 膝骨关节病##", "膝骨关节病##膝关节游离体") == {
        "exact_match": 0.0,
        "exact_match_set": 1.0,
    }


def test_set_match_fails_on_a_missing_or_extra_term():
    label = "膝骨关节病##膝关节游离体"
    assert score("膝骨关节病", label)["exact_match_set"] == 0.0
    assert score("膝骨关节病##膝关节游离体##癌", label)["exact_match_set"] == 0.0


def test_set_match_applies_the_options_to_each_term():
    assert score("ＣＯＰＤ＃＃肺炎", "copd##肺炎", ignore_case=True, fullwidth=True)["exact_match_set"] == 1.0


def test_set_metric_only_for_labels_holding_a_set():
    em = ExactMatch()
    items = [
        Prediction("", "高血压", "高血压"),
        Prediction("", "糖尿病", "高血压"),
        Prediction("", "B##A", "A##B"),
        Prediction("", "A", "A##B"),
    ]
    per_item = [em.score(item) for item in items]
    assert "exact_match_set" not in per_item[0]
    assert em.aggregate(per_item) == {"exact_match": 0.25, "exact_match_set": 0.5}
    assert em.aggregate(per_item[:2]) == {"exact_match": 0.5}


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(UserError, match="no option 'ignorecase'; valid options: ignore_case, fullwidth, punct"):
        ExactMatch(ignorecase=True)


def test_option_of_the_wrong_type_is_refused():
    with pytest.raises(UserError, match="ignore_case .* must be true or false, got 'yes'"):
        ExactMatch(ignore_case="yes")
    with pytest.raises(UserError, match="must be true or false, got '2'"):
        ExactMatch(ignore_case=2)
    assert ExactMatch(ignore_case=1).ignore_case is True


def test_spec_names_only_the_changed_options():
    assert ExactMatch().spec == "exact_match"
    assert ExactMatch(punct=True, ignore_case=False).spec == "exact_match:punct=true"
