"""Medical report generation from a doctor–patient dialogue: IMCS-V2 (``IMCS-V2_*.json``, ``IMCS-V2-MRG.zip``).

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert med_mrg --help`, checked by tests/converters/test_examples.py).

Every report written has the six fields in the order 主诉, 现病史, 辅助检查, 既往史, 诊断, 建议: a missing
field becomes ``""`` (so the model always learns the full schema), other keys are dropped; an all-empty
report counts as none. The test split has one record per dialogue for the `json_fields` evaluator:
``output`` is the first reference, ``references`` lists them all (rewritten so, for the field scores)
and ``official_references`` keeps the dataset's ``report`` list as given, every object in it with its
keys, key order and values untouched (empty ones too; a lone object becomes a list of one), for the
official IMCS-V2 ROUGE. That score (imcs21 task/MRG/eval_mrg.py) uses ``report[0]`` and ``report[1]``,
so `json_fields` takes the first two; it writes a value that is not text as text (the script would
fail on it). CBLUE's ``IMCS-V2_test.json`` has no reports: it is refused as a test split and its
records are skipped in training.
"""

from __future__ import annotations

import json

from .base import (
    Converter,
    Example,
    Shape,
    Skip,
    iter_rows,
    keys_of,
    register_converter,
    require_object,
    text_of,
)

PROMPT = ("问诊对话历史:\n{dialogue}\n根据上述对话,给出诊疗报告\n"
          "说明:诊疗报告分为主诉, 现病史, 辅助检查, 既往史, 诊断, 建议这六个章节,以标准的json格式输出。\n答:")
FIELDS = ("主诉", "现病史", "辅助检查", "既往史", "诊断", "建议")
RECORD_KEYS = ("dialogue", "report", "self_report", "diagnosis")
MEMBERS = {"--member": "IMCS-V2_train.json", "--test-member": "IMCS-V2_dev.json"}  # read from a .zip
NO_REPORT = "no report (an input-only file such as CBLUE's IMCS-V2_test.json)"
NO_TEST_REPORT = ("record has no report: an input-only file (CBLUE's IMCS-V2_test.json) "
                  "cannot be the test split, use IMCS-V2_dev.json")


def dialogue_text(turns) -> str:
    """``speaker:sentence`` lines of the non-empty turns.

    >>> dialogue_text([{"speaker": "医生", "sentence": "你好 "}, {"speaker": "患者", "sentence": ""}])
    '医生:你好'
    """
    lines = []
    for turn in turns:
        if not isinstance(turn, dict):
            raise Skip("dialogue turn is not an object")
        sentence = text_of(turn.get("sentence"), "sentence")
        if sentence:
            lines.append(f"{text_of(turn.get('speaker'), 'speaker')}:{sentence}")
    return "\n".join(lines)


def ordered_report(report) -> dict[str, str] | None:
    """The six fields in their fixed order (missing → ""), or None for an empty or malformed report.

    >>> ordered_report({"建议": "多喝水。", "主诉": " 咳嗽。", "备注": "x"})
    {'主诉': '咳嗽。', '现病史': '', '辅助检查': '', '既往史': '', '诊断': '', '建议': '多喝水。'}
    """
    if not isinstance(report, dict):
        return None
    fields = {key: str(report.get(key) or "").strip() for key in FIELDS}
    return fields if any(fields.values()) else None


def report_json(report: dict[str, str]) -> str:
    return json.dumps(report, ensure_ascii=False)


@register_converter("med_mrg")
class MedMrg(Converter):
    """IMCS-V2 medical report generation (dialogue -> six-field JSON report), scored field by field."""

    example_command = "lfd convert med_mrg IMCS-V2-MRG.zip --test IMCS-V2-MRG.zip --out-dir data"
    example_raw = {
        "diagnosis": "小儿消化不良",
        "self_report": "宝宝拉这个粑粑正常吗？",
        "dialogue": [
            {"sentence_id": "1", "speaker": "医生", "sentence": "你好", "dialogue_act": "Greet"},
            {"sentence_id": "2", "speaker": "患者", "sentence": "这个粑粑正常吗？", "dialogue_act": "Inform-Symptom"},
        ],
        "report": [
            {
                "主诉": "稀便，便中有粘液。",
                "现病史": "患儿稀便。",
                "辅助检查": "暂缺。",
                "既往史": "不详。",
                "诊断": "消化不良。",
                "建议": "思密达，妈咪爱。",
            },
            {"主诉": "大便次数增加。", "诊断": "小儿消化不良。"},
        ],
    }
    example_output = [
        {
            "instruction": "问诊对话历史:\n"
            "医生:你好\n"
            "患者:这个粑粑正常吗？\n"
            "根据上述对话,给出诊疗报告\n"
            "说明:诊疗报告分为主诉, 现病史, 辅助检查, 既往史, 诊断, 建议这六个章节,以标准的json格式输出。\n"
            "答:",
            "input": "",
            "output": '{"主诉": "稀便，便中有粘液。", "现病史": "患儿稀便。", "辅助检查": "暂缺。", "既往史": "不详。", "诊断": "消化不良。", '
            '"建议": "思密达，妈咪爱。"}',
        },
        {
            "instruction": "问诊对话历史:\n"
            "医生:你好\n"
            "患者:这个粑粑正常吗？\n"
            "根据上述对话,给出诊疗报告\n"
            "说明:诊疗报告分为主诉, 现病史, 辅助检查, 既往史, 诊断, 建议这六个章节,以标准的json格式输出。\n"
            "答:",
            "input": "",
            "output": '{"主诉": "大便次数增加。", "现病史": "", "辅助检查": "", "既往史": "", "诊断": "小儿消化不良。", "建议": ""}',
        },
    ]

    evaluators = ("json_fields",)
    primary_metric = "imcs_rouge"
    expects = "IMCS-V2 records (an object of example_id -> {dialogue, report, ...})"

    @classmethod
    def add_arguments(cls, parser):
        for option, files in (("--member", "INPUT"), ("--test-member", "--test file")):
            parser.add_argument(
                option,
                default=MEMBERS[option],
                metavar="NAME",
                help=f"member of a .zip {files} to read (default {MEMBERS[option]})",
            )

    def rows(self, path, split):
        option = "--test-member" if split == "test" else "--member"  # one zip can be INPUT and --test
        member = getattr(self.options, option[2:].replace("-", "_"), MEMBERS[option])
        return iter_rows(path, getattr(self.options, "encoding", None), self.columns, member, option)

    def convert(self, record, split):
        require_object(record)
        if not any(key in record for key in RECORD_KEYS):
            raise Shape(f"record has no dialogue or report field (found: {keys_of(record)})")
        if "report" not in record:
            if split == "test":  # on the file's first record: an error naming the file, as intended
                raise Shape(NO_TEST_REPORT)
            raise Skip(NO_REPORT)
        turns = record.get("dialogue")
        if not isinstance(turns, list) or not turns:
            raise Skip("no dialogue")
        dialogue = dialogue_text(turns)
        if not dialogue:
            raise Skip("no dialogue")
        raw = record["report"]
        given = [r for r in (raw if isinstance(raw, list) else [raw]) if isinstance(r, dict)]
        reports = [r for r in map(ordered_report, given) if r]
        if not reports:
            raise Skip("empty report")
        prompt = PROMPT.format(dialogue=dialogue)
        if split == "test":
            extra = {"references": reports, "official_references": given}
            return Example(instruction=prompt, output=report_json(reports[0]), extra=extra)
        return [Example(instruction=prompt, output=text) for text in dict.fromkeys(map(report_json, reports))]
