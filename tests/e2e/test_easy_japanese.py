"""やさしい日本語モード through /api/chat against the real stack: the greeting's button or typed
words switch it on, answers then use easy words with the same facts, and it can be switched off."""
import pytest

from bot.core.directory import get_directory
from tests.conftest import all_text

pytestmark = pytest.mark.stack


def card_of(messages):
    return next(m["custom"] for m in messages if m.get("custom", {}).get("type") == "agency_card")


@pytest.mark.parametrize("ask", ["/easy_on", "やさしい にほんご で おねがいします"])
def test_easy_mode_from_the_button_or_typed_words(conversation, ask):
    greeting = conversation.say("/greet")
    assert "/easy_on" in [b["payload"] for m in greeting for b in m.get("buttons") or []]
    assert "やさしい にほんご で こたえます" in all_text(conversation.say(ask))
    card = card_of(conversation.say("母の物忘れがひどくて、介護のことで相談したいです"))
    kakehashi = get_directory().agency("kakehashi")
    assert card["agency"]["slug"] == "kakehashi" and card["agency"]["helps_with"] == kakehashi.easy
    assert card["agency"]["phone"] == kakehashi.phone
    assert "ふつうの日本語で答えます" in all_text(conversation.say("ふつうの日本語で"))
    card = card_of(conversation.say("母の物忘れがひどくて、介護のことで相談したいです"))
    assert card["agency"]["helps_with"] == kakehashi.helps_with


def test_danger_in_easy_mode_is_answered_first_in_easy_words(conversation):
    conversation.say("やさしい日本語で")
    messages = conversation.say("もう しにたい")
    assert messages[0]["custom"]["type"] == "crisis"
    assert messages[0]["custom"]["heading"] == get_directory().crisis_kind("suicide").easy
