"""Danger recognition: which kinds of danger a message shows, and which look-alikes are calm.

The signs live in ``bot/lexicons/crisis.yml`` (matched on folded text, Sudachi normalised forms
and readings, see ``bot.core.lexicon``). A lexicon hit counts unless its context cancels it:

- negated: its predicate, or the verb that quotes it, is negated an odd number of times
  (死にたくない, 死にたいとは思わない; not 死にたくないわけじゃない);
- told as the past: past tense with a distant-past marker (昔は死にたいと思った), or followed by a
  "now I am fine" phrase (…けど今は元気);
- mourning: about someone who died, with no wish of one's own (父は自殺でした);
- a frame that is not the resident's life: a training course, a drama, a question about a line.

Who is at risk turns violence into child abuse (友達が親に殴られてる, a child writing 親に殴られた)
or elder abuse (母が兄に殴られた). Negation, tense and roles come from GiNZA's dependency parse
when one is given (``ParsedToken``), else from the token sequence.

Idioms (死ぬほど眠い), the past, mourning and frames are the *listed false-alarm patterns*: when
one is present the danger model's positive is not trusted either (``DangerResult.listed_pattern``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot.core.lexicon import Match, Token, crisis_lexicon, load_lexicon_file
from bot.core.textnorm import contains_gapped, fold_gapped, fold_kana

_SENTENCE_END = re.compile(r"[。！？!?\n]")
_CLAUSE_SCONJ = {"けど", "けれど", "けれども", "が", "のに", "ので", "から", "し", "ながら", "ても", "でも"}
_PAST_AUX = {"た", "だ"}
_PASSIVE_AUX = {"れる", "られる"}
_NOUN_POS = {"NOUN", "PROPN", "PRON"}
_TAIL_PARTICLES = {"は", "も", "って", "とは", "と", "では", "ては", "か", "こと", "わけ", "まで", "なんて", "なんか",
                   "など", "とか"}
_DEGREE_ADVERBS = {"全然", "ぜんぜん", "全く", "まったく", "別に", "べつに", "特に", "そんなに", "あまり", "決して", "絶対",
                   "まだ", "もう", "一度も", "いちども", "そこまで"}
_QUOTE_PARTICLES = ("と", "って", "とは", "とか")
_NOMINALIZERS = {"こと", "事", "わけ", "訳", "の"}


@dataclass(frozen=True)
class ParsedToken:
    """One token of GiNZA's parse, reduced to what the context rules read."""
    i: int
    text: str
    lemma: str
    pos: str
    tag: str
    dep: str
    head: int
    start: int
    end: int


@dataclass(frozen=True)
class Finding:
    kind: str
    phrase: str  # the lexicon entry
    text: str  # the resident's words
    start: int
    end: int


@dataclass
class DangerResult:
    kinds: List[str] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)
    cancelled: List[Tuple[Finding, str]] = field(default_factory=list)  # (finding, reason)
    listed_pattern: Optional[str] = None  # idiom / past / mourning / frame present in the text

    @property
    def phrases(self) -> List[str]:
        out: List[str] = []
        for f in self.findings:
            if f.text not in out:
                out.append(f.text)
        return out

    def as_dict(self) -> dict:
        return {"kinds": list(self.kinds), "phrases": self.phrases,
                "cancelled": [{"kind": f.kind, "text": f.text, "reason": r} for f, r in self.cancelled],
                "listed_pattern": self.listed_pattern}


@dataclass(frozen=True)
class _Context:
    past: Tuple[str, ...]
    ongoing: Tuple[str, ...]
    resolved: Tuple[str, ...]
    mourning: Tuple[str, ...]
    frame: Tuple[str, ...]
    wish: Tuple[str, ...]
    negation: Tuple[str, ...]
    double_negation: Tuple[str, ...]
    quote_verbs: Tuple[str, ...]
    child: Tuple[str, ...]
    elder: Tuple[str, ...]
    partner: Tuple[str, ...]
    elder_agent: Tuple[str, ...]
    parent: Tuple[str, ...]
    child_writer: Tuple[str, ...]
    elder_writer_agent: Tuple[str, ...]
    idioms: Tuple[str, ...]


