import ast
import contextlib
import io
import json
import random

import json_repair
import pytest
from imcs_eval_mrg import (  # eval_mrg.py's own functions, verbatim
    compute_rouge,
    compute_rouges,
    preds_and_golds,
    process,
)
from llamafactory_domains.evaluators.base import Prediction, evaluators
from llamafactory_domains.evaluators.json_fields import (
    IMCS_FIELDS,
    JsonFields,
    imcs_rouge,
    lcs_length,
    linearise,
    object_text,
    parse_strict,
    repair_json,
    rouge_l,
)
from llamafactory_domains.plugin.errors import UserError
from llamafactory_domains.plugin.evaluator_specs import build_evaluators

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
        # json-repair's own repairs
        ('{"主诉": "咳嗽，发热：3天。", "诊断": "感冒。",}', False),  # trailing comma
        ('{"主诉": "咳嗽，发热：3天。"\n "诊断": "感冒。"}', False),  # missing comma
        ('{"主诉": "咳嗽，发热：3天。", // 患者自述\n "诊断": "感冒。"}', False),  # a comment
        ('{"主诉": "咳嗽，发热：3天。", "诊断": "感冒。"}}', False),  # a stray closing brace
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
        ('{"主诉": "他说"好"了", "诊断": "感冒"}', {"主诉": '他说"好"了', "诊断": "感冒"}),  # unescaped quotes
        ('{"主诉": "他说"好", "诊断": "感冒"}', {"主诉": '他说"好', "诊断": "感冒"}),  # an odd number of them
        ('{"主诉": "体温{38度}", "诊断": "感冒",}', {"主诉": "体温{38度}", "诊断": "感冒"}),  # braces in a value
        ("{主诉: 咳嗽。, 诊断: 感冒。}", {"主诉": "咳嗽。", "诊断": "感冒。"}),  # unquoted (where ：， split values)
        ('{"a": "b"}\n{"a": "c"}', {"a": "b"}),  # the first object (json-repair alone keeps the last)
    ],
)
def test_repair_of_quotes_inside_values(text, expected):
    assert parse_strict(text) is None
    assert repair_json(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"主诉"："咳嗽，发热：3天。"，"诊断"："感冒。"}',
        "{‘主诉’: ‘咳嗽，发热：3天。’, ＂诊断＂: ＂感冒。＂}",
        '{"主诉": "咳嗽，发热：3天。", "诊断": "感冒。"}\n以上仅供参考{请就医}。',
    ],
)
def test_what_json_repair_alone_misreads_is_prepared_for_it(text):
    # if json-repair learns these, object_text can shed the corresponding preparation
    assert json_repair.loads(text) != GOOD
    assert json_repair.loads(object_text(text)) == GOOD == repair_json(text)


def test_json_repair_reads_chinese_quotes_and_completes_cut_text_itself():
    assert json_repair.loads("{“主诉”：“咳嗽，发热：3天。”，“诊断”：“感冒。”}") == GOOD
    assert json_repair.loads('{"主诉": "咳嗽，发热：3天。", "诊断": "感') == {**GOOD, "诊断": "感"}
    assert repair_json('{"主诉": "咳嗽，发热：3天。", "诊断": "感') is None  # which this evaluator refuses


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
        '{"主诉": "他说"好"，',  # cut after unescaped quotes
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


