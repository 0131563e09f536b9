"""Phrase lexicons (crisis signs, fields, urgency) matched on normalised Japanese text.

Each entry is matched two ways and a hit in either counts:
- on the folded text (NFKC, katakana as hiragana, lower case), so kana-only and half-width input
  match;
- on Sudachi normalised forms when a tokenizer is given (inside Rasa: GiNZA), so spelling
  variants and inflections match (引き篭もり / 引きこもり, 死にたくて / 死にたい).
"…" in an entry allows a short gap between its parts. A match lying inside a longer match of
the same lexicon is dropped (母子手帳 is not 手帳). Phrases under ``exclude`` are blanked out first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.textnorm import fold_kana

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
GAP = "…"
RAW_ONLY = "="
_KANA_ONLY = re.compile(r"^[\u3040-\u309f\u30a0-\u30ffー…]+$")
RAW_GAP_CHARS = 12
TOKEN_GAP = 6

# A tokenizer returns (normalised form, start char, end char) for each token of a text.
Tokenizer = Callable[[str], Sequence[Tuple[str, int, int]]]


@dataclass(frozen=True)
class Match:
    label: str  # e.g. "suicide", "elderly", "high"
    phrase: str  # the lexicon entry
    start: int
    end: int
    text: str  # the words of the message that matched


def _raw_only(entry: str) -> bool:
    """Entries matched on the folded text only: marked with "=", or written in kana only
    (their tokens would be arbitrary fragments)."""
    return entry.startswith(RAW_ONLY) or bool(_KANA_ONLY.match(entry))


def _raw_pattern(entry: str) -> re.Pattern:
    parts = [re.escape(fold_kana(p)) for p in entry.lstrip(RAW_ONLY).split(GAP) if p]
    return re.compile(f".{{0,{RAW_GAP_CHARS}}}?".join(parts))


class Lexicon:
    """Labelled phrases; ``find`` returns the matches in a text."""

    def __init__(self, entries: Dict[str, List[str]], exclude: Iterable[str] = ()):
        self.entries = {label: list(phrases) for label, phrases in entries.items()}
        self.exclude = [fold_kana(e) for e in exclude]
        self._raw = [(label, p, _raw_pattern(p)) for label, ps in self.entries.items() for p in ps]
        self._token: Optional[List[Tuple[str, str, re.Pattern]]] = None
        self._tokenizer: Optional[Tokenizer] = None

    def use_tokenizer(self, tokenizer: Tokenizer) -> "Lexicon":
        """Compile the entries to Sudachi normalised forms with ``tokenizer`` (once)."""
        compiled = []
        for label, phrases in self.entries.items():
            for phrase in phrases:
                if _raw_only(phrase):
                    continue
                parts = []
                for part in (p for p in phrase.split(GAP) if p):
                    norms = [re.escape(n) for n, _, _ in tokenizer(part)]
                    if norms:
                        parts.append(r"\|".join(norms))
                if parts:
                    gap = rf"\|(?:[^|]*\|){{0,{TOKEN_GAP}}}"
                    compiled.append((label, phrase, re.compile(r"\|" + gap.join(parts) + r"\|")))
        self._token, self._tokenizer = compiled, tokenizer
        return self

    def _blank_excluded(self, folded: str) -> str:
        for phrase in self.exclude:
            folded = folded.replace(phrase, " " * len(phrase))
        return folded

    def find(self, text: str, tokens: Optional[Sequence[Tuple[str, int, int]]] = None) -> List[Match]:
        """All matches in ``text`` (already NFKC-normalised for exact spans); ``tokens`` are the
        (norm, start, end) tokens of the same text, computed by the caller or by the tokenizer."""
        folded = self._blank_excluded(fold_kana(text))
        if len(folded) != len(text):  # folding changed the length: spans are approximate
            text = folded
        found: List[Match] = []
        for label, phrase, pattern in self._raw:
            for m in pattern.finditer(folded):
                found.append(Match(label, phrase, m.start(), m.end(), text[m.start():m.end()]))
        if self._token is not None:
            if tokens is None:
                tokens = self._tokenizer(text)
            kept = [(n, s, e) for n, s, e in tokens if folded[s:e].strip()]
            joined, offsets = "|", []
            for norm, start, end in kept:
                offsets.append((len(joined), start, end))
                joined += norm + "|"
            for label, phrase, pattern in self._token:
                for m in pattern.finditer(joined):
                    spans = [(s, e) for pos, s, e in offsets if m.start() <= pos < m.end()]
                    if spans:
                        start, end = spans[0][0], spans[-1][1]
                        found.append(Match(label, phrase, start, end, text[start:end]))
        return _drop_contained(found)

    def labels(self, text: str, tokens=None) -> List[str]:
        """Distinct labels found, in order of first appearance."""
        seen: List[str] = []
        for m in sorted(self.find(text, tokens), key=lambda m: m.start):
            if m.label not in seen:
                seen.append(m.label)
        return seen


def _drop_contained(matches: List[Match]) -> List[Match]:
    """Drop a match lying inside a strictly longer one; keep one match per (label, span)."""
    unique = {(m.label, m.start, m.end): m for m in matches}.values()
    kept = []
    for m in unique:
        inside = any(o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start)
                     for o in unique)
        if not inside:
            kept.append(m)
    return sorted(kept, key=lambda m: (m.start, m.label))


def _load(name: str) -> dict:
    return yaml.safe_load((LEXICON_DIR / name).read_text(encoding="utf-8")) or {}


@lru_cache(maxsize=1)
def crisis_lexicon() -> Lexicon:
    data = _load("crisis.yml")
    return Lexicon(data["kinds"], data.get("exclude", ()))


@lru_cache(maxsize=1)
def field_lexicon() -> Lexicon:
    return Lexicon(_load("fields.yml")["fields"])


@lru_cache(maxsize=1)
def urgency_lexicon() -> Lexicon:
    return Lexicon(_load("fields.yml")["urgency"])


def lexicon_entities(text: str, tokens=None, tokenizer: Optional[Tokenizer] = None) -> List[dict]:
    """Rasa-style entities from all lexicons: ``crisis_kind``, ``field`` and ``urgency``."""
    entities = []
    for entity_name, lexicon in (("crisis_kind", crisis_lexicon()), ("field", field_lexicon()),
                                 ("urgency", urgency_lexicon())):
        if tokenizer is not None and lexicon._tokenizer is not tokenizer:
            lexicon.use_tokenizer(tokenizer)
        for match in lexicon.find(text, tokens):
            entities.append({"entity": entity_name, "value": match.label, "start": match.start,
                             "end": match.end, "text": match.text, "confidence_entity": 1.0,
                             "extractor": "LexiconEntityExtractor", "processors": []})
    return entities
