"""LINE text input gets the widget's cleaning (bot/core/inputtext.py): emoji sequences kept whole,
invisible characters removed, a message of invisible characters only treated as empty."""
from __future__ import annotations

from tests.line.helpers import body_of, reply_messages, text_event
from tests.line.test_webhook import api, app, client, post, rasa, replies, settle  # noqa: F401 (fixtures)


def test_emoji_sequences_reach_rasa_whole(client, app, api, rasa):
    text = "すみません🙇\u200d♀️ 家族👨\u200d👩\u200d👧のことで相談です❤️"
    post(client, body_of(text_event(text)))
    settle(app, api, 1)
    assert rasa.calls[0][1] == text


def test_invisible_characters_are_removed_so_danger_words_stay_whole(client, app, api, rasa):
    post(client, body_of(text_event("\ufeffもう死\u200bにたい\u2060")))
    settle(app, api, 1)
    assert rasa.calls[0][1] == "もう死にたい"


def test_invisible_only_is_an_empty_message(client, app, api, rasa):
    post(client, body_of(text_event("\u200b\ufeff\u2060\u202e")))
    bodies = replies(settle(app, api, 1))
    assert "空です" in reply_messages(bodies[0])[0]["text"]
    assert rasa.calls == []
