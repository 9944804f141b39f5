import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from llamafactory_domains.evaluators.base import Prediction, evaluators
from llamafactory_domains.evaluators.bleu_zh import BleuZh, bleu_zh
from llamafactory_domains.evaluators.rouge_zh import RougeZh, rouge_zh
from llamafactory_domains.plugin.errors import UserError

# (predict, label) as generated_predictions.jsonl holds them: labels end in the template's "\n"
ITEMS = [
    ("患者头痛三天，伴有发热。", "患者头痛三天，伴发热。\n"),
    ("建议低盐饮食，规律服用降压药！定期复查？", "建议低盐低脂饮食。规律服药，定期复查血压。\n"),
    ("", "高血压\n"),
    ("高血压", ""),
    ("   ", " \n"),
    ("。", "。\n"),
    ("The patient has COPD, 建议戒烟......然后复查", "患者有COPD，建议戒烟。\n"),
    ("他说：“多喝水。”然后休息", "多喝水，然后休息。\n"),
    ("头痛" * 300, "头痛\n"),
    ("一", "一\n"),
    ("糖尿病\n\n二型", "2型糖尿病\n"),
    ("建议低盐饮食", "建议低盐饮食\n"),
    ("头痛", " \n头痛"),  # leading whitespace (glm4's label starts with a newline)
    ("\n患者头痛。\n", "\n患者头痛。\n"),
]
STRIPPED = tuple(f"{key}_stripped" for key in ("rouge-1", "rouge-2", "rouge-l", "bleu-4"))
KEYS = ("rouge-1", "rouge-2", "rouge-l", "bleu-4")


class TextsAsIds:
    """A tokenizer for ComputeSimilarity whose token id i (one per row) decodes to texts[i - 1]."""

    pad_token_id = 0

    def __init__(self, texts):
        self.texts = texts

    def batch_decode(self, rows, skip_special_tokens=True):
        return [self.texts[row[0] - 1] for row in rows]


def llamafactory_scores(pairs) -> list[dict[str, float]]:
    """LLaMA-Factory's own ComputeSimilarity, one call per item (its metrics are ×100)."""
    with warnings.catch_warnings():  # jieba's and rouge_chinese's own import-time warnings
        warnings.simplefilter("ignore")
        from llamafactory.train.sft.metric import ComputeSimilarity
        from transformers import EvalPrediction

    scores = []
    for predict, label in pairs:
        metric = ComputeSimilarity(tokenizer=TextsAsIds([predict, label]))
        scores.append(metric(EvalPrediction(predictions=np.array([[1]]), label_ids=np.array([[2]]))))
    return scores


def ours(pairs, **options) -> list[dict[str, float]]:
    rouge, bleu = RougeZh(**options), BleuZh(**options)
    items = [Prediction("", predict, label) for predict, label in pairs]
    return [rouge.score(item) | bleu.score(item) for item in items]


@pytest.fixture(scope="module")
def llamafactory_raw():
    return llamafactory_scores(ITEMS)


@pytest.fixture(scope="module")
def llamafactory_stripped():
    return llamafactory_scores([(p.strip(), x.strip()) for p, x in ITEMS])


def mean(rows, key):
    return math.fsum(row[key] for row in rows) / len(rows)


def test_entry_points_find_the_classes():
    assert evaluators.get("rouge_zh") is RougeZh
    assert evaluators.get("bleu_zh") is BleuZh
    assert evaluators.describe("rouge_zh").startswith("ROUGE-1/2/L F on jieba words")
    assert evaluators.describe("bleu_zh").startswith("Character BLEU-4")


def test_default_scores_are_llamafactorys_predict_numbers(llamafactory_raw):
    mine = ours(ITEMS)
    assert all(set(row) == set(KEYS) for row in mine)
    for key in KEYS:
        assert [row[key] * 100 for row in mine] == pytest.approx([row[key] for row in llamafactory_raw], abs=1e-9)
        assert mean(mine, key) * 100 == pytest.approx(mean(llamafactory_raw, key), abs=1e-9)


def test_strip_adds_llamafactorys_numbers_on_stripped_texts(llamafactory_raw, llamafactory_stripped):
    mine = ours(ITEMS, strip=True)
    for key, stripped in zip(KEYS, STRIPPED):
        assert [row[key] * 100 for row in mine] == pytest.approx([row[key] for row in llamafactory_raw], abs=1e-9)
        assert [row[stripped] * 100 for row in mine] == pytest.approx(
            [row[key] for row in llamafactory_stripped], abs=1e-9)
    assert RougeZh(strip=True).spec == "rouge_zh:strip=true"


