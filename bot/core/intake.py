"""The intake form read from ``bot/intake.yml``: which questions apply, what they ask, and what
a resident's typed answer means.

``read_answer`` turns one answer into an ``Answer``: a value, a skip, "go back", "send it now",
a story (a long text kept as the resident's own words) or unclear. Typed answers are read as a
person would: whole words only, negation from the parse (``bot.core.words``), ages, phone numbers and
times in kanji, kana or digits.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from bot.core.textnorm import fold_kana, normalize_text
from bot.core.words import find

INTAKE_FILE = Path(__file__).resolve().parent.parent / "intake.yml"
SKIPPED = "未回答"
ANSWER_ENTITY = "form_answer"  # the entity of a button's answer: /inform{"form_answer": "..."}
SKIP, BACK, SEND_NOW = "skip", "back", "send_now"
COMMANDS = (SKIP, BACK, SEND_NOW)
# A choice marked ``only: line_contact`` (「このLINEで連絡してほしい」) is offered on LINE only, and
# only when the runner tells the action server that the web side can keep the contact (it has
# LINE_CONTACT_KEY): this flag, never the key itself.
LINE_CONTACT = "line_contact"
LINE_CONTACT_ENV = "LINE_CONTACT_OFFERED"


def offered_extras(channel: str, environ: Optional[Mapping[str, str]] = None) -> Tuple[str, ...]:
    """The conditional choices this conversation may see (``only:`` in bot/intake.yml)."""
    environ = os.environ if environ is None else environ
    return (LINE_CONTACT,) if channel == "line" and environ.get(LINE_CONTACT_ENV) == "1" else ()


@dataclass(frozen=True)
class Choice:
    value: str
    button: str
    words: Tuple[str, ...]
    only: str = ""  # offered only where this condition holds (see offered_extras)


@dataclass(frozen=True)
class Question:
    slot: str
    label: str
    ask: str
    choices: Tuple[Choice, ...] = ()
    skip_button: str = ""
    when: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    parser: str = ""
    negated_means: str = ""
    negated: Dict[str, str] = field(default_factory=dict)
    aliases: Tuple[str, ...] = ()  # words that name the item in a correction (急ぎ, 年齢)

    def applies(self, slots: Dict[str, object]) -> bool:
        """Whether the question is asked, given the answers so far (``when``)."""
        return all(slots.get(slot) in allowed for slot, allowed in self.when.items())

    def offering(self, extras: Iterable[str] = ()) -> "Question":
        """The question with only the choices offered here (conditional ones need their extra)."""
        extras = set(extras)
        kept = tuple(c for c in self.choices if not c.only or c.only in extras)
        return self if len(kept) == len(self.choices) else replace(self, choices=kept)


@dataclass(frozen=True)
class Form:
    questions: Tuple[Question, ...]
    commands: Dict[str, Tuple[str, ...]]
    send_now_from: int
    endings: Tuple[str, ...]
    story_min_chars: int
    consent_conditions: Tuple[str, ...] = ()

    @property
    def slots(self) -> Tuple[str, ...]:
        return tuple(q.slot for q in self.questions)

    def question(self, slot: str) -> Question:
        return next(q for q in self.questions if q.slot == slot)

    def required(self, slots: Dict[str, object]) -> List[str]:
        """The slots still to ask about, in order, given the answers so far."""
        return [q.slot for q in self.questions if q.applies(slots)]

    def previous(self, slot: str, slots: Dict[str, object]) -> Optional[str]:
        """The question asked before ``slot`` (for 「もどる」)."""
        asked = self.required(slots)
        if slot not in asked:
            return asked[-1] if asked else None
        index = asked.index(slot)
        return asked[index - 1] if index > 0 else None

    def number(self, slot: str, slots: Dict[str, object]) -> int:
        """1-based position of ``slot`` among the questions that apply."""
        asked = self.required(slots)
        return asked.index(slot) + 1 if slot in asked else len(asked)

    def buttons(self, slot: str, slots: Dict[str, object], extras: Iterable[str] = ()) -> List[dict]:
        question = self.question(slot).offering(extras)
        buttons = [{"title": c.button, "payload": answer_payload(c.value)} for c in question.choices]
        if question.skip_button:
            buttons.append({"title": question.skip_button, "payload": answer_payload(SKIP)})
        if self.number(slot, slots) >= self.send_now_from:
            buttons.append({"title": "これで送る", "payload": answer_payload(SEND_NOW)})
        return buttons


def answer_payload(value: str, intent: str = "inform") -> str:
    """A button's payload: the answer ``value`` as the form's entity (``correct``: an item to fix)."""
    return '/%s{"%s": "%s"}' % (intent, ANSWER_ENTITY, value)


@lru_cache(maxsize=1)
def form() -> Form:
    data = yaml.safe_load(INTAKE_FILE.read_text(encoding="utf-8"))
    questions = []
    for q in data["questions"]:
        when = {k: tuple(v) if isinstance(v, list) else (v,) for k, v in (q.get("when") or {}).items()}
        choices = tuple(Choice(c["value"], c.get("button") or c["value"], tuple(str(w) for w in c.get("words") or ()),
                               str(c.get("only") or "")) for c in q.get("choices") or ())
        unknown = {c.only for c in choices if c.only and c.only != LINE_CONTACT}
        if unknown:
            raise ValueError(f"{INTAKE_FILE.name}: unknown 'only' condition {sorted(unknown)} in {q['slot']}")
        questions.append(Question(q["slot"], q["label"], q["ask"], choices, q.get("skip_button", ""), when,
                                  q.get("parser", ""), q.get("negated_means", ""), dict(q.get("negated") or {}),
                                  tuple(q.get("aliases") or ())))
    commands = {k: tuple(v) for k, v in data["commands"].items()}
    return Form(tuple(questions), commands, int(data.get("send_now_from", 3)),
                tuple(sorted(data.get("endings") or (), key=len, reverse=True)), int(data.get("story_min_chars", 25)),
                tuple(data.get("consent_conditions") or ()))


@dataclass
class Answer:
    kind: str  # "value", "skip", "back", "send_now", "story", "unclear"
    value: Optional[str] = None
    note: str = ""  # said back to the resident (e.g. the area code assumed)


# -- text helpers -------------------------------------------------------------------------------
_PUNCT = re.compile(r"[\s、。,.!！?？・…〜~ー-]+$")


def core_text(text: str) -> str:
    """The answer without polite endings and closing punctuation: 「佐藤です。」 -> 「佐藤」."""
    core = _PUNCT.sub("", normalize_text(text))
    changed = True
    while changed and core:
        changed = False
        for ending in form().endings:
            if core.endswith(ending) and len(core) > len(ending):
                core = _PUNCT.sub("", core[: -len(ending)])
                changed = True
    return core


def command_of(text: str) -> Optional[str]:
    """skip / back / send_now when the whole message is one of those commands."""
    core = fold_kana(core_text(text))
    for command, words in form().commands.items():
        if any(core == fold_kana(w) for w in words):
            return command
    return None


def _simple_words(text: str) -> List[Dict]:
    """Words when the parse is not at hand: the text split on spaces and punctuation (each piece
    one "word"; used for button values and tests without the NLU)."""
    pieces = [p for p in re.split(r"[\s、。,.!！?？]+", normalize_text(text)) if p]
    core = core_text(text)
    return [{"text": piece, "norm": piece, "neg": False} for piece in pieces + ([core] if core not in pieces else [])]


def _choose(question: Question, words: Sequence[Dict]) -> Optional[str]:
    """The first choice with a word in the answer; a negated word chooses ``negated_means`` or the
    ``negated`` value, or nothing. Whole words first; then, when nothing in the answer is negated,
    words of three characters or more also inside a longer word (同居 in 同居中)."""
    chosen = _choose_whole(question, words)
    if chosen is None and not any(w.get("neg") for w in words):
        text = fold_kana("".join(w["text"] for w in words))
        for choice in question.choices:
            if any(len(word) >= 3 and fold_kana(word) in text for word in choice.words):
                return choice.value
    return chosen


_REFUSAL = re.compile(r"^(は|を|が|も|だけは)?(やめて|止めて|困り|困る|ダメ|だめ|無理|むり|NG|ng|嫌|いや|避けて|控えて|遠慮)")


def refused(words: Sequence[Dict], hit: Dict) -> bool:
    """「電話はやめてください」「電話は困ります」: the word is refused, as good as negated."""
    after = "".join(w["text"] for w in words[hit["end"]:hit["end"] + 3])
    return bool(_REFUSAL.match(after))


def _choose_whole(question: Question, words: Sequence[Dict]) -> Optional[str]:
    for choice in question.choices:
        hit = find(words, choice.value)
        if hit is not None and not hit["neg"] and not refused(words, hit):
            return choice.value
    for choice in question.choices:
        for word in choice.words:
            hit = find(words, word)
            if hit is None:
                continue
            if refused(words, hit):
                hit = dict(hit, neg=True)
            if not hit["neg"]:
                return choice.value
            if choice.value in question.negated:
                return question.negated[choice.value]
            if question.negated_means and choice is question.choices[0]:
                return question.negated_means
    return None


# -- parsers -----------------------------------------------------------------------------------
_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def kanji_number(text: str) -> Optional[int]:
    """七十八 -> 78, 八十五 -> 85, 百 -> 100, 九 -> 9 (numbers an age can be)."""
    if not text or any(ch not in _KANJI_DIGITS and ch not in "十百" for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _KANJI_DIGITS[ch]
    return total + current


_AGE = re.compile(r"(\d{1,3}|[一二三四五六七八九十百]+)\s*(?:歳|才|さい)")
_DECADE = re.compile(r"(\d{1,2}0|[一二三四五六七八九]十)\s*(?:代|すぎ|過ぎ|ちょっと|くらい|ぐらい|前後|手前|半ば)")
_SCHOOL = [(re.compile(r"(小|中|高)\s*([1-6一二三四五六])(?:年)?"), "10代以下"),
           (re.compile(r"(小学|中学|高校)"), "10代以下"),
           (re.compile(r"(大学|専門学校|短大)"), "20〜30代")]


def age_band(age: int) -> str:
    if age < 20:
        return "10代以下"
    if age < 40:
        return "20〜30代"
    if age < 60:
        return "40〜50代"
    if age < 80:
        return "60〜70代"
    return "80代以上"


def parse_age(text: str) -> Optional[str]:
    """85歳, 七十八歳, 70すぎ, 中2, 大学生 -> the band, with the resident's words when they said more."""
    norm = normalize_text(text)
    core = core_text(text)
    for pattern in (_AGE, _DECADE):
        m = pattern.search(norm)
        if m:
            number = int(m.group(1)) if m.group(1).isdigit() else kanji_number(m.group(1))
            if number is not None and number <= 120:
                band = age_band(number)
                return band if core in (band, m.group(0)) and "代" in core else f"{band}（{core}）"
    for pattern, band in _SCHOOL:
        if pattern.search(norm):
            return f"{band}（{core}）"
    return None


