"""Multiple-choice questions, the shape every exam converter shares: parse, check, render.

A :class:`Question` holds the question text, its options in letter order and the answer letters
(sorted, ``"ACD"``). ``Question.build`` makes one from raw values and raises ``Skip`` with a counted
reason for an unusable record; ``Question.example`` renders it::

    instruction: 以下是一道单选题，只有一个正确答案。
                 经调查证实出现医院感染流行时，医院应报告当地卫生行政部门的时间是（　　）。
                 A. 2小时
                 B. 4小时内
                 C. 12小时内
                 D. 24小时内
                 请直接给出正确答案的字母。
    output:      D
    extra:       {"options": {"A": "2小时", …, "D": "24小时内"}, "answer": "D", "question_type": "single"}

``extra`` travels in the test record, so the `choice` evaluator reads the options and answer from
there; its ``question_type`` is "multi" for a 多选题 or several answer letters, else "single".

Kinds: ``single`` (单选), ``multi`` (多选), ``indefinite`` (不定项: one or more answers, for sources
that do not say which, so the prompt does not leak the answer count) and ``judge`` (判断: options
A. 正确 / B. 错误, see :func:`true_false`).

Option order: :meth:`Question.reordered` and :meth:`Question.rotated` move the options (answer
letters follow); :func:`refers_to_others` tells options whose meaning depends on the others
(以上都对, "A和B") from ordinary ones ("35kV及以上"); :class:`ChoiceExample` keeps the question of an
example, for ``--shuffle-options`` and ``--circular`` (:mod:`.circular`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields

from .io.rows import Skip
from .records import Example, text_of

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
HEADERS = {
    "single": "以下是一道单选题，只有一个正确答案。",
    "multi": "以下是一道多选题，请选出所有正确答案。",
    "indefinite": "以下是一道不定项选择题，正确答案可能有一个或多个。",
    "judge": "以下是一道判断题，请判断下面的说法是否正确。",
}
ASK_ONE = "请直接给出正确答案的字母。"
ASK_ALL = "请直接给出所有正确答案的字母，按字母顺序连写。"
# question-type labels of Chinese exams -> kind
KIND_LABELS = {
    "单项选择题": "single", "单选题": "single", "单选": "single", "最佳选择题": "single",
    "多项选择题": "multi", "多选题": "multi", "多选": "multi",
    "不定项选择题": "indefinite", "不定项": "indefinite",
    "判断题": "judge", "判断": "judge",
}
JUDGE_OPTIONS = {"A": "正确", "B": "错误"}
TRUE_WORDS = {"正确", "对", "是", "√", "✓", "T", "TRUE", "Y", "YES"}
FALSE_WORDS = {"错误", "错", "否", "×", "✗", "F", "FALSE", "N", "NO"}
# an option letter opening a line ("A. x", "A、x", "A x") or following a comma/semicolon ("…,B. x")
MARKER = re.compile(
    r"(?:^|\n)[ \t　]*(?P<line>[A-ZＡ-Ｚ])(?:[ \t　]*[.．、:：)）]|[ \t　])"
    r"|[,，;；][ \t　]*(?P<inline>[A-ZＡ-Ｚ])[ \t　]*[.．、:：)）]"
)


CJK = r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff01-\uff5e]"  # Chinese characters and full-width punctuation
WRAPPED = re.compile(rf"(?<={CJK})[ \t\u3000]*[\r\n]\s*(?={CJK})")  # a line wrapped inside Chinese text
SKIPPED_LETTERS = 2  # a marker this many letters past the expected one is an option whose letter was skipped


def kind_of(label) -> str | None:
    """The kind of a question-type label, None when unknown.

    >>> kind_of("多项选择题"), kind_of(" 判断题 "), kind_of("案例分析题")
    ('multi', 'judge', None)
    """
    return KIND_LABELS.get(label.strip()) if isinstance(label, str) else None  # a JSON list or true: unknown


def answer_letters(value) -> str:
    """Answer letters as a sorted string from "BA", "A,B", "Ａ、Ｂ" or ["B", "A"]; "" when empty.

    >>> answer_letters("D"), answer_letters(" c、a "), answer_letters(["B", "A"]), answer_letters(None)
    ('D', 'AC', 'AB', '')
    >>> answer_letters("24小时内")
    Traceback (most recent call last):
    llamafactory_domains.plugin.io.rows.Skip: answer is not option letters
    """
    text = "".join(map(text_of, value)) if isinstance(value, (list, tuple)) else text_of(value)
    letters = re.sub(r"[\s,、;/|]+", "", unicodedata.normalize("NFKC", text)).upper()
    if not (letters.isascii() and letters.isalpha()) and letters:
        raise Skip("answer is not option letters")
    return "".join(sorted(set(letters)))


def options_from_mapping(mapping: Mapping) -> dict[str, str]:
    """Options keyed by letter, in letter order; empty ones (CMB pads with "") are dropped.

    A line break between two Chinese characters is a wrapped line (PDF extracts, CMExam), joined
    without a space; other whitespace becomes one space.

    >>> options_from_mapping({"B": " 浸润性\\n肺结核", "a": "小叶型肺炎", "E": "", "C": "拒绝支\\n 付报酬 (2\\n次)"})
    {'A': '小叶型肺炎', 'B': '浸润性肺结核', 'C': '拒绝支付报酬 (2 次)'}
    """
    options = {}
    for key, value in mapping.items():
        letter = unicodedata.normalize("NFKC", text_of(key)).rstrip(".").upper()
        if len(letter) != 1 or letter not in LETTERS:
            raise Skip("option key is not a letter")
        text = " ".join(WRAPPED.sub("", text_of(value)).split())
        if text:
            options[letter] = text
    return dict(sorted(options.items()))


def options_from_text(text) -> dict[str, str]:
    """Options written in one text: one a line ("A 文本", "A. 文本") or joined ("A. 雨鞋,B. 绝缘靴").

    Letters must come in order (A, B, C…), so a letter inside an option's text is not taken for a
    new option; a line without a letter continues the option above. A marker one or two letters
    past the next one (A, B, D, E) means a lost option: the record is skipped, not merged into B.
    Options separated by a literal backslash-n (``\\n`` as two characters, as some CMExam xlsx
    exports have them) are read as lines.

    >>> options_from_text("A 急性肾盂肾炎\\nB 膀胱炎\\n  伴血尿\\nC 维生素B、C缺乏")
    {'A': '急性肾盂肾炎', 'B': '膀胱炎伴血尿', 'C': '维生素B、C缺乏'}
    >>> options_from_text("A. 雨鞋,B. 绝缘靴，C．绝缘手套")
    {'A': '雨鞋', 'B': '绝缘靴', 'C': '绝缘手套'}
    >>> options_from_text(r"A 胃溃疡\\nB 十二指肠溃疡\\nC 慢性胃炎")
    {'A': '胃溃疡', 'B': '十二指肠溃疡', 'C': '慢性胃炎'}
    >>> options_from_text("A 胃溃疡\\nB 十二指肠溃疡\\nD 胃癌\\nE 慢性胃炎")
    Traceback (most recent call last):
    llamafactory_domains.plugin.io.rows.Skip: options skip a letter
    """
    text = text_of(text)
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\r\\n", "\n").replace("\\n", "\n")
    marks: list[tuple[str, int, int]] = []  # (letter, start, end) of each option's marker
    for match in MARKER.finditer(text):
        letter = unicodedata.normalize("NFKC", match["line"] or match["inline"])
        if len(marks) < len(LETTERS) and letter == LETTERS[len(marks)]:
            marks.append((letter, match.start(), match.end()))
        elif marks and 0 < LETTERS.find(letter) - len(marks) <= SKIPPED_LETTERS:  # "D 胃癌" right after B
            raise Skip("options skip a letter")
    if not marks or text[: marks[0][1]].strip():
        raise Skip("options are not lettered (A. … B. …)")
    ends = [start for _, start, _ in marks[1:]] + [len(text)]
    return options_from_mapping({letter: text[end:stop] for (letter, _, end), stop in zip(marks, ends)})


def letter_of(options: Mapping[str, str], answer_text) -> str:
    """The letter of the option whose text is ``answer_text`` (for sources that give the text).

    >>> letter_of({"A": "2小时", "B": "4小时内"}, " 4小时内")
    'B'
    """
    wanted = " ".join(text_of(answer_text).split())
    for letter, text in options.items():
        if text == wanted:
            return letter
    raise Skip("answer text not among the options")


@dataclass(frozen=True)
class Question:
    """A checked multiple-choice question: ``answer`` holds sorted letters that are all options."""

    text: str
    options: dict[str, str]
    answer: str
    kind: str = "single"

    @classmethod
    def build(cls, text, options: Mapping[str, str], answer, kind: str | None = None) -> Question:
        """Checks raw parts; ``kind`` is a kind, a label like 多项选择题, or None for 不定项.

        >>> q = Question.build("下列属于国家赔偿范围的是？", {"A": "医疗费", "B": "抚慰金", "C": "残疾赔偿金"}, "C,A", "多项选择题")
        >>> q.answer, q.kind
        ('AC', 'multi')
        >>> print(q.example().instruction)
        以下是一道多选题，请选出所有正确答案。
        下列属于国家赔偿范围的是？
        A. 医疗费
        B. 抚慰金
        C. 残疾赔偿金
        请直接给出所有正确答案的字母，按字母顺序连写。
        >>> Question.build("此男孩可能患", {"A": "肺炎", "B": "肺结核"}, "E", "单项选择题")
        Traceback (most recent call last):
        llamafactory_domains.plugin.io.rows.Skip: answer letter not among the options
        """
        text = text_of(text)
        if not text:
            raise Skip("empty question")
        if len(options) < 2:
            raise Skip("fewer than two options" if options else "no options")
        letters = answer_letters(answer)
        if not letters:
            raise Skip("no answer")
        if any(letter not in options for letter in letters):
            raise Skip("answer letter not among the options")
        kind = kind if isinstance(kind, str) and kind in HEADERS else kind_of(kind) or "indefinite"
        if kind in ("single", "judge") and len(letters) > 1:
            raise Skip("several answers to a single-answer question")
        return cls(text, dict(options), letters, kind)

    def example(self) -> Example:
        """The prompt lists the options one per line and asks for the letters; output = the letters."""
        ask = ASK_ONE if self.kind in ("single", "judge") else ASK_ALL
        lines = [HEADERS[self.kind], self.text, *(f"{k}. {v}" for k, v in self.options.items()), ask]
        extra = {"options": dict(self.options), "answer": self.answer,
                 "question_type": "multi" if self.kind == "multi" or len(self.answer) > 1 else "single"}
        return Example(instruction="\n".join(lines), output=self.answer, extra=extra)

    def reordered(self, order) -> Question:
        """The question with old option ``order[j]`` (an index into the options) as its j-th option,
        lettered A, B, C…; the answer letters follow their options and are sorted.

        >>> q = Question.build("应穿？", {"A": "雨鞋", "B": "绝缘靴", "C": "橡胶鞋", "D": "绝缘手套"}, "BD", "multi")
        >>> r = q.reordered((3, 1, 0, 2))
        >>> r.options, r.answer
        ({'A': '绝缘手套', 'B': '绝缘靴', 'C': '雨鞋', 'D': '橡胶鞋'}, 'AB')
        """
        old = list(self.options.items())
        options = {LETTERS[j]: old[i][1] for j, i in enumerate(order)}
        answer = "".join(LETTERS[j] for j, i in enumerate(order) if old[i][0] in self.answer)
        return Question(self.text, options, answer, self.kind)

    def rotated(self, r: int) -> Question:
        """Cyclic rotation as OpenCompass's CircularEval: with n options, new slot j shows old option
        (j + r) mod n; rotation 0 (or n) is the question itself.

        >>> q = Question.build("应穿？", {"A": "雨鞋", "B": "绝缘靴", "C": "橡胶鞋", "D": "绝缘手套"}, "B")
        >>> q.rotated(1).options, q.rotated(1).answer, q.rotated(3).answer
        ({'A': '绝缘靴', 'B': '橡胶鞋', 'C': '绝缘手套', 'D': '雨鞋'}, 'A', 'C')
        >>> q.rotated(4) is q
        True
        """
        n = len(self.options)
        if r % n == 0:
            return self
        return self.reordered(tuple((j + r) % n for j in range(n)))


def true_false(statement, answer) -> Question:
    """A 判断题 as two options, A. 正确 / B. 错误; ``answer`` is 正确/错误, 对/错, √/×, T/F….

    >>> q = true_false("工作票签发人可以兼任该项工作的工作负责人。", "错误")
    >>> print(q.example().instruction)
    以下是一道判断题，请判断下面的说法是否正确。
    工作票签发人可以兼任该项工作的工作负责人。
    A. 正确
    B. 错误
    请直接给出正确答案的字母。
    >>> q.example().output
    'B'
    """
    word = unicodedata.normalize("NFKC", text_of(answer)).upper()
    if word in TRUE_WORDS:
        letter = "A"
    elif word in FALSE_WORDS:
        letter = "B"
    else:
        raise Skip("true/false answer is neither 正确 nor 错误")
    return Question.build(statement, JUDGE_OPTIONS, letter, "judge")


# --- options that refer to other options, option order, circular (rotated) variants -------------

# a word pointing back at the options: 以上/上述/其他 (not "35kV及以上", "1000V以上": those are followed
# by nothing or by an ordinary word), then a quantifier or a word for options/answers
_BACK = r"(?:以上|以下|上述|前述|上面|前面|其他|其它|其余)"
_QUANTIFIER = r"(?:都|均|全|皆|各|所有|几|[两二三四五六七八九十\d]+\s*[项个种者条点])"
_SAID = r"(?:选项|答案|说法|观点|表述|叙述|描述|几项|各项|内容)"
# a list of option letters ("A和B", "A、B", "A+C"): at the start, or followed by a verdict; letters
# written together ("ABC") only as the whole option or before a verdict ("AB型" is a blood group)
_LETTER_LIST = r"(?<![A-Za-z0-9])[A-L](?:\s*(?:和|与|及|或|、|,|，|\+|/|&)\s*[A-L])+(?![A-Za-z0-9])"
_LETTERS_TOGETHER = r"^[A-L]{2,}"
_VERDICT = r"(?:都|均|全|皆|正确|错误|对|错|是|不是|选项|项|说法|两项|三项|皆非)"
REFERS = re.compile(
    rf"{_BACK}的?(?:{_QUANTIFIER}|{_SAID})"  # 以上都对, 以上均不正确, 上述说法都对, 以上三项, 其他选项
    rf"|^{_BACK}$"  # the option "以上"
    r"|^(?:都|均|皆|全都|全部?)不?(?:对|错|正确|错误|是|非|可以?|有|符合|适用|成立|包括|需要?|应)"  # 都不对, 全对
    r"|^[两二三四五六七八九]者|^前[两二三四五六七八九\d]+\s*[项个种者条]"  # 两者都是, 前三项
    rf"|^{_LETTER_LIST}|{_LETTER_LIST}\s*{_VERDICT}"  # A和B, A、B均正确, B和C都对
    rf"|{_LETTERS_TOGETHER}(?:$|\s*{_VERDICT})"  # ABC, AB都对
    r"|(?:选项|答案)\s*[A-L](?![A-Za-z])|(?<![A-Za-z])[A-L]\s*(?:选项|项)"  # 同选项A, A项
    r"|\b(?:all|none|both|neither|either)\b.{0,20}\b(?:above|below|these|them|others|options)\b"
    r"|\bboth\s+[A-L]\s+and\s+[A-L]\b|^[A-L]\s+(?:and|or|&)\s+[A-L]\b",
    re.IGNORECASE,
)


def refers_to_others(option) -> bool:
    """Whether an option's meaning depends on the other options or their letters/places, so it
    changes when the options are reordered: 以上都对, 都不对, "A和B", "ABC", "all of the above"…
    Ordinary options that merely contain 以上/以下 ("35kV及以上", "1000V以上") are not.

    >>> [refers_to_others(t) for t in ("以上都对", "以上均不正确", "上述说法都对", "都不对", "均正确", "以上三项")]
    [True, True, True, True, True, True]
    >>> [refers_to_others(t) for t in ("A和B", "A、B均正确", "ABC", "B和C都对", "All of the above", "none of these")]
    [True, True, True, True, True, True]
    >>> [refers_to_others(t) for t in ("35kV及以上", "1000V以上", "1000V及其以上", "10KV及以下", "全部停电", "均压环")]
    [False, False, False, False, False, False]
    >>> [refers_to_others(t) for t in ("维生素B、C缺乏", "ACTH升高", "AB型", "其他人员", "以上级调度指令为准")]
    [False, False, False, False, False]
    """
    text = " ".join(unicodedata.normalize("NFKC", text_of(option)).split())
    return bool(REFERS.search(text))


def options_refer(question: Question) -> bool:
    """Whether any option of ``question`` refers to others (:func:`refers_to_others`): its order is kept.

    >>> options_refer(Question.build("应穿？", {"A": "雨鞋", "B": "绝缘靴", "C": "以上都对"}, "C"))
    True
    """
    return any(refers_to_others(text) for text in question.options.values())


@dataclass
class ChoiceExample(Example):
    """An example of a choice question; keeps the question (not written) so that it can be reordered
    (``--shuffle-options``) or rotated (``--circular``)."""

    question: Question | None = None


def with_question(example: Example, question: Question) -> ChoiceExample:
    """``example`` (the rendering of ``question``) as a :class:`ChoiceExample` that keeps the question.

    >>> q = Question.build("应穿？", {"A": "雨鞋", "B": "绝缘靴"}, "B")
    >>> kept = with_question(q.example(), q)
    >>> kept.question is q, kept.instruction == q.example().instruction
    (True, True)
    """
    return ChoiceExample(**{f.name: getattr(example, f.name) for f in fields(Example)}, question=question)
