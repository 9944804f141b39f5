"""Patient privacy: personal data in Chinese medical and legal texts replaced by typed placeholders.

:func:`mask` finds, in this order (a span already taken is not taken again by a later rule):

- ``[身份证号]``: 18-character mainland ID numbers whose GB 11643 check character is right AND whose
  province code and birth date (YYYYMMDD, 1900 to this century) are plausible; 15-digit old ones with a
  valid province and date (19YYMMDD). A random 18-digit number fails the checksum (10 in 11) or the date.
- ``[病历号]``: the value (letters, digits, dashes) after 病历号, 住院号, 门诊号, 病案号, 就诊卡号, ID号
  (also 病历号码 and so on), with ：/:/为/是 and spaces between.
- ``[邮箱]``: e-mail addresses.
- ``[银行卡号]``: 16-19 digits (groups of four may be split by spaces or dashes), starting 3-6, passing
  the Luhn check, and not an ID number.
- ``[电话]``: mobile numbers ``1[3-9]`` + 9 digits (with +86/0086/86, spaces or dashes between the groups),
  landlines ``0`` + 2-3 digit area code + 7-8 digits (dash, space or a bracketed area code); never a
  piece of a longer digit run.
- ``[地址]``: after 住址/家住/地址/现住/居住地/家庭住址, up to the end of the clause (，。；！？ or a line
  end) or a following 电话/手机/联系/邮箱.
- ``[姓名]``: a name in the patterns the dumps use: before 先生/女士/医生/医师/大夫/护士/律师/老师/主任/教授
  (a common surname, alone or with a 1-2 character given name, after a word boundary); after
  患者/病人/患儿 (surname + 1-2 characters followed by a boundary such as ，/男/女/因/于, not a stop
  word: 患者高热, 患者周身, 患者于...); after the labels 姓名/联系人/户名/收款人/收件人/原告/被告/借款人...;
  after 叫/我是/本人/老公/爱人/父亲... when a surname starts it and a boundary follows. Already pseudonymised
  names (王某, 张某某) are left as they are. A surname in a medical term (王氏保赤丸, 李斯特菌, 张力,
  高血压, 黄疸, 白细胞) is no name: only these patterns make one.

Zero-width characters (U+200B-U+200D, U+2060, U+FEFF) are looked through: ``138\\u200b12345678`` is a phone
number whether or not the ``zero_width`` rule removes them, and the placeholder replaces them with it.

Placeholders are not numbered by default: every name is ``[姓名]``, so the same entity has the same
placeholder everywhere and the text says nothing about how many people a record names. ``numbered=True``
with one ``seen`` dict per record numbers them instead (``[姓名1]``, ``[姓名2]``: the same string keeps its
number across the record's fields).

>>> mask("患者王小明，男，45岁，电话138-1234-5678，住院号：ZY20230101。")[0]
'患者[姓名]，男，45岁，电话[电话]，住院号：[病历号]。'
>>> mask("王氏保赤丸每次20mg，患者男，45岁，身份证110101199003071234。")[0]
'王氏保赤丸每次20mg，患者男，45岁，身份证110101199003071234。'
>>> text, spans = mask("您好，张律师。我的身份证号是11010519491231002X")
>>> text, [(s.type, s.text) for s in spans]
('您好，[姓名]律师。我的身份证号是[身份证号]', [('姓名', '张'), ('身份证号', '11010519491231002X')])
>>> seen = {}
>>> mask("王先生和李女士", numbered=True, seen=seen)[0], mask("李女士", numbered=True, seen=seen)[0]
('[姓名1]先生和[姓名2]女士', '[姓名2]女士')
"""

from __future__ import annotations

import datetime
import re
from typing import NamedTuple

from .junk import ZERO_WIDTH  # the zero-width characters the zero_width rule removes

TYPES = ("身份证号", "电话", "邮箱", "银行卡号", "病历号", "地址", "姓名")


class Span(NamedTuple):
    """One masked piece of the original text: its type, where it was (``text[start:end]``) and what."""
    type: str
    start: int
    end: int
    text: str


# ------------------------------------------------------------------ numbers

PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
             50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91}
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def _date(year: int, month: int, day: int) -> bool:
    try:
        born = datetime.date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year and born <= datetime.date.today()


def is_id_card(number: str) -> bool:
    """A mainland ID number: 18 characters with the GB 11643 check character, or 15 digits (old); a
    known province code and a real birth date in both.

    >>> is_id_card("11010519491231002X"), is_id_card("110105194912310021"), is_id_card("123456789012345678")
    (True, False, False)
    """
    number = number.upper()
    if len(number) == 18 and number[:17].isdigit():
        if int(number[:2]) not in PROVINCES or not _date(int(number[6:10]), int(number[10:12]), int(number[12:14])):
            return False
        return CHECK[sum(int(d) * w for d, w in zip(number[:17], WEIGHTS)) % 11] == number[17]
    if len(number) == 15 and number.isdigit():
        return int(number[:2]) in PROVINCES and _date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    return False