_PHONE_CANDIDATE = re.compile(r"[0-9０-９][0-9０-９\-‐－ー−\s()（）]{4,16}[0-9０-９]")
MOBILE_PREFIXES = ("070", "080", "090", "050", "020")
HOKUTO_AREA_CODE = "0138"


@dataclass
class Phone:
    number: Optional[str]
    note: str = ""
    problem: str = ""  # why a number was refused


def parse_phone(text: str) -> Phone:
    """A Japanese phone number by its real digit count: mobile/IP 11 digits, landline and free
    dial 10 (0800: 11); a 6-digit local number gets Hokuto's area code 0138, and says so."""
    candidates = _PHONE_CANDIDATE.findall(normalize_text(text))
    if not candidates:
        return Phone(None, problem="none")
    digits = re.sub(r"\D", "", candidates[0])
    if len(digits) == 6 and not digits.startswith("0"):
        digits = HOKUTO_AREA_CODE + digits
        note = "市外局番がなかったので、北斗市の0138として受け取りました。"
    else:
        note = ""
    if not digits.startswith("0"):
        return Phone(None, problem="no_zero")
    expected = 11 if digits.startswith(MOBILE_PREFIXES + ("0800",)) else 10
    if len(digits) != expected:
        return Phone(None, problem="short" if len(digits) < expected else "long")
    if expected == 11:
        formatted = f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    elif digits.startswith(("0120", "0570")):
        formatted = f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    else:
        formatted = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return Phone(formatted, note)


