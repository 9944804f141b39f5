"""The hand-labelled corpus of answer styles (choice_corpus.jsonl): every item read as labelled.

Each line: ``predict``, ``options`` (letter → text, or null), ``kind`` (single/multi/judge),
``lang`` (zh/en), ``expected`` (sorted letters, "" for no answer, "?" for ambiguous) and a ``note``.
"""

import json
from collections import Counter
from pathlib import Path

import pytest
from llamafactory_domains.evaluators.choice import read

CORPUS = [json.loads(line) for line in (Path(__file__).parent / "choice_corpus.jsonl").read_text(encoding="utf-8").splitlines()]


def outcome(item: dict) -> str:
    reading = read(item["predict"], item["options"])
    return {"answer": reading.letters, "none": "", "ambiguous": "?"}[reading.status]


def test_the_corpus_is_big_and_varied():
    kinds = Counter(item["kind"] for item in CORPUS)
    assert len(CORPUS) >= 400 and min(kinds[k] for k in ("single", "multi", "judge")) >= 50
    assert {item["lang"] for item in CORPUS} == {"zh", "en"}
    assert all(set(item) == {"predict", "options", "kind", "lang", "expected", "note"} for item in CORPUS)


@pytest.mark.parametrize("item", CORPUS, ids=[f"{i}:{item['note'][:40]}" for i, item in enumerate(CORPUS)])
def test_corpus_item(item):
    assert outcome(item) == item["expected"], item["predict"]


def test_agreement(capsys):
    """Prints the agreement per kind and language (run with -s to see it)."""
    right, total = Counter(), Counter()
    for item in CORPUS:
        group = (item["kind"], item["lang"])
        total[group] += 1
        right[group] += outcome(item) == item["expected"]
    with capsys.disabled():
        for group in sorted(total):
            print(f"choice corpus {group[0]}/{group[1]}: {right[group]}/{total[group]}")
        print(f"choice corpus agreement: {sum(right.values())}/{len(CORPUS)} = {sum(right.values()) / len(CORPUS):.1%}")
    assert sum(right.values()) / len(CORPUS) >= 0.95
