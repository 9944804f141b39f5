"""JSON objects whose keys are each given once. ``json`` keeps the last value of a repeated key; where
that would silently drop a value (a rewritten dataset_info.json) or pick one of two (a judge's
verdict), the reader passes ``object_pairs_hook=unique_keys`` and refuses :class:`DuplicateKey`.

>>> import json
>>> json.loads('{"a": 1, "b": {"c": 2}}', object_pairs_hook=unique_keys)
{'a': 1, 'b': {'c': 2}}
>>> json.loads('{"a": 1, "a": 2}', object_pairs_hook=unique_keys)
Traceback (most recent call last):
...
llamafactory_domains.plugin.io.json_keys.DuplicateKey: a
"""

from __future__ import annotations


class DuplicateKey(ValueError):
    """A key given twice in one object; ``str()`` is the key."""


def unique_keys(pairs: list[tuple[str, object]]) -> dict:
    found = dict(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        raise DuplicateKey(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return found
