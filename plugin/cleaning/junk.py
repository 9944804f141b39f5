"""Junk in converted records: text rules that change a text, record rules that drop a record.

Text rules (:data:`TEXT_RULES`, applied in this order by :func:`clean_text`; each one counts what it changed):

- ``control``: control characters removed, except ``\\n`` and ``\\t`` (``\\r\\n`` and a lone ``\\r`` become ``\\n``);
- ``zero_width``: U+200B-U+200D, U+2060 and U+FEFF removed;
- ``html``: the tags of a short list of HTML elements (``<br>``, ``<p>``, ``<div>``, ``<span>``, ``<b>``...) and
  comments removed, ``<br>``/``<p>``/``</p>``/``<div>``/``<li>`` becoming line breaks; entities (``&nbsp;``,
  ``&lt;``, ``&#39;``) decoded by :func:`html.unescape` (``&nbsp;`` as a plain space). ``血压<140`` or ``a<b>c``
  with ``b`` no tag name is no tag;
- ``punct``: a run of one punctuation mark (！！！, ？？？, 。。。, ，，, !!!, ~~~) as one mark; the ellipsis …… and
  the dash —— are marks of their own and stay;
- ``url``: http(s):// and www. addresses removed;
- ``ads``: advertisement boilerplate removed: :data:`ADS` (点击咨询, 微信同号, 加微信, 扫码关注..., 咨询热线 or
  免费咨询 with the number after it), with the comma left dangling before a sentence end. Only these phrases
  go, never the sentence around them: the medical text stays.

Record rules (:func:`placeholder`, :func:`echoes`): an answer empty or a placeholder after cleaning
(``empty_answer``: 无, 暂无, 略, 同上, 见图, N/A, 。, …), an answer that only repeats the question
(``echo_answer``: its normalized text equal to the question's, or contained in it and at least 80% as long).

>>> clean_text("血压140/90mmHg，每日3次！……请遵医嘱——谢谢")[0]
'血压140/90mmHg，每日3次！……请遵医嘱——谢谢'
>>> clean_text("多喝水！！！<br>详见 https://a.cn/x?id=1 ，点击咨询。\\u200b")
('多喝水！\\n详见。', {'zero_width': 1, 'html': 1, 'punct': 1, 'url': 1, 'ads': 1})
"""

from __future__ import annotations

import html
import re

TEXT_RULES = ("control", "zero_width", "html", "punct", "url", "ads")
RECORD_RULES = ("empty_answer", "echo_answer")

CONTROL = re.compile(r"\r\n?|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")
TAG_NAMES = ("br|p|div|span|a|b|i|u|s|em|strong|font|img|table|thead|tbody|tr|td|th|ul|ol|li|h[1-6]|hr|sup|sub"
             "|section|article|blockquote|pre|code|center|small|big|label|dl|dt|dd")
ATTRIBUTE = r"""\s+[A-Za-z_:][\w:.-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>=]+))?"""  # name="value" only
TAG = re.compile(rf"<!--.*?-->|</?(?:{TAG_NAMES})(?:{ATTRIBUTE})*\s*/?>", re.IGNORECASE | re.DOTALL)
BREAK = re.compile(r"<(?:br|/?p|/?div|li)\b", re.IGNORECASE)
ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
REPEATED = re.compile(r"([！？。，、；：!?,;~～])\1+")
URL = re.compile(r"[ \t]*(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+[ \t]*")
WORD = re.compile(r"[A-Za-z0-9]")
CONTACT = r"[：:\s]*(?:\[电话\]|[A-Za-z0-9_-]{5,})?"  # the number or ID after it (a phone number is masked first)
ADS = ("点击咨询", "点击链接", "点击查看详情", "在线咨询", "微信同号" + CONTACT, "加微信" + CONTACT,
       "加V信?" + CONTACT, "扫码(?:关注|添加|咨询)[^，。！？!?\n]{0,15}", "咨询热线" + CONTACT, "免费咨询热线" + CONTACT,
       "免费咨询" + r"[：:\s]*(?:\[电话\]|\d[\d-]{4,})")
AD = re.compile("|".join(f"(?:{ad})" for ad in sorted(ADS, key=len, reverse=True)))
DANGLING = re.compile(r"(?<=[。！？!?])\s*[，,、；;：:。]+|\s*[，,、；;：:]\s*(?=[。！？!?]|$)|^\s*[，,、；;。]\s*")
DOUBLED = re.compile(r"([，,、；;])\s*[，,、；;]+")  # 甲，[ad]，乙 -> 甲，乙
PLACEHOLDERS = frozenset({"", "无", "暂无", "略", "同上", "见上", "见图", "如图", "见附件", "na", "null", "none", "无答案",
                          "暂无答案"})


def _break(match: re.Match) -> str:
    return "\n" if BREAK.match(match.group()) else ""


