"""Rasa replies -> LINE messages (pure functions, validated by line-bot-sdk v3's models)."""
from __future__ import annotations

from datetime import datetime, timezone, timedelta

import yaml

from bot import PROJECT_ROOT
from bot.core.directory import get_directory
from bot.core.replies import agency_card, crisis_message, hotlines_message
from bot.web.line import copy
from bot.web.line.messages import to_line_messages, to_sdk
from tests.line.helpers import check_line_limits, flex_buttons

JST = timezone(timedelta(hours=9))
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=JST)


def convert(messages):
    out = to_line_messages(messages)
    to_sdk(out)  # the SDK accepts every message we build
    check_line_limits({"messages": out})
    return out


def test_agency_card_becomes_flex_with_call_button():
    kakehashi = get_directory().agency("kakehashi")
    out = convert([agency_card(kakehashi, MONDAY_10, intro="こちらの窓口が相談にのってくれます。")])
    assert len(out) == 1 and out[0]["type"] == "flex"
    assert kakehashi.phone in out[0]["altText"]
    buttons = flex_buttons(out[0]["contents"])
    assert {"type": "uri", "label": f"{kakehashi.phone}に電話する", "uri": kakehashi.tel} in buttons
    assert kakehashi.tel == "tel:" + kakehashi.phone.replace("-", "")


def test_every_agency_card_fits():
    for agency in get_directory().agencies.values():
        out = convert([agency_card(agency, MONDAY_10)])
        assert flex_buttons(out[0]["contents"])[0]["uri"] == agency.tel


def test_crisis_answer_has_a_call_button_for_each_line():
    directory = get_directory()
    for kinds in (["suicide"], ["violence"], ["child_abuse"], ["danger"], ["lifeline"], ["general"],
                  ["suicide", "violence"]):
        message = crisis_message(directory, kinds)
        out = convert([message, {"text": "落ち着いたら、続けられます。"}])
        assert out[0]["type"] == "flex"
        uris = [a["uri"] for a in flex_buttons(out[0]["contents"])]
        assert uris == [line["tel"] for line in message["custom"]["lines"]]


def test_hotline_list_with_every_number():
    message = hotlines_message(get_directory())
    out = convert([message])
    uris = [a["uri"] for a in flex_buttons(out[0]["contents"])]
    assert uris == [h["tel"] for h in message["custom"]["lines"]]
    assert "tel:%238008" in uris  # #-numbers are escaped in tel: URIs


def test_buttons_become_postback_quick_replies_on_the_last_message():
    buttons = [{"title": f"選択肢{i}", "payload": f"/inform{{\"form_answer\": \"{i}\"}}"} for i in range(20)]
    out = convert([{"text": "一つめ"}, {"text": "質問です", "buttons": buttons}])
    items = out[-1]["quickReply"]["items"]
    assert len(items) == 13
    assert items[0]["action"] == {"type": "postback", "label": "選択肢0", "data": buttons[0]["payload"],
                                  "displayText": "選択肢0"}


def test_long_button_titles_are_cut_to_20_characters_but_shown_in_full():
    title = "とても長いボタンの名前です、二十文字をこえてしまいます"
    out = convert([{"text": "質問", "buttons": [{"title": title, "payload": "/dont_know"}]}])
    action = out[0]["quickReply"]["items"][0]["action"]
    assert len(action["label"]) == 20 and action["label"].endswith("…")
    assert action["displayText"] == title and action["data"] == "/dont_know"


def test_later_buttons_win_when_there_are_too_many():
    first = [{"title": f"前{i}", "payload": f"/a{i}"} for i in range(10)]
    last = [{"title": f"後{i}", "payload": f"/b{i}"} for i in range(10)]
    out = convert([{"text": "1", "buttons": first}, {"text": "2", "buttons": last}])
    data = [i["action"]["data"] for i in out[-1]["quickReply"]["items"]]
    assert data[-10:] == [f"/b{i}" for i in range(10)] and len(data) == 13


def test_more_than_five_messages_are_merged():
    card = agency_card(get_directory().agency("sogo"), MONDAY_10)
    messages = [{"text": f"文{i}"} for i in range(4)] + [card] + [{"text": f"後{i}"} for i in range(4)]
    out = convert(messages)
    assert len(out) == 5
    assert any(m["type"] == "flex" for m in out)  # the card stays a card
    joined = "\n".join(m.get("text", "") for m in out)
    for i in range(4):
        assert f"文{i}" in joined and f"後{i}" in joined


def test_many_cards_fall_back_to_text_without_losing_the_numbers():
    cards = [agency_card(a, MONDAY_10) for a in get_directory().agencies.values()]
    out = convert(cards)
    assert len(out) == 5
    everything = "\n".join(m.get("text") or m.get("altText") for m in out)
    for agency in get_directory().agencies.values():
        assert agency.phone in everything


def test_long_texts_are_cut_to_line_limits():
    out = convert([{"text": "あ" * 6000}])
    assert len(out[0]["text"]) == 5000
    card = agency_card(get_directory().agency("sogo"), MONDAY_10, intro="い" * 500)
    out = convert([card])
    assert len(out[0]["altText"]) <= 400


def test_empty_and_unknown_messages():
    assert to_line_messages([]) == []
    assert to_line_messages([{"image": "https://example.org/x.png"}]) == []
    out = convert([{"custom": {"type": "something_new", "text": "新しい形"}}])
    assert out == [{"type": "text", "text": "新しい形"}]


def test_category_buttons_are_intents_of_the_domain():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    greet_buttons = domain["responses"]["utter_greet"][0]["buttons"]
    assert copy.CATEGORY_BUTTONS == [{"title": b["title"], "payload": b["payload"]} for b in greet_buttons]
    for button in copy.CATEGORY_BUTTONS:
        assert button["payload"].lstrip("/") in domain["intents"]


def test_line_notice_has_the_emergency_lines():
    out = convert([copy.line_notice_message(get_directory())])
    uris = [a["uri"] for a in flex_buttons(out[0]["contents"])]
    assert "tel:110" in uris and "tel:119" in uris
    assert "LINEのお名前やID" in out[0]["altText"]
