"""What every part of the bad-input corpus shares: real record shapes, file writers, case helpers.

The corpus is split by area into ``cases_<area>.py`` modules (``cases_base.py``, and one per area
of hardening: inputs, outputs, leaks), each exposing ``CASES`` (a list of :func:`case` entries) and
optionally ``GENERATORS`` (name -> function writing a file at test time). ``build.py`` collects
them into files/ and manifest.json; ``driver.py`` runs a case and says what went wrong;
tests/test_bad_inputs.py runs every case through it.

A case: ``id`` (unique); ``args``, the `lfd` command; ``exit``, the status it must end with;
``expect``, a fragment of what it must print (for exit 1 the one-line error, for exit 0 the count
of a skip such as "skipped 1: ragged row" or of what was written); ``why``, the problem in words;
``data``, the bytes of the corpus file named in args (None: made at test time by ``generate``).
Optional keys: ``extra_files`` {name: bytes} written beside it; ``target_info`` (the corpus file the
output folder's dataset_info.json starts as); ``generate``; ``rename_hex``; ``known_bug``;
``setup`` (a list of earlier `lfd` commands, same placeholders, run first and required to succeed:
for cases about what a second run does to the first one's output); ``leak_check`` (true: after a
convert, no test prompt may be in train, compared after the project's normalization).

Placeholders in ``args``: ``{dir}`` the corpus folder; ``{out}`` a fresh output folder holding a
dataset_info.json that must stay unchanged on error; ``{lf}`` the LLaMA-Factory folder whose data/
is that output folder; ``{tmp}`` a scratch folder. File names of an area start with its prefix
(``in_``, ``out_``, ``leak_``) so areas never write the same file.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

STAMP = (2024, 1, 1, 0, 0, 0)  # zip entries get this date, so rebuilt files are byte-identical
F = "{dir}/files/"

# ---------------------------------------------------------------- real shapes, a few records each

CHIP = [{"text": "左膝退变伴游离体", "normalized_result": "膝骨关节病##膝关节游离体"},
        {"text": "右侧输尿管结石", "normalized_result": "输尿管结石"},
        {"text": "糖尿病肾病", "normalized_result": "2型糖尿病性肾病"}]
MODELSCOPE = [{"instruction": "小儿肥胖超重该如何治疗", "input": "女宝宝，刚7岁，食量非常的大，请问：小儿肥胖超重该如何治疗。",
               "output": "孩子出现肥胖症的情况。家长要通过孩子运功和健康的饮食来缓解他的症状。", "history": None},
              {"instruction": "高血压患者能吃党参吗？", "input": "我有高血压，这两天女婿来的时候给我拿了些党参泡水喝，您好高血压可以吃党参吗？",
               "output": "高血压病人可以口服党参的。党参有降血脂，降血压的作用。", "history": None}]
TOYHOM_HEADER = ["department", "title", "ask", "answer"]
TOYHOM = [["心血管科", "高血压患者能吃党参吗？", "我有高血压，您好高血压可以吃党参吗？", "高血压病人可以口服党参的。"],
          ["内科", "头痛怎么办", "最近经常头痛，\n晚上睡不好。", "注意休息，\r\n必要时就医。"],
          ["外科", "手术后多久能洗澡", "阑尾炎手术后多久能洗澡？", "一般拆线后一周左右。"]]
IMCS_TURN = {"sentence_id": "1", "speaker": "医生", "sentence": "你好", "dialogue_act": "Greet", "symptom_norm": [],
             "symptom_type": [], "local_implicit_info": {}}
REPORT = {"主诉": "咳嗽两天。", "现病史": "患儿咳嗽两天。", "辅助检查": "暂缺。", "既往史": "不详。", "诊断": "上呼吸道感染。",
          "建议": "多喝水。"}
IMCS = {"10626355": {"diagnosis": "上呼吸道感染", "self_report": "宝宝咳嗽怎么办", "explicit_info": {},
                     "dialogue": [IMCS_TURN, {**IMCS_TURN, "sentence_id": "2", "speaker": "患者", "sentence": "孩子咳嗽两天了"}],
                     "report": [REPORT, {**REPORT, "主诉": "咳嗽。"}], "implicit_info": {}}}
HUATUO = [{"instruction": "肝癌的早期症状有哪些？", "input": "", "output": "早期多无明显症状，可有乏力、食欲减退。"},
          {"instruction": "乙肝会传染吗？", "input": "", "output": "会，主要经血液、母婴和性接触传播。"}]
MED_CHATGLM = [{"context": "问题：两岁女童出现发热、呼吸浅而快等症状，治疗措施是什么？\n回答: ", "target": "给予鼻导管吸氧等支持治疗。"},
               {"context": "问题：胃溃疡应该注意什么？\n回答: ", "target": "规律饮食，避免辛辣刺激。"}]
MCMLE = {"question": "经调查证实出现医院感染流行时，医院应报告当地卫生行政部门的时间是（　　）。",
         "options": {"A": "2小时", "B": "4小时内", "C": "12小时内", "D": "24小时内"},
         "answer": "24小时内", "meta_info": "卫生法规", "answer_idx": "D"}
CMEXAM_HEADER = ["Question", "Options", "Answer", "Explanation"]
CMEXAM = [["男，45岁。反复上腹痛3年，最可能的诊断是", "A 胃溃疡\nB 十二指肠溃疡\nC 慢性胃炎", "B", "空腹痛。"],
          ["下列属于糖皮质激素不良反应的有", "A 骨质疏松\nB 低血压\nC 满月脸", "AC", ""]]
ALPACA = [{"instruction": "用一句话介绍北京。", "input": "", "output": "北京是中国的首都。"},
          {"conversations": [{"from": "human", "value": "你好"}, {"from": "gpt", "value": "你好！有什么可以帮你？"}]}]
LAWZHIDAO_HEADER = ["title", "question", "reply", "is_best"]
LAWZHIDAO = [["被**打伤了怎么办？", "", "你好，可以报警处理，要求对方赔偿医疗费。", "1"],
             ["欠款不还怎么办", "朋友借我##万元，\n到期不还，怎么办？", "可以向法院起诉。", "1"]]
DISC = [{"id": "pair_1", "input": "醉酒驾驶机动车应如何处罚？", "output": "构成危险驾驶罪，处拘役，并处罚金。"},
        {"id": "triplet_1", "reference": ["《中华人民共和国刑法》第一百三十三条之一：在道路上驾驶机动车，…"],
         "input": "魏某某醉酒驾驶机动车，应如何处罚？", "output": "魏某某构成危险驾驶罪。"}]
JEC = {"answer": ["A", "B"], "id": "3_8132", "option_list": {"A": "化肥厂可以向市政府申请行政复议",
       "B": "化肥厂可以向甲区政府申请行政复议", "C": "可以申请国务院最终裁决", "D": "应转送市政府"},
       "statement": "甲区环保局和乙区土地局以共同名义作出处罚决定。下列哪项说法正确?", "type": "1"}
DISC_EVAL_HEADER = ["input", "output", "A", "B", "C", "D", "source", "multichoice"]
DISC_EVAL = [["下列哪一选项是正确的？", "D", "甲", "乙", "丙", "丁", "2018 national judical examination", "False"],
             ["下列哪些选项是正确的？", "AB", "甲", "乙", "丙", "丁", "2018 national judical examination", "True"]]
SEED_HEADER = ["专业", "题型", "题目内容", "题目依据条款", "选项", "正确答案"]
SEED_ROWS = [["变电专业", "单选题", "雷雨天气，需要巡视室外高压设备时，应穿（　　）。", "来自安规", "A. 雨鞋,B. 绝缘靴,C. 橡胶鞋,D. 绝缘鞋",
              "B. 绝缘靴"],
             ["变电专业", "判断题", "禁止在只经断路器断开电源的设备上工作。", "来自安规", "A. 正确,B. 错误", "A. 正确"],
             ["变电专业", "多选题", "线路的停、送电均应按照（　　）的指令执行。", "来自安规",
              "A. 值班调控人员,B. 专责监护人,C. 线路工作负责人,D. 线路工作许可人", "A. 值班调控人员,D. 线路工作许可人"]]
PHARMA_HEADER = ["问题", "答案"]
PHARMA = [["药品经营许可证的有效期是几年？", "药品经营许可证有效期为5年。"], ["什么是处方药？", "凭执业医师处方才可购买的药品。"]]
KB = "第一条 药品经营许可证有效期为5年。有效期届满，需要继续经营药品的，应当申请换发。\n第二条 处方药凭执业医师处方购买。\n"
PREDICTION = {"prompt": "<|im_start|>user\n原始词:左膝退变<|im_end|>", "predict": "膝骨关节病", "label": "膝骨关节病"}


# ---------------------------------------------------------------- writers


def jsonl(records) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def array(records, indent=4) -> bytes:
    return json.dumps(records, ensure_ascii=False, indent=indent).encode("utf-8")


def table(header, rows, newline="\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([header, *rows])
    return out.getvalue()


def xlsx(sheets: dict, merged: dict | None = None) -> bytes:
    """A workbook with a sheet per name (rows as lists); ``merged`` maps a sheet to cell ranges to merge."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for cells in (merged or {}).get(title, []):
            sheet.merge_cells(cells)
    book.properties.creator = "build.py"
    raw = io.BytesIO()
    book.save(raw)
    return fixed_dates(raw.getvalue())


def fixed_dates(archive: bytes) -> bytes:
    """The zip with every entry dated STAMP and docProps' timestamps fixed: the same bytes on every build."""
    source, out = zipfile.ZipFile(io.BytesIO(archive)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                for tag in ("dcterms:created", "dcterms:modified"):
                    start = text.find(f"<{tag}")
                    if start >= 0:
                        end = text.index(f"</{tag}>", start)
                        head = text.index(">", start) + 1
                        text = text[:head] + "2024-01-01T00:00:00Z" + text[end:]
                data = text.encode("utf-8")
            target.writestr(zipfile.ZipInfo(info.filename, STAMP), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, STAMP), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def convert(converter: str, file: str, *extra: str) -> list[str]:
    return ["convert", converter, file, "--out-dir", "{out}", *extra]


def evaluate(file: str, *extra: str) -> list[str]:
    return ["eval", file, *extra, "--out", "{out}/report.json"]


def case(case_id: str, data: bytes | None, args: list[str], status: int, expect: str, why: str, **more) -> dict:
    """One manifest entry; ``data`` is written to files/<file named in args> (None: made at test time)."""
    return {"id": case_id, "args": args, "exit": status, "expect": expect, "why": why, "data": data, **more}
