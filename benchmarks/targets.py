"""The targets a benchmark checks, printed alike by every benchmark (``make bench`` runs them all).

    checks = [("lfd stats ≥ 10× the seed loop (2.58×)", False), ...]
    return report(checks)   # prints "met" / "NOT MET" per target; 1 when any was missed, else 0
"""

from __future__ import annotations


def report(checks: list[tuple[str, bool]]) -> int:
    """Prints each target after a blank line, ``met`` or ``NOT MET``; the exit status: 1 when any was missed."""
    print()
    for text, met in checks:
        print(f"{'met    ' if met else 'NOT MET'}  {text}")
    return 0 if all(met for _, met in checks) else 1
