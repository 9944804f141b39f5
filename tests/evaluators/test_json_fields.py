import json
import random

import pytest
from llamafactory_domains.evaluators.base import Prediction, evaluators
from llamafactory_domains.evaluators.json_fields import (
    IMCS_FIELDS,
    JsonFields,
    imcs_rouge,
    lcs_length,
    linearise,
    parse_strict,
    repair_json,
    rouge_l,
)
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.scoring import build_evaluators

# the two reference reports of IMCS-V2 record 10626355 (shared/samples/imcs_v2_mrg)
REPORTS = [
    {"主诉": "稀便，便中有粘液。", "现病史": "患儿出现稀便，每天大便次数为四五次。", "辅助检查": "暂缺。",
     "既往史": "不详。", "诊断": "消化不良。", "建议": "思密达，妈咪爱，粪便常规检查。"},
    {"主诉": "大便次数增加。", "现病史": "患儿大便次数增加，每天4-5次，为稀便，有粘液。", "辅助检查": "暂缺。",
     "既往史": "不详。", "诊断": "考虑消化功能不良。",
     "建议": "检查大便常规，若无验证，建议服用思密达保护胃肠黏膜，少食多餐，母亲避免食用海鲜辛辣食物。"},
]
MODEL_REPORT = {"主诉": "大便稀，有粘液。", "现病史": "患儿大便次数多，4.5次每天。", "辅助检查": "暂缺。",
                "既往史": "不详。", "诊断": "消化不良。", "建议": "口服思密达。"}


def dumps(report):
    return json.dumps(report, ensure_ascii=False)


def score(predict, label=None, record=None, **options):
    label = dumps(REPORTS[0]) + "\n" if label is None else label
    return JsonFields(**options).score(Prediction("", predict, label, record=record))


def test_entry_point_finds_the_class():
    assert evaluators.get("json_fields") is JsonFields
    assert evaluators.describe("json_fields").startswith("JSON reports: strict and repaired parse rates")


GOOD = {"主诉": "咳嗽，发热：3天。", "诊断": "感冒。"}


@pytest.mark.parametrize(
    "text, strict",
    [
        ('{"主诉": "咳嗽，发热：3天。", "诊断": "感冒。"}', True),
        ('\n {"主诉": "咳嗽，发热：3天。", "诊断": "感冒。"} \n', True),
        ('```json\n{"主诉": "咳嗽，发热：3天。", "诊断": "感冒。"}\n```', False),
        ('```\n{"主诉": "咳嗽，发热：3天。", "诊断": "感冒。"}\n```\n', False),
        ('好的，诊疗报告如下：\n{"主诉": "咳嗽，发热：3天。", "诊断": "感冒。"}', False),
        ('{"主诉": "咳嗽，发热：3天。", "诊断": "感冒。"}\n以上仅供参考{请就医}。', False),
        ("{'主诉': '咳嗽，发热：3天。', '诊断': '感冒。'}", False),
        ("{“主诉”：“咳嗽，发热：3天。”，“诊断”：“感冒。”}", False),
        ('{"主诉"："咳嗽，发热：3天。"，"诊断"："感冒。"}', False),
        ("{‘主诉’: ‘咳嗽，发热：3天。’, ＂诊断＂: ＂感冒。＂}", False),
        ('{"主诉": "咳嗽，发热：3天。",\n "诊断": "感冒。"\n}', True),
    ],
)
def test_repair_recovers_the_report_and_keeps_the_values_punctuation(text, strict):
    assert (parse_strict(text) == GOOD) is strict
    assert repair_json(text) == GOOD
    assert score(text, label=dumps(GOOD), fields="主诉|诊断", imcs=False)["json_parse_rate_repaired"] == 1.0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("{'主诉': '他说\\'好\\'', '诊断': \"感冒\"}", {"主诉": "他说'好'", "诊断": "感冒"}),
        ('{“主诉”：“患者称"咳嗽"，：”}', {"主诉": '患者称"咳嗽"，：'}),
        ('{"主诉"："诉“咳嗽”：\\"重\\""，"x": [1, {"y": null}]}', {"主诉": "诉“咳嗽”：\"重\"", "x": [1, {"y": None}]}),
        ('{"主诉": "咳嗽\n三天"}', {"主诉": "咳嗽\n三天"}),  # a raw line break inside a string
    ],
)
def test_repair_of_quotes_inside_values(text, expected):
    assert parse_strict(text) is None
    assert repair_json(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"主诉": "咳嗽。", "诊断": "感',  # cut inside a value
        '{"主诉": "咳嗽。", "诊断": "感冒。"',  # cut before the closing brace
        '{"主诉": "咳嗽。",',
        '```json\n{"主诉": "咳嗽。", "诊断": {"初步": "感冒"}',  # cut inside a nested object
        "{“主诉”：“咳嗽。",
        "根据对话无法给出诊疗报告。",
        '["主诉", "咳嗽"]',
        "{主诉: 咳嗽}",  # unquoted: not a repair this evaluator makes
        "",
    ],
)
def test_truncated_or_other_text_is_not_repaired(text):
    assert parse_strict(text) is None
    assert repair_json(text) is None
    scores = score(text, fields="主诉|诊断")
    assert (scores["json_parse_rate"], scores["json_parse_rate_repaired"]) == (0.0, 0.0)
    assert scores["json_field_exact_match/主诉"] == scores["json_field_rouge_l/诊断"] == 0.0
    assert scores["json_field_missing_rate"] is None and scores["json_extra_keys_rate"] is None