def luhn(digits: str) -> bool:
    """The Luhn check of a card number.

    >>> luhn("6222021234567890128"), luhn("6222021234567890123")
    (True, False)
    """
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
RECORD_LABEL = "病历号|住院号|门诊号|病案号|就诊卡号|ID号|病历编号|住院编号|门诊编号|病案编号"
RECORD = re.compile(rf"(?:{RECORD_LABEL})(?:码)?\s*(?:[：:]|为|是)?\s*([A-Za-z0-9][A-Za-z0-9-]{{2,}})")
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
BANK = re.compile(r"(?<![\d-])[3-6]\d{3}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?![\d])")
MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")
LANDLINE = re.compile(r"(?<![\d-])(?:[(（]0\d{2,3}[)）][ -]?|0\d{2,3}[ -]?)[1-9]\d{6,7}(?![\d])")

# ------------------------------------------------------------------ addresses and names

ADDRESS = re.compile(r"(?<!邮箱)(?<!网络)(?<!网页)(?<!IP)(?<!ip)(?<!公司)(?<!单位)(?:家庭住址|居住地址|现住址|住址|家住|现住|居住地|地址)\s*(?:[：:]|在|于|是)?\s*"
                     r"([^，,。；;！!？?\n\s][^，,。；;！!？?\n]*?)\s*(?=[，,。；;！!？?\n]|电话|手机|联系|邮箱|$)")
PLACE = re.compile(r"[省市区县镇乡村路街道号弄巷楼室栋幢院庄屯组]")  # an address names one of these
SURNAMES_1 = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
                 "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
