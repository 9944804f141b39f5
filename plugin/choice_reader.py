"""The letters a reply to a choice question chose: read as a Chinese examiner would (the `choice` evaluator's reader).

A reply reads as one of three outcomes (:func:`read`): an answer (sorted letters, ``B``, ``ACD``),
no answer (``none``: nothing chosen, a refusal, only negations), or ``ambiguous`` (hedged or
competing candidates). It is never mapped to a guess.

1. Whole replies: letters (``B``, ``(A)``, ``【D】``, ``A、C``, ``ac``, ``A;B;C``), lines of letters under a
   bare marker line or as list items (``答案：`` / ``A`` / ``D``, ``1. A`` / ``2. B``; bare lines ``B`` / ``C``
   stay undecided), an option's text or several (``绝缘靴``, ``绝缘靴、绝缘手套``; ``以上均不是`` is the option
   ``以上都不是``; a quantity in either spelling of its unit: ``0.7米`` is ``0.7m``, never inside ``10.7m``),
   a true/false word (``错``, ``对对对``).
2. Otherwise the reply is split into sentences (at 。!?;\\n); every letter group, option text and,
   for a true/false question, verdict word in a sentence is a claim, ranked by what stands around it:

   - an explicit final answer (``答案是/为``, ``故选``, ``综上``, ``最终答案``, ``应该是``, ``B是
     正确答案``, ``The answer is``, ``Answer:``) outranks a choice (``选C``, ``我认为是B``, ``I
     choose``), then a letter opening the reply or alone on its line (``B. 绝缘靴``, ``B，因为…``;
     leading lines ``A. 雨鞋`` / ``- C. 绝缘手套`` repeating some options, perhaps under a marker line; a
     leading ``B. 绝缘靴`` before an analysis of the other options), then verdicts on options
     (``B项正确``, ``A不对，E对``, ``A is wrong``, ``A（×）B（√）``, a table row ``| D. 尿激酶 | 是 |``),
     then mere mentions (``不是A，是C``), then option texts (``应穿绝缘靴``);
   - among final answers and choices the last one wins, so a later correction counts
     (``答案是A。不对，应该是C。`` → C); verdicts add up (``A正确，B错误，C正确`` → AC); several
     different mentions, or texts, are ambiguous (a text followed by 不… drops out: ``雨鞋不绝缘，
     应穿绝缘靴`` → B; English texts listed with commas, ``fever, night sweats and hemoptysis``, are
     one claim);
   - negation: a letter or text after 不是/不选/排除/非/not/rather than…, or before 错误/不对/
     不正确/都不是/is wrong/incorrect…, or after 严禁/禁止/不得 (使用) even across a short list
     (``严禁用水和泡沫灭火器``), or whose option line ends in a verdict (``A. 雨鞋：不绝缘，错误``,
     ``A项雨鞋不绝缘``) is never chosen (``不是E``, ``E是错误的``, ``不是肝素`` → no answer;
     ``我选E，不选A``, ``E而不是A``, ``E不是A`` → E); ``除了B，其余都不对`` → B, ``除了B，其他都对``,
     ``除C以外都正确``, ``All except E`` → all but that one;
   - hedges make the reply ambiguous: alternatives (``B或E``, ``B还是E``, ``可能是B也可能是E``,
     ``C or A``, ``either``, ``我选B，但A也有可能``), ``都有可能``, a question left unanswered
     (``B还是C呢？``; ``A对吗？不对。`` answers it), and words like 不确定/无法确定/不好说/不一定/
     not sure, unless a final answer or choice follows them (``我不太确定，但我认为答案是D`` → D);
   - a supposition (``若选A，则…``) chooses nothing; the consequence of a condition (``如果是跨步
     电压，应该选B``) counts only when nothing else is said (``选B。如果问手部，则选C`` → B); the
     head of an option line in an analysis (``A. 雨鞋：可以``) and a reply repeating every option
     choose nothing; a reply that rules out every option but one (``A、C、D可以排除``) chooses that one.
3. True/false questions (options 正确/错误, 对/错, True/False): the first verdict that is not in an
   unanswered question (``说法正确吗？不正确。`` → 错误), not concessive (``看似正确``) and not an
   adjective (``正确的做法``); 不正确/不对/不完全正确/部分正确/有误/×/❌/false/inaccurate are the false
   option, 不是错误的/没错/没有问题/✅/accurate the true one; ``无法判断是否正确`` is no answer,
   ``可能正确也可能错误`` ambiguous.

Only the question's option letters count (from the record, else read from the prompt, else A–E
plus the answer's letters). A letter inside a word does not count: ``DNA``, ``ABO血型``, ``B超``,
``维生素B12``, ``ACE inhibitors``, the article in ``A patient…`` (a letter right before Chinese text
counts only when that text is the option's: ``B绝缘靴``). Lower-case letters count only where they
cannot be prose: the whole reply, after a marker.

The module is one cohesive thing, and longer than most: the reader's patterns and the claims it
weighs change together (tests/evaluators/choice_corpus.jsonl holds the replies it is checked on).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from .mcq import FALSE_WORDS, TRUE_WORDS

FALLBACK_LETTERS = "ABCDE"  # valid letters when the options are unknown (plus the answer's letters)
# Chinese characters that may follow a standalone letter (A和C, B是, C项正确, A不对) but not one inside a
# word (B超, A型, X线): only after a marker and in running text, not for a leading letter
LINKS = "和及与或是为都均皆对错正不项选最更较比也的了吧呢啊吗呀两三等还之以外可应"
RATHER_LINK = re.compile(r"而(?:不是|并非|并不是|非)")  # "C而不是D": 而 follows a letter only before 不是/非
# English words after which a capital A is a letter, not the article ("A is wrong", "A and C")
LETTER_FOLLOWERS = frozenset({
    "is", "was", "are", "were", "and", "or", "nor", "but", "because", "since", "as", "seems", "looks", "would",
    "should", "could", "might", "must", "can", "also", "only", "alone", "too", "then", "not", "vs"})
# English words that may stand right before a letter in running text; after any other word a capital is
# part of a name: "hepatitis B", "vitamin C", "Type A"
LETTER_LEADERS = frozenset({
    "is", "are", "was", "be", "option", "options", "answer", "answers", "choice", "choose", "pick", "select", "not",
    "and", "or", "nor", "than", "so", "then", "but", "also", "only", "either", "neither", "both", "maybe",
    "probably", "perhaps", "think", "believe", "therefore", "thus", "hence", "say", "with", "except", "although",
    "though", "while", "whereas", "unlike", "if", "definitely", "clearly", "obviously", "certainly", "surely",
    "actually", "likely", "indeed", "just", "still", "rather", "because", "since", "chose", "picked"})
PREV_WORD = re.compile(r"([A-Za-z]+)[ \t]+$")

ENDS = " \t\r\n.。,，;；:!！?？()[]【】「」<>《》\"'“”‘’、*"
OPENING = re.compile(r"[\s(\[【「<《\"'“‘*)\]】」>》]*")  # also closing ones: 【答案】D
RUN = re.compile(r"[A-Za-z]+")
SPACES = re.compile(r"\s*")
WORD = re.compile(r"[a-z]+")
GROUP_SEP = re.compile(r"[ \t]*(?:[,、/&][ \t]*(?:and\b)?|以及|和|及|与|\band\b)?[ \t]*", re.IGNORECASE)  # not across lines
CLAUSE_END = re.compile(r"[。\n;；,，!！?？]")
SPLIT_TEXTS = re.compile(r"\s*(?:[、,;\n]|以及|和|及)\s*")
LETTERED_LINE = re.compile(r"[ \t]*(?:[-*•·][ \t]*)?(?:\*\*)?([A-Z])[ \t]*[.、:)][ \t]*(\S.*?)[ \t]*$", re.MULTILINE)
NUMBERING = re.compile(r"(?:(?:\d{1,2}[.、)]|[-*•·])\s*)?")  # "1. A", "- A": a list item holding letters
LETTER_LABEL = re.compile(r"[A-Z](?:[\s,、;/]*[A-Z])*")
SENTENCE = re.compile(r"[^。!?;\n]+[。!?;\n]*")
LISTING_SEGMENT = re.compile(r"[\n;]+")
OWN_TEXT_GAP = re.compile(r"(?:项|选项)?[\s.、:)(\-–—]*")

# ---- what stands before a claim (searched in the few characters before it, within its sentence)
BEFORE_TAIL = r"[\s:]*(?:选项|option)?[\s:]*[\s(\[【「<《\"'“‘*)\]】」>》]*$"
FINAL_CUE = (
    r"答案?\s*(?:应该|应当|应|可能|即|就|肯定|一定)?\s*(?:是|为|选择|选)?"
    r"|正确的?(?:选项|选择)?(?:是|为|有)|正确的?(?:选项|选择)\s*:"
    r"|不对\s*,\s*(?:应该|应当|应)?(?:是|为|选)|才是|其实是|实际上是|改为|改选|更正为?|应当?选择?|应该选择?|应该是|应为|应是"
    r"|(?:故|所以|因此|因而|综上所述|综上|综合|总之|最终|最后)\s*,?\s*(?:本题|此题|该题|这题)?\s*(?:应|应该|当)?\s*(?:选择?|是|为)"
    r"|判断(?:结果)?\s*(?:是|为)?\s*:"
    r"|\b(?:answers?|options?|choices?)\s*(?:is|are|would\s+be|should\s+be|will\s+be|=|:)"
    r"|\bshould\s+be|\bit\s+is|\bit's|\btherefore,?|\bthus,?|\bhence,?|\bso"
)
CHOICE_CUE = (
    r"(?:选择?|选用|挑选?|倾向于选?择?|认为|觉得|相信|猜|推测|判断)(?:了|的)?\s*(?:答案|选项)?\s*(?:应该|应当|应|可能|是|为|选)*"
    r"|\b(?:choose|chose|pick|picked|select|selected|go\s+with|going\s+with|would\s+say|i'd\s+say)"
    r"|\bi\s+(?:think|believe)(?:\s+it'?s|\s+it\s+is|\s+the\s+answer\s+is)?"
)
MENTION_CUE = r"是|为|只有|仅有?|唯有|或者?|或是|还是|\b(?:or|maybe|probably|perhaps)"
USE = r"使用|用|采用|选用|穿戴|穿|佩戴|戴"  # 严禁(使用)…, 不得使用…: a prohibition (not 不得小于0.7m, a bound)
NEG_CUE = (
    r"不是|并非|并不是|而非|非|绝非|不(?:应该?|应当|能|可|会|要|宜)?选择?|排除|不包括|不属于|不用|不使用"
    r"|不宜|不应|不做|不考虑|禁用|忌用|除了?"
    rf"|(?:(?:严禁|禁止|切勿)(?:{USE})?|(?:不得|不准|不许)(?:{USE}))(?:[^,。;!?]{{1,8}}?(?:和|及|与|、|或))?"  # 严禁用水和…
    r"|\bnot|\bisn't|\bexcept|\bexcluding|\bexclude|\brule\s+out|\beliminate"
    r"|\brather\s+than|\binstead\s+of|\bnor|\bneither"
)
FINAL_BEFORE = re.compile(rf"(?:{FINAL_CUE}){BEFORE_TAIL}", re.IGNORECASE)
CHOICE_BEFORE = re.compile(rf"(?:{CHOICE_CUE}){BEFORE_TAIL}", re.IGNORECASE)
MENTION_BEFORE = re.compile(rf"(?:{MENTION_CUE}){BEFORE_TAIL}", re.IGNORECASE)
NEG_BEFORE = re.compile(rf"(?:{NEG_CUE}){BEFORE_TAIL}", re.IGNORECASE)
# "错误答案是A、C、D" names the wrong ones (or, for a "下列错误的是" question, the answer): a mere mention
WRONG_BEFORE = re.compile(rf"(?:错误|不正确|错)的?(?:答案|选项)(?:是|为|有)?{BEFORE_TAIL}|(?:wrong|incorrect)\s+(?:answers?|options?)\s+(?:is|are|:)\s*$",
                          re.IGNORECASE)
MARKERS = re.compile(rf"(?:{FINAL_CUE}|{CHOICE_CUE})[\s:]*", re.IGNORECASE)
CONDITIONAL = re.compile(r"若|如果|假如|假设|要是|倘若|\bif\b", re.IGNORECASE)
# a letter at the start of a clause (after bullets) is the topic that later verdicts in its line judge
TOPIC_TAIL = r"[\s\-*•·#>|\d.、()\[\]【】]*(?:选项|option)?\s*[(\[【]?"  # | opens a table row
TOPIC_BEFORE = re.compile(rf"(?:[,:]|\.\s|\s[-–—]\s?){TOPIC_TAIL}$", re.IGNORECASE)
TOPIC_START = re.compile(TOPIC_TAIL, re.IGNORECASE)
REPLY_START = re.compile(r"[\s(\[【「<《\"'“‘*#>\-•]*(?:(?:选项|option)\s*)?", re.IGNORECASE)

# ---- what follows a claim: verdicts on it
AFTER_FILL = (r"[\s:)\]】」>》\"'”’*\-–—]*(?:[(\[【]\s*(?=[×✗✘❌✖√✓✔✅]))?(?:[一二三四五六两]?项|选项|的说法|说法|options?)?\s*(?:(?:is|are|was|seems)\s+)?"
              r"(?:都|均|皆|也|全|同样|显然|明显|肯定|则|为|是)*\s*")
NEG_WORDS = (r"错误|错的|错(?![过开])|不太?对|不太?正确|不是正确|不准确|不太?恰当|不太?合适|不适合|不适用|不可取|不可以|不行|不妥|有误"
             r"|不符合?|不成立|不属于|不选|(?:可以?|应该?|应当|能够?)?被?排除"
             r"|都?不是|[×✗✘❌✖]|\bwrong\b|\bincorrect\b|\bfalse\b|\bnot\s+(?:correct|right|true|the\s+(?:\w+\s+)?answer)\b"
             r"|\bcan\s+be\s+(?:excluded|eliminated|ruled\s+out)")
POS_WORDS = r"正确|是对的|对的|对(?![于待比照应象称抗])|符合|成立|当选|入选|[√✓✔✅]|\bcorrect\b|\bright\b|\btrue\b"
FINAL_WORDS = (r"(?:正确|最佳|最终|标准)的?(?:答案|选项)|(?<=[是为])(?:本题的?)?答案"
               r"|\bthe\s+(?:correct\s+|right\s+|best\s+|final\s+)?(?:answer|choice|option)\b")
NEG_AFTER = re.compile(rf"{AFTER_FILL}(?:{NEG_WORDS})", re.IGNORECASE)
FINAL_AFTER = re.compile(rf"{AFTER_FILL}(?:{FINAL_WORDS})", re.IGNORECASE)
POS_AFTER = re.compile(rf"{AFTER_FILL}(?:{POS_WORDS})", re.IGNORECASE)
# a clause of an option's line that is a verdict on it: "，错误", "– incorrect", "，故正确", "是错误的"
CLAUSE_SPLIT = re.compile(r"[,:;。.!?()\[\]【】—–|]|\s-\s")
VERDICT_CLAUSE = re.compile(
    rf"\s*(?:故|因此|所以|则|即|因而|可见|显然|该项|此项|本项|这项|该选项|此选项|该说法|说法|表述)?\s*(?:是|为)?\s*"
    rf"(?:(?P<neg>{NEG_WORDS})|(?P<pos>{POS_WORDS}))\s*(?:题意|要求|题目要求|条件)?\s*的?\s*$"
    r"|.*是(?:(?P<neg2>错误|错|不正确|不对)|(?P<pos2>正确|对))的?\s*$"
    r"|\s*(?:(?P<neg3>否|不是)|(?P<pos3>是))\s*$",  # a table's 是/否 cell: "| D. 尿激酶 | 是 |"
    re.IGNORECASE,
)
EXCEPT_AFTER = re.compile(
    r"\s*(?:(?:以外|之外|外)\s*,?\s*(?:(?:其余|其他|其它|别的|剩下的?)(?:选项|的|各项|几项|项)?)?"
    r"|,?\s*(?:其余|其他|其它|别的|剩下的?)(?:选项|的|各项|几项|项)?)\s*(?:都|均|皆|全)\s*"
    r"(?:(?P<neg>不对|是?错误?的?|不正确|是不正确的)|(?P<pos>对|正确|是对的|是正确的))"
)
EXCEPT_BEFORE = re.compile(r"除了?\s*$")
# "All except E", "all of the options are correct except E": every other option
ALL_EXCEPT_BEFORE = re.compile(r"\ball\s+(?:(?:of\s+)?(?:the\s+)?(?:options|answers|choices|them|above)\s+)?"
                               r"(?:(?:are|is)\s+(?:correct|right|true)\s+)?(?:except|but)(?:\s+for)?\s*(?:options?\s*)?$",
                               re.IGNORECASE)
DESCRIBED = re.compile(r"\s*(?:项|选项)(?:中的?|的)?(?=[^\s,。.:;])(?:[^,。;]*?(?P<neg>不|没有|无法|并非))?")
DISMISSED = re.compile(r"\s*(?:不|没有|没|无法|不能|并不|并非)")  # "雨鞋不绝缘": an option text dismissed
# between two claims, "C而不是D", "C不是D", "C，而非D": the first is chosen over the second (which NEG_BEFORE negates)
RATHER_THAN = re.compile(r"[\s,，]*而?\s*(?:不是|并非|并不是|而非|非)\s*")

# ---- hedges
OR_GAP = re.compile(r"[\s,、(]*(?:但是?|不过|\bbut\b)?\s*"
                    r"(?:或者?|或是|还是|也?可能是?|也许是|\bor\b|\b(?:it\s+)?(?:could|might|may)\s+(?:also\s+)?be\b)"
                    r"[\s选项是]*", re.IGNORECASE)
HEDGE_AFTER = re.compile(r"\s*(?:都有可能|皆有可能|均有可能|都可能|都有(?:一定的?|些)?道理|都可以|都行|也有可能|也可能"
                         r"|也有(?:一定的?|些|点)?道理|也行|也可以"
                         r"|之间"
                         r"|(?:is|are)\s+(?:also\s+)?(?:possible|plausible|reasonable|valid|acceptable))", re.IGNORECASE)
EITHER = re.compile(r"\beither\b", re.IGNORECASE)
HEDGE = re.compile(
    r"不确定|不能确定|无法确定|难以确定|不太确定|不敢确定|说不准|不好说|拿不准|不好判断|难以判断|无法判断|不能判断|不清楚|不知道"
    r"|不是很确定|不很确定|没有把握|犹豫|拿不定|吃不准|纠结|不一定|未必|不见得|视情况而定|要看具体情况|取决于|既不.{0,12}也不|一概而论"
    r"|\bnot\s+(?:\w+\s+)?(?:sure|certain)|\bunsure\b|\buncertain\b|\bcan(?:not|'t)\s+(?:determine|tell|decide|be\s+sure)"
    r"|\bhard\s+to\s+say|\bunclear\b|\bdon't\s+know|\bdo\s+not\s+know",
    re.IGNORECASE,
)
TEXT_COMMA = re.compile(r"\s*,\s*(?:and\s+)?", re.IGNORECASE)  # English option texts in a list: "fever, night sweats and …"
# letters separated by semicolons ("答案为A;B;C"): one group, not sentences
SEMICOLON_LETTERS = re.compile(r"(?<![A-Za-z;])(?<!; )(?:[A-Z] ?; ?)+[A-Z](?= ?(?:$|[。.\n]))")  # tried at a run's start only
JOIN_GAP = re.compile(r"[\s)\]】(\[【、/&]*(?:项|选项)?[\s、]*(?:和|及|与|以及|\band\b)?\s*(?:选项|option)?[\s)\]】(\[【、/&]*",
                      re.IGNORECASE)

# ---- true/false verdicts; NOT_VERDICT spans are masked first (same length, so positions hold)
VERDICT = re.compile(
    r"(?P<true>不是错误|并非错误|不是错的|没有错|没错|没有问题|没问题)"
    r"|(?P<false>不完全正确|不全对|不完全对|部分正确|部分对|不能说是?(?:正确|对)|不正确|不是正确|并不正确|并非正确|不对|不成立|不准确|不严谨|不妥|欠妥|有误|错误"
    r"|是错的|错的|(?<=[是能得或])错(?![过开])|错(?=\s*(?:或|还是))|(?<=认为|觉得)不是(?=\s*(?:[。.!,;]|$))|[×✗✘❌✖]"
    r"|\bnot\s+(?:correct|true|right)\b"
    r"|\b(?:false|incorrect|wrong|untrue|inaccurate)\b|\bpartially\s+(?:correct|true|right)\b"
    r"|\bnot\s+(?:entirely|completely|fully|quite)\s+(?:correct|true|right)\b)"
    r"|(?P<true2>正确|成立|是对的|对的|(?<=[是能得或])对(?![于待比照应象称抗])|对(?=\s*(?:或|还是))"
    r"|(?<=认为|觉得)是(?=\s*(?:[。.!,;]|$))|[√✓✔✅]"
    r"|\b(?:true|correct|right|accurate)\b)",
    re.IGNORECASE,
)
NOT_VERDICT = re.compile(
    r"正确答案|正确选项|是否正确|正确与否|是否|对错|对还是错|正确还是错误"
    r"|正确的(?:做法|方法|操作|顺序|步骤|处理|程序|流程|规定|要求|理解|认识|选择)"
    r"|correct\s+(?:answer|option|choice)|whether\s+(?:\w+\s+){0,3}?(?:true|correct|right)(?:\s+or\s+(?:not|false|incorrect|wrong))?"
    r"|true\s+or\s+false|right\s+or\s+wrong",
    re.IGNORECASE,
)
CONCESSIVE = re.compile(r"看似|似乎|好像|看起来|听起来|表面上|乍一?看|虽然|虽说|尽管|\bseems?\b|\bappears?\b|\blooks?\b", re.IGNORECASE)
ANSWERED = re.compile(r"\s*(?:(?P<no>不对|不是|不正确|错误?|否|no\b)|对|是|正确|yes\b)(?![\u4e00-\u9fff])", re.IGNORECASE)
BARE_VERDICT = re.compile(r"[\s*]*(?P<word>对|错|是|否|不是|不)(?:\s*(?P=word))*[的了吧啊呀]?[\s*]*$")  # also 对对对
# "以上都不对" is the option "以上都不是"
NONE_ABOVE = re.compile(r"以上(?:选项|答案|说法)?(?:都|均|皆|全)(?:不是|不对|不正确|错误|非)|以上皆非|noneoftheabove")
ALL_ABOVE = re.compile(r"以上(?:选项|答案|说法)?(?:都|均|皆|全)(?:是|对|正确)|alloftheabove")

# units of quantity options (安规: distances, voltages, times) and their Chinese names
UNITS = {"m": "米", "mm": "毫米", "cm": "厘米", "km": "千米", "kv": "千伏", "v": "伏", "ma": "毫安", "kw": "千瓦", "h": "小时",
         "min": "分钟", "s": "秒", "kg": "千克", "mg": "毫克", "ml": "毫升", "mpa": "兆帕", "kpa": "千帕", "mω": "兆欧"}
QUANTITY = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Za-zΩω]{1,3}|[\u4e00-\u9fff]{1,2})")

FINAL, CHOICE, LEAD, EVAL, MENTION, TEXT = 5, 4, 3, 2, 1, 0  # claim ranks, highest first


def normalize(text: str) -> str:
    """NFKC (full-width letters and punctuation become ASCII), whitespace runs as one space."""
    return re.sub(r"[ \t\u3000]+", " ", unicodedata.normalize("NFKC", text)).strip()


def key(text: str) -> str:
    """Text as compared with an option's text: no spaces, no end punctuation, case-folded."""
    folded = "".join(normalize(text).split()).strip(ENDS).casefold()
    if NONE_ABOVE.fullmatch(folded):
        return "以上都不是"
    return "以上都是" if ALL_ABOVE.fullmatch(folded) else folded