def _entity(match: re.Match) -> str:
    return html.unescape(match.group()).replace("\xa0", " ")


def control(text: str) -> tuple[str, int]:
    """
    >>> control("a\\x00b\\r\\nc\\td\\x1b")
    ('ab\\nc\\td', 3)
    """
    return CONTROL.subn(lambda m: "\n" if m.group()[0] == "\r" else "", text)


def zero_width(text: str) -> tuple[str, int]:
    """
    >>> zero_width("头\\u200b痛\\ufeff")
    ('头痛', 2)
    """
    return ZERO_WIDTH.subn("", text)


def html_junk(text: str) -> tuple[str, int]:
    """
    >>> html_junk("<p>多喝水</p><b>注意</b>：血压&lt;140&nbsp;mmHg，a<b 且 c>d")
    ('多喝水\\n注意：血压<140 mmHg，a<b 且 c>d', 6)
    >>> html_junk("x<y and z>w, 5 &amp 6")
    ('x<y and z>w, 5 &amp 6', 0)
    """
    if "<" not in text and "&" not in text:
        return text, 0
    stripped = text == text.strip()
    text, tags = TAG.subn(_break, text)
    text, entities = ENTITY.subn(_entity, text)
    return (text.strip() if tags and stripped else text), tags + entities  # <p>...</p>: no line break at the ends


def punct(text: str) -> tuple[str, int]:
    """
    >>> punct("疼吗？？？好！！！！嗯。。。。……——1,,2")
    ('疼吗？好！嗯。……——1,2', 4)
    """
    return REPEATED.subn(r"\1", text)


def url(text: str) -> tuple[str, int]:
    """
    >>> url("详见http://www.a.com/p?q=1。或www.b.cn"), url("详见 https://a.cn/x 。see http://x.org for more")
    (('详见。或', 2), ('详见。see for more', 2))
    """
    return URL.subn(_spaced, text)


def _spaced(match: re.Match) -> str:
    """A space where the URL stood between two words (see http://x for), nothing between Chinese characters."""
    before, after = match.string[match.start() - 1:match.start()], match.string[match.end():match.end() + 1]
    return " " if WORD.match(before) and WORD.match(after) and match.group() != match.group().strip() else ""


def ads(text: str) -> tuple[str, int]:
    """
    >>> ads("建议尽早就医，点击咨询。微信同号：[电话]")
    ('建议尽早就医。', 2)
    >>> ads("扫码关注我们的公众号，了解更多"), ads("会加重症状，扫码关注公众号，了解更多")
    (('了解更多', 1), ('会加重症状，了解更多', 1))
    >>> ads("可拨打12320免费咨询卫生政策。咨询时带上病历。")
    ('可拨打12320免费咨询卫生政策。咨询时带上病历。', 0)
    """
    text, n = AD.subn("", text)
    return (DANGLING.sub("", DOUBLED.sub(r"\1", text)), n) if n else (text, 0)


RULE_FUNCTIONS = {"control": control, "zero_width": zero_width, "html": html_junk, "punct": punct, "url": url,
                  "ads": ads}


def clean_text(text: str, rules=TEXT_RULES) -> tuple[str, dict[str, int]]:
    """``text`` after the text rules named in ``rules`` (in :data:`TEXT_RULES` order); {rule: changes} of those
    that changed something. A text a rule changed loses the white space a removal left at its ends.

    >>> clean_text("多休息！！<br>")
    ('多休息！', {'html': 1, 'punct': 1})
    """
    counts = {}
    for rule in TEXT_RULES:
        if rule in rules:
            text, n = RULE_FUNCTIONS[rule](text)
            if n:
                counts[rule] = n
    return (text.strip() if counts else text), counts


def placeholder(answer: str) -> bool:
    """True for an empty answer or one that only holds a placeholder.

    >>> [placeholder(a) for a in ("", " 。", "……", "略", "N/A", "暂无。", "无明显异常", "0")]
    [True, True, True, True, True, True, False, False]
    """
    from ..dedup import normalized

    return normalized(answer).lower() in PLACEHOLDERS


def echoes(answer: str, question: str) -> bool:
    """True when the answer only repeats the question: its normalized text equals the question's, or is in it
    and at least 80% as long (so ``A`` in a question with options, or a short term, is no echo).

    >>> echoes("高血压患者能吃党参吗？", "高血压患者能吃党参吗"), echoes("小儿肥胖超重该如何治疗", "请问：小儿肥胖超重该如何治疗。")
    (True, True)
    >>> echoes("B", "选哪个？A. 甲 B. 乙"), echoes("输尿管结石", "原始词：输尿管结石"), echoes("多休息", "头痛怎么办")
    (False, False, False)
    """
    from ..dedup import normalized

    said, asked = normalized(answer), normalized(question)
    if not said or not asked:
        return False
    return said == asked or (len(said) >= 4 and said in asked and len(said) >= 0.8 * len(asked))
