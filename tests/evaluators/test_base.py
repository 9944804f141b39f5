import subprocess
import sys
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


def test_the_authors_example_in_the_base_module_runs():
    """evaluators/base.py's docstring example is a working evaluator (run apart: it registers a name)."""
    code = (
        "import re\n"
        "import llamafactory_domains.evaluators.base as base\n"
        "exec(re.search(r'::\\n\\n(.*?)\\n\\nIt is then', open(base.__file__, encoding='utf-8').read(), re.S).group(1)"
        ".replace('\\\\\"', '\"').replace('\\n    ', '\\n').strip())\n"
        "from llamafactory_domains.plugin.evaluator_specs import build_evaluators\n"
        "(loose,) = build_evaluators([('-e', 'starts_right:strip=false')])\n"
        "(strict,) = build_evaluators([('-e', 'starts_right')])\n"
        "item = base.Prediction(prompt='', predict=' 高血压。', label='高血压')\n"
        "print(loose.score(item), strict.score(item), loose.spec)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'starts_right': 0.0} {'starts_right': 1.0} starts_right:strip=false"