def test_strict_prediction_scores_every_field():
    scores = score(dumps(REPORTS[0]))
    assert scores["json_parse_rate"] == scores["json_parse_rate_repaired"] == 1.0
    assert all(scores[f"json_field_exact_match/{f}"] == scores[f"json_field_rouge_l/{f}"] == 1.0 for f in IMCS_FIELDS)
    assert scores["json_field_exact_match"] == scores["json_field_rouge_l"] == 1.0
    assert scores["json_field_missing_rate"] == scores["json_extra_keys_rate"] == 0.0


def test_missing_extra_and_non_string_values():
    predict = {"主诉": " 稀便，便中有粘液。 ", "现病史": None, "辅助检查": 0, "既往史": ["不详。"], "诊断": {"x": "消化不良。"},
               "备注": "多喝水。"}
    scores = score(dumps(predict))
    assert scores["json_field_exact_match/主诉"] == 1.0  # outer whitespace does not count
    for field in IMCS_FIELDS[1:]:  # null, number, list, object and the missing 建议 score 0
        assert scores[f"json_field_exact_match/{field}"] == scores[f"json_field_rouge_l/{field}"] == 0.0
    assert scores["json_field_exact_match"] == pytest.approx(1 / 6)
    assert scores["json_field_missing_rate"] == pytest.approx(5 / 6)
    assert scores["json_extra_keys_rate"] == 1.0  # 备注 is counted, not scored


def test_rouge_l_gives_partial_credit_and_trailing_punctuation_is_an_option():
    predict = dumps({**REPORTS[0], "辅助检查": "暂缺", "诊断": "消化不良"})
    scores = score(predict)
    assert scores["json_field_exact_match/辅助检查"] == 0.0
    assert scores["json_field_rouge_l/辅助检查"] == pytest.approx(0.8)
    assert scores["json_field_rouge_l/诊断"] == pytest.approx(2 * 4 / 9)
    loose = score(predict, ignore_trailing_punct=True)
    assert loose["json_field_exact_match/辅助检查"] == loose["json_field_exact_match/诊断"] == 1.0
    assert loose["json_field_exact_match"] == 1.0


def test_rouge_l_ignores_whitespace_and_scores_empty_values():
    label = dumps({"主诉": "", "诊断": "感 冒"})
    scores = score(dumps({"主诉": "", "诊断": "感冒 "}), label=label, fields="主诉|诊断", imcs=False)
    assert scores["json_field_rouge_l/主诉"] == scores["json_field_exact_match/主诉"] == 1.0
    assert scores["json_field_rouge_l/诊断"] == 1.0 and scores["json_field_exact_match/诊断"] == 0.0


def test_lcs_length_agrees_with_dynamic_programming():
    rng = random.Random(0)
    for _ in range(300):
        a, b = ("".join(rng.choices("咳嗽发热。，", k=rng.randint(0, 25))) for _ in range(2))
        table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i, x in enumerate(a):
            for j, y in enumerate(b):
                table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
        assert lcs_length(a, b) == table[-1][-1]


