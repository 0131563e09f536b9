"""Cleaning of what a resident typed, before anything reads it (the widget API and LINE).

Text copied from other apps, web pages or phones carries invisible characters: zero-width
spaces, byte-order marks, bidi marks, soft hyphens. They mean nothing to a reader, but they can
split a word (「死\\u200bにたい」) so nothing recognises it, so they are removed. Emoji sequences are
kept whole: the zero-width joiner (U+200D) and the variation selectors FE0E/FE0F inside an emoji
(🙇‍♀️, 👨‍👩‍👧, ❤️, 1️⃣), tag characters in flag sequences, and joiners between letters of the
scripts that need them (Devanagari for Nepali, Arabic script, ...). Only characters no text can
contain are refused: C0/C1 control characters other than tab, newline and carriage return, and
lone surrogates (invalid UTF-16 that JSON can still carry). Private-use characters (old carrier
emoji, vendor logos) pass through unchanged, as before.
"""
from __future__ import annotations

import unicodedata
from typing import NamedTuple

ZWJ, ZWNJ = "\u200d", "\u200c"
VS15, VS16 = "\ufe0e", "\ufe0f"
KEYCAP = "\u20e3"
BLACK_FLAG = "\U0001f3f4"
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}
# Invisible letters that show as blank space (Hangul fillers, used to fake empty messages).
_FILLERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u034f"}  # and the combining grapheme joiner
# Scripts whose words may contain ZWJ/ZWNJ (shaping, half forms): Arabic, Syriac, Thaana, N'Ko,
# Indic scripts, Sinhala, Tibetan, Myanmar, Khmer, Devanagari Extended, Arabic presentation forms.
_JOINING_SCRIPTS = ((0x0600, 0x08FF), (0x0900, 0x0DFF), (0x0F00, 0x0FFF), (0x1000, 0x109F), (0x1780, 0x17FF),
                    (0xA8E0, 0xA8FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFE))
# Characters that look like emoji without being category So (some are unassigned in older
# Unicode tables, e.g. emoji newer than Python's; any code point in the emoji blocks counts).
_EXTRA_PICTOGRAPHS = set("\u00a9\u00ae\u203c\u2049\u2122\u2139\u3030\u303d\u3297\u3299")


class CleanText(NamedTuple):
    text: str        # what the rest of the system reads (refused characters removed too)
    refused: bool    # a character no text can contain was found (the widget API answers 400)


def _pictographic(ch: str) -> bool:
    cp = ord(ch)
    return (0x1F000 <= cp <= 0x1FAFF or 0x2190 <= cp <= 0x2BFF or ch in _EXTRA_PICTOGRAPHS
            or unicodedata.category(ch) == "So")


def _joining_letter(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _JOINING_SCRIPTS) and unicodedata.category(ch)[0] in "LM"


def _refused(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cc":
        return ch not in _ALLOWED_CONTROLS
    return category == "Cs"


def _invisible(ch: str) -> bool:
    """Formatting characters that carry no meaning here, and the non-characters."""
    cp = ord(ch)
    if ch in _FILLERS or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:  # variation selectors
        return True
    if 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE:  # non-characters (U+FFFE, U+FFFF, ...)
        return True
    return unicodedata.category(ch) == "Cf"  # ZWSP, ZWNJ, ZWJ, LRM/RLM, bidi, WJ, BOM, soft hyphen, tags


def clean_text(text: str) -> CleanText:
    """``text`` with invisible formatting characters removed and emoji sequences kept whole.

    A message that was only invisible characters comes back empty (callers treat it as an empty
    message). Line and paragraph separators (U+2028/2029) become newlines."""
    out: list = []
    refused = False
    emoji = False  # the last kept character belongs to an emoji sequence
    n = len(text)
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < n else ""
        prev = out[-1] if out else ""
        if _refused(ch):
            refused = True
            continue
        if ch in ("\u2028", "\u2029"):
            out.append("\n")
            emoji = False
            continue
        if ch in (VS15, VS16):
            # After an emoji, or a keycap base (1️⃣ = "1" FE0F 20E3).
            keep = emoji or (prev != "" and prev in "0123456789#*" and nxt == KEYCAP)
        elif ch == ZWJ:
            keep = (emoji and nxt != "" and _pictographic(nxt)) or (
                bool(prev) and _joining_letter(prev) and nxt != "" and _joining_letter(nxt))
        elif ch == ZWNJ:
            keep = bool(prev) and _joining_letter(prev) and nxt != "" and _joining_letter(nxt)
        elif 0xE0020 <= ord(ch) <= 0xE007F:  # tag characters: only in flag sequences (🏴󠁧󠁢󠁳󠁣󠁴󠁿)
            keep = emoji and bool(out) and (out[-1] == BLACK_FLAG or 0xE0020 <= ord(out[-1]) <= 0xE007F)
        elif _invisible(ch):
            keep = False
        else:
            out.append(ch)
            emoji = _pictographic(ch) or ch == KEYCAP
            continue
        if keep:
            out.append(ch)
            emoji = True
    return CleanText("".join(out), refused)
