"""やさしい日本語 in the widget (Debian's Chromium against the real stack): the greeting's button
switches it on, and the next agency card tells what the office does in easy words."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bot.directory import get_directory
from tests.browser.test_widget import ELDERLY_WORRY, Widget

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
