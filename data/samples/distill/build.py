"""Writes the bundled distill (`lfd distill`) sample: a question list and a teacher's recorded replies.

``questions.txt`` holds one patient question per line (written by this project; one gives a phone
number, masked before it is sent, and one repeats an earlier question); ``questions.csv`` the same
questions in a ``问题`` column. ``replies.jsonl`` is a request cache (plugin/endpoint.py's format) holding,
for each request `lfd distill` makes of them with its defaults and ``--model teacher``, a reply written
here by hand (one a refusal, one empty, so the summary shows both dropped), so the example runs offline
and sends nothing:
    lfd distill data/samples/distill/questions.txt --api-base http://127.0.0.1:8000/v1 --model teacher \\
        --request-cache data/samples/distill/replies.jsonl --out-dir data
Run from the repo root:
    .venv/bin/python data/samples/distill/build.py
"""

import argparse
import csv
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "editable"))

from llamafactory_domains.converters.distill import Distill  # noqa: E402
from llamafactory_domains.plugin.endpoint import request_hash  # noqa: E402

# (question, the teacher's reply); None: the question repeats an earlier one and is never asked
QUESTIONS = [
    ("高血压患者可以喝咖啡吗？", "可以适量饮用，每天不超过一两杯，避免浓咖啡；血压控制不佳时应少喝，并按时监测血压。"),
    ("2型糖尿病患者空腹血糖控制在多少比较合适？", "一般建议空腹血糖控制在4.4～7.0 mmol/L，老年人或低血糖风险高者可适当放宽，具体目标请与主治医生商定。"),
    ("感冒发烧时可以同时吃两种退烧药吗？", "不建议。对乙酰氨基酚和布洛芬等退烧药成分不同但作用相近，同时服用会增加肝肾损伤风险，应选一种并按说明书间隔服用。"),
    ("孩子晚上咳嗽得厉害，白天却不怎么咳，是什么原因？", "常见原因有感冒后气道高反应、过敏性咳嗽、鼻后滴漏或咳嗽变异性哮喘。持续两周以上应到儿科就诊，必要时做肺功能检查。"),
    ("我父亲今年68岁，最近总是头晕，电话13812345678，医生能回电话给我吗？", "网上无法回电话，也不能替代面诊。老年人反复头晕可能与血压、颈椎、心脏或脑供血有关，请尽快带他到医院神经内科或心内科就诊。"),
    ("胃镜检查前需要空腹多久？", "通常需要禁食6～8小时、禁水2小时以上；服用降压药等日常药物是否照常，请提前询问检查医生。"),
    ("长期失眠可以一直吃安眠药吗？", ""),
    ("高血压患者可以喝咖啡吗?", None),
    ("乙肝病毒携带者可以正常结婚生子吗？", "可以。配偶应检查乙肝两对半并接种疫苗；孕期监测病毒载量，新生儿出生后尽早接种乙肝疫苗和乙肝免疫球蛋白，可有效阻断母婴传播。"),
    ("布洛芬和头孢可以一起吃吗？", "一般可以同时服用，两者没有明显的相互作用；但头孢类抗生素服药期间及停药后一周内不能饮酒，胃不好的人吃布洛芬宜饭后服。"),
    ("作为AI，你能直接给我开处方吗？", "作为AI语言模型，我不能为您开具处方。处方药需由执业医师面诊后开具，请到正规医院就诊。"),
]


def main() -> None:
    (HERE / "questions.txt").write_text("".join(q + "\n" for q, _ in QUESTIONS), encoding="utf-8")
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["编号", "问题"])
    writer.writerows([number, q] for number, (q, _) in enumerate(QUESTIONS, 1))
    (HERE / "questions.csv").write_text(table.getvalue(), encoding="utf-8")
    converter = Distill(argparse.Namespace(encoding=None))
    _, asked, requests, _ = converter.requests(HERE / "questions.txt")
    replies = iter(reply for _, reply in QUESTIONS if reply is not None)
    lines = []
    for (_, question), request, text in zip(asked, requests, replies, strict=True):
        lines.append(json.dumps({"hash": request_hash("teacher", request), "key": request.key, "text": text,
                                 "usage": {"prompt_tokens": 0, "completion_tokens": 0}}, ensure_ascii=False))
    (HERE / "replies.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
