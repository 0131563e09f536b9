"""やさしい日本語モード: the words that switch it, and cards built from the same data."""
from datetime import datetime

import pytest

from bot.core.clock import JST
from bot.core.directory import get_directory
from bot.core.easy import TO_EASY, TO_PLAIN, easy_text, switch_of
from bot.core.replies import agency_card
from bot.core.routing import guard_intent


@pytest.mark.parametrize("text", ["やさしい日本語で", "やさしい にほんご で おねがいします", "やさしい日本語",
                                  "かんたんな日本語にしてください", "Easy Japanese please", "やさしいにほんご。"])
def test_asking_for_easy_japanese_switches_it_on(text):
    assert switch_of(text) == TO_EASY
    assert guard_intent({"name": "vague", "confidence": 0.5}, [], [], text)["name"] == "easy_on"


@pytest.mark.parametrize("text", ["ふつうの日本語で", "普通の日本語にして", "いつもの日本語でお願いします"])
def test_asking_for_ordinary_japanese_switches_it_off(text):
    assert switch_of(text) == TO_PLAIN


@pytest.mark.parametrize("text", ["やさしい日本語の資料はありますか", "母はやさしい日本語しか読めません、介護のことで相談したい"])
def test_a_message_that_mentions_easy_japanese_is_not_a_switch(text):
    assert switch_of(text) is None
    guessed = [{"name": "easy_on", "confidence": 0.6}, {"name": "faq", "confidence": 0.3}]
    assert guard_intent(guessed[0], guessed, [], text)["name"] == "faq"


def test_the_easy_card_has_the_same_facts_in_easy_words():
    agency = get_directory().agency("kakehashi")
    closed = agency_card(agency, datetime(2026, 12, 30, 10, 0, tzinfo=JST), easy=True)
    assert closed["custom"]["agency"]["helps_with"] == agency.easy
    assert agency.phone in closed["text"] and agency.address in closed["text"]
    assert "1月4日" in closed["custom"]["agency"]["hours_text"]
    opened = agency_card(agency, datetime(2026, 12, 28, 10, 0, tzinfo=JST), easy=True)
    assert opened["custom"]["agency"]["hours_text"].startswith("いま でんわ できます")
    assert "8時45分" in opened["custom"]["agency"]["hours_text"]


def test_every_agency_has_an_easy_description_and_the_switch_text_has_the_numbers():
    directory = get_directory()
    assert all(a.easy and a.easy != a.helps_with for a in directory.agencies.values())
    text = easy_text(TO_EASY, directory)
    assert directory.hotlines["police"].number in text and directory.hotlines["fire_ambulance"].number in text
