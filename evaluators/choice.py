"""Choice questions: the letters a model chose, scored against the answer letters.

Extraction tries, in order, and stops at the first stage that finds an answer:

1. the whole reply is letters: ``B``, ``(A)``, ``【D】``, ``A、C``, ``ac``;
2. explicit markers, the last one that yields letters: answer markers (``答案：B``, ``正确答案为 B。``,
   ``答案是AC``, ``The answer is (B)``), else choice markers (``选C``, ``I choose b``); an option's
   text or 正确/错误 after the marker counts too (``答案是绝缘靴``);
3. a leading letter: ``B. 绝缘靴``, ``AC。解析…``, or lines ``A. 雨鞋`` / ``C. 绝缘手套`` that repeat
   options (lines going through every option with comments are an analysis, not a choice);
4. the reply is an option's text (or several joined by 、 , ;);
5. judge questions (options 正确/错误, 对/错…): the first 正确/错误-like word (不正确 counts as 错误);
6. standalone capital letters in the text, when they form one group (``我认为是B``; not ``A不对，B对``);
7. the one option whose text the reply contains.

Only the question's option letters count (from the record, else read from the prompt, else A–E
plus the answer's letters). A letter inside a word does not count: ``DNA``, ``ABO血型``, ``B超``,
``维生素B12``, ``ACE inhibitors``, the article in ``A patient…`` (a letter right before Chinese text
counts only when that text is the option's: ``B绝缘靴``). Lower-case letters count only where they
cannot be prose: the whole reply, after a marker, in a leading ``a.``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import ClassVar

from ..plugin.io.rows import Skip
from ..plugin.mcq import FALSE_WORDS, TRUE_WORDS, answer_letters
from .base import Evaluator, Prediction, register_evaluator

KEYS = ("choice_accuracy", "choice_partial_credit", "choice_no_answer_rate")
NOT_CHOICE = ("fill", "open")  # record question_types that are not choice questions
FALLBACK_LETTERS = "ABCDE"  # valid letters when the options are unknown (plus the answer's letters)
# Chinese characters that may follow a standalone letter (A和C, B是, C项正确, A不对) but not one inside a
# word (B超, A型, X线): only after a marker and in running text, not for a leading letter
LINKS = "和及与或是为都均对错正不项选最更较也的了吧呢啊"

ENDS = " \t\r\n.。,，;；:!！?？()[]【】「」<>《》\"'“”‘’、*"
OPENING = re.compile(r"[\s(\[【「<《\"'“‘*)\]】」>》]*")  # also closing ones: 【答案】D
RUN = re.compile(r"[A-Za-z]+")
SPACES = re.compile(r"\s*")
GROUP_SEP = re.compile(r"[ \t]*(?:[,、/&]|以及|和|及|与|\band\b)?[ \t]*", re.IGNORECASE)  # not across lines
CLAUSE_END = re.compile(r"[。\n;；,，!！?？]")
SPLIT_TEXTS = re.compile(r"\s*(?:[、,;\n]|以及|和|及)\s*")
# answer markers outrank choice markers: in "答案：B。若选A则……" the answer is B
ANSWER_MARKERS = re.compile(
    r"答案?\s*(?:应该|应当|应|可能|即|就)?\s*(?:是|为|选择|选)?\s*:?\s*(?:选项)?"
    r"|\b(?:answer|option|choice)\s*(?:is|would\s+be|should\s+be|:)\s*(?:option\s*)?",
    re.IGNORECASE,
)
CHOICE_MARKERS = re.compile(r"选择?(?![项出择])\s*:?\s*|\b(?:choose|pick|select)\s*(?:option\s*)?", re.IGNORECASE)
LETTERED_LINE = re.compile(r"[ \t]*([A-Z])[ \t]*[.、:)][ \t]*(\S.*?)[ \t]*$", re.MULTILINE)
LETTER_LABEL = re.compile(r"[A-Z](?:[\s,、;/]*[A-Z])*")
# judge words: negated "true" first, so 不正确 is read as 错误 and not as 正确
JUDGE_WORD = re.compile(
    r"(?P<false>不正确|不是正确|不对|不成立|错误|是错的|错的|[×✗✘]|\b(?:false|incorrect|wrong)\b)"
    r"|(?P<true>正确|成立|是对的|[√✓✔]|\b(?:true|correct)\b)",
    re.IGNORECASE,
)
NOT_JUDGE = re.compile(r"正确答案|是否正确|正确与否|是否|对错|correct\s+answer", re.IGNORECASE)


def normalize(text: str) -> str:
    """NFKC (full-width letters and punctuation become ASCII), whitespace runs as one space."""
    return re.sub(r"[ \t\u3000]+", " ", unicodedata.normalize("NFKC", text)).strip()


def key(text: str) -> str:
    """Text as compared with an option's text: no spaces, no end punctuation, case-folded."""
    return "".join(normalize(text).split()).strip(ENDS).casefold()


