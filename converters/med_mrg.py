"""Medical report generation from a doctor–patient dialogue: IMCS-V2 (``IMCS-V2_*.json``, ``IMCS-V2-MRG.zip``).

Raw record (a value of the top-level ``example_id -> record`` object; trimmed)::

    "10626355": {"diagnosis": "小儿消化不良", "self_report": "宝宝拉这个粑粑正常吗…", "explicit_info": {…},
                 "dialogue": [{"sentence_id": "1", "speaker": "医生", "sentence": "你好", "dialogue_act": "Greet", …},
                              {"sentence_id": "3", "speaker": "患者", "sentence": "这个粑粑正常吗？", …}, …],
                 "report": [{"主诉": "稀便，便中有粘液。", "现病史": "…", "辅助检查": "暂缺。", "既往史": "不详。",
                             "诊断": "消化不良。", "建议": "思密达，妈咪爱，粪便常规检查。"},
                            {"主诉": "大便次数增加。", …}],
                 "implicit_info": {…}}

Produced training record (alpaca), one per reference report::

    {"instruction": "问诊对话历史:\\n医生:你好\\n患者:这个粑粑正常吗？\\n…\\n根据上述对话,给出诊疗报告\\n说明:…以标准的json格式输出。\\n答:",
     "input": "",
     "output": "{\\"主诉\\": \\"稀便，便中有粘液。\\", \\"现病史\\": \\"…\\", …, \\"建议\\": \\"思密达，妈咪爱，粪便常规检查。\\"}"}

The test split has one record per dialogue: ``output`` is the first reference and ``references`` lists
them all (objects), for the `json_fields` evaluator. Every report has the six fields in the order
主诉, 现病史, 辅助检查, 既往史, 诊断, 建议: a missing field becomes ``""`` (so the model always learns the
full schema), other keys are dropped; an all-empty report counts as none. CBLUE's ``IMCS-V2_test.json``
has no reports: it is refused as a test split and its records are skipped in training.
"""

from __future__ import annotations

import json

from .base import Converter, Example, Shape, Skip, iter_rows, register_converter

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
        sentence = str(turn.get("sentence") or "").strip()
        if sentence:
            lines.append(f"{str(turn.get('speaker') or '').strip()}:{sentence}")
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

    evaluators = ("json_fields",)
    expects = "IMCS-V2 records (an object of example_id -> {dialogue, report, ...})"

    @classmethod
    def add_arguments(cls, parser):
        for option, files in (("--member", "INPUT"), ("--test-member", "--test file")):
            parser.add_argument(option, default=MEMBERS[option], metavar="NAME",
                                help=f"member of a .zip {files} to read (default {MEMBERS[option]})")

    def rows(self, path, split):
        option = "--test-member" if split == "test" else "--member"  # one zip can be INPUT and --test
        member = getattr(self.options, option[2:].replace("-", "_"), MEMBERS[option])
        return iter_rows(path, getattr(self.options, "encoding", None), self.columns, member, option)

    def convert(self, record, split):
        if not isinstance(record, dict):
            raise Shape(f"record is a {type(record).__name__}, not an object")
        if not any(key in record for key in RECORD_KEYS):
            raise Shape(f"record has no dialogue or report field (found: {', '.join(map(str, record)) or 'none'})")
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
        reports = [r for r in map(ordered_report, raw if isinstance(raw, list) else [raw]) if r]
        if not reports:
            raise Skip("empty report")
        prompt = PROMPT.format(dialogue=dialogue)
        if split == "test":
            return Example(instruction=prompt, output=report_json(reports[0]), extra={"references": reports})
        return [Example(instruction=prompt, output=text) for text in dict.fromkeys(map(report_json, reports))]