_ANONYMOUS = ("匿名", "とくめい", "名無し", "ななし", "名前はなし", "名前は言いたくない", "名前は書きたくない", "言いたくない",
              "なし", "無し", "ない")


def parse_name(text: str) -> Answer:
    """「佐藤です」 -> 佐藤; 「匿名で」 is no name (skipped), never stored as one."""
    core = core_text(text)
    core = re.sub(r"^(名前は|なまえは|私は|わたしは)", "", core)
    folded = fold_kana(core)
    if any(folded.startswith(fold_kana(w)) for w in _ANONYMOUS):
        return Answer(SKIP)
    if not core or len(core) > 20 or re.search(r"\d{3,}|@|https?:|[。？?]", core):
        return Answer("unclear")
    return Answer("value", core)


_TIME_WORDS = re.compile(r"(\d{1,2}時(?:以降|以後|から|まで|前|すぎ|過ぎ|頃|ごろ|半)?|夜|夕方|朝|昼|午前|午後|土日|土曜|日曜|"
                         r"平日|週末|祝日|休み|仕事の後|仕事終わり|いつでも|何時でも)")


def parse_time(question: Question, text: str, words: Sequence[Dict]) -> Optional[str]:
    """A contact time: a button's value, else the resident's own time words (夜, 土日, 18時以降)."""
    chosen = _choose(question, words)
    core = core_text(text)
    if chosen and fold_kana(core) == fold_kana(chosen):
        return chosen
    if _TIME_WORDS.search(normalize_text(text)):
        return core if len(core) <= 30 else chosen
    return chosen