def test_references_mean_by_default_and_best_per_field():
    record = {"references": REPORTS}
    predict = dumps(REPORTS[1] | {"主诉": "稀便，便中有粘液。"})  # 主诉 of the first reference, the rest of the second
    mean = score(predict, record=record)
    # 主诉, 现病史, 诊断, 建议 match one reference of two; 辅助检查 and 既往史 (暂缺。, 不详。) both
    assert [mean[f"json_field_exact_match/{f}"] for f in IMCS_FIELDS] == [0.5, 0.5, 1.0, 1.0, 0.5, 0.5]
    assert mean["json_field_exact_match"] == pytest.approx(4 / 6)
    # 稀便，便中有粘液。 (9 characters) and 大便次数增加。 (7) share 便。: ROUGE-L 2·2/16 = 0.25
    assert rouge_l(REPORTS[0]["主诉"], REPORTS[1]["主诉"]) == 0.25
    assert mean["json_field_rouge_l/主诉"] == (1 + 0.25) / 2
    best = score(predict, record=record, references="best")
    assert best["json_field_exact_match"] == best["json_field_rouge_l"] == 1.0  # each field takes its best reference
    assert best["imcs_rouge"] == mean["imcs_rouge"]  # the official score always averages over references


def test_record_references_win_over_the_label():
    assert score(dumps(REPORTS[1]), record={"references": REPORTS})["json_field_exact_match"] == pytest.approx(4 / 6)
    assert score(dumps(REPORTS[1]), record={"references": REPORTS}, references="best")["json_field_exact_match"] == 1.0
    # no references: the label (REPORTS[0]), which shares only 辅助检查 and 既往史
    assert score(dumps(REPORTS[1]), record={"references": []})["json_field_exact_match"] == pytest.approx(2 / 6)


BOTH = [linearise(report) for report in REPORTS]


# expected numbers: eval_mrg.py's compute_rouge on the same texts with rouge==1.0.1
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
    assert tuple(compute_rouge(predict, references).values()) == expected


def test_imcs_rouge_equals_compute_rouge_on_random_texts():
    rng = random.Random(1)
    alphabet = "咳嗽发热。，.：主诉 \n\t{}\"a1"
    for _ in range(400):
        source = "".join(rng.choices(alphabet, k=rng.randint(0, 30)))
        targets = ["".join(rng.choices(alphabet, k=rng.randint(0, 30))) for _ in range(rng.randint(1, 3))]
        assert imcs_rouge(source, targets) == tuple(compute_rouge(source, targets).values())


def test_imcs_rouge_scores_sentences_too_long_for_the_packages_recursion():
    import sys

    source, target = "咳嗽发热，" * 240, "发热咳嗽。" * 230
    with pytest.raises(RecursionError):
        compute_rouge(source, [target])
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        expected = tuple(compute_rouge(source, [target]).values())
    finally:
        sys.setrecursionlimit(limit)
    assert imcs_rouge(source, [target]) == expected


def test_imcs_scores_the_raw_prediction_and_the_repaired_report_by_hand():
    record = {"references": [{"主诉": "咳嗽"}]}
    scores = score('{"主诉": "咳嗽"}', record=record, fields="主诉")
    # hypothesis {"主诉":"咳嗽"}: 8 distinct characters, 10 distinct bigrams; reference 主诉：咳嗽: 5 and 4.
    # Shared: 主诉咳嗽 (4 characters, also the LCS) and the bigrams 主诉, 咳嗽; F = 2PR / (P + R + 1e-8)
    rouge_1 = 2 * (4 / 8 * 4 / 5) / (4 / 8 + 4 / 5 + 1e-8)
    rouge_2 = 2 * (2 / 10 * 2 / 4) / (2 / 10 + 2 / 4 + 1e-8)
    assert (scores["imcs_rouge_1"], scores["imcs_rouge_2"], scores["imcs_rouge_l"]) == (rouge_1, rouge_2, rouge_1)
    assert scores["imcs_rouge"] == pytest.approx((2 * rouge_1 + rouge_2) / 3, abs=1e-15)
    assert scores["imcs_rouge_repaired"] == pytest.approx(2 / (2 + 1e-8), abs=1e-15)  # 主诉：咳嗽 itself
    assert score("", record=record, fields="主诉")["imcs_rouge"] == 0.0  # the package refuses it: 0
    assert score(" \n", record=record, fields="主诉")["imcs_rouge_repaired"] == 0.0


