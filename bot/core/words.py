"""The words of a message as the intake form reads them: surface, Sudachi normalised form, and
whether the word is negated (急ぎ in 急ぎではない, 電話 in 電話はしないで, 今日 in 今日じゃなくていい).

Negation comes from GiNZA's dependency parse (``bot.core.danger.ParsedToken``): a word is negated when
its own function words carry ない / ず / ぬ / ません (急ぎ|で|は|ない), when it is the stem before
たく|ない, or when it is an argument of a negated predicate (電話|は → し|ない). Words are matched
whole: ``find`` never sees 夫 inside 大丈夫.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot.core.textnorm import fold_kana

NEGATION_LEMMAS = ("ない", "ぬ", "ず", "ん", "無い")
_FUNCTION_DEPS = ("aux", "cop", "fixed", "mark")
_ARGUMENT_DEPS = ("nsubj", "obj", "obl", "iobj")
_CONTENT_POS = ("NOUN", "PROPN", "VERB", "ADJ", "NUM", "PRON", "ADV", "INTJ")


def has_negation(lemmas: Iterable[str]) -> bool:
    """Whether a message can hold a negation at all (the parser runs only then)."""
    return any(l in NEGATION_LEMMAS for l in lemmas)


def _function_words(parse, index: int) -> List:
    out, frontier = [], [index]
    while frontier:
        head = frontier.pop()
        for t in parse:
            if t.head == head and t.i != head and t.dep in _FUNCTION_DEPS and t not in out:
                out.append(t)
                frontier.append(t.i)
    return out


def _negated_itself(parse, token) -> bool:
    if any(t.lemma in NEGATION_LEMMAS for t in _function_words(parse, token.i)):
        return True
    head = parse[token.head]
    return (token.dep == "advcl" and head.i > token.i and head.lemma in NEGATION_LEMMAS
            and head.pos in ("ADJ", "AUX"))


def read_words(doc_tokens: Sequence[Tuple[str, str, str, str]], parse=None) -> List[Dict]:
    """[{"text", "norm", "neg"}] for the words of a message. ``doc_tokens`` are (surface, norm,
    lemma, pos) in order; ``parse`` the ParsedTokens of the same text (or None: nothing negated)."""
    words = []
    for i, (text, norm, _lemma, pos) in enumerate(doc_tokens):
        if not text.strip():
            continue
        negated = False
        if parse is not None and i < len(parse) and pos in _CONTENT_POS:
            token = parse[i]
            negated = _negated_itself(parse, token)
            if not negated and token.dep in _ARGUMENT_DEPS and token.head != token.i:
                negated = _negated_itself(parse, parse[token.head])
        words.append({"text": text, "norm": norm, "neg": negated})
    return words


def find(words: Sequence[Dict], phrase: str) -> Optional[Dict]:
    """The first whole-word occurrence of ``phrase`` (one word or several in a row, by surface or
    by normalised form, kana folded): {"start", "end", "neg"}; None when absent."""
    target = fold_kana(phrase)
    surfaces = [fold_kana(w["text"]) for w in words]
    norms = [fold_kana(w.get("norm") or w["text"]) for w in words]
    for i in range(len(words)):
        joined_surface = joined_norm = ""
        for j in range(i, len(words)):
            joined_surface += surfaces[j]
            joined_norm += norms[j]
            if joined_surface == target or joined_norm == target:
                return {"start": i, "end": j + 1, "neg": any(w.get("neg") for w in words[i:j + 1])}
            if len(joined_surface) >= len(target) and len(joined_norm) >= len(target):
                break
    return None
