"""What every command's parser shares: --help that opens with a runnable example, argument types."""

from __future__ import annotations

import argparse
import math


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples in descriptions as written."""


class ExampleFirstParser(argparse.ArgumentParser):
    """--help opens with the description (which starts with a runnable example), then usage."""

    def format_help(self) -> str:
        formatter = self._get_formatter()
        formatter.add_text(self.description)
        formatter.add_usage(self.usage, self._actions, self._mutually_exclusive_groups)
        for group in self._action_groups:
            formatter.start_section(group.title)
            formatter.add_text(group.description)
            formatter.add_arguments(group._group_actions)
            formatter.end_section()
        formatter.add_text(self.epilog() if callable(self.epilog) else self.epilog)  # a callable: made when shown
        return formatter.format_help()


def add_command(sub, name: str, example: str, description: str, help: str) -> argparse.ArgumentParser:
    """A sub-command whose --help opens with a runnable example."""
    return sub.add_parser(
        name,
        help=help,
        description=f"example:\n  {example}\n\n{description}",
        formatter_class=HelpFormatter,
    )


def positive_int(text: str) -> int:
    """An argument type: a whole number of at least 1, written in digits.

    >>> positive_int("20")
    20
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a positive whole number, got '0'
    """
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def seconds(text: str) -> float:
    """An argument type: a timeout in seconds, above 0 and at most a day.

    >>> seconds("120"), seconds("0.5")
    (120.0, 0.5)
    >>> seconds("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected seconds above 0 and at most 86400 (a day), got 'nan'
    """
    value = _finite(text)
    if value is None or not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"expected seconds above 0 and at most 86400 (a day), got {text!r}")
    return value


def temperature(text: str) -> float:
    """An argument type: a sampling temperature from 0 (greedy) to 2, as OpenAI-compatible servers take it.

    >>> temperature("0"), temperature("0.7")
    (0.0, 0.7)
    >>> temperature("inf")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a temperature from 0 (greedy) to 2, got 'inf'
    """
    value = _finite(text)
    if value is None or not 0 <= value <= 2:
        raise argparse.ArgumentTypeError(f"expected a temperature from 0 (greedy) to 2, got {text!r}")
    return value


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def at_most(limit: int, what: str, why: str):
    """An argument type: a whole number from 1 to ``limit`` (of ``what``; ``why`` no more).

    >>> raters = at_most(1000, "rater sheets", "a workbook no one could rate")
    >>> raters("5")
    5
    >>> raters("99999999")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: at most 1000 rater sheets (a workbook no one could rate), got '99999999'
    """
    def count(text: str) -> int:
        number = positive_int(text)
        if number > limit:
            raise argparse.ArgumentTypeError(f"at most {limit} {what} ({why}), got {text!r}")
        return number

    count.__name__ = what.replace(" ", "_")  # argparse names the type by it when a value fails otherwise
    return count


# beyond a million draws an interval's digits do not move, and the draws outgrow memory
resamples = at_most(1_000_000, "resamples", "their intervals are stable long before")
MAX_CONCURRENCY = 256  # requests at once: each is a thread
concurrency = at_most(MAX_CONCURRENCY, "requests at once", "each is a thread; servers queue beyond a few dozen")