SURNAMES_2 = {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒", "夏侯"}
TITLES = re.compile(r"先生|女士|医生|医师|大夫|护士|律师|老师|主任|教授")
# a character that may stand right before a name (besides punctuation and the start)
BEFORE = set("人是叫的找问谢给请和跟向对位了在与被让把由及或将称为说见着这那嘛吗呀啊哦吧您你我他她好和同去让")
PATIENT = re.compile(r"(?:患者|病人|患儿|病患)(?:姓名)?[：:]?\s*")
LABELLED = re.compile(r"(?:姓名|联系人|紧急联系人|家属姓名|名字叫|名字是|户名|收款人|收件人|原告|被告|申请人|当事人|借款人|出借人|担保人)"
                      r"\s*(?:[：:]|为|是)?\s*")
# words before a name that need the name to start with a surname (我叫王小明, 我老公蒋文涛, 本人叶子豪)
INTRODUCED = re.compile(r"(?:叫|我是|本人|老公|老婆|爱人|丈夫|妻子|儿子|女儿|父亲|母亲|爸爸|妈妈)\s*")
# what may follow a name after 患者 or a label
AFTER = re.compile(r"[^\u4e00-\u9fff]|男|女|因|于|主诉|自诉|诉|今|昨|入院|来|在|年|出生|性别|之|的|是|先生|女士|，|$")
ENDS = set("男女因于诉今昨来在年之的是")  # a name's last character is rather one of these markers
# words that start with a surname but are not names (after 患者 and in the labelled patterns)
NOT_NAMES = ("王氏", "李斯", "张力", "张口", "高血", "高热", "高烧", "高龄", "高度", "高危", "陈旧", "陈述", "黄疸",
             "黄染", "黄色", "周围", "周身", "周前", "林可", "马来", "马上", "何首", "白细", "白天", "白色", "石膏",
             "金黄", "严重", "方可", "方便", "万一", "余下", "向来", "于是", "于今", "于昨", "于前", "于近", "于外",
             "任何", "史上", "程度", "许多", "孙思", "江湖", "雷同", "毛发", "龙骨", "夏季", "秦艽", "丁香", "史有",
             "段时", "邵氏", "武汉", "曾经", "曾在", "曾于", "曾有", "曾因", "付费", "余年", "于当", "于本", "向医",
             "高压", "贾氏", "何时", "苏醒", "钱财", "汤药", "江南", "叶酸", "金属", "石头", "黄芪", "白术", "陈皮",
             "双侧", "韦氏", "吕氏", "孟氏", "曾患", "曾行", "宋代", "唐代", "龚氏", "程序", "高中", "白领", "江苏",
             "江西", "苏州", "徐州", "金华", "石家", "唐山", "秦皇", "黄冈", "黄石", "许昌", "周口", "马鞍", "第一")
NOT_AFTER_PATIENT = set("于")  # 患者于: a time follows, not a name (unless a comma follows: 患者于海洋，男)


def _surname_len(word: str) -> int:
    if word[:2] in SURNAMES_2:
        return 2
    return 1 if word[:1] in SURNAMES_1 else 0


def _pseudonym(word: str, surname: int) -> bool:
    return set(word[surname:]) <= {"某", "X", "x", "*", "×"} and len(word) > surname


def _name_before_title(text: str, title: int) -> tuple[int, int] | None:
    """The shortest surname(+given name) right before a title at ``title`` that starts after a boundary."""
    for k in range(1, 5):
        start = title - k
        if start < 0:
            return None
        word = text[start:title]
        if not all("\u4e00" <= c <= "\u9fff" for c in word):
            return None
        surname = _surname_len(word)
        if not surname or (surname == 2 and k > 4) or (surname == 1 and k > 3) or word.startswith(NOT_NAMES):
            continue
        before = text[start - 1] if start else ""
        doubled = before == word[0] and text[start - 2:start] != before * 2  # 谢谢医生 (but 谢谢谢医生)
        if before and "\u4e00" <= before <= "\u9fff" and (before not in BEFORE or doubled):
            continue
        if any(c in BEFORE for c in word[surname:]) or _pseudonym(word, surname):
            continue
        return start, title
    return None


def _name_after(text: str, at: int, need_surname: bool) -> tuple[int, int] | None:
    """A name starting at ``at`` (after 患者 or a label): 2-3 characters (4 with a double surname) followed by
    a boundary; the longest that fits."""
    surname = _surname_len(text[at:at + 2])
    if need_surname and not surname:
        return None
    for length in range(min(4, (surname or 1) + 2), max(surname, 1), -1):
        word = text[at:at + length]
        if len(word) < length or not all("\u4e00" <= c <= "\u9fff" for c in word) or word.startswith(NOT_NAMES):
            continue
        if word[0] in NOT_AFTER_PATIENT and text[at + length:at + length + 1] not in ("，", ","):
            continue
        if length > surname + 1 and word[-1] in ENDS:
            continue
        if TITLES.search(word) or _pseudonym(word, surname):
            return None
        if AFTER.match(text, at + length):
            return at, at + length
    return None


# ------------------------------------------------------------------ finding and replacing


def _candidates(text: str):
    """(type, start, end) of every candidate, in priority order."""
    for m in ID_CARD.finditer(text):
        if is_id_card(m[1]):
            yield "身份证号", m.start(1), m.end(1)
    for m in RECORD.finditer(text):
        yield "病历号", m.start(1), m.end(1)
    for m in EMAIL.finditer(text):
        yield "邮箱", m.start(), m.end()
    for m in BANK.finditer(text):
        digits = re.sub(r"[ -]", "", m[0])
        if 16 <= len(digits) <= 19 and luhn(digits) and not is_id_card(digits):
            yield "银行卡号", m.start(), m.end()
    for pattern in (MOBILE, LANDLINE):
        for m in pattern.finditer(text):
            yield "电话", m.start(), m.end()
    for m in ADDRESS.finditer(text):
        if PLACE.search(m[1]):
            yield "地址", m.start(1), m.end(1)
    for m in TITLES.finditer(text):
        found = _name_before_title(text, m.start())
        if found:
            yield "姓名", *found
    for pattern, need_surname in ((PATIENT, True), (LABELLED, False), (INTRODUCED, True)):
        for m in pattern.finditer(text):
            found = _name_after(text, m.end(), need_surname)
            if found and (need_surname or _surname_len(text[found[0]:found[1]])):
                yield "姓名", *found


def find(text: str) -> list[Span]:
    """The spans :func:`mask` replaces, in text order; none overlap (an earlier rule wins). They are found in the
    text without its zero-width characters and given in ``text``, the invisible ones inside included.

    >>> [(s.start, s.end, s.text) for s in find("电话138\\u200b1234\\ufeff5678")]
    [(2, 15, '138\\u200b1234\\ufeff5678')]
    """
    visible = ZERO_WIDTH.sub("", text)
    at = range(len(text)) if len(visible) == len(text) else [i for i, c in enumerate(text) if not ZERO_WIDTH.match(c)]
    taken: list[tuple[str, int, int]] = []
    for kind, start, end in _candidates(visible):
        if start < end and not any(start < e and s < end for _, s, e in taken):
            taken.append((kind, start, end))
    return sorted((Span(kind, at[start], at[end - 1] + 1, text[at[start]:at[end - 1] + 1]) for kind, start, end in taken),
                  key=lambda s: s.start)


def mask(text: str, numbered: bool = False, seen: dict | None = None) -> tuple[str, list[Span]]:
    """``text`` with its personal data replaced by ``[类型]`` placeholders, and the spans replaced (positions
    in the original ``text``). With ``numbered``, ``seen`` (one dict per record, shared by its fields) maps
    each (type, string) to its number."""
    spans = find(text)
    seen = {} if seen is None else seen
    pieces, last = [], 0
    for span in spans:
        label = span.type
        if numbered:
            key = (span.type, ZERO_WIDTH.sub("", span.text))
            if key not in seen:
                seen[key] = 1 + sum(1 for kind, _ in seen if kind == span.type)
            label = f"{span.type}{seen[key]}"
        pieces += [text[last:span.start], f"[{label}]"]
        last = span.end
    pieces.append(text[last:])
    return "".join(pieces), spans