# IMCS-V2 records as the dataset gives them: missing keys, other key orders, '.' in values, a third report
RAW = {
    "10626355": REPORTS,
    "1": [{"主诉": "发热。", "诊断": "上呼吸道感染。"},
          {"主诉": "发热两天。", "现病史": "患儿发热两天，体温38.5度。", "诊断": "发热待查。", "建议": "多喝水。"}],
    "2": [{"诊断": "支气管炎。", "主诉": "咳嗽三天。", "建议": "雾化...复查。"},
          {"建议": "口服止咳药。", "主诉": "咳嗽。", "诊断": "急性支气管炎。"},
          {"主诉": "第三份报告不计。"}],
    "3": [{"主诉": "腹泻。"}, {}],  # an empty report: the package refuses it, the item scores 0
}
PREDICTIONS = {
    "10626355": [dumps(MODEL_REPORT), json.dumps(MODEL_REPORT, ensure_ascii=False, indent=2),
                 "```json\n" + dumps(REPORTS[1]) + "\n```", linearise(MODEL_REPORT), "",
                 '{"主诉": "大便稀，有粘液。", "诊断": "消化不'],
    "1": [dumps({"主诉": "发热。", "诊断": "上感。"}), "主诉：发热。诊断：发热待查。建议：多喝水。", " \n\t",
          ".主诉：发热..体温38.5度.", json.dumps({"主诉": "发热。"}), "{“主诉”：“发热两天。”，“诊断”：“发热待查。”}"],
    "2": [dumps({"主诉": "咳嗽三天。", "诊断": "支气管炎。", "建议": "雾化...复查。"}), "...", "诊断：急性 支气管炎。",
          dumps(RAW["2"][1])],
    "3": [dumps({"主诉": "腹泻。"}), "主诉：腹泻。"],
}


def official(pid, lines):
    """eval_mrg.py's per-item scores (compute_rouge) and printed means (compute_rouges) of ``lines``."""
    preds, golds = preds_and_golds({pid: {"report": RAW[pid]}}, lines)
    golds = golds * len(preds)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        compute_rouges(preds, golds)
    return [compute_rouge(p, g) for p, g in zip(preds, golds)], ast.literal_eval(printed.getvalue())


def ours(pid, lines):
    jf = JsonFields()
    record = {"references": REPORTS, "official_references": RAW[pid]}  # references: what the fields use
    return jf, [jf.score(Prediction("", line, dumps(REPORTS[0]), record=record)) for line in lines]


@pytest.mark.parametrize("pid", RAW)
def test_imcs_numbers_are_eval_mrg_pys_per_item_and_mean(pid):
    expected, printed = official(pid, PREDICTIONS[pid])
    jf, per_item = ours(pid, PREDICTIONS[pid])
    for mine, theirs in zip(per_item, expected, strict=True):
        assert [mine[k] for k in ("imcs_rouge_1", "imcs_rouge_2", "imcs_rouge_l")] == pytest.approx(
            list(theirs.values()), abs=1e-12)
        assert mine["imcs_rouge"] == pytest.approx(sum(theirs.values()) / 3, abs=1e-12)
    means = jf.aggregate(per_item)
    assert [means[k] for k in ("imcs_rouge_1", "imcs_rouge_2", "imcs_rouge_l")] == pytest.approx(
        list(printed.values()), abs=1e-12)
    assert means["imcs_rouge"] == pytest.approx(sum(printed.values()) / 3, abs=1e-12)


def test_imcs_repaired_is_the_official_score_of_the_linearised_report():
    lines = PREDICTIONS["10626355"]
    _, per_item = ours("10626355", lines)
    linear, _ = official("10626355", [linearise(MODEL_REPORT)] * 2 + [linearise(REPORTS[1])])
    for mine, theirs in zip(per_item, linear):  # the JSON, indented JSON and fenced predictions
        assert mine["imcs_rouge_repaired"] == pytest.approx(sum(theirs.values()) / 3, abs=1e-12)
        assert mine["imcs_rouge_repaired"] > mine["imcs_rouge"]  # braces and quotes cost precision
    assert per_item[3]["imcs_rouge_repaired"] == per_item[3]["imcs_rouge"]  # linear text: its raw text
    assert per_item[5]["imcs_rouge_repaired"] == per_item[5]["imcs_rouge"]  # cut off: its raw text too
    assert per_item[4]["imcs_rouge_repaired"] == per_item[4]["imcs_rouge"] == 0.0  # empty