def test_template_newline_costs_bleu_as_in_llamafactory():
    # 6 characters against 7: every n-gram precision is 1, the brevity penalty exp(1 - 7/6) = 0.8464817...
    item = [("建议低盐饮食", "建议低盐饮食\n")]
    assert ours(item)[0] == {"rouge-1": 1.0, "rouge-2": 1.0, "rouge-l": 1.0, "bleu-4": 0.846482}
    assert round(math.exp(1 - 7 / 6), 6) == 0.846482
    assert ours(item, strip=True)[0] == {"rouge-1": 1.0, "rouge-2": 1.0, "rouge-l": 1.0, "bleu-4": 0.846482,
                                         "rouge-1_stripped": 1.0, "rouge-2_stripped": 1.0,
                                         "rouge-l_stripped": 1.0, "bleu-4_stripped": 1.0}
    # rouge_chinese reads " \n" before a text as an empty word: 头痛 against ['', 头痛], F = 2·(1·½)/(1 + ½)
    assert rouge_zh("头痛", " \n头痛")["rouge-1"] == round(2 * 0.5 / 1.5, 6)
    assert RougeZh.primary == "rouge-l" and BleuZh.primary == "bleu-4"


@pytest.mark.parametrize("predict, label", [("", "高血压"), ("高血压", ""), ("", ""), (" \n", "\t"), ("。", "")])
def test_empty_texts_score_zero(predict, label):
    assert rouge_zh(predict, label) == {"rouge-1": 0.0, "rouge-2": 0.0, "rouge-l": 0.0}
    assert rouge_zh(predict, label, "char") == {"rouge-1": 0.0, "rouge-2": 0.0, "rouge-l": 0.0}
    assert bleu_zh(predict, label) == {"bleu-4": 0.0}


def test_char_level_counts_characters_not_words():
    # jieba keeps 头痛 and 头疼 as different words; the characters still share 头
    assert rouge_zh("头痛", "头疼") == {"rouge-1": 0.0, "rouge-2": 0.0, "rouge-l": 0.0}
    assert rouge_zh("头痛", "头疼", "char") == {"rouge-1": 0.5, "rouge-2": 0.0, "rouge-l": 0.5}
    assert RougeZh(level="char").spec == "rouge_zh:level=char"
    # not LLaMA-Factory's numbers, so not under their keys
    chars = RougeZh(level="char")
    assert chars.score(Prediction("", "头痛", "头疼")) == {"rouge-1_char": 0.5, "rouge-2_char": 0.0, "rouge-l_char": 0.5}
    assert chars.primary == "rouge-l_char" and RougeZh.primary == "rouge-l"


def test_unknown_level_is_refused():
    with pytest.raises(UserError, match="level of evaluator 'rouge_zh' must be word or char, got 'chars'"):
        RougeZh(level="chars")


def test_runaway_generation_scores_like_llamafactory():
    # 40,000 characters: rouge_chinese's dictionary LCS would need about a gigabyte here
    predict = "头痛，" * 13_333
    scores = rouge_zh(predict, "头痛，发热")
    # ROUGE-N counts distinct n-grams (rouge_chinese's sets), ROUGE-L the whole sequences
    assert scores["rouge-1"] == pytest.approx(2 * (2 / 2 * 2 / 3) / (2 / 2 + 2 / 3), abs=1e-6)
    assert scores["rouge-l"] < 1e-3
    assert 0 < bleu_zh(predict, "头痛，发热")["bleu-4"] < 1e-3


def test_lfd_eval_reports_the_metrics_and_prints_nothing_on_stderr(tmp_path):
    predictions = tmp_path / "generated_predictions.jsonl"
    rows = [{"prompt": "问：", "predict": p, "label": x} for p, x in ITEMS]
    predictions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    command = [sys.executable, "-c", "from llamafactory_domains.plugin.cli import main; raise SystemExit(main())"]
    args = ["eval", str(predictions), "-e", "rouge_zh", "-e", "bleu_zh", "--out", str(tmp_path / "report.json")]
    done = subprocess.run(command + args, check=False, capture_output=True, text=True, encoding="utf-8")
    # nothing on stderr but lfd's status line and notes (no --dataset): no jieba "Building prefix dict" lines, no warnings
    status = f"{len(ITEMS)} predictions from {predictions}"
    assert done.returncode == 0 and [line for line in done.stderr.splitlines()
                                     if not line.startswith("note: ") and line != status] == []
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert list(report["metrics"]) == list(KEYS)
    expected = ours(ITEMS)
    for key in KEYS:
        assert report["metrics"][key] == pytest.approx(mean(expected, key), abs=1e-12)
        assert report["ci95"][key][0] <= report["metrics"][key] <= report["ci95"][key][1]
