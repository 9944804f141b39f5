"""Writes the bundled `lfd clean` samples, alpaca records as `lfd convert` writes them: ``dialogues.jsonl``
(personal data to mask) and ``web_qa.jsonl`` (junk from a web Q&A dump: HTML, ads, URLs, repeated
punctuation, invisible characters, a placeholder answer, an echoed question, a near-duplicate).

Doctor-patient dialogues, IMCS-style reports and a legal answer, written for this project, with made-up
personal data: the people, numbers and addresses do not exist. The ID and card numbers get their check
digits here (GB 11643, Luhn), so they look like real ones. Run from the repo root:
    .venv/bin/python data/samples/clean/build.py
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_card(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def card(first: str) -> str:
    for d in "0123456789":
        digits = first + d
        total = sum((n * 2 - 9 if n * 2 > 9 else n * 2) if i % 2 else n
                    for i, n in enumerate(int(c) for c in reversed(digits)))
        if total % 10 == 0:
            return digits
    raise AssertionError


ID1, ID2 = id_card("11010519800315123"), id_card("44030619920708321")
CARD = card("622202123456789012")
INSTRUCTION = "请根据患者的描述给出建议。"
RECORDS = [
    (INSTRUCTION, "医生你好，我叫王小明，电话13812345678，最近总是头痛，晚上睡不好。",
     "头痛伴失眠可能与紧张、睡眠不足有关，建议规律作息，必要时到神经内科就诊。"),
    (INSTRUCTION, "大夫您好，我是李建国的家属，联系电话139-0123-4567。他有高血压，每次吃硝苯地平20mg，血压还是150/95。",
     "建议家属带患者复诊，由医生调整降压方案，不要自行加量。"),
    (INSTRUCTION, "张医生您好，我上周看过门诊，门诊号：MZ2023110801，化验单能发到wangxm1990@163.com吗？",
     "您好，化验结果请在医院公众号查询，或凭就诊卡到自助机打印。"),
    ("根据以下病历写出诊断。", f"患者孙志强，男，52岁，身份证号{ID1}，住院号ZY-0098123。因“胸闷气短2年，加重1周”入院。"
     "家住北京市朝阳区望京街1号，紧急联系人：赵丽华，手机150 1234 5678。",
     "初步诊断：慢性心力衰竭急性加重，建议完善心脏彩超和BNP。"),
    ("根据以下病历写出诊断。", "患者男，45岁，因反复上腹痛3年入院。既往体健，王氏保赤丸服用史（儿时）。白细胞12.5×10^9/L。",
     "初步诊断：消化性溃疡？建议胃镜检查。"),
    ("根据以下病历写出诊断。", "患儿吴一鸣，男，5岁，病案号：BA-77120。3天前无明显诱因出现发热，最高体温39.2℃，伴咳嗽。",
     "初步诊断：急性上呼吸道感染，对症退热，观察病情变化。"),
    ("请回答以下法律问题。", f"您好，张律师，我叫马晓东，身份证号码{ID2}，工资卡{CARD}，公司三个月没发工资了。",
     "您好，马先生，拖欠工资可以向当地劳动监察大队投诉，或申请劳动仲裁，仲裁不收费。"),
    (INSTRUCTION, "医生，孩子3岁，体重14kg，发烧38.5度，布洛芬混悬液每次吃多少？",
     "布洛芬混悬液按每次5-10mg/kg计算，两次间隔不少于6小时，24小时不超过4次。"),
]


ANSWER = ("高血压患者可以适量用党参泡水，党参有一定的降压作用，但不能代替降压药。"
          "请继续按时服用医生开的药，每天早晚各测一次血压，如有头晕、胸闷要及时就医。"
          "另外要注意低盐饮食，少吃腌制食品，适当运动，保证睡眠，戒烟限酒，定期复查肝肾功能和血脂。")
WEB_QA = [
    ("高血压患者能吃党参吗？", "我有高血压，女婿拿了些党参泡水喝，可以吗？", f"<p>{ANSWER}</p>"),
    ("小孩发烧怎么办", "", "体温超过38.5℃可以用退烧药！！！<br>1. 多喝温水；<br>2. 物理降温。点击咨询，微信同号：13912345678"),
    ("胃疼吃什么药", "", "\u200b胃疼原因很多，先明确诊断再用药。详见 https://example.com/wei?id=12 。\x07"),
    ("血压高的标准是什么", "", "血压140/90mmHg以上即为高血压，每日3次！……请遵医嘱——按时复查。"),
    ("糖尿病能吃西瓜吗", "", "暂无"),
    ("请问：小儿肥胖超重该如何治疗", "", "小儿肥胖超重该如何治疗？"),
    ("高血压患者能吃党参吗", "我有高血压，女婿拿了些党参泡水喝，可以吗", ANSWER.replace("各测", "各量")),
    ("感冒了能喝酒吗", "", "不建议。感冒期间饮酒会加重症状&amp;影响药效，扫码关注我们的公众号，了解更多健康知识。"),
]


def main() -> None:
    for name, records in (("dialogues.jsonl", RECORDS), ("web_qa.jsonl", WEB_QA)):
        with open(HERE / name, "w", encoding="utf-8", newline="\n") as f:
            for instruction, text, output in records:
                f.write(json.dumps({"instruction": instruction, "input": text, "output": output}, ensure_ascii=False)
                        + "\n")


if __name__ == "__main__":
    main()