def test_references_best_and_mean_per_field():
    record = {"references": REPORTS}
    predict = dumps(REPORTS[1] | {"主诉": "稀便，便中有粘液。"})  # 主诉 of the first reference, the rest of the second
    best = score(predict, record=record)
    assert best["json_field_exact_match"] == 1.0  # each field takes its best reference
    mean = score(predict, record=record, references="mean")
    assert mean["json_field_exact_match/主诉"] == mean["json_field_exact_match/现病史"] == 0.5
    assert mean["json_field_exact_match/辅助检查"] == 1.0  # both references say 暂缺。
    assert mean["json_field_rouge_l/主诉"] == pytest.approx((1 + rouge_l(REPORTS[0]["主诉"], REPORTS[1]["主诉"])) / 2)
    assert best["imcs_rouge"] == mean["imcs_rouge"]  # the official score always averages over references


def test_record_references_win_over_the_label():
    assert score(dumps(REPORTS[1]), record={"references": REPORTS})["json_field_exact_match"] == 1.0
    assert score(dumps(REPORTS[1]), record={"references": []})["json_field_exact_match"] < 1.0  # falls back to label


BOTH = [linearise(report) for report in REPORTS]


# expected numbers: eval_task3.py's compute_rouge on the same texts with rouge==1.0.1
@pytest.mark.parametrize(
    "predict, references, expected",
    [
        (linearise(MODEL_REPORT), BOTH, (0.7773223995533471, 0.6031249952110351, 0.717725405017828)),
        (linearise(REPORTS[0]), BOTH, (0.8359374951031494, 0.7616279020632775, 0.7734374951031495)),
        ('{"主诉": "大便稀，有粘液。", "诊断": "消化不', BOTH,
         (0.3705357107207067, 0.1500215020134173, 0.3419642821492781)),
        ("主诉：咳嗽...发热。体温38.5度", ["主诉：咳嗽..发热。体温38.5度。"], (0.999999995, 0.9333333283333335, 0.999999995)),
    ],
)
def test_imcs_rouge_reproduces_the_official_script(predict, references, expected):
    assert imcs_rouge(predict, references) == expected


def test_imcs_rouge_follows_the_predictions_key_order_and_scores_raw_text_when_unparsed():
    record = {"references": REPORTS}
    scores = score(dumps(MODEL_REPORT), record=record)  # numbers as in the first case above
    assert (scores["imcs_rouge_1"], scores["imcs_rouge_2"], scores["imcs_rouge_l"]) == (
        0.7773223995533471, 0.6031249952110351, 0.717725405017828)
    assert scores["imcs_rouge"] == pytest.approx((0.7773223995533471 + 0.6031249952110351 + 0.717725405017828) / 3)
    swapped = {"诊断": REPORTS[0]["诊断"], **{k: v for k, v in REPORTS[0].items() if k != "诊断"}}
    assert score(dumps(swapped), record=record)["imcs_rouge_l"] == 0.6853553872600122  # official: 0.6854
    truncated = score('{"主诉": "大便稀，有粘液。", "诊断": "消化不', record=record)
    assert truncated["imcs_rouge_1"] == 0.3705357107207067
    assert score("", record=record)["imcs_rouge"] == 0.0
    assert "imcs_rouge" not in score(dumps(MODEL_REPORT), imcs=False)


def test_repair_false_scores_only_strict_json():
    fenced = "```json\n" + dumps(REPORTS[0]) + "\n```"
    assert score(fenced)["json_field_exact_match"] == 1.0
    strict_only = score(fenced, repair=False)
    assert strict_only["json_parse_rate_repaired"] == 1.0 and strict_only["json_field_exact_match"] == 0.0
    assert strict_only["json_field_missing_rate"] is None


def test_aggregate_mean_over_fields_matches_the_per_field_means():
    jf = JsonFields()
    predicts = [dumps(REPORTS[0]), dumps(MODEL_REPORT), "```json\n" + dumps(REPORTS[0]) + "\n```", '{"主诉": "稀']
    metrics = jf.aggregate([jf.score(Prediction("", p, dumps(REPORTS[0]))) for p in predicts])
    assert metrics["json_parse_rate"] == 0.5 and metrics["json_parse_rate_repaired"] == 0.75
    per_field = [metrics[f"json_field_exact_match/{f}"] for f in IMCS_FIELDS]
    assert metrics["json_field_exact_match"] == pytest.approx(sum(per_field) / 6)
    assert metrics["json_field_missing_rate"] == 0.0  # over the three parsed predictions only


