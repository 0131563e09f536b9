"""The category buttons are one list (domain.yml utter_greet), through /api/chat against the real
stack: the greeting shows all of them; the answer to text nobody can read shows its worry buttons,
added by the action from the same list (bot/core/domain_texts.py)."""
import pytest

from bot.core.domain_texts import category_buttons, worry_buttons

pytestmark = pytest.mark.stack


def buttons(message: dict) -> list:
    return [{"title": b["title"], "payload": b["payload"]} for b in message.get("buttons") or []]


def test_the_greeting_shows_every_category_button(conversation):
    messages = conversation.say("/greet")
    assert buttons(messages[0]) == category_buttons()


@pytest.mark.parametrize("text", ["😀😀😀", "？？？"])
def test_unreadable_text_gets_the_worry_buttons_of_the_greeting(conversation, text):
    messages = conversation.say(text)
    answer = next(m for m in messages if "うまく読み取れませんでした" in (m.get("text") or ""))
    assert buttons(answer) == worry_buttons()
    assert [b["payload"] for b in buttons(answer)][-1] == "/dont_know"
