"""Which language a resident wrote in: Japanese, やさしい日本語 (spaced simple Japanese), or one of
the languages Hokuto's foreign residents use most (LANGUAGES).

Scripts decide what they can (kana -> Japanese, Hangul -> Korean, Devanagari -> Nepali); the
rest (Latin-script languages, Chinese without kana) is decided by lingua, a maintained detector
that ships its models in the package (nothing is downloaded at run time).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from bot.core.textnorm import normalize_text

# Codes used in the data files (foreign_headings, texts for foreign residents).
LANGUAGES = ("en", "vi", "zh", "ko", "tl", "ne", "id")
JAPANESE, EASY_JAPANESE = "ja", "easy"

_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u3400-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ỹ]{2,}")
_SPACED_KANA_WORDS = re.compile(r"[\u3040-\u30ffー]+(?:\s+[\u3040-\u30ff\u3400-\u9fffー]+){2,}")
MIN_CONFIDENCE = 0.45
# Characters written only in simplified Chinese: a kanji-only message is Chinese when it has one
# (夜, 土日, 電話 are Japanese answers as much as Chinese words).
_CHINESE_WORDS = ("打我", "我想", "我要", "我的", "我是", "我被", "你", "不想", "不要", "什么", "怎么", "他们", "她们", "了。")
_SIMPLIFIED_ONLY = set("们这吗帮没说问题钱医岁该让还国边过进远这时会来对开关门车长书东马见爱认识请谢语诉")


@lru_cache(maxsize=1)
def _detector():
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:  # the web side without lingua: scripts only
        return None
    codes = {Language.ENGLISH: "en", Language.VIETNAMESE: "vi", Language.CHINESE: "zh",
             Language.TAGALOG: "tl", Language.INDONESIAN: "id", Language.JAPANESE: "ja"}
    detector = LanguageDetectorBuilder.from_languages(*codes).with_preloaded_language_models().build()
    return detector, codes


def detect_language(text: str) -> Optional[str]:
    """A code from LANGUAGES, "ja", "easy", or None when the text shows no language (digits,
    emoji, one Latin word the detector is unsure of)."""
    norm = normalize_text(text)
    if _KANA.search(norm):
        return EASY_JAPANESE if _SPACED_KANA_WORDS.search(norm) else JAPANESE
    if _HANGUL.search(norm):
        return "ko"
    if _DEVANAGARI.search(norm):
        return "ne"
    if not (_HAN.search(norm) or _LATIN_WORD.search(norm)):
        return None
    if _HAN.search(norm) and not _LATIN_WORD.search(norm):
        chinese = set(norm) & _SIMPLIFIED_ONLY or any(w in norm for w in _CHINESE_WORDS)
        return "zh" if chinese else JAPANESE
    loaded = _detector()
    if loaded is None:
        return None
    detector, codes = loaded
    values = detector.compute_language_confidence_values(norm)
    if not values or values[0].value < MIN_CONFIDENCE:
        return "en" if _LATIN_WORD.search(norm) and not _HAN.search(norm) and len(norm) > 12 else None
    return codes.get(values[0].language)


def is_foreign(code: Optional[str]) -> bool:
    return code in LANGUAGES