def test_imcs_references_official_first_then_references_then_label():
    swapped = {"诊断": REPORTS[0]["诊断"], **{k: v for k, v in REPORTS[0].items() if k != "诊断"}}
    predict = linearise(swapped)
    expect = sum(compute_rouge(predict, [process(r) for r in [swapped, REPORTS[1]]]).values()) / 3
    record = {"references": REPORTS, "official_references": [swapped, REPORTS[1], REPORTS[0]]}
    assert score(predict, record=record)["imcs_rouge"] == pytest.approx(expect, abs=1e-15)  # the first two
    from_references = sum(compute_rouge(predict, BOTH).values()) / 3
    assert score(predict, record={"references": REPORTS})["imcs_rouge"] == pytest.approx(from_references, abs=1e-15)
    from_label = sum(compute_rouge(predict, [process(REPORTS[0])]).values()) / 3
    assert score(predict)["imcs_rouge"] == pytest.approx(from_label, abs=1e-15)
    assert from_label != from_references != expect
    # a value that is not text (the script would fail): null as "", others as JSON
    odd = {"official_references": [{"主诉": None, "诊断": ["感冒"]}]}
    assert score("主诉：诊断：[\"感冒\"]", record=odd)["imcs_rouge_l"] == pytest.approx(2 / (2 + 1e-8), abs=1e-15)
    with pytest.raises(UserError, match="line 0: the test record's official_references must be a list of report"):
        score("{}", record={"official_references": ["主诉：咳嗽"]})
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
    [jf] = build_evaluators([("-e", "json_fields:fields=主诉|诊断,references=best,imcs=false")])
    assert jf.field_list == ["主诉", "诊断"]
    assert jf.spec == "json_fields:fields=主诉|诊断,references=best,imcs=false"
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
    raw = RAW["2"]  # the dataset's reports, as med_mrg keeps them; references as it rewrites them
    record = {"instruction": prompt, "input": "", "output": dumps(REPORTS[0]), "references": REPORTS,
              "official_references": raw}
    records = [record] * 4
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
    assert (code, err) == (0, f"4 predictions from {tmp_path / 'preds.jsonl'}, checked against med_mrg_test\n")
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    metrics = report["metrics"]
    assert report["evaluators"] == ["json_fields"] and report["dataset"] == "med_mrg_test"
    assert metrics["json_parse_rate"] == 0.25 and metrics["json_parse_rate_repaired"] == 0.75
    # mean over the two references: 0.5 for the second reference's 主诉 and for the repaired full-width one
    assert metrics["json_field_exact_match/主诉"] == (0.5 + 0 + 0 + 0.5) / 4
    assert metrics["json_field_exact_match/辅助检查"] == 0.5  # the full-width report has no 辅助检查
    assert report["counts"]["json_field_missing_rate"] == 3 and report["counts"]["json_parse_rate"] == 4
    assert 0 < metrics["imcs_rouge"] < 1
    assert set(report["ci95"]) == set(metrics)
    items = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    preds, golds = preds_and_golds({"1": {"report": raw}}, predicts)
    for item, pred in zip(items, preds, strict=True):  # against the official references, not the rewritten ones
        assert item["scores"]["imcs_rouge_1"] == compute_rouge(pred, golds[0])["rouge-1"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        compute_rouges(preds, golds * 4)
    assert metrics["imcs_rouge_l"] == pytest.approx(ast.literal_eval(printed.getvalue())["rouge-l"], abs=1e-12)
    assert "json_field_exact_match/建议" in out and "imcs_rouge" in out