@lru_cache(maxsize=1)
def _context() -> _Context:
    data = load_lexicon_file("crisis.yml")
    c = data.get("context") or {}

    def words(key: str) -> Tuple[str, ...]:
        return tuple(fold_gapped(w) for w in c.get(key) or ())
    return _Context(
        past=words("past_markers"), ongoing=words("ongoing_markers"), resolved=words("resolved_markers"),
        mourning=words("mourning_markers"), frame=words("frame_markers"), wish=words("wish_markers"),
        negation=tuple(c.get("negation_lemmas") or ()), double_negation=words("double_negation"),
        quote_verbs=tuple(c.get("quote_verbs") or ()), child=words("child_words"), elder=words("elder_words"),
        partner=words("partner_words"), elder_agent=words("elder_agent_words"), parent=words("parent_words"),
        child_writer=words("child_writer_markers"), elder_writer_agent=words("elder_writer_agent_words"),
        idioms=tuple(fold_kana(w) for w in data.get("exclude") or ()),
    )


def kinds_in_priority_order(kinds: Iterable[str], order: Sequence[str]) -> List[str]:
    """Unique kinds, ordered as ``order`` (the order of crisis_kinds in hotlines.yml)."""
    unique = []
    for k in kinds:
        if k not in unique:
            unique.append(k)
    rank = {k: i for i, k in enumerate(order)}
    return sorted(unique, key=lambda k: rank.get(k, len(rank)))


def _has_any(text: str, words: Iterable[str]) -> bool:
    return any(w and contains_gapped(text, w) for w in words)


# A resolved marker ending in た that goes on as a wish (離婚した|い, 別れた|くても) is not resolved.
_WISH_AFTER_TA = re.compile(r"^(い|く|かった|がって|ければ|けれ)")


def _says_it_is_over(text: str, markers: Iterable[str]) -> bool:
    """A "now it is over" phrase in ``text`` (離婚しました, 今は元気), not a wish (離婚したい)."""
    for marker in markers:
        start = text.find(marker)
        while marker and start >= 0:
            end = start + len(marker)
            if not (marker.endswith("た") and _WISH_AFTER_TA.match(text[end:])):
                return True
            start = text.find(marker, end)
    return False


def _sentence_bounds(text: str, start: int, end: int) -> Tuple[int, int]:
    left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    right_match = _SENTENCE_END.search(text, end)
    return left, right_match.start() if right_match else len(text)