@dataclass(frozen=True)
class Reading:
    """What a reply says: ``status`` is "answer" (``letters`` sorted), "none" or "ambiguous"."""

    letters: str
    status: str


NO_ANSWER = Reading("", "none")
AMBIGUOUS = Reading("", "ambiguous")


@dataclass(frozen=True)
class Mode:
    """How a letter must stand to count."""

    lower: bool  # lower-case letters count (when no English word follows)
    prose_guard: bool  # "A patient", "ACE inhibitors": an English word follows, so not letters
    linked: bool  # a LINKS character may follow (A和C, B是)
    max_run: int = 26  # longest run read as letters ("ACD")


MARKED = Mode(lower=True, prose_guard=True, linked=True)  # the whole reply, or after a marker
TOPIC = Mode(lower=False, prose_guard=True, linked=True)  # at the start of a clause: "ACD都对"
RUNNING = Mode(lower=False, prose_guard=True, linked=True, max_run=1)  # in running text


@dataclass
class Claim:
    """Letters a sentence says something about, with their rank and how they are said."""

    rank: int
    letters: str
    start: int
    end: int
    negative: bool = False
    hedged: bool = False
    verdict: bool = False  # a true/false word: the first one counts
    dismissed: bool = False  # an option text followed by 不…
    topic: bool = False
    headed: bool = False  # "A. 雨鞋", "A:": an option line's head
    listing: bool = False
    own: bool = False  # followed by its option's text
    letters_end: int = 0
    question: bool = False  # said in a question: counts only when nothing else is said
    line_end: int = 0  # where the next letter claim of its sentence starts
    conditional: bool = False  # "若选A，则……": counts only when nothing else is said


