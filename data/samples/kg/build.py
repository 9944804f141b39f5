"""Writes the bundled kg_qa (`lfd synth`) sample: knowledge-graph facts and a teacher's recorded replies.

``cmekg_triples.csv`` holds head/relation/tail facts in the shape CMeKG-style exports take (written by
this project, not taken from CMeKG); ``cmekg_entities.json`` the same facts entity-centred. ``replies.jsonl``
is a request cache (plugin/endpoint.py's format) holding, for each request `lfd synth` makes of the CSV
with its defaults and ``--model teacher``, a reply written here by hand, so the example runs offline and
sends nothing:
    lfd synth data/samples/kg/cmekg_triples.csv --api-base http://127.0.0.1:8000/v1 --model teacher \\
        --request-cache data/samples/kg/replies.jsonl --out-dir data
Run from the repo root:
    .venv/bin/python data/samples/kg/build.py
"""

import argparse
import csv
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "editable"))

from llamafactory_domains.converters.kg_qa import KgQa  # noqa: E402
from llamafactory_domains.plugin.endpoint import request_hash  # noqa: E402

FACTS = {
    "肝癌": [("药物治疗", "索拉非尼"), ("药物治疗", "仑伐替尼"), ("症状", "肝区疼痛"), ("检查", "甲胎蛋白")],
    "高血压": [("药物治疗", "氨氯地平"), ("症状", "头晕"), ("并发症", "脑卒中")],
    "2型糖尿病": [("药物治疗", "二甲双胍"), ("症状", "多饮多尿"), ("检查", "糖化血红蛋白")],
}
# the teacher's replies: pairs grounded in the facts, and one that names none (dropped by the lexical check)
REPLIES = {
    "肝癌": [("肝癌可以用哪些药物治疗？", "肝癌的药物治疗可选用索拉非尼或仑伐替尼，需在医生指导下使用。"),
             ("肝癌有哪些常见症状？", "肝癌常见症状有肝区疼痛，晚期可出现消瘦、乏力。"),
             ("肝癌要做什么检查？", "可以检查甲胎蛋白，并结合影像学检查。")],
    "高血压": [("高血压常用什么药？", "常用药物有氨氯地平，应坚持规律服药。"),
               ("高血压会引起什么并发症？", "长期血压控制不好可引起脑卒中。"),
               ("高血压患者可以喝酒吗？", "最好不要饮酒。")],
    "2型糖尿病": [("2型糖尿病首选什么药？", "通常首选二甲双胍。"),
                 ("2型糖尿病有什么症状？", "典型症状是多饮多尿、多食和体重下降。"),
                 ("怎么判断血糖控制得好不好？", "可以查糖化血红蛋白，它反映近两三个月的平均血糖。")],
}


def main() -> None:
    rows = [(head, relation, tail) for head, facts in FACTS.items() for relation, tail in facts]
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["head", "relation", "tail"])
    writer.writerows(rows)
    (HERE / "cmekg_triples.csv").write_text(table.getvalue(), encoding="utf-8")
    entities = [{"entity": head, "关系": {rel: [t for r, t in facts if r == rel] for rel, _ in facts}}
                for head, facts in FACTS.items()]
    (HERE / "cmekg_entities.json").write_text(json.dumps(entities, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    converter = KgQa(argparse.Namespace(pairs=3, facts_per_request=8, temperature=0.0, template=None, encoding=None))
    groups, requests = converter.requests(HERE / "cmekg_triples.csv")
    lines = []
    for (entity, _, _), request in zip(groups, requests):
        text = json.dumps([{"question": q, "answer": a} for q, a in REPLIES[entity]], ensure_ascii=False)
        lines.append(json.dumps({"hash": request_hash("teacher", request), "key": request.key, "text": text,
                                 "usage": {"prompt_tokens": 0, "completion_tokens": 0}}, ensure_ascii=False))
    (HERE / "replies.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
