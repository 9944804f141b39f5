"""What every reader yields: a :class:`Row` (a record and where it is), whose data may be a
:class:`Skip` (a record left out, counted by reason)."""

from __future__ import annotations


class Row:
    """A record and where it is: ``location`` is text, ``(index, line)`` for "record {index} (line {line})",
    or ``(block, i)`` for the i-th record of a :class:`plugin.io.json_fast.Block` (worked out only when
    asked for: the big arrays have millions of records, few of them reported)."""

    __slots__ = ("_location", "data")

    def __init__(self, location: str | tuple[int, int], data: object):
        self._location, self.data = location, data

    @property
    def location(self) -> str:
        at = self._location
        if at.__class__ is str:
            return at
        return "record {} (line {})".format(*at) if at[0].__class__ is int else at[0].location(at[1])

    def __eq__(self, other):
        return isinstance(other, Row) and (self.location, self.data) == (other.location, other.data)

    def __repr__(self):
        return f"Row({self.location!r}, {self.data!r})"


class Skip(Exception):
    """A record that is left out and counted: ``reason`` is the counter's name; ``record``, what the
    rejects file shows of it (a reader's skip of a row it could read)."""

    def __init__(self, reason: str, record: object = None):
        super().__init__(reason)
        self.reason, self.record = reason, record


def record_of(row: Row | None) -> object:
    """The raw record of ``row`` for the rejects file: its data, a skip's record, or None."""
    if row is None:
        return None
    return row.data.record if isinstance(row.data, Skip) else row.data