def judge_letters(options: dict[str, str]) -> tuple[str, str] | None:
    """(letter of the "true" option, letter of the "false" one) of a true/false question, else None."""
    words = {letter: text.upper() for letter, text in options.items()}
    true = [letter for letter, word in words.items() if word in TRUE_WORDS]
    false = [letter for letter, word in words.items() if word in FALSE_WORDS]
    return (true[0], false[0]) if len(words) == len(true) + len(false) == 2 and true and false else None


def sentences(text: str):
    """(start, end, is a question) of each sentence."""
    for match in SENTENCE.finditer(text):
        yield match.start(), match.end(), "?" in match.group()[-3:]


class Reader:
    """Reads the chosen letters out of replies to one question (its options, or none known)."""

    def __init__(self, options: dict[str, str] | None = None, valid: str | None = None):
        self.texts = {letter: normalize(text) for letter, text in (options or {}).items()}
        self.valid = set(valid or self.texts or FALLBACK_LETTERS)
        self.by_key = {key(text): letter for letter, text in self.texts.items() if key(text)}
        spelled = {key(other): letter for letter, text in self.texts.items() for other in unit_spellings(text)}
        self.by_key = {**spelled, **self.by_key}  # "0.7米" is the option "0.7m"
        self.judge = judge_letters(self.texts)
        self.longest = max(map(len, self.texts.values()), default=0)
        # option texts searched in running text (not for true/false questions: verdicts do that)
        self.searched = {} if self.judge else {
            variant.lower(): letter for letter, text in self.texts.items() if len(text) >= 2 and letter in self.valid
            for variant in (*unit_spellings(text), text)}

    def extract(self, predict: str) -> str:
        """The sorted letters chosen in ``predict``; "" when there is no answer or it is ambiguous."""
        return self.read(predict).letters

    def read(self, predict: str) -> Reading:
        """The reply as letters, no answer or ambiguous (see the module's documentation)."""
        text = SEMICOLON_LETTERS.sub(lambda m: re.sub(r"\s*;\s*", "、", m.group()), normalize(predict))
        if not text.strip(ENDS):
            return NO_ANSWER
        if letters := self.whole(text) or self.text_answer(text):
            return Reading(letters, "answer")
        return self.decide(self.claims(text), text)

    # ---------------------------------------------------------------- letters as they stand

    def ends_cleanly(self, text: str, start: int, end: int, mode: Mode) -> bool:
        """Whether the letter run text[start:end] stands alone rather than being part of a word."""
        run, first = text[start:end], text[end : end + 1]
        if first.isdigit() or (first == "-" and text[end + 1 : end + 2].isdigit()):  # B12, B-12
            return False
        if first == "." and mode.prose_guard and re.match(r"\.\s*[a-z]", text[end : end + 4]):  # E. coli
            return False
        if first.isspace():
            skip = SPACES.match(text, end).end()
            after = text[skip : skip + 1]
            if run.islower() and after.isascii() and after.isalpha():  # "a bit", "be sure"
                return False
            word = WORD.match(text, skip)
            if not (mode.prose_guard and word and (run == "A" or len(run) > 1)):
                return True
            return word.group() in LETTER_FOLLOWERS  # "A patient", "ACE inhibitors" / "A is wrong"
        if first.isalpha() and not (mode.linked and (first in LINKS or RATHER_LINK.match(text, end))):
            # Chinese: only the option's own text
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
        if mode is not MARKED and list(letters) != sorted(letters):  # "CAD的风险": an abbreviation, not "ACD"
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
            if "," in sep.group() and len(letters) > 1 and "," not in text[pos:end]:  # "选ACD，B和E不对"
                break
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
        return found[0] if found and found[1] == len(core) else self.letter_lines(text)

    def letter_lines(self, text: str) -> str:
        """Letters of a reply that is only lines of letters under a bare marker line (``答案：`` / ``A`` / ``D``)
        or as list items (``1. A`` / ``2. B``); bare lines ``B`` / ``C`` stay undecided, every option is no choice."""
        lines = [line for line in text.split("\n") if line.strip(ENDS)]
        marked = len(lines) > 2 and marker_line(lines[0])
        lines = lines[1:] if marked else lines
        if len(lines) < 2:
            return ""
        letters, listed = set(), True
        for line in lines:
            core = line.strip(ENDS)
            listed = listed and NUMBERING.match(core).end() > 0
            core = core[NUMBERING.match(core).end():].strip(ENDS)
            found = self.letters_at(core, 0)
            if not found or found[1] != len(core):
                return ""
            letters |= set(found[0])
        if not (marked or listed) or letters == set(self.texts):  # bare "B" / "C" lines are undecided
            return ""
        return "".join(sorted(letters))

    def listing(self, text: str) -> str:
        """Letters of leading lines ``A. 雨鞋`` / ``C. 绝缘手套`` that repeat some options (not all: that
        restates the question); lines going through options with comments are an analysis."""
        segments = [part for part in LISTING_SEGMENT.split(text) if part.strip()]
        if len(segments) > 2 and marker_line(segments[0]):  # "正确选项：" over the lines
            segments = segments[1:]
        lettered = [m for m in (LETTERED_LINE.fullmatch(part) for part in segments) if m]
        if len(lettered) < 2 or not LETTERED_LINE.fullmatch(segments[0]):
            return ""
        letters = {m[1] for m in lettered}
        if self.texts:
            if not all(key(m[2]) == key(self.texts.get(m[1], "")) for m in lettered) or letters == set(self.texts):
                return ""
        elif len(lettered) < len(segments):
            return ""
        return "".join(sorted(letters)) if letters <= self.valid else ""

    # ---------------------------------------------------------------- claims

    def claims(self, text: str) -> list[Claim]:
        found = [Claim(LEAD, listed, 0, 0, listing=True)] if (listed := self.listing(text)) else []
        context = Context(-1 if self.analysis(text) and not listed else REPLY_START.match(text).end(),
                          self.restated(text))
        hits = self.text_hits(text)
        starts = [hit[0] for hit in hits]
        asked: list[Claim] = []
        for lo, hi, question in sentences(text):
            if asked and (reply := ANSWERED.match(text, lo, hi)):  # "A对吗？不对。": the question's claims answered
                for claim in asked:
                    claim.question, claim.negative = False, bool(reply["no"]) != claim.negative
                    claim.rank = max(claim.rank, EVAL)
            spans = self.letter_spans(text, lo, hi)
            taken = Taken(spans)
            first = bisect.bisect_left(starts, lo)
            spans += [Claim(TEXT, letter, s, e) for s, e, letter in hits[first : bisect.bisect_left(starts, hi)]
                      if not taken.overlaps(s, e)]
            if self.judge:
                spans += [c for c in self.verdicts(text, lo, hi) if not taken.overlaps(c.start, c.end)]
            spans += self.marked_texts(text, lo, hi, spans)
            said = self.judged(text, lo, hi, join(text, sorted(spans, key=lambda c: c.start)), question, context)
            asked = said if question else []
            found += said
        return found

    @staticmethod
    def analysis(text: str) -> bool:
        """Whether the reply opens with lines ``A. …`` / ``B. …`` (an analysis or a new question: no
        letter opens it as an answer)."""
        lines = [line for line in text.splitlines()[:50] if line.strip()]
        lettered = [bool(LETTERED_LINE.fullmatch(line)) for line in lines]
        return len(lettered) > 1 and lettered[0] and lettered[1]

    def restated(self, text: str) -> bool:
        """Whether the reply repeats every option as ``A. 雨鞋`` (the question, not a choice): each option line bare,
        not ``A. 雨鞋: 不绝缘`` (an analysis)."""
        return len(self.texts) > 1 and all(
            re.search(rf"(?<![A-Za-z]){letter}\s*[.、:)]\s*{re.escape(option)}[\s*)]*(?:$|\n|[A-Z]\s*[.、:)]|[,;|])", text)
            for letter, option in self.texts.items())

    def letter_spans(self, text: str, lo: int, hi: int) -> list[Claim]:
        """Letter groups of the sentence text[lo:hi], read as their context allows."""
        spans, pos = [], lo
        for run in RUN.finditer(text, lo, hi):
            start, letters = run.start(), run.group()
            if start < pos or (len(letters) > 1 and not letters.isupper()) or not set(letters.upper()) <= self.valid:
                continue
            before = text[max(lo, start - 24) : start]
            rank = cue_rank(before)
            if rank is None and (word := PREV_WORD.search(before)) and word[1].lower() not in LETTER_LEADERS:
                continue  # "hepatitis B", "vitamin C"
            topic = bool(TOPIC_BEFORE.search(text[max(lo, start - 12) : start])
                         or (start - lo <= 12 and TOPIC_START.fullmatch(text, lo, start)))
            mode = MARKED if rank in (FINAL, CHOICE, MENTION) else TOPIC if topic else RUNNING
            found = self.letters_at(text, start, mode)
            if not found or found[1] > hi:
                continue
            letters, end = found
            own = self.own_text_end(text, end, letters)
            headed = own > end or bool(text[end : end + 1] in ".、:" and text[end + 1 : min(hi, end + 40)].strip(ENDS))
            spans.append(Claim(rank if rank is not None else MENTION, letters, start, own, topic=topic and rank is None,
                               headed=headed, own=own > end, letters_end=end,
                               negative=rank is None and bool(NEG_BEFORE.search(before))))
            pos = own
        return spans

    def own_text_end(self, text: str, end: int, letters: str) -> int:
        """End of the option's own text right after its letter (``B. 绝缘靴``, ``D（尿激酶）``), else ``end``."""
        option = self.texts.get(letters, "") if len(letters) == 1 else ""
        skip = OWN_TEXT_GAP.match(text, end).end()
        if option and text[skip : skip + len(option)].lower() == option.lower():
            close = re.compile(r"[)\s]*").match(text, skip + len(option)).end()
            return close if text[skip - 1 : skip] == "(" else skip + len(option)
        return end

    def text_hits(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, letter) of the option texts in the reply, the longest where they overlap."""
        lowered = text.lower()
        if len(lowered) != len(text):
            lowered = text
        hits = []
        for option, letter in self.searched.items():
            at = lowered.find(option)
            while at >= 0:
                if not part_of_number(lowered, at, at + len(option)):  # "0.7m" in "10.7m" or "0.7mm"
                    hits.append((at, at + len(option), letter))
                at = lowered.find(option, at + len(option))
        hits.sort(key=lambda hit: (hit[0], -hit[1]))
        kept, end = [], -1
        for hit in hits:
            if hit[0] >= end:
                kept.append(hit)
                end = hit[1]
        return kept

    def verdicts(self, text: str, lo: int, hi: int) -> list[Claim]:
        """True/false words of a judge question's sentence (not questions, concessions, adjectives)."""
        masked = NOT_VERDICT.sub(lambda m: " " * len(m.group()), text[lo:hi])
        found = []
        for match in VERDICT.finditer(masked):
            if CONCESSIVE.search(masked, clause_start(masked, match.start(), 0), match.start()):
                continue
            letter = self.judge[1] if match["false"] else self.judge[0]
            found.append(Claim(EVAL, letter, lo + match.start(), lo + match.end(), verdict=True))
        offset = 0
        for clause in re.split(r"([,:。!])", masked):
            bare = BARE_VERDICT.match(clause)
            if bare:
                letter = self.judge[0] if bare["word"] in ("对", "是") else self.judge[1]
                found.append(Claim(EVAL, letter, lo + offset, lo + offset + len(clause), verdict=True))
            offset += len(clause)
        return found

    def marked_texts(self, text: str, lo: int, hi: int, spans: list[Claim]) -> list[Claim]:
        """An option's text or a true/false word right after a marker: ``答案是绝缘靴``, ``答案：错``."""
        found, starts = [], sorted(c.start for c in spans)
        for marker in MARKERS.finditer(text, lo, hi):
            end = marker.end()
            clause = CLAUSE_END.split(text[end : min(hi, end + self.longest + 8)], maxsplit=1)[0]
            if not clause or bisect.bisect_left(starts, end) < bisect.bisect_left(starts, end + len(clause)):
                continue  # a letter, text or verdict claim is there already
            if letters := self.text_answer(clause):
                rank = cue_rank(text[max(lo, marker.start() - 24) : end]) or CHOICE
                found.append(Claim(rank, letters, end, end + len(clause)))
        return found

    def judged(self, text: str, lo: int, hi: int, spans: list[Claim], question: bool, context: Context) -> list[Claim]:
        """The sentence's claims with what follows each: verdicts, alternatives, the reply's opening."""
        either = bool(EITHER.search(text, lo, hi))
        line_end = hi
        for index in reversed(range(len(spans))):  # a topic's verdict may follow option texts: "A项：肝素…，错误"
            spans[index].line_end, line_end = line_end, (spans[index].start if spans[index].rank != TEXT else line_end)
        for index, claim in enumerate(spans):
            after = text[claim.end : spans[index + 1].start if index + 1 < len(spans) else hi]
            alone = not index and not after.strip(ENDS) and not text[lo : claim.start].strip(ENDS)
            if index + 1 < len(spans) and RATHER_THAN.fullmatch(after):  # "C而不是D": no verdict on C
                after, claim.line_end = "", claim.end
            self.judge_claim(text, lo, claim, after, context, alone)
            if index and OR_GAP.fullmatch(text[spans[index - 1].end : claim.start]):
                claim.hedged = spans[index - 1].hedged = True
        for claim in spans:
            claim.question = question
            claim.hedged = claim.hedged or either
        return [claim for claim in spans if claim.letters]

    def judge_claim(self, text: str, lo: int, claim: Claim, after: str, context: Context, alone: bool) -> None:
        """Sets the claim's rank and negation from the words around it (up to the next claim)."""
        before = text[max(lo, claim.start - 24) : claim.start]
        if CONDITIONAL.search(text, clause_start(text, claim.start, lo), claim.start):  # "若选A，则……": supposed
            claim.letters = ""
            return
        claim.conditional = bool(CONDITIONAL.search(text, max(lo, claim.start - 60), claim.start))  # "如果…，则选C"
        if EXCEPT_BEFORE.search(before) and (exception := EXCEPT_AFTER.match(after)):  # 除了B，其余都不对
            others = "".join(sorted(self.valid - set(claim.letters)))
            claim.letters, claim.negative, claim.rank = (claim.letters if exception["neg"] else others), False, EVAL
            return
        if ALL_EXCEPT_BEFORE.search(text, max(lo, claim.start - 48), claim.start) and not NEG_AFTER.match(after):
            claim.letters = "".join(sorted(self.valid - set(claim.letters)))
            claim.negative, claim.rank = False, max(claim.rank, EVAL)
            return
        if claim.rank == TEXT or claim.verdict:  # letters got their marker when they were read
            if (cue := cue_rank(before)) in (FINAL, CHOICE):
                claim.rank = cue
            if claim.verdict:
                return
            claim.negative = bool(NEG_BEFORE.search(before))
        if claim.negative or NEG_AFTER.match(after):
            claim.negative = True
        elif FINAL_AFTER.match(after):
            claim.rank = FINAL
        elif POS_AFTER.match(after):
            claim.rank = max(claim.rank, EVAL)
        elif claim.topic and (verdict := line_verdict(text[claim.end : claim.line_end])):
            claim.negative, claim.rank = verdict == "neg", EVAL
        elif HEDGE_AFTER.match(after):
            claim.hedged = True
        elif claim.rank == MENTION and claim.topic and (
                described := DESCRIBED.match(text, claim.letters_end, claim.line_end)):
            claim.negative = bool(described["neg"])  # "A项雨鞋不绝缘": dismissed; "B项绝缘靴可防触电": a mention
        elif context.restated and claim.own and set(claim.letters) == set(self.texts):
            claim.letters = ""  # "答案：A. 雨鞋 B. 绝缘靴 C. 绝缘手套 D. 安全帽" repeats the options
        elif claim.rank == MENTION:
            if claim.headed and (context.restated or claim.start > context.lead_at):
                claim.letters = "" if claim.topic else claim.letters  # an option line's head: "A. 雨鞋不绝缘"
            elif claim.start <= context.lead_at or alone:
                claim.rank = LEAD  # the reply opens with it, or a letter alone on its line
        if claim.rank == TEXT and DISMISSED.match(after):
            claim.dismissed = True

    # ---------------------------------------------------------------- deciding

    def decide(self, claims: list[Claim], text: str) -> Reading:
        asked = [c for c in claims if c.question]
        claims = [c for c in claims if not c.question] or asked
        for claim in asked:  # "B还是C呢？" alone is ambiguous; "说法正确吗？不正确。" answers it
            claim.hedged = True
        claims = [c for c in claims if not c.conditional] or [c for c in claims if not c.negative]
        negations = [(c.start, set(c.letters)) for c in claims if c.negative]
        chosen = [c for c in claims if not c.negative]
        reading, winner = self.pick(chosen, negations)
        if reading == NO_ANSWER and not chosen and self.texts and not self.judge:  # "A、C、D可以排除": the one left
            left = self.valid - set().union(*(letters for _, letters in negations))
            if len(left) == 1 and len(self.valid) > 2:
                reading = Reading("".join(left), "answer")
        if reading.letters and any(c.hedged and c.letters != reading.letters and c.start > winner for c in chosen):
            return AMBIGUOUS  # "我选B，但A也有可能"
        hedges = [m.start() for m in HEDGE.finditer(text)]
        if hedges and not any(c.rank >= CHOICE and c.start > hedges[-1] for c in chosen):
            return AMBIGUOUS if reading != NO_ANSWER else NO_ANSWER
        return reading

    def pick(self, chosen: list[Claim], negations: list[tuple[int, set]]) -> tuple[Reading, int]:
        """The best-ranked claims decide (see the module's documentation); also where the winner starts."""
        negated = set().union(*(letters for _, letters in negations))
        for rank in (FINAL, CHOICE, LEAD, EVAL, MENTION, TEXT):
            claims = [c for c in chosen if c.rank == rank]
            if not claims:
                continue
            if rank in (FINAL, CHOICE, LEAD):
                claims = [c for c in claims if c.listing] or claims
                if rank == LEAD and len({c.letters for c in claims}) > 1 or claims[-1].hedged:
                    return AMBIGUOUS, -1
                later = set().union(*(letters for start, letters in negations if start > claims[-1].start))
                letters = set(claims[-1].letters) - later
            elif verdicts := [c for c in claims if c.verdict]:  # true/false: the first verdict
                return (AMBIGUOUS if verdicts[0].hedged else Reading(verdicts[0].letters, "answer")), verdicts[0].start
            elif rank == EVAL:
                if any(c.hedged for c in claims):
                    return AMBIGUOUS, -1
                letters = set().union(*(set(c.letters) for c in claims)) - negated
            else:
                groups = [(c, frozenset(c.letters) - negated) for c in claims]
                groups = [(c, group) for c, group in groups if group]
                if len({group for _, group in groups}) > 1:
                    groups = [(c, group) for c, group in groups if not c.dismissed] or groups
                if any(c.hedged for c, _ in groups) or len({group for _, group in groups}) > 1:
                    return AMBIGUOUS, -1
                letters = set(groups[0][1]) if groups else set()
            if letters:
                return Reading("".join(sorted(letters)), "answer"), (claims[-1].start if rank >= LEAD else -1)
        return NO_ANSWER, -1