@dataclass(frozen=True)
class Mode:
    """How a letter must stand to count."""

    lower: bool  # lower-case letters count (when no English word follows)
    prose_guard: bool  # "A patient", "ACE inhibitors": an English word follows, so not letters
    linked: bool  # a LINKS character may follow (A和C, B是)
    max_run: int = 26  # longest run read as letters ("ACD")


MARKED = Mode(lower=True, prose_guard=False, linked=True)  # the whole reply, or after a marker
LEADING = Mode(lower=False, prose_guard=True, linked=False)
LEADING_LOWER = Mode(lower=True, prose_guard=True, linked=False)  # "b. 绝缘靴"
RUNNING = Mode(lower=False, prose_guard=True, linked=True, max_run=1)  # in running text


def judge_letters(options: dict[str, str]) -> tuple[str, str] | None:
    """(letter of the "true" option, letter of the "false" one) of a true/false question, else None."""
    words = {letter: text.upper() for letter, text in options.items()}
    true = [letter for letter, word in words.items() if word in TRUE_WORDS]
    false = [letter for letter, word in words.items() if word in FALSE_WORDS]
    return (true[0], false[0]) if len(words) == len(true) + len(false) == 2 and true and false else None


class Reader:
    """Reads the chosen letters out of replies to one question (its options, or none known)."""

    def __init__(self, options: dict[str, str] | None = None, valid: str | None = None):
        self.texts = {letter: normalize(text) for letter, text in (options or {}).items()}
        self.valid = set(valid or self.texts or FALLBACK_LETTERS)
        self.by_key = {key(text): letter for letter, text in self.texts.items() if key(text)}
        self.judge = judge_letters(self.texts)
        self.longest = max(map(len, self.texts.values()), default=0)

    def extract(self, predict: str) -> str:
        """The sorted letters chosen in ``predict``; "" when no answer is found."""
        text = normalize(predict)
        stages = (self.whole, self.marked, self.leading, self.text_answer, self.judged, self.standalone,
                  self.contained)
        return next((letters for stage in stages if text and (letters := stage(text))), "")

    def ends_cleanly(self, text: str, start: int, end: int, mode: Mode) -> bool:
        """Whether the letter run text[start:end] stands alone rather than being part of a word."""
        run, first = text[start:end], text[end : end + 1]
        if first.isdigit() or (first == "-" and text[end + 1 : end + 2].isdigit()):  # B12, B-12
            return False
        if first.isspace():
            skip = SPACES.match(text, end).end()
            after = text[skip : skip + 1]
            if run.islower() and after.isascii() and after.isalpha():  # "a bit", "be sure"
                return False
            # "A patient", "ACE inhibitors"
            return not (mode.prose_guard and after.isascii() and after.islower() and (run == "A" or len(run) > 1))
        if first.isalpha() and not (mode.linked and first in LINKS):  # Chinese: only the option's own text
            option = self.texts.get(run.upper(), "") if len(run) == 1 else ""
            return bool(option) and (text.startswith(option, end) or text.startswith(option, start))
        return True

    def run_at(self, text: str, pos: int, mode: Mode) -> tuple[str, int] | None:
        """(letters, end) of a letter run at ``pos`` naming valid options, else None."""
        match = RUN.match(text, pos)
        glued = pos and text[pos - 1].isascii() and text[pos - 1].isalnum()  # 2B
        if not match or glued or len(match.group()) > mode.max_run:
            return None
        run, letters = match.group(), match.group().upper()
        if not (run.isupper() or (run.islower() and mode.lower)):
            return None
        if len(set(letters)) != len(letters) or not set(letters) <= self.valid:
            return None
        return (letters, match.end()) if self.ends_cleanly(text, pos, match.end(), mode) else None

    def letters_at(self, text: str, pos: int, mode: Mode = MARKED) -> tuple[str, int] | None:
        """(sorted letters, end) of a group like ``(A)``, ``AC``, ``A、C``, ``A and C`` at ``pos``, else None."""
        found = self.run_at(text, OPENING.match(text, pos).end(), mode)
        if not found:
            return None
        letters, end = found
        while (sep := GROUP_SEP.match(text, end)).end() > end:
            more = self.run_at(text, sep.end(), mode)
            if not more or set(more[0]) & set(letters):
                break
            letters, end = letters + more[0], more[1]
        return "".join(sorted(letters)), end

    def text_answer(self, text: str) -> str:
        """Letters of a reply that is an option's text, several joined by 、/,/;, or a true/false word."""
        wanted = key(text)
        if wanted in self.by_key:
            return self.by_key[wanted]
        if self.judge and wanted.upper() in TRUE_WORDS | FALSE_WORDS:
            return self.judge[0] if wanted.upper() in TRUE_WORDS else self.judge[1]
        parts = [key(part) for part in SPLIT_TEXTS.split(text.strip(ENDS))]
        if len(parts) > 1 and all(part in self.by_key for part in parts):
            return "".join(sorted({self.by_key[part] for part in parts}))
        return ""

    def whole(self, text: str) -> str:
        core = text.strip(ENDS)
        found = self.letters_at(core, 0)
        return found[0] if found and found[1] == len(core) else ""

    def marked(self, text: str) -> str:
        """Letters after the last answer marker that has any, else after the last choice marker."""
        for markers in (ANSWER_MARKERS, CHOICE_MARKERS):
            chosen = ""
            for marker in markers.finditer(text):
                if found := self.letters_at(text, marker.end()):
                    chosen = found[0]
                elif self.by_key:  # an option's text after the marker: 答案是绝缘靴
                    clause = CLAUSE_END.split(text[marker.end() : marker.end() + self.longest + 8], maxsplit=1)[0]
                    chosen = self.text_answer(clause) or chosen
            if chosen:
                return chosen
        return ""

    def leading(self, text: str) -> str:
        found = self.letters_at(text, 0, LEADING_LOWER if re.match(r"[a-z][.、:)]", text) else LEADING)
        lines = [LETTERED_LINE.fullmatch(line) for line in text.splitlines() if line.strip()]
        lettered = [line for line in lines if line]
        if not found or not lines[0] or len(lettered) < 2:
            return found[0] if found else ""
        # several "X. text" lines: a list of chosen options ("A. 雨鞋\nC. 绝缘手套"), or an analysis that
        # goes through the options ("A. 雨鞋不绝缘\nB. 绝缘靴可以"), which chooses nothing here
        if self.texts:
            listing = all(key(line[2]) == key(self.texts.get(line[1], "")) for line in lettered)
        else:
            listing = len(lettered) == len(lines)
        letters = {line[1] for line in lettered}
        return "".join(sorted(letters)) if listing and letters <= self.valid else ""

    def judged(self, text: str) -> str:
        word = self.judge and JUDGE_WORD.search(NOT_JUDGE.sub(" ", text))
        return (self.judge[0] if word["true"] else self.judge[1]) if word else ""

    def standalone(self, text: str) -> str:
        groups, end = set(), 0
        for run in RUN.finditer(text):
            found = run.start() >= end and len(run.group()) == 1 and self.letters_at(text, run.start(), RUNNING)
            if found:
                groups.add(found[0])
                end = found[1]
        return groups.pop() if len(groups) == 1 else ""

    def contained(self, text: str) -> str:
        wanted = key(text)
        hits = {k: letter for k, letter in self.by_key.items() if len(k) >= 2 and k in wanted}
        outermost = [letter for k, letter in hits.items() if not any(k != other and k in other for other in hits)]
        return outermost[0] if len(outermost) == 1 else ""


