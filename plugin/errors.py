"""The one exception a user mistake raises: the CLI prints it as a single line, no traceback."""

from contextlib import contextmanager


class UserError(Exception):
    """Bad input or usage. The message names the file/row and says how to fix it."""


def where(path, location: str | None = None) -> str:
    """``file.csv`` or ``file.csv: row 7`` — the prefix every data error starts with."""
    return f"{path}: {location}" if location else str(path)


@contextmanager
def located(path):
    """Inside it, a UserError about "line N" of a file that does not say which (an evaluator's) names ``path`` first.

    >>> with located("predictions.jsonl"):
    ...     raise UserError("line 3: the label is not a JSON object")
    Traceback (most recent call last):
    llamafactory_domains.plugin.errors.UserError: predictions.jsonl: line 3: the label is not a JSON object
    """
    try:
        yield
    except UserError as err:
        if not str(err).startswith("line "):
            raise
        raise UserError(where(path, str(err))) from None