def cue_rank(before: str) -> int | None:
    """The rank a marker right before a claim gives it (FINAL, CHOICE, MENTION), None for no marker or a negation."""
    if NEG_BEFORE.search(before) and not EXCEPT_BEFORE.search(before):
        return None
    if WRONG_BEFORE.search(before):
        return MENTION
    for rank, pattern in ((FINAL, FINAL_BEFORE), (CHOICE, CHOICE_BEFORE), (MENTION, MENTION_BEFORE)):
        if pattern.search(before):
            return rank
    return None


def unit_spellings(text: str) -> list[str]:
    """Other spellings of a quantity option: "0.7m" / "0.7米", "10kV" / "10千伏"; [] for other texts."""
    match = QUANTITY.fullmatch(text)
    if not match:
        return []
    unit = match[2].lower()
    other = UNITS.get(unit) or next((latin for latin, chinese in UNITS.items() if chinese == match[2]), "")
    return [f"{match[1]}{other}", f"{match[1]} {other}"] if other else []


def part_of_number(text: str, start: int, end: int) -> bool:
    """Whether a hit text[start:end] of a quantity is part of a longer number or unit (``10.7m``, ``0.7mm``)."""
    before, after, first, last = text[start - 1 : start], text[end : end + 1], text[start], text[end - 1]
    return bool(first.isdigit() and (before.isdigit() or before == ".")
                or last.isascii() and last.isalpha() and after.isascii() and after.isalpha())