def extract(predict: str, options: dict[str, str] | None = None, valid: str | None = None) -> str:
    """The sorted letters chosen in ``predict``, "" when no answer is found.

    ``options`` maps letters to option texts; ``valid`` lists the letters that may be chosen
    (default: the options' letters, else A–E).

    >>> options = {"A": "雨鞋", "B": "绝缘靴", "C": "绝缘手套"}
    >>> [extract(p, options) for p in ("正确答案为 B。", "B. 绝缘靴", "绝缘靴", "(c)", "答案是A、C", "DNA")]
    ['B', 'B', 'B', 'C', 'AC', '']
    >>> extract("不正确，应先验电。", {"A": "正确", "B": "错误"})
    'B'
    """
    return Reader(options, valid).extract(predict)


def record_options(record: dict | None) -> dict[str, str]:
    """The record's ``options`` keyed by upper-case letter; {} when it has none."""
    options = (record or {}).get("options")
    if not isinstance(options, dict):
        return {}
    keyed = {normalize(str(k)).upper(): normalize(str(v)) for k, v in options.items() if v is not None}
    return keyed if all(len(k) == 1 and k.isalpha() and k.isascii() for k in keyed) else {}


def prompt_options(prompt: str) -> dict[str, str]:
    """The last run of lettered lines A, B, C… in the prompt (the rendered options); {} when none.

    >>> prompt_options("<|im_start|>user\\n以下是一道单选题。\\n题干\\nA. 2小时\\nB. 4小时内\\n请直接给出字母。")
    {'A': '2小时', 'B': '4小时内'}
    """
    runs: list[dict[str, str]] = []
    for match in LETTERED_LINE.finditer(normalize(prompt)):
        letter, text = match.groups()
        if letter == "A":
            runs.append({})
        elif not runs or chr(ord(letter) - 1) not in runs[-1] or letter in runs[-1]:
            continue
        runs[-1][letter] = text
    return next((run for run in reversed(runs) if len(run) >= 2), {})


