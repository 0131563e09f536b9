"""Phrase lexicons (danger signs, fields, urgency) matched on normalised Japanese text.

Each entry is matched three ways and a hit in any counts:
- on the folded text (NFKC, katakana as hiragana, lower case, spaces between Japanese words
  removed), so kana-only, half-width and spaced input match;
- on Sudachi normalised forms when tokens are given (inside Rasa: GiNZA's tokenizer), so
  spelling variants and inflections match (引き篭もり / 引きこもり, 死にたくて / 死にたい);
- on readings (kana) when tokens carry them, so an entry in kanji matches the same words in
  kana (返事がない / へんじがない) and the other way round.
"…" in an entry allows a short gap between its parts; "=" at the start keeps an entry off the
normalised forms and readings (死のう would normalise to 死ぬ); "re:" makes it a regular expression on the
folded text (foreign languages, short pleas). A match lying inside a longer match of the same
lexicon is dropped (母子手帳 is not 手帳). Phrases under ``exclude`` are blanked out first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import yaml

from bot.core.textnorm import GAP, JAPANESE_CHAR, fold_kana, katakana_to_hiragana

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicons"
RAW_ONLY = "="
REGEX = "re:"
_KANA_ONLY = re.compile(r"^[\u3040-\u309f\u30a0-\u30ffー…]+$")
_KANA_END = re.compile(r"[\u3040-\u30ffー]$")
_KANJI = re.compile(r"[\u3400-\u9fff]")
RAW_GAP_CHARS = 12
TOKEN_GAP = 6
MIN_READING_CHARS = 4


class Token(NamedTuple):
    """One token of a text: Sudachi normalised form, character span, reading (kana or "")."""
    norm: str
    start: int
    end: int
    reading: str = ""


# A tokenizer returns the tokens of a text.
Tokenizer = Callable[[str], Sequence[Token]]


@dataclass(frozen=True)
class Match:
    label: str  # e.g. "suicide", "elderly", "high"
    phrase: str  # the lexicon entry
    start: int
    end: int
    text: str  # the words of the message that matched


def _raw_only(entry: str) -> bool:
    """Entries kept off the normalised forms: marked with "=", regular expressions, written in
    kana only (their tokens would be arbitrary fragments), or with no Japanese at all."""
    return (entry.startswith((RAW_ONLY, REGEX)) or bool(_KANA_ONLY.match(entry))
            or not JAPANESE_CHAR.search(entry))


def _raw_pattern(entry: str) -> re.Pattern:
    if entry.startswith(REGEX):
        return re.compile(katakana_to_hiragana(entry[len(REGEX):]))
    parts = [re.escape(compact(fold_kana(p))) for p in entry.lstrip(RAW_ONLY).split(GAP) if p]
    return re.compile(f".{{0,{RAW_GAP_CHARS}}}?".join(parts))


# Only between kana or kanji: spaces in Korean, Nepali or Vietnamese text are part of the words.
_SPACE_BETWEEN_JAPANESE = re.compile(rf"(?<={JAPANESE_CHAR.pattern})\s+(?={JAPANESE_CHAR.pattern})")


def compact(folded: str) -> str:
    """Folded text without the spaces between Japanese words (「おっと が たたく」 -> 「おっとがたたく」)."""
    return _compact_with_positions(folded)[0]


def _compact_with_positions(folded: str) -> Tuple[str, List[int]]:
    """``compact(folded)`` and, for each of its characters, the index in ``folded``."""
    dropped = {i for m in _SPACE_BETWEEN_JAPANESE.finditer(folded) for i in range(m.start(), m.end())}
    positions = [i for i in range(len(folded)) if i not in dropped]
    return "".join(folded[i] for i in positions), positions


def _reading_of(token: Token, folded_text: str) -> str:
    reading = katakana_to_hiragana(token.reading) if token.reading else ""
    if not reading or not JAPANESE_CHAR.search(reading):
        reading = folded_text[token.start:token.end]
    return reading


class Lexicon:
    """Labelled phrases; ``find`` returns the matches in a text."""

    def __init__(self, entries: Dict[str, List[str]], exclude: Iterable[str] = ()):
        self.entries = {label: list(phrases) for label, phrases in entries.items()}
        self.exclude = sorted((fold_kana(e) for e in exclude), key=len, reverse=True)
        self._raw = [(label, p, _raw_pattern(p)) for label, ps in self.entries.items() for p in ps]
        # Entries are looked up by their first characters (or first word), so a message is matched
        # against the few entries that can start in it, not against all of them.
        self._raw_always = [e for e in self._raw if e[1].startswith(REGEX)]
        self._raw_index = _index(e for e in self._raw if not e[1].startswith(REGEX))
        self._token: Optional[List[Tuple[str, str, re.Pattern]]] = None
        self._token_index: Dict[str, list] = {}
        self._reading: Optional[List[Tuple[str, str, re.Pattern]]] = None
        self._reading_index: Dict[str, list] = {}
        self._tokenizer: Optional[Tokenizer] = None

    def use_tokenizer(self, tokenizer: Tokenizer) -> "Lexicon":
        """Compile the entries to Sudachi normalised forms and readings with ``tokenizer`` (once)."""
        by_norm, by_reading = [], []
        gap = rf"\|(?:[^|]*\|){{0,{TOKEN_GAP}}}"
        for label, phrases in self.entries.items():
            for phrase in phrases:
                if phrase.startswith(REGEX) or not JAPANESE_CHAR.search(phrase):
                    continue
                if phrase.startswith(RAW_ONLY):
                    continue
                pieces = [p for p in phrase.split(GAP) if p]
                parts = [tokenizer(p) for p in pieces]
                readings = ["".join(_reading_of(t, fold_kana(p)) for t in toks) for toks, p in zip(parts, pieces)]
                if sum(len(r) for r in readings) >= MIN_READING_CHARS and all(len(r) >= 2 for r in readings):
                    pattern = f".{{0,{RAW_GAP_CHARS}}}?".join(re.escape(r) for r in readings)
                    by_reading.append((label, phrase, re.compile(pattern)))
                if _raw_only(phrase):
                    continue
                norms = [r"\|".join(re.escape(t.norm) for t in toks) for toks in parts if toks]
                if norms:
                    by_norm.append((label, phrase, re.compile(r"\|" + gap.join(norms) + r"\|"), parts[0][0].norm))
        self._token, self._reading, self._tokenizer = by_norm, by_reading, tokenizer
        self._token_index = {}
        for label, phrase, pattern, first in by_norm:
            self._token_index.setdefault(first, []).append((label, phrase, pattern))
        self._reading_index = _index(by_reading, key=lambda e: e[2].pattern.replace("\\", "")[:KEY_CHARS])
        return self

    def _blank_excluded(self, folded: str) -> str:
        for phrase in self.exclude:
            folded = folded.replace(phrase, " " * len(phrase))
        return folded

    def find(self, text: str, tokens: Optional[Sequence[Token]] = None) -> List[Match]:
        """All matches in ``text`` (already NFKC-normalised for exact spans); ``tokens`` are the
        tokens of the same text, computed by the caller or by the tokenizer."""
        folded = self._blank_excluded(fold_kana(text))
        if len(folded) != len(text):  # folding changed the length: spans are approximate
            text = folded
        found: List[Match] = []
        packed, positions = _compact_with_positions(folded)
        for label, phrase, pattern in self._raw_always + _candidates(self._raw_index, packed, range(len(packed))):
            for m in pattern.finditer(packed):
                if m.end() > m.start():
                    start, end = positions[m.start()], positions[m.end() - 1] + 1
                    found.append(Match(label, phrase, start, end, text[start:end]))
        if self._token is not None:
            if tokens is None:
                tokens = self._tokenizer(text)
            kept = [Token(*t) for t in tokens if folded[t[1]:t[2]].strip()]
            found += self._find_in_tokens(text, kept, folded)
        return _drop_contained(found)

    def _find_in_tokens(self, text: str, tokens: List[Token], folded: str) -> List[Match]:
        found: List[Match] = []
        joined, offsets = "|", []
        for token in tokens:
            offsets.append((len(joined), token.start, token.end))
            joined += token.norm + "|"
        token_candidates = {id(e): e for t in tokens for e in self._token_index.get(t.norm, ())}
        for label, phrase, pattern in token_candidates.values():
            for m in pattern.finditer(joined):
                spans = [(s, e) for pos, s, e in offsets if m.start() <= pos < m.end()]
                if spans:
                    start, end = spans[0][0], spans[-1][1]
                    found.append(Match(label, phrase, start, end, text[start:end]))
        if not any(t.reading for t in tokens):
            return found
        reading, starts, owners = "", set(), []
        for index, token in enumerate(tokens):
            starts.add(len(reading))
            piece = _reading_of(token, folded)
            reading += piece
            owners += [index] * len(piece)
        starts.add(len(reading))
        for label, phrase, pattern in _candidates(self._reading_index, reading, sorted(starts)):
            open_end = bool(_KANA_END.search(phrase))  # a stem (殴られ) may run on; a noun (放火) may not
            for m in pattern.finditer(reading):
                if m.start() not in starts or m.end() <= m.start() or (not open_end and m.end() not in starts):
                    continue
                span = text[tokens[owners[m.start()]].start:tokens[owners[m.end() - 1]].end]
                if _KANJI.search(span):
                    continue  # readings stand in for kana writing only: 受けられ is not 蹴られ
                first, last = tokens[owners[m.start()]], tokens[owners[m.end() - 1]]
                found.append(Match(label, phrase, first.start, last.end, text[first.start:last.end]))
        return found

    def labels(self, text: str, tokens=None) -> List[str]:
        """Distinct labels found, in order of first appearance."""
        seen: List[str] = []
        for m in sorted(self.find(text, tokens), key=lambda m: m.start):
            if m.label not in seen:
                seen.append(m.label)
        return seen


KEY_CHARS = 2


def _index(entries, key=None) -> Dict[str, list]:
    """Entries by the first KEY_CHARS characters of their folded text."""
    index: Dict[str, list] = {}
    for entry in entries:
        first = key(entry) if key else compact(fold_kana(entry[1].lstrip(RAW_ONLY).split(GAP)[0]))[:KEY_CHARS]
        index.setdefault(first, []).append(entry)
    return index


def _candidates(index: Dict[str, list], text: str, positions) -> list:
    """The entries that can start at one of ``positions`` of ``text``."""
    found = {}
    for i in positions:
        for entry in index.get(text[i:i + KEY_CHARS], ()):
            found[id(entry)] = entry
        for entry in index.get(text[i:i + 1], ()):  # one-character entries
            found[id(entry)] = entry
    return list(found.values())


def _drop_contained(matches: List[Match]) -> List[Match]:
    """Drop a match lying inside a strictly longer one; keep one match per (label, span)."""
    unique = list({(m.label, m.start, m.end): m for m in matches}.values())
    kept = []
    for m in unique:
        inside = any(o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start)
                     for o in unique)
        if not inside:
            kept.append(m)
    return sorted(kept, key=lambda m: (m.start, m.label))


def load_lexicon_file(name: str, lexicon_dir: Path = None) -> dict:
    """A lexicon file, its labels checked against the vocabulary (bot/core/fields.py) and the kinds of
    danger of directory/hotlines.yml: an unknown label stops the start (VocabularyError)."""
    data = yaml.safe_load((Path(lexicon_dir or LEXICON_DIR) / name).read_text(encoding="utf-8")) or {}
    check_lexicon_labels(name, data)
    return data


def check_lexicon_labels(name: str, data: dict) -> None:
    from bot.core.fields import ALL_FIELDS, CHILD_CONTEXT, URGENCY_LEVELS, check_names
    if name == "crisis.yml":
        from bot.core.directory import get_directory
        check_names(data.get("kinds") or {}, get_directory().crisis_kinds, "lexicons/crisis.yml/kinds",
                    "kinds of danger (crisis_kinds in directory/hotlines.yml)")
    elif name == "fields.yml":
        check_names(data.get("fields") or {}, ALL_FIELDS + (CHILD_CONTEXT,), "lexicons/fields.yml/fields", "fields")
        check_names(data.get("urgency") or {}, URGENCY_LEVELS, "lexicons/fields.yml/urgency", "urgency levels")
        from bot.core.directory import get_directory
        tags = sorted({k for h in get_directory().hotlines.values() for k in h.kinds})
        check_names(data.get("topics") or {}, tags, "lexicons/fields.yml/topics",
                    "topics (a topic names the 'kinds' of hotlines in directory/hotlines.yml)")


@lru_cache(maxsize=1)
def crisis_lexicon() -> Lexicon:
    data = load_lexicon_file("crisis.yml")
    return Lexicon(data["kinds"], data.get("exclude", ()))


@lru_cache(maxsize=1)
def field_lexicon() -> Lexicon:
    data = load_lexicon_file("fields.yml")
    return Lexicon(data["fields"], data.get("exclude", ()))


@lru_cache(maxsize=1)
def urgency_lexicon() -> Lexicon:
    return Lexicon(load_lexicon_file("fields.yml")["urgency"])


@lru_cache(maxsize=1)
def distress_lexicon() -> Lexicon:
    """Distress without danger (疲れた, もう逃げたい, 母親失格): kindness and a listening line."""
    return Lexicon({"distress": load_lexicon_file("fields.yml")["distress"]})


@lru_cache(maxsize=1)
def topic_lexicon() -> Lexicon:
    """Topics that add a specialised hotline beside the answer (詐欺 -> 消費者ホットライン 188)."""
    return Lexicon(load_lexicon_file("fields.yml")["topics"])


def all_lexicons() -> Tuple[Lexicon, ...]:
    return (crisis_lexicon(), field_lexicon(), urgency_lexicon(), distress_lexicon())


def lexicon_entities(text: str, tokens=None, tokenizer: Optional[Tokenizer] = None) -> List[dict]:
    """Rasa-style entities from the field, urgency and distress lexicons (danger: ``bot.core.danger``).
    Japanese written in spaced simple words (「わたし しごと ない」), as foreign residents write
    it, names the field ``foreign`` too: words in kanji and kana set apart by spaces, as texts for
    learners are written (kana alone set apart is how children and many older people write)."""
    from bot.core.language import EASY_JAPANESE, detect_language
    entities = []
    if detect_language(text) == EASY_JAPANESE and _KANJI.search(text):
        entities.append(entity("field", "foreign", 0, len(text), text, "LexiconEntityExtractor", 0.9))
    for entity_name, lexicon in (("field", field_lexicon()), ("urgency", urgency_lexicon()),
                                 ("distress", distress_lexicon())):
        if tokenizer is not None and lexicon._tokenizer is not tokenizer:
            lexicon.use_tokenizer(tokenizer)
        for match in lexicon.find(text, tokens):
            entities.append(entity(entity_name, match.label, match.start, match.end, match.text,
                                   "LexiconEntityExtractor"))
    return entities


def entity(name: str, value: str, start: int, end: int, text: str, extractor: str,
           confidence: float = 1.0, **extra) -> dict:
    """One entity in Rasa's shape."""
    return dict({"entity": name, "value": value, "start": start, "end": end, "text": text,
                 "confidence_entity": confidence, "extractor": extractor, "processors": []}, **extra)


def tokens_from_doc(doc) -> List[Token]:
    """Tokens from a spaCy/GiNZA ``Doc`` (duck-typed): Sudachi norm, span, reading."""
    return [Token(t.norm_, t.idx, t.idx + len(t.text), (t.morph.get("Reading") or [""])[0])
            for t in doc if not t.is_space]
