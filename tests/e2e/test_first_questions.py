"""The questions residents ask first, as a first message, through /api/chat against the real
stack: answered from directory/faq.yml (and the hours from the directory), never routed as a worry."""
import pytest

from bot.core.directory import get_directory
from tests.conftest import all_text

pytestmark = pytest.mark.stack

SOGO = get_directory().agency("sogo")


@pytest.mark.parametrize("question,expected", [
    ("匿名で相談できますか", "名前を書かなくても"),
    ("家族にバレますか？", "知らせることはありません"),
    ("お金はかかりますか", "お金がかかるとは"),
    ("場所はどこですか", SOGO.address),
    ("駐車場はありますか", "駐車場のことは"),
    ("バスで行けますか", "バスでの行き方"),
])
def test_a_first_question_gets_its_answer(conversation, question, expected):
    text = all_text(conversation.say(question))
    assert expected in text, text
    assert "伝えてもよいですか" not in text and "どなたのことで困っていますか" not in text


@pytest.mark.parametrize("question", ["年末年始は？", "土日はやっていますか"])
def test_questions_about_days_get_the_hours_from_the_data(conversation, question):
    messages = conversation.say(question)
    card = next(m["custom"] for m in messages if m.get("custom", {}).get("type") == "agency_card")
    assert card["agency"]["slug"] == "sogo"
    assert SOGO.hours.closed_note in card["agency"]["hours_text"]
