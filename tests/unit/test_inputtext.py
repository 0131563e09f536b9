"""bot/core/inputtext.py: invisible characters removed, emoji sequences kept whole, only characters no
text can contain refused."""
import pytest

from bot.core.danger import detect
from bot.core.directory import get_directory
from bot.core.inputtext import clean_text

EMOJI = [
    "🙇\u200d♀️",                 # person bowing: woman (ZWJ + ♀ + VS16)
    "🤦\u200d♀️",                 # woman facepalming
    "👨\u200d👩\u200d👧",          # family
    "🧑🏻\u200d💻",                # skin tone inside a ZWJ sequence
    "🏳️\u200d🌈",                 # VS16 before the ZWJ
    "❤️\u200d🔥",
    "❤️", "☺︎",                   # VS16 / VS15 after a symbol
    "1️⃣", "#️⃣",                  # keycaps
    "🇯🇵", "👍🏻",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # flag of Scotland (tag sequence)
]


@pytest.mark.parametrize("emoji", EMOJI)
def test_emoji_sequences_are_kept_whole(emoji):
    text = f"よろしくお願いします{emoji}ありがとう"
    assert clean_text(text) == (text, False)


@pytest.mark.parametrize("invisible", [
    "\u200b",   # zero-width space
    "\u200c",   # zero-width non-joiner (outside the scripts that use it)
    "\u200d",   # zero-width joiner between kana
    "\u2060",   # word joiner
    "\ufeff",   # byte-order mark / zero-width no-break space
    "\u00ad",   # soft hyphen
    "\u200e", "\u200f", "\u061c",                            # LRM, RLM, ALM
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",        # bidi embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",                  # bidi isolates
    "\ufe0f", "\ufe0e",                                      # variation selectors after kana
    "\U000e0100",                                            # ideographic variation selector
    "\u034f", "\u3164", "\ufffe",                            # CGJ, Hangul filler, non-character
])
def test_invisible_formatting_characters_are_removed(invisible):
    assert clean_text(f"家族{invisible}のことで困っています") == ("家族のことで困っています", False)


def test_copied_text_with_several_invisible_characters():
    assert clean_text("\ufeff\u202a母の\u200b介護\u2069が\u00adつらい\u200e") == ("母の介護がつらい", False)


def test_a_message_of_invisible_characters_only_becomes_empty():
    assert clean_text("\u200b\ufeff\u2060\u200d\ufe0f\u202e") == ("", False)


def test_joiners_are_kept_inside_words_of_scripts_that_need_them():
    nepali = "क्\u200dष"        # Devanagari half form
    persian = "می\u200cخواهم"   # Persian word with ZWNJ
    assert clean_text(nepali).text == nepali and clean_text(persian).text == persian


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\ud800", "\udfff"])
def test_control_characters_and_lone_surrogates_are_refused(bad):
    cleaned = clean_text(f"困って{bad}います")
    assert cleaned.refused and cleaned.text == "困っています"


def test_newline_tab_and_ordinary_text_are_untouched():
    text = "1行目\n2行目\r\n\tインデント　全角スペース ｶﾀｶﾅ ＡＢＣ"
    assert clean_text(text) == (text, False)
    assert clean_text("a\u2028b").text == "a\nb"


def test_private_use_characters_pass_through():
    assert clean_text("\ue63eこんにちは") == ("\ue63eこんにちは", False)


@pytest.mark.parametrize("text", ["死\u200bにたい", "死に\u2060たい", "\ufeff死\u00adにたい", "死に\u200dたい🙇\u200d♀️"])
def test_zero_width_characters_do_not_hide_danger(text):
    cleaned = clean_text(text).text
    assert "suicide" in detect(cleaned, kind_order=get_directory().kind_order).kinds