class _Analysis:
    """Context of one lexicon hit in one text."""

    def __init__(self, text: str, folded: str, match: Match, parse: Optional[Sequence[ParsedToken]]):
        self.text, self.folded, self.match, self.parse = text, folded, match, parse
        left, right = _sentence_bounds(folded, match.start, match.end)
        self.sentence = folded[left:right]
        self.before = folded[left:match.start]
        self.after_in_sentence = folded[match.end:right]
        self.after = folded[match.end:]
        self.hit = folded[match.start:match.end]
        self.tokens = [t for t in parse or () if t.start < match.end and t.end > match.start]

    # -- the hit's own function words ----------------------------------------------------------
    def _tail(self) -> List[ParsedToken]:
        """The words that carry the hit's polarity and tense: the function words right after it
        (auxiliaries, て, は/も, helper verbs such as いる・しまう, ない), and through と/って the
        verb that quotes it (死にたいとは思わない). Stops at the next content word or punctuation;
        each word must hang, in GiNZA's parse, on the hit or on a word already taken."""
        if not self.tokens or self.parse is None:
            return []
        ctx = _context()
        chain = {t.i for t in self.tokens}
        tail: List[ParsedToken] = []
        quoting = self.tokens[-1].text in _QUOTE_PARTICLES + ("ばかり", "ばっかり", "を", "も")
        for t in self.parse[self.tokens[-1].i + 1:]:
            attached = t.head in chain or any(self.parse[c].head == t.i for c in chain)
            function = (t.pos in ("AUX", "PART", "SCONJ") or (t.pos == "ADP" and t.text in _TAIL_PARTICLES)
                        or (t.pos == "ADV" and t.text in _DEGREE_ADVERBS)
                        or (t.lemma in ctx.negation and t.pos in ("ADJ", "AUX")) or "非自立" in t.tag
                        or t.lemma in _NOMINALIZERS)
            if t.text in _QUOTE_PARTICLES and t.pos in ("ADP", "PART", "SCONJ"):
                quoting = True
            elif quoting and t.pos == "VERB" and t.lemma in ctx.quote_verbs:
                quoting = False
            elif quoting and t.text in ("か", "は", "も", "なんて", "まで"):
                pass
            elif t.pos == "ADV" and t.text in _DEGREE_ADVERBS:
                pass  # 全然ない: hangs on the negation that follows
            elif not function or not attached:
                break
            tail.append(t)
            chain.add(t.i)
        return tail

    def negated(self) -> bool:
        """An odd number of negations after the hit turns its meaning round (死にたくない,
        連絡がつかないわけじゃない); an even number keeps it (死にたくないわけじゃない)."""
        ctx = _context()
        if self.parse is not None and self.tokens:
            tail = self._tail()
            before = [t.text for t in self.tokens] + [t.text for t in tail]
            negations = [t for i, t in enumerate(tail) if t.lemma in ctx.negation
                         and (t.text != "ん" or (i > 0 and tail[i - 1].lemma == "ます"))  # ません, not のだ's ん
                         and "しか" not in before[:len(self.tokens) + i]]  # 〜しかない: "only", not "not"
            return len(negations) % 2 == 1
        if _has_any(self.after_in_sentence[:12], ctx.double_negation):
            return False
        # No parse: the words right after the hit, up to the end of its clause.
        tail = re.split(r"[、,。!?！？]|けど|けれど|のに|ので", self.after_in_sentence, maxsplit=1)[0][:10]
        return bool(re.match(r"^(く|は|とは|って|と|ては|では)?(ない|ません|ず|なかった|思わない|おもわない|いない|いません)", tail))

    def past(self) -> bool:
        """Told as the past: past tense (or te-form of a finished event) plus a distant-past
        marker without an ongoing one, or a later "now I am fine"."""
        ctx = _context()
        if _says_it_is_over(self.after, ctx.resolved):
            return True
        if not _has_any(self.sentence, ctx.past) or _has_any(self.sentence, ctx.ongoing):
            return False
        if self.parse is not None and self.tokens:
            tail = self._tail()
            return any(t.lemma in _PAST_AUX and t.pos == "AUX" for t in tail) or bool(tail and tail[-1].text in ("て", "で"))
        return bool(re.match(r"^[^。]{0,8}?(た|だ|て|で)", self.after_in_sentence))

    def wish(self) -> bool:
        return _has_any(self.hit + self.after_in_sentence[:4], _context().wish)

    def mourning(self) -> bool:
        return _has_any(self.folded, _context().mourning) and not self.wish()

    def frame(self) -> bool:
        return _has_any(self.sentence, _context().frame) and not self.wish()

    # -- who is at risk ---------------------------------------------------------------------
    def _roles(self) -> Tuple[str, str]:
        """(victim words, agent words) of the hit's predicate, as folded text."""
        if self.parse is not None and self.tokens:
            verbs = [t for t in self.tokens if t.pos == "VERB"]
            if verbs:
                verb = verbs[0]
                passive = any(t.head == verb.i and t.lemma in _PASSIVE_AUX for t in self.parse)
                victim = agent = ""
                hand = any(t.head == verb.i and t.text == "手" for t in self.parse)  # 手を上げる・手をあげる
                for t in self.parse:
                    if t.head != verb.i or t.pos not in _NOUN_POS or t.text == "手":
                        continue
                    phrase = self._noun_phrase(t)
                    case = self._case_of(t)
                    if (passive and t.dep == "nsubj") or (not passive and (t.dep == "obj" or (hand and case == "に"))):
                        victim = phrase
                    elif passive and case in ("に", "から") or not passive and t.dep == "nsubj":
                        agent = phrase
                return victim, agent
        victim = re.findall(r"([^\s、。がはにをもの]{1,8})(?:が|は)[^。、]{0,10}$", self.before)
        agent = re.findall(r"([^\s、。がはにをもの]{1,8})(?:に|から)[^。、]{0,4}$", self.before)
        return (victim[-1] if victim else ""), (agent[-1] if agent else "")

    def _noun_phrase(self, token: ParsedToken) -> str:
        """The noun with what modifies it (隣の子); for 「弟のこと」 the person, 弟."""
        parts = [t for t in self.parse if t.head == token.i and t.dep in ("compound", "nmod") and t.i < token.i]
        start = min([token.start] + [t.start for t in parts])
        phrase = self.folded[start:token.end]
        return phrase[:-3] if phrase.endswith("のこと") else phrase

    def _case_of(self, token: ParsedToken) -> str:
        cases = [t.text for t in self.parse if t.head == token.i and t.dep == "case"]
        return cases[-1] if cases else ""

    def kind_for_violence(self, kind: str) -> str:
        """violence / child_abuse / elder_abuse by who is hurt and who hurts."""
        ctx = _context()
        victim, agent = self._roles()
        child_writer = _has_any(self.folded, ctx.child_writer)

        def is_(words, phrase):
            return bool(phrase) and any(w in phrase for w in words)
        if is_(ctx.child, victim) and not is_(ctx.partner, victim):
            return "child_abuse"
        if is_(ctx.elder, victim) and not is_(ctx.partner, agent):
            if is_(ctx.parent, agent) and child_writer:
                return "violence"  # a child telling of violence between parents
            return "elder_abuse" if (not agent or is_(ctx.elder_agent, agent)) else kind
        if is_(ctx.parent, agent) and child_writer and not victim:
            return "child_abuse"
        if child_writer and not victim and not is_(ctx.partner, agent):
            return "child_abuse"  # a child telling of being hurt at home
        if is_(ctx.elder_writer_agent, agent) and not victim and not child_writer:
            return "elder_abuse"  # hurt by a grown son or daughter, or a carer
        if kind == "child_abuse" and not is_(ctx.child, self.sentence) and is_(ctx.elder, self.sentence):
            return "elder_abuse"
        return kind


