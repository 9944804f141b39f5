"""Electric-power safety work procedure (安规) question banks, three real layouts -> choice, fill-in and open questions.

Its example raw record and the record it becomes are ``example_raw`` and ``example_output``
below (shown by `lfd convert safety_exam --help`, checked by tests/converters/test_examples.py).

Variant A, the seed's table (xlsx, CSV or a Markdown table ``| 专业 | 题型 | 题目内容 | 题目依据条款 | 选项 | 正确答案 |``)::

    | 变电专业 | 多选题 | 线路的停、送电均应按照（　　）的指令执行。 | 来自安规 |
    | A. 值班调控人员,B. 专责监护人,C. 线路工作负责人,D. 线路工作许可人 | A. 值班调控人员,D. 线路工作许可人 |

``--style plain`` is the seed's other style: the question alone ->
"值班调控人员; 线路工作许可人" (the answer texts; a 判断题 gives 正确/错误). Both keep
options/answer/question_type (as plugin.mcq), so the `choice` evaluator scores either.

Variant B, a competition bank (xlsx with sheets 单选题/多选题/判断题/填空题/问答题, or one CSV per sheet
named after it): ``题目（必填）：`` with 选项A…L and letter answers (``ABC``), 正确/错误, blanks ``_(1)_``
(or ``(1)``, ``_（1）_``, runs of spaces) with 答案A…L (output joined by "、", as variant C
writes several blanks' answers) or 答案：. Variant C, the GB 26860 bank (sheet 题库:
序号/题目/A/B/C/D/答案/题型/解析): 题型 says 填空题 on every row, so the kind is inferred — options ->
single/multi by the answer's letter count, √/× -> 判断, else 填空; its PDF-extraction damage
(answers mixing letters and words, options with gaps) is skipped and counted.

Blanks (（　　）, (  ), ____, _(1)_) become ``___``. 填空 records carry ``question_type: fill``, 问答
``open``. ``--shuffle-options K`` adds up to K training copies of each choice question with its
options reordered (see :meth:`SafetyExam.augment`); ``--circular K`` writes each test choice
question rotated K ways to ``<name>_test_circular`` (plugin/circular.py; 填空/问答 are left out of it).
Options that refer to other options (以上都对, "A和B", :func:`..plugin.mcq.refers_to_others`) keep a
question in its original order for both; "35kV及以上" is an ordinary option.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import unicodedata
from dataclasses import dataclass

from ..plugin.circular import add_circular_argument
from ..plugin.mcq import (
    HEADERS,
    LETTERS,
    ChoiceExample,
    Question,
    answer_letters,
    kind_of,
    letter_of,
    options_from_mapping,
    options_from_text,
    options_refer,
    true_false,
)
from .base import (
    Converter,
    Example,
    Shape,
    Skip,
    UserError,
    iter_rows,
    positive_int,
    register_converter,
    require_object,
    text_of,
)

STYLES = ("options", "plain")
SHEET = "_sheet"  # reserved key: the record's sheet name (the file name for CSV/Markdown)
BLANK = re.compile(r"_[（(]\s*\d+\s*[）)]_|_{2,}|[（(][\s\u3000]*[）)]")
# the competition bank's fill-in blanks besides those: numbered markers (1) / （1） and runs of spaces
NUMBERED_BLANK = re.compile(r"[（(]\s*\d+\s*[）)]")
SPACE_BLANK = re.compile(r"[ \t\u3000]{2,}")
FILL_JOIN = "、"  # several blanks' answers in one output, as the GB 26860 bank writes them
TRAILING_BLANK = re.compile(r"\s*___\s*$")
OPEN_LABELS = {"填空题": "fill", "填空": "fill", "问答题": "open", "简答题": "open", "问答": "open"}
JUDGE_MARKS = {"√", "×", "✓", "✗", "对", "错", "正确", "错误"}  # variant C's 判断 answers
# a letter opening an answer part: "B. 绝缘靴", "A. 甲,D. 丁"
ANSWER_MARK = re.compile(r"(?:^|[,，;；\n])\s*([A-ZＡ-Ｚ])\s*[.．、:：)）]")
# an option cell that swallowed the next option ("线路一种工作票 B． 电气第一种工作票")
SWALLOWED_OPTION = re.compile(r"\s[A-L]\s*[.．。、]")
CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff01-\uff1f]"
ALL_ORDERS_UP_TO = 720  # options of at most 6: enumerate every order; more: sample


def question_text(value) -> str:
    """The question with its blanks written ``___``.

    >>> question_text("应穿（　　），并不准靠近避雷器。"), question_text("应具备_(1)_和____，_（2）_。")
    ('应穿___，并不准靠近避雷器。', '应具备___和___，___。')
    """
    return BLANK.sub("___", text_of(value))


def fill_text(value) -> str:
    """A fill-in question of the competition bank with every blank written ``___``: also runs of spaces
    and, in a row with no other blanks, the numbered markers ``(1)``/``（1）`` (where ``_(1)_`` marks
    the blanks, a bare ``(2)`` is the text's own).

    >>> fill_text("应具备（1）和(2)，掌握      等救护法。"), fill_text("负责人（_(1)_）按第(2)条执行。")
    ('应具备___和___，掌握___等救护法。', '负责人（___）按第(2)条执行。')
    """
    text = question_text(value)
    if "___" not in text:
        text = NUMBERED_BLANK.sub("___", text)
    return SPACE_BLANK.sub("___", text)


def unbroken(text: str) -> str:
    """Variant C was extracted from a PDF: drops the line-wrap spaces left between Chinese characters.

    >>> unbroken("一经操作即带有 电压、1000V 及其以下")
    '一经操作即带有电压、1000V 及其以下'
    """
    return re.sub(rf"(?<={CJK})\s+(?={CJK})", "", text)


def answer_from(answer: str, options: dict[str, str]) -> str:
    """Answer letters from "B. 绝缘靴", "A. 甲,D. 丁", "AD" or an option's text; lettered text must match.

    >>> options = {"A": "雨鞋", "B": "绝缘靴", "C": "橡胶鞋"}
    >>> answer_from("B. 绝缘靴", options), answer_from("A. 雨鞋,C. 橡胶鞋", options), answer_from("绝缘靴", options)
    ('B', 'AC', 'B')
    >>> answer_from("B. 雨鞋", options)
    Traceback (most recent call last):
    llamafactory_domains.plugin.io.rows.Skip: answer text differs from its option
    """
    try:
        letters = answer_letters(answer)
        if letters:
            return letters
    except Skip:
        pass
    marks = list(ANSWER_MARK.finditer(answer))
    if not marks:
        return letter_of(options, answer)
    letters = ""
    for mark, after in zip(marks, [*marks[1:], None]):
        letter = unicodedata.normalize("NFKC", mark[1])
        said = " ".join(answer[mark.end(): after.start() if after else len(answer)].split())
        if said and letter in options and said != options[letter]:
            raise Skip("answer text differs from its option")
        letters += letter
    return letters


def without_gaps(options: dict[str, str]) -> dict[str, str]:
    """Options lettered A, B, C… with none missing (a gap is a merged or damaged row)."""
    if "".join(options) != LETTERS[: len(options)]:
        raise Skip("options skip a letter")
    return options


@dataclass(frozen=True)
class OpenQuestion:
    """A 填空 (``kind`` "fill") or 问答 ("open") question: answered in words."""

    text: str
    answer: str
    kind: str

    @classmethod
    def build(cls, text: str, answer: str, kind: str) -> OpenQuestion:
        if not text:
            raise Skip("empty question")
        if not answer:
            raise Skip("no answer")
        return cls(text, answer, kind)


def seed_table(record: dict) -> Question | OpenQuestion:
    """Variant A: 题型/题目内容/选项/正确答案, options comma-joined, answers lettered text."""
    label = text_of(record.get("题型"))
    text, answer = question_text(record.get("题目内容")), text_of(record.get("正确答案"))
    if label in OPEN_LABELS:
        return OpenQuestion.build(text, answer, OPEN_LABELS[label])
    kind = kind_of(label)
    if kind is None:
        raise Skip(f"unknown 题型 ({label or 'empty'})")
    if kind == "judge":
        options = options_from_text(record["选项"]) if text_of(record.get("选项")) else {}
        letters = answer_from(answer, options) if options else ""
        word = options.get(letters, answer)
        return true_false(TRAILING_BLANK.sub("", text), word)
    options = options_from_text(record.get("选项"))
    return Question.build(text, options, answer_from(answer, options), kind)


def competition_bank(record: dict) -> Question | OpenQuestion:
    """Variant B: one row of a 单选题/多选题/判断题/填空题/问答题 sheet (header names end in （必填）/：)."""
    fields = {re.sub(r"（必填）|[：:]", "", str(key)).strip(): text_of(value)
              for key, value in record.items() if key != SHEET}
    text = question_text(fields.get("题目"))
    if "选项A" in fields:
        options = without_gaps(options_from_mapping(
            {key[-1]: value for key, value in fields.items() if re.fullmatch(r"选项[A-L]", key)}))
        letters = answer_letters(fields.get("正确答案"))
        sheet = str(record.get(SHEET, ""))
        kind = "multi" if "多选" in sheet else "single" if "单选" in sheet else "multi" if len(letters) > 1 else "single"
        return Question.build(text, options, letters, kind)
    if "答案A" in fields:
        answers = [value for key, value in sorted(fields.items()) if re.fullmatch(r"答案[A-L]", key) and value]
        text = fill_text(fields.get("题目"))
        blanks = text.count("___")
        if answers and blanks and blanks != len(answers):
            raise Skip("number of blanks and answers differ")
        return OpenQuestion.build(text, FILL_JOIN.join(answers), "fill")
    if "答案" in fields:
        return OpenQuestion.build(text, fields["答案"], "open")
    if "正确答案" in fields:
        return true_false(TRAILING_BLANK.sub("", text), fields["正确答案"])
    raise Shape(f"competition-bank row without 选项A, 答案A, 答案 or 正确答案 (found: {', '.join(fields)})")


def gb26860_bank(record: dict) -> Question | OpenQuestion:
    """Variant C: 题目/A–D/答案; the kind is read from the options and the answer, not from 题型."""
    text = question_text(unbroken(text_of(record.get("题目"))))
    answer = unbroken(text_of(record.get("答案")))
    cells = {letter: unbroken(text_of(record.get(letter))) for letter in LETTERS if letter in record}
    if any(cells.values()):
        options = without_gaps(options_from_mapping(cells))
        if any(SWALLOWED_OPTION.search(option) for option in options.values()):
            raise Skip("an option cell holds several options")
        letters = answer_letters(answer)
        groups = [group for group in re.split(r"[、,，;；\s]+", answer) if group]
        if len(groups) > 1 and any(len(group) > 1 for group in groups):
            raise Skip("answer gives a letter group per blank")
        return Question.build(text, options, letters, "multi" if len(letters) > 1 else "single")
    if answer in JUDGE_MARKS:
        return true_false(TRAILING_BLANK.sub("", text), answer)
    if answer.isascii() and answer.isalpha() and answer.isupper():
        raise Skip("answer letters but no options")
    return OpenQuestion.build(text, answer, "fill")


def distinct_orders(options: dict[str, str], count: int, rng: random.Random) -> list[tuple[int, ...]]:
    """Up to ``count`` option orders, each showing a different arrangement of texts than the others
    and than the original (fewer when the options do not allow that many).

    >>> orders = distinct_orders({"A": "甲", "B": "乙", "C": "乙"}, 5, random.Random(0))
    >>> len(orders), (0, 1, 2) in orders  # 乙 twice: only 2 arrangements besides 甲乙乙
    (2, False)
    """
    texts = list(options.values())
    original = tuple(texts)
    if math.factorial(len(texts)) <= ALL_ORDERS_UP_TO:
        arrangements: dict[tuple[str, ...], tuple[int, ...]] = {}
        for order in itertools.permutations(range(len(texts))):
            arrangements.setdefault(tuple(texts[i] for i in order), order)
        arrangements.pop(original)
        pool = list(arrangements.values())
        return rng.sample(pool, min(count, len(pool)))
    chosen: dict[tuple[str, ...], tuple[int, ...]] = {}
    for _ in range(count * 20):  # 5040+ orders: repeats are rare
        order = tuple(rng.sample(range(len(texts)), len(texts)))
        arrangement = tuple(texts[i] for i in order)
        if arrangement != original:
            chosen.setdefault(arrangement, order)
        if len(chosen) == count:
            break
    return list(chosen.values())


@register_converter("safety_exam")
class SafetyExam(Converter):
    """Electric-power safety (安规) question banks (seed table, competition bank, GB 26860 bank) -> exam questions."""

    example_command = 'lfd convert safety_exam 题库.xlsx --test-size 50 --shuffle-options 2 --out-dir data'
    example_raw = {
        "专业": "变电专业",
        "题型": "多选题",
        "题目内容": "线路的停、送电均应按照（\u3000\u3000）的指令执行。",
        "题目依据条款": "来自安规",
        "选项": "A. 值班调控人员,B. 专责监护人,C. 线路工作负责人,D. 线路工作许可人",
        "正确答案": "A. 值班调控人员,D. 线路工作许可人",
    }
    example_output = {
        "instruction": "以下是一道多选题，请选出所有正确答案。\n"
        "线路的停、送电均应按照___的指令执行。\n"
        "A. 值班调控人员\n"
        "B. 专责监护人\n"
        "C. 线路工作负责人\n"
        "D. 线路工作许可人",
        "input": "",
        "output": "A. 值班调控人员\nD. 线路工作许可人",
        "options": {"A": "值班调控人员", "B": "专责监护人", "C": "线路工作负责人", "D": "线路工作许可人"},
        "answer": "AD",
        "question_type": "multi",
    }

    evaluators = ("choice", "exact_match")
    primary_metric = "choice_accuracy"
    circular_split = True
    columns = [
        ("题型", "题目内容", "选项", "正确答案"),
        ("题目（必填）：",),
        ("题目（必填）",),
        ("题目", "A", "B", "答案"),
    ]
    expects = (
        "安规 question-bank rows: 题型/题目内容/选项/正确答案 (seed table), 题目（必填）：… "
        "(competition-bank sheets) or 题目/A/B/…/答案 (GB 26860 bank)"
    )

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument(
            "--style",
            choices=STYLES,
            default="options",
            help="options: lettered options in the prompt, output like 'B. 绝缘靴' (default); "
            "plain: the question alone, output the answer text (判断: 正确/错误)",
        )
        parser.add_argument(
            "--shuffle-options",
            type=positive_int,
            metavar="K",
            help="add up to K training copies of each choice question with its options "
            "reordered (seeded by --seed and the question; needs --style options; a question whose "
            "options refer to others, like 以上都对 or A和B, keeps its order)",
        )
        add_circular_argument(parser, "needs --style options; 填空/问答 test questions are left out of it")

    def __init__(self, options):
        super().__init__(options)
        self.style = getattr(options, "style", "options")
        self.shuffles = getattr(options, "shuffle_options", None) or 0
        self.seed = getattr(options, "seed", 42)
        for flag, given, does in (("--shuffle-options", self.shuffles, "reorders"),
                                  ("--circular", getattr(options, "circular", None), "rotates")):
            if given and self.style == "plain":
                raise UserError(f"{flag} {does} the options shown in the prompt, which --style plain does not "
                                "show; drop one of them")

    def rows(self, path, split):
        for row in iter_rows(path, getattr(self.options, "encoding", None), self.columns):
            if isinstance(row.data, dict):
                sheet = re.fullmatch(r"sheet (.+) row \d+", row.location)
                row.data[SHEET] = sheet[1] if sheet else path.stem
            yield row

    def convert(self, record, split):
        require_object(record, "a table row")
        if "题目内容" in record:
            question = seed_table(record)
        elif any(str(key).startswith("题目（必填）") for key in record):
            question = competition_bank(record)
        elif "题目" in record and "A" in record:
            question = gb26860_bank(record)
        else:
            found = ", ".join(str(key) for key in record if key != SHEET) or "none"
            raise Shape(f"row has no 题目内容, 题目（必填） or 题目/A columns (found: {found})")
        if isinstance(question, OpenQuestion):
            return Example(instruction=question.text, output=question.answer, extra={"question_type": question.kind})
        return self.choice_example(question)

    def render_choice(self, question: Question) -> ChoiceExample:
        return self.choice_example(question)

    def choice_example(self, question: Question) -> ChoiceExample:
        chosen = [(letter, question.options[letter]) for letter in question.answer]
        if self.style == "plain":
            prompt, output = question.text, "; ".join(text for _, text in chosen)
        else:
            options = [f"{letter}. {text}" for letter, text in question.options.items()]
            prompt = "\n".join([HEADERS[question.kind], question.text, *options])
            output = "\n".join(f"{letter}. {text}" for letter, text in chosen)
        return ChoiceExample(instruction=prompt, output=output, extra=question.example().extra, question=question)

    def augment(self, example):
        """``--shuffle-options K`` copies of a single/multi choice question, options reordered and the
        answer letters remapped: never the original order, no arrangement twice, the same copies
        whatever the input order (seeded by --seed and the prompt). Questions whose options refer to
        others (以上都对, 上述说法都对, "A和B", "ABC": :func:`..plugin.mcq.refers_to_others`) keep their
        order; ordinary options such as "35kV及以上" do not stop a question being reordered."""
        question = getattr(example, "question", None)
        if (
            not self.shuffles
            or question is None
            or question.kind == "judge"
            or options_refer(question)
        ):
            return []
        rng = random.Random(f"{self.seed}:{example.instruction}")
        return [
            self.choice_example(question.reordered(order))
            for order in distinct_orders(question.options, self.shuffles, rng)
        ]