def marker_line(line: str) -> bool:
    """Whether a line is only a marker: ``答案：``, ``**正确选项：**``."""
    return bool(MARKERS.fullmatch(line.strip(" \t*#")))


def line_verdict(after: str) -> str:
    """"neg" or "pos" when a clause after an option's head is a verdict on it ("，错误", "– correct"), else ""."""
    for clause in CLAUSE_SPLIT.split(after):
        if match := VERDICT_CLAUSE.match(clause):
            return "neg" if match["neg"] or match["neg2"] or match["neg3"] else "pos"
    return ""


@dataclass(frozen=True)
class Context:
    lead_at: int  # claims starting here or before open the reply
    restated: bool  # the reply repeats every option line


class Taken:
    """Sorted, non-overlapping spans of the letter claims: does a text or verdict overlap one?"""

    def __init__(self, spans: list[Claim]):
        self.starts = [c.start for c in spans]
        self.ends = [c.end for c in spans]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, start) - 1
        return any(0 <= j < len(self.starts) and start < self.ends[j] and self.starts[j] < end for j in (i, i + 1))


def clause_start(text: str, pos: int, lo: int) -> int:
    """Start of the clause holding ``pos`` (after the last , or 。 of the 60 characters before it)."""
    floor = max(lo, pos - 60)
    return max(text.rfind(",", floor, pos), text.rfind("。", floor, pos), floor - 1) + 1


