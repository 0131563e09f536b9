"""End to end through /api/chat against the real action server, Rasa and web side."""
import re
import time

import pytest
import requests

from bot.core.directory import get_directory
from bot.core.store import get_handoff, open_store
from tests.conftest import REF, Conversation, all_text

pytestmark = pytest.mark.stack


def custom(messages, kind):
    return [m["custom"] for m in messages if isinstance(m.get("custom"), dict) and m["custom"].get("type") == kind]


def test_healthz(web_url):
    body = requests.get(web_url + "/healthz", timeout=10).json()
    assert body == {"rasa": "ok", "action_server": "ok", "status": "ok"}


def test_greeting_explains_and_offers_the_emergency_lines(conversation):
    messages = conversation.say("こんにちは")
    text = all_text(messages)
    assert "匿名" in text and "緊急の窓口ではありません" in text
    payloads = [b["payload"] for m in messages for b in m.get("buttons", [])]
    assert "/emergency_info" in payloads and "/worry_elderly" in payloads


def test_first_conversation_mothers_forgetfulness_gets_kakehashi_card(conversation):
    kakehashi = get_directory().agency("kakehashi")
    messages = conversation.say("母の物忘れがひどくて心配です")
    cards = custom(messages, "agency_card")
    assert cards and cards[0]["agency"]["slug"] == "kakehashi"
    card = cards[0]["agency"]
    assert (card["name"], card["phone"], card["address"], card["tel"]) == (
        kakehashi.name, kakehashi.phone, kakehashi.address, kakehashi.tel)
    assert card["helps_with"] == kakehashi.helps_with
    assert "ほかにも気になることはありますか" in all_text(messages)


def test_second_field_in_a_later_turn_turns_the_case_complex(conversation):
    first = conversation.say("/worry_child")
    assert custom(first, "agency_card")[0]["agency"]["slug"] == "kodomo"
    second = conversation.say("それと、家賃も2か月払えていません")
    assert custom(second, "agency_card")[0]["agency"]["slug"] == "sogo"
    assert "伝えてもよいですか" in all_text(second)


def test_crisis_first_in_any_turn(conversation):
    conversation.say("母の介護のことで相談です")
    messages = conversation.say("もう疲れて、このまま目が覚めなければいいのにと思う")
    crisis = custom(messages, "crisis")
    assert crisis, messages
    numbers = [line["number"] for line in crisis[0]["lines"]]
    assert get_directory().hotlines["yorisoi"].number in numbers
    assert messages[0].get("custom", {}).get("type") == "crisis"


def test_out_of_scope_gets_the_city_hall_number(conversation):
    messages = conversation.say("マイナンバーカードの受け取りはどこでできますか")
    assert get_directory().city_hall.phone in all_text(messages)


def test_emoji_only_is_answered_politely(conversation):
    text = all_text(conversation.say("😀😀😀"))
    assert "文字で書いてください" in text


def _complex_case_to_form(conversation):
    messages = conversation.say("認知症の母の介護で仕事を辞めて、借金の返済もできません")
    assert custom(messages, "agency_card")[0]["agency"]["slug"] == "sogo"
    messages = conversation.say("はい")
    assert "相談しているのはどなたですか" in all_text(messages)


def test_complex_case_from_first_message_to_reference_number(conversation, db_path):
    _complex_case_to_form(conversation)
    steps = [
        ('/inform{"form_answer": "家族"}', "どんな関係ですか"),
        ("娘です", "年代"),
        ('/inform{"form_answer": "80代以上"}', "暮らしていますか"),
        ('/inform{"form_answer": "一人暮らし"}', "急いでいますか"),
        ('/inform{"form_answer": "数日のうち"}', "連絡は"),
        ('/inform{"form_answer": "電話"}', "時間帯"),
        ('/inform{"form_answer": "平日の午前"}', "お名前"),
        ('/inform{"form_answer": "skip"}', "電話番号"),
        ("１２３", "電話番号が見つかりませんでした"),
        ("090-1234-5678", "この内容で送ってよいですか"),
    ]
    for said, expected in steps:
        text = all_text(conversation.say(said))
        assert expected in text, (said, text)
    assert "090-1234-5678" in text and "80代以上" in text
    text = all_text(conversation.say("はい"))
    ref = REF.search(text).group(1)
    row = get_handoff(open_store(db_path), ref)
    assert row is not None and row["consent"] == "yes" and row["channel"] == "web"
    assert {"elderly", "poverty"} <= set(row["fields"])
    summary = row["summary"]
    assert summary["consulter"] == {"type": "家族", "relation": "子（娘）"}
    assert summary["subject"] == {"age_band": "80代以上", "living": "一人暮らし"}
    assert summary["wish"]["phone"] == "090-1234-5678" and summary["wish"]["name"] is None
    assert summary["suggested_agency"]["slug"] == "sogo"
    assert "認知症の母の介護" in row["resident_text"]


def test_crisis_in_the_middle_of_the_form_then_the_form_goes_on(conversation, db_path):
    _complex_case_to_form(conversation)
    messages = conversation.say("子どもを叩いてしまいそうで怖い")
    crisis = custom(messages, "crisis")
    assert crisis and crisis[0]["lines"][0]["number"] == "189"
    assert "相談しているのはどなたですか" in all_text(messages)
    conversation.say('/inform{"form_answer": "本人"}')
    for answer in ("80代以上", "家族と同居", "今日中", "匿名"):
        text = all_text(conversation.say('/inform{"form_answer": "%s"}' % answer))
    assert "この内容で送ってよいですか" in text
    ref = REF.search(all_text(conversation.say("はい"))).group(1)
    row = get_handoff(open_store(db_path), ref)
    assert row["urgent"] == 1 and row["urgency"] == "high"
    assert "child_abuse" in row["summary"]["urgency"]["crisis_kinds"]


def test_no_consent_keeps_an_anonymous_minimal_record(conversation, db_path):
    db = open_store(db_path)
    before = db["handoffs"].count
    conversation.say("どこに相談したらいいか分からなくて")
    text = all_text(conversation.say("いいえ"))
    assert get_directory().agency("sogo").phone in text
    rows = list(db["handoffs"].rows_where(order_by="id desc", limit=1))
    assert db["handoffs"].count == before + 1
    assert rows[0]["consent"] == "no" and rows[0]["resident_text"] is None
    assert "consulter" not in rows[0]["summary"]


def test_stop_in_the_form(conversation):
    _complex_case_to_form(conversation)
    text = all_text(conversation.say("やめる"))
    assert "やめます" in text  # nothing answered yet: stopped at once
    assert get_directory().agency("sogo").phone in text


def test_markup_or_another_language_is_not_routed(conversation):
    messages = conversation.say("<b>x</b>")
    assert not custom(messages, "agency_card")
    assert get_directory().hotlines["foreign_center"].number in all_text(messages)
    # Nothing was remembered from it: a later one-field worry is still one field.
    assert custom(conversation.say("/worry_elderly"), "agency_card")[0]["agency"]["slug"] == "kakehashi"


def test_rasas_own_restart_command_answers(conversation):
    assert "最初から" in all_text(conversation.say("/restart"))
