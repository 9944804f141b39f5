from typing import ClassVar

import pytest
from llamafactory_domains.evaluators.base import Evaluator, Option
from llamafactory_domains.plugin.errors import UserError


class Length(Evaluator):
    """Fraction of the label's length the prediction reaches, declared as a third party may: bare defaults."""

    name = "length"
    options: ClassVar = {"cap": 1.0}

    def score(self, item):
        return {"length": min(self.cap, len(item.predict) / max(1, len(item.label)))}


class Declared(Evaluator):
    """Options declared with their help texts."""

    name = "declared"
    options: ClassVar = {
        "strip": Option(True, "strip whitespace first"),
        "n": Option(3, "how many"),
        "mode": Option("loose"),
    }

    def score(self, item):
        return {}


def test_evaluator_options_are_typed_by_their_default():
    assert Length(cap=1).cap == 1.0
    with pytest.raises(UserError, match="option cap of evaluator 'length' must be a number, got 'big'"):
        Length(cap="big")


def test_bare_defaults_are_wrapped_as_options_without_help():
    assert Length.declared() == {"cap": Option(1.0)}
    assert Length.describe_options() == ["cap=1.0 (number)"]
    assert Length(cap=0.5).spec == "length:cap=0.5" and Length().spec == "length"


def test_declared_options_describe_themselves_one_line_each():
    assert Declared.describe_options() == [
        "strip=true (true|false): strip whitespace first",
        "n=3 (int): how many",
        "mode=loose (text)",
    ]
    assert Declared(n=4, strip=False).settings == {"strip": False, "n": 4, "mode": "loose"}