def joins(gap: str) -> bool:
    """Whether the text between two claims joins them: 和, 、, and, ")(" (not an opening bracket alone: "ACD（B不选）")."""
    opened = any(c in gap for c in "([【")
    return bool(JOIN_GAP.fullmatch(gap)) and (not opened or any(c in gap for c in ")]】"))


def join(text: str, spans: list[Claim]) -> list[Claim]:
    """Adjacent claims joined by 和/、/and (``肝素和华法林都不对``, ``(A)(C)``) become one."""
    joined: list[Claim] = []
    for claim in spans:
        last = joined[-1] if joined else None
        if (last and not claim.verdict and not last.verdict and last.end <= claim.start
                and (last.own and claim.own or not (last.headed or claim.headed))
                and (joins(text[last.end : claim.start]) or last.rank == claim.rank == TEXT
                     and TEXT_COMMA.fullmatch(text, last.end, claim.start) and text[last.start : claim.end].isascii())
                and (not set(last.letters) & set(claim.letters) or last.letters == claim.letters)):  # 肝素（A）
            last.letters = "".join(sorted(last.letters + claim.letters))
            last.end, last.rank = claim.end, max(last.rank, claim.rank) if last.rank != TEXT else claim.rank
            last.negative = last.negative or claim.negative
            last.headed, last.own = last.headed or claim.headed, last.own and claim.own
        else:
            joined.append(claim)
    return joined