def test_options_through_specs():
    [jf] = build_evaluators([("-e", "json_fields:fields=主诉|诊断,references=mean,imcs=false")])
    assert jf.field_list == ["主诉", "诊断"]
    assert jf.spec == "json_fields:fields=主诉|诊断,references=mean,imcs=false"
    assert set(jf.score(Prediction("", "{}", dumps(GOOD)))) == {
        "json_parse_rate", "json_parse_rate_repaired", "json_field_exact_match", "json_field_rouge_l",
        "json_field_exact_match/主诉", "json_field_exact_match/诊断", "json_field_rouge_l/主诉",
        "json_field_rouge_l/诊断", "json_field_missing_rate", "json_extra_keys_rate"}
    assert JsonFields(fields="主诉, 诊断、主诉").spec == "json_fields:fields=主诉|诊断"
    with pytest.raises(UserError, match="references .* must be best or mean, got 'max'"):
        JsonFields(references="max")
    with pytest.raises(UserError, match="names no field"):
        JsonFields(fields=" | ")


def test_label_that_is_not_json_is_an_error_naming_the_line():
    with pytest.raises(UserError, match="line 7: the label is not a JSON object \\('高血压'\\)"):
        JsonFields().score(Prediction("", "{}", "高血压\n", line=7))
    with pytest.raises(UserError, match="references must be a list of report objects"):
        JsonFields().score(Prediction("", "{}", dumps(GOOD), record={"references": ["主诉：咳嗽"]}))


def test_lfd_eval_on_a_med_mrg_test_split(tmp_path, lfd):
    prompt = "问诊对话历史:\n患者:宝宝拉稀\n根据上述对话,给出诊疗报告\n答:"
    records = [{"instruction": prompt, "input": "", "output": dumps(REPORTS[0]), "references": REPORTS}] * 4
    (tmp_path / "med_mrg_test.jsonl").write_text("".join(dumps(r) + "\n" for r in records), encoding="utf-8")
    entry = {"file_name": "med_mrg_test.jsonl", "formatting": "alpaca",
             "columns": {"prompt": "instruction", "query": "input", "response": "output"},
             "lfd": {"converter": "med_mrg", "split": "test", "evaluators": ["json_fields"]}}
    (tmp_path / "dataset_info.json").write_text(json.dumps({"med_mrg_test": entry}), encoding="utf-8")
    predicts = [dumps(REPORTS[1]), "```json\n" + dumps(MODEL_REPORT) + "\n```", '{"主诉": "大便稀，有粘液。", "诊断": "消化不',
                "{“主诉”：“稀便，便中有粘液。”}"]
    rows = [{"prompt": prompt, "predict": p, "label": dumps(REPORTS[0]) + "\n"} for p in predicts]
    (tmp_path / "preds.jsonl").write_text("".join(dumps(r) + "\n" for r in rows), encoding="utf-8")

    code, out, err = lfd("eval", tmp_path / "preds.jsonl", "--dataset", "med_mrg_test", "--dataset-info",
                         tmp_path / "dataset_info.json", "--out", tmp_path / "report.json",
                         "--per-item", tmp_path / "items.jsonl")
    assert (code, err) == (0, "")
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    metrics = report["metrics"]
    assert report["evaluators"] == ["json_fields"] and report["dataset"] == "med_mrg_test"
    assert metrics["json_parse_rate"] == 0.25 and metrics["json_parse_rate_repaired"] == 0.75
    assert metrics["json_field_exact_match/主诉"] == 0.5  # the second reference, and the repaired full-width one
    assert metrics["json_field_exact_match/辅助检查"] == 0.5  # the full-width report has no 辅助检查
    assert report["counts"]["json_field_missing_rate"] == 3 and report["counts"]["json_parse_rate"] == 4
    assert 0 < metrics["imcs_rouge"] < 1
    assert set(report["ci95"]) == set(metrics)
    items = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert items[2]["scores"]["imcs_rouge_1"] == 0.3705357107207067  # the cut-off prediction, as raw text
    assert "json_field_exact_match/建议" in out and "imcs_rouge" in out
