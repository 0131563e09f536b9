"""In the widget (Debian's Chromium against the real stack): やさしい日本語 from the greeting's
button, and messages with emoji sequences and invisible characters as phones type them."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bot.core.directory import get_directory
from tests.browser.test_widget import ELDERLY_WORRY
from tests.browser.widget import Widget

pytestmark = [pytest.mark.stack, pytest.mark.browser]


def test_the_easy_japanese_button_changes_the_next_answers(page, web_url):
    widget = Widget(page).goto(web_url)
    widget.open()
    widget.quick.filter(has_text="やさしい にほんご").click()
    widget.wait_idle()
    expect(widget.bot_bubbles.last).to_contain_text("やさしい にほんご で こたえます")
    widget.say(ELDERLY_WORRY)
    card = widget.card("kakehashi")
    expect(card).to_contain_text(get_directory().agency("kakehashi").easy)
    expect(card).to_contain_text(get_directory().agency("kakehashi").phone)


def test_emoji_sequences_and_zero_width_spaces_are_answered(page, web_url):
    widget = Widget(page).goto(web_url)
    widget.open()
    widget.say("🙇\u200d♀️ 母の物忘れが\u200bひどくて心配です 👨\u200d👩\u200d👧")
    expect(widget.card("kakehashi")).to_be_visible()
    expect(widget.errors).to_have_count(0)
    expect(widget.user_bubbles.last).to_contain_text("🙇\u200d♀️")