def read(predict: str, options: dict[str, str] | None = None, valid: str | None = None) -> Reading:
    """What ``predict`` answers: letters, no answer or ambiguous (see the module's documentation).

    >>> drugs = {"A": "肝素", "B": "华法林", "C": "阿司匹林", "D": "尿激酶", "E": "链激酶"}
    >>> read("我选E，不选A", drugs), read("不是肝素", drugs), read("我不确定是B还是E", drugs)
    (Reading(letters='E', status='answer'), Reading(letters='', status='none'), Reading(letters='', status='ambiguous'))
    """
    return Reader(options, valid).read(predict)


def extract(predict: str, options: dict[str, str] | None = None, valid: str | None = None) -> str:
    """The sorted letters chosen in ``predict``, "" when there is no answer or it is ambiguous.

    ``options`` maps letters to option texts; ``valid`` lists the letters that may be chosen
    (default: the options' letters, else A–E).

    >>> options = {"A": "雨鞋", "B": "绝缘靴", "C": "绝缘手套"}
    >>> [extract(p, options) for p in ("正确答案为 B。", "B. 绝缘靴", "绝缘靴", "(c)", "答案是A、C", "DNA")]
    ['B', 'B', 'B', 'C', 'AC', '']
    >>> [extract(p, options) for p in ("A不对，C对", "答案是A。不对，应该是C。", "The answer is C or A")]
    ['C', 'C', '']
    >>> extract("不正确，应先验电。", {"A": "正确", "B": "错误"}), extract("说法正确吗？不正确。", {"A": "正确", "B": "错误"})
    ('B', 'B')
    """
    return Reader(options, valid).extract(predict)
