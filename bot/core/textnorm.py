"""Text normalisation shared by the NLU pipeline, the lexicons and the web side."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_KATAKANA_START, _KATAKANA_END = ord("ァ"), ord("ヶ")
_WORD_CHAR = re.compile(r"[\w]", re.UNICODE)
JAPANESE_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff々〆ー]")  # kana or kanji


# Katakana typed where the kanji that looks the same was meant (暴カ, 協カ, 入ロ, 第ニ): put back
# when it follows a kanji and no katakana follows, as in a kanji word.
_LOOKALIKES = {"カ": "力", "ロ": "口", "エ": "工", "ニ": "二"}
_LOOKALIKE = re.compile(r"(?<=[\u4e00-\u9fff])([カロエニ])(?![\u30a0-\u30ffー])")


def normalize_text(text: str) -> str:
    """NFKC (full-width digits/letters to half-width, half-width kana to full-width), katakana
    look-alikes of kanji inside kanji words put back, trimmed, runs of white space folded."""
    text = unicodedata.normalize("NFKC", text)
    text = _LOOKALIKE.sub(lambda m: _LOOKALIKES[m.group(1)], text)
    return _SPACES.sub(" ", text).strip()


def katakana_to_hiragana(text: str) -> str:
    return "".join(chr(ord(ch) - 0x60) if _KATAKANA_START <= ord(ch) <= _KATAKANA_END else ch for ch in text)


def fold_kana(text: str) -> str:
    """NFKC, katakana to hiragana and lower case: the form used for raw lexicon matching."""
    return katakana_to_hiragana(normalize_text(text).lower())


GAP = "…"  # in a word list entry: a short gap is allowed between the parts


def fold_gapped(word: str) -> str:
    """``fold_kana`` of each part of a word-list entry, the gap kept (NFKC would turn "…" into "...")."""
    return GAP.join(fold_kana(part) for part in word.split(GAP))


def contains_gapped(folded: str, word: str) -> bool:
    """``word`` (folded by ``fold_gapped``) in the folded text; with a gap, its second part comes
    somewhere after the first."""
    first, _, second = word.partition(GAP)
    i = folded.find(first)
    return i >= 0 and (not second or second in folded[i + len(first):])


def looks_unusable(text: str) -> bool:
    """True for messages no parser can use: emoji or punctuation only, or one Latin key held
    down (``jjjj``, ``asasas``). Everything else goes to the NLU, whose fallback handles the rest."""
    norm = normalize_text(text)
    if not _WORD_CHAR.search(norm):
        return True
    if JAPANESE_CHAR.search(norm):
        return False
    letters = re.sub(r"[^a-z]", "", norm.lower())
    return len(letters) >= 4 and len(set(letters)) <= 2


def has_japanese(text: str) -> bool:
    return bool(JAPANESE_CHAR.search(normalize_text(text)))