def label_letters(label: str, options: dict[str, str]) -> str:
    """Answer letters of a rendered label: ``ACD``, ``A、C``, lines ``B. 绝缘靴``, or an option's text."""
    text = normalize(label)
    if LETTER_LABEL.fullmatch(text):
        letters = re.sub(r"[^A-Z]", "", text)
        allowed = set(options) or set("ABCDEFGH")  # without options, "COPD" is not an answer
        return letters if len(set(letters)) == len(letters) and set(letters) <= allowed else ""
    lines = [line for line in text.splitlines() if line.strip()]
    lettered = [LETTERED_LINE.fullmatch(line) for line in lines]
    if lines and all(lettered) and (not options or all(m[1] in options for m in lettered)):
        return "".join(sorted({m[1] for m in lettered}))
    return Reader(options).text_answer(text) if options else ""


def partial_credit(chosen: str, answer: str) -> float:
    """1 for the exact set; the share of the answer found when only right letters are chosen; else 0.

    >>> [partial_credit(chosen, "ACD") for chosen in ("ACD", "AC", "ACE", "")]
    [1.0, 0.6666666666666666, 0.0, 0.0]
    """
    return len(chosen) / len(answer) if chosen and set(chosen) <= set(answer) else 0.0


@register_evaluator("choice")
class Choice(Evaluator):
    """Choice questions: letters extracted from the reply; accuracy, partial credit, no-answer rate.

    The answer is the record's ``answer`` letters (``lfd eval --dataset``), else the label: letters
    (``ACD``), lines ``B. 绝缘靴``, or an option's text. Options come from the record, else from the
    prompt's lettered lines. Per item, for choice questions only (records whose ``question_type`` is
    fill or open, and labels that are no answer letters, score None):

    - ``choice_accuracy``: 1 when the chosen letters are exactly the answer's (one letter for a
      single-choice question, the whole set for a multiple-choice one);
    - ``choice_partial_credit``: the usual exam rule, 1 for the exact set, |chosen| / |answer| when
      every chosen letter is right but some are missing, 0 when any chosen letter is wrong;
    - ``choice_no_answer_rate``: 1 when no answer was found in the reply; such an item scores 0 in
      the other two metrics, it is never mapped to some option.

    >>> choice = Choice()
    >>> record = {"options": {"A": "雨鞋", "B": "绝缘靴", "C": "绝缘手套"}, "answer": "BC", "question_type": "multi"}
    >>> choice.score(Prediction(prompt="", predict="答案：C", label="BC\\n", record=record))
    {'choice_accuracy': 0.0, 'choice_partial_credit': 0.5, 'choice_no_answer_rate': 0.0}
    >>> choice.score(Prediction(prompt="", predict="The answer is (B)", label="B"))
    {'choice_accuracy': 1.0, 'choice_partial_credit': 1.0, 'choice_no_answer_rate': 0.0}
    >>> choice.score(Prediction(prompt="", predict="无法判断", label="D"))
    {'choice_accuracy': 0.0, 'choice_partial_credit': 0.0, 'choice_no_answer_rate': 1.0}
    >>> choice.score(Prediction(prompt="", predict="高血压", label="高血压"))
    {'choice_accuracy': None, 'choice_partial_credit': None, 'choice_no_answer_rate': None}
    """

    options: ClassVar = {}

    def score(self, item: Prediction) -> dict[str, float | None]:
        record = item.record or {}
        if record.get("question_type") in NOT_CHOICE:
            return dict.fromkeys(KEYS)
        options = record_options(record) or prompt_options(item.prompt)
        try:
            answer = answer_letters(record.get("answer"))
        except Skip:
            answer = ""
        answer = answer or label_letters(item.label, options)
        if not answer:
            return dict.fromkeys(KEYS)
        chosen = extract(item.predict, options, "".join(options or FALLBACK_LETTERS) + answer)
        return {
            "choice_accuracy": float(chosen == answer),
            "choice_partial_credit": partial_credit(chosen, answer),
            "choice_no_answer_rate": float(not chosen),
        }