_VIOLENCE_KINDS = ("violence", "child_abuse")


def detect(text: str, tokens: Optional[Sequence[Token]] = None,
           parse: Optional[Sequence[ParsedToken]] = None, kind_order: Sequence[str] = ()) -> DangerResult:
    """Kinds of danger in ``text`` (NFKC-normalised), the words that showed them, and the hits
    that context cancelled."""
    folded = fold_kana(text)
    if len(folded) != len(text):
        text = folded
    result = DangerResult()
    kinds: List[str] = []
    for match in crisis_lexicon().find(text, tokens):
        analysis = _Analysis(text, folded, match, parse)
        reason = ("negated" if analysis.negated() else "past" if analysis.past() else
                  "mourning" if analysis.mourning() else "frame" if analysis.frame() else None)
        kind = match.label
        if kind in _VIOLENCE_KINDS and reason is None:
            kind = analysis.kind_for_violence(kind)
        finding = Finding(kind, match.phrase, match.text, match.start, match.end)
        if reason:
            result.cancelled.append((finding, reason))
            continue
        result.findings.append(finding)
        kinds.append(kind)
        if kind == "sexual_violence":  # a child or an older person abused: their lines too
            also = analysis.kind_for_violence("violence")
            if also in ("child_abuse", "elder_abuse"):
                kinds.append(also)
    result.kinds = kinds_in_priority_order(kinds, kind_order)
    result.listed_pattern = _listed_pattern(folded, result)
    return result


def _listed_pattern(folded: str, result: DangerResult) -> Optional[str]:
    """An idiom, the past, mourning or a frame in the text: the model's danger alone is then not
    trusted (a lexicon finding still wins)."""
    ctx = _context()
    if any(idiom in folded for idiom in ctx.idioms):
        return "idiom"
    for _, reason in result.cancelled:
        if reason in ("past", "mourning", "frame"):
            return reason
    if _says_it_is_over(folded, ctx.resolved):
        return "past"
    if not result.findings and _has_any(folded, ctx.mourning):
        return "mourning"
    if not result.findings and _has_any(folded, ctx.frame):
        return "frame"
    return None


def kind_entities(result: DangerResult, extractor: str = "DangerLexicon") -> List[Dict]:
    """``crisis_kind`` entities in Rasa's shape for the findings."""
    from bot.core.lexicon import entity
    return [entity("crisis_kind", f.kind, f.start, f.end, f.text, extractor) for f in result.findings]


def parse_from_doc(doc) -> List[ParsedToken]:
    """ParsedTokens from a parsed spaCy/GiNZA ``Doc`` (duck-typed: no spaCy import here).
    GiNZA marks labels with ``_bunsetu`` when its bunsetu component is off; the suffix goes."""
    return [ParsedToken(t.i, t.text, t.lemma_, t.pos_, t.tag_, t.dep_.split("_")[0], t.head.i, t.idx,
                        t.idx + len(t.text)) for t in doc]