def parse_living(question: Question, text: str, words: Sequence[Dict]) -> Optional[str]:
    """The kind of household, with the resident's words when they said more (母と二人で住んでます)."""
    chosen = _choose(question, words)
    if chosen is None:
        return None
    core = core_text(text)
    return chosen if fold_kana(core) == fold_kana(chosen) or len(core) > 30 else f"{chosen}（{core}）"


# -- reading one answer ------------------------------------------------------------------------
def read_answer(slot: str, text: str, words: Optional[Sequence[Dict]] = None, extras: Iterable[str] = ()) -> Answer:
    """What a resident's answer to the question for ``slot`` means (``extras``: the conditional
    choices offered in this conversation, see ``offered_extras``)."""
    if not isinstance(text, str) or not text.strip():
        return Answer("unclear")
    if text in COMMANDS:  # a button
        return Answer(text)
    command = command_of(text)
    if command in COMMANDS:
        return Answer(command)
    question = form().question(slot).offering(extras)
    words = list(words) if words else _simple_words(text)
    if question.parser == "phone":
        phone = parse_phone(text)
        if phone.number:
            return Answer("value", phone.number, phone.note)
        return Answer("unclear", note=phone.problem)
    if question.parser == "name":
        return parse_name(text)
    value = None
    if question.parser == "age":
        value = parse_age(text) or _choose(question, words)
    elif question.parser == "living":
        value = parse_living(question, text, words)
    elif question.parser == "time":
        value = parse_time(question, text, words)
    elif slot == "consulter_relation":
        value = relation_from_consulter_answer(text, words) or _choose(question, words)
    else:
        value = _choose(question, words)
    if value is not None:
        return Answer("value", value)
    if len(core_text(text)) >= form().story_min_chars:
        return Answer("story")
    return Answer("unclear")


def relation_from_consulter_answer(text: str, words: Optional[Sequence[Dict]] = None) -> Optional[str]:
    """「娘です」 answered to 「相談しているのはどなたですか」: the family relation said at once
    (子（娘）), so that question is not asked again. Only when the answer is that word alone or
    「Xの私」."""
    question = form().question("consulter_relation")
    core = core_text(text)
    m = re.search(r"([^\sのでがはをに、]{1,4})の(?:私|わたし|僕|俺|あたし)", core)
    said = m.group(1) if m else core
    for choice in question.choices:
        for word in choice.words:
            if fold_kana(said) == fold_kana(word):
                return choice.value if fold_kana(word) == fold_kana(choice.value) else f"{choice.value}（{word}）"
    return None


def consent_is_conditional(text: str) -> bool:
    """Consent with a condition (家族に知られないならいいです, 名前は言いたくないです)."""
    folded = fold_kana(normalize_text(text))
    return any(fold_kana(w) in folded for w in form().consent_conditions)


def item_named(text: str) -> Optional[str]:
    """The form item a correction names (急ぎ具合が違います -> wish_urgency), or None."""
    folded = fold_kana(normalize_text(text))
    for question in form().questions:
        if any(fold_kana(w) in folded for w in (question.label,) + question.aliases):
            return question.slot
    return None
