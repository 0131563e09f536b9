"""Emoji sequences and invisible characters through /api/chat against the real action server,
Rasa and web side: emoji messages are answered (not refused), and zero-width characters copied
into a message do not hide a sign of danger."""
import pytest

from bot.core.directory import get_directory
from tests.conftest import all_text

pytestmark = pytest.mark.stack


def crisis(messages):
    return [m["custom"] for m in messages if isinstance(m.get("custom"), dict) and m["custom"].get("type") == "crisis"]


@pytest.mark.parametrize("text", [
    "母の物忘れがひどくて心配です🙇\u200d♀️",
    "🤦\u200d♀️ 母の物忘れがひどくて心配です",
    "👨\u200d👩\u200d👧 母の物忘れがひどくて心配です",
])
def test_emoji_sequences_are_answered(conversation, text):
    messages = conversation.say(text)  # asserts HTTP 200
    cards = [m["custom"]["agency"]["slug"] for m in messages
             if isinstance(m.get("custom"), dict) and m["custom"].get("type") == "agency_card"]
    assert cards and cards[0] == "kakehashi", messages


def test_emoji_sequence_only_is_answered_politely(conversation):
    assert "文字で書いてください" in all_text(conversation.say("🙇\u200d♀️"))


@pytest.mark.parametrize("text", ["死\u200bにたい", "\ufeffもう死に\u2060たい\u200e"])
def test_zero_width_characters_do_not_hide_danger(conversation, text):
    messages = conversation.say(text)
    found = crisis(messages)
    assert found, messages
    assert get_directory().hotlines["yorisoi"].number in [line["number"] for line in found[0]["lines"]]
    assert messages[0].get("custom", {}).get("type") == "crisis"
