"""LINE webhook end to end: real signed requests to the real web side, the real Rasa model and
action server; LINE's API is the local FakeLineApi (``line_api``)."""
from __future__ import annotations

import json
import os
import sqlite3
import time

import pytest
import requests

from bot.core.directory import get_directory
from bot.web.line.security import line_sender_id
from tests.line.helpers import (QUIET_SECONDS, REPLY_PATH, TEST_ACCESS_TOKEN, body_of, event, flex_buttons,
                                headers_for, new_group_id, new_user_id, postback_event, quick_reply_items,
                                reply_messages, sign, sticker_event, text_event)

pytestmark = pytest.mark.stack

WORRY = "母の物忘れがひどくて心配です"
# The stack sets SECRET_KEY=test-secret-key; without PSEUDONYM_SECRET the web side uses it.
PSEUDONYM_SECRET = os.environ.get("PSEUDONYM_SECRET") or "test-secret-key"


def texts(reply: dict) -> str:
    return "\n".join(m.get("text") or m.get("altText") for m in reply_messages(reply))


def test_a_worry_gets_one_reply_with_the_agency_card(line):
    kakehashi = get_directory().agency("kakehashi")
    ev = text_event(WORRY)
    reply = line.send(ev)
    time.sleep(0.5)
    assert len(line.replies_to(ev["replyToken"])) == 1
    request_ = line.replies_to(ev["replyToken"])[0]
    assert request_["headers"]["Authorization"] == f"Bearer {TEST_ACCESS_TOKEN}"
    flex = [m for m in reply_messages(reply) if m["type"] == "flex"]
    assert flex, texts(reply)
    call = [a for a in flex_buttons(flex[0]["contents"]) if a["type"] == "uri"]
    assert call[0]["uri"] == kakehashi.tel  # tel:0138742530, from the directory
    assert kakehashi.name in flex[0]["altText"]


def test_every_reply_of_a_whole_conversation_respects_line_limits(line):
    user = new_user_id()
    steps = [event("follow", user), text_event(WORRY, user), postback_event("/affirm", user),
             text_event("子どもが学校に行けなくて、お金も足りません", user), postback_event("/emergency_info", user),
             text_event("もう死にたい", user), sticker_event(user), text_event("ありがとう", user)]
    for ev in steps:
        reply = line.send(ev)  # check_line_limits: <= 5 messages, <= 13 quick replies, labels <= 20
        assert len(reply_messages(reply)) <= 5 and len(quick_reply_items(reply)) <= 13


def test_crisis_words_get_call_buttons(line):
    reply = line.send(text_event("もう死にたい"))
    first = reply_messages(reply)[0]
    assert first["type"] == "flex"
    uris = [a["uri"] for a in flex_buttons(first["contents"])]
    assert "tel:119" in uris
    assert get_directory().hotlines["yorisoi"].tel in uris


def test_quick_reply_postback_reaches_rasa_as_the_payload(line):
    user = new_user_id()
    greeting = line.send(event("follow", user))
    item = next(i for i in quick_reply_items(greeting) if i["action"]["data"] == "/worry_elderly")
    assert item["action"]["type"] == "postback" and item["action"]["displayText"] == "高齢・介護のこと"
    reply = line.send(postback_event(item["action"]["data"], user))
    kakehashi = get_directory().agency("kakehashi")
    assert kakehashi.tel in [a["uri"] for m in reply_messages(reply) for a in flex_buttons(m)]


def test_follow_gets_the_greeting_with_anonymity_and_emergency_lines(line):
    reply = line.send(event("follow"))
    messages = reply_messages(reply)
    assert "困りごと相談の案内" in messages[0]["text"]
    assert "LINEのお名前やID" in texts(reply)
    uris = [a["uri"] for m in messages for a in flex_buttons(m)]
    assert "tel:110" in uris and "tel:119" in uris
    assert "/emergency_info" in [i["action"]["data"] for i in quick_reply_items(reply)]


def test_easy_japanese_from_the_greetings_quick_reply_on_line(line):
    user = new_user_id()
    greeting = line.send(event("follow", user))
    item = next(i for i in quick_reply_items(greeting) if i["action"]["data"] == "/easy_on")
    assert "やさしい にほんご で こたえます" in texts(line.send(postback_event(item["action"]["data"], user)))
    reply = line.send(text_event("ははの ものわすれ が ひどい です。かいご の そうだん を したい", user))
    assert get_directory().agency("kakehashi").easy in json.dumps(reply_messages(reply), ensure_ascii=False)


def test_a_first_question_is_answered_on_line_too(line):
    reply = line.send(text_event("匿名で相談できますか？", new_user_id()))
    assert "名前を書かなくても" in texts(reply)


def test_a_sticker_is_answered_politely(line):
    reply = line.send(sticker_event())
    text = reply_messages(reply)[0]["text"]
    assert "スタンプありがとうございます" in text and "ことばで書いてください" in text


def test_a_group_gets_the_one_to_one_notice_and_nothing_goes_to_rasa(line):
    group = new_group_id()
    ev = text_event(WORRY, source={"type": "group", "groupId": group, "userId": new_user_id()})
    reply = line.send(ev)
    assert "1対1" in reply_messages(reply)[0]["text"]
    assert len(reply_messages(reply)) == 1  # the notice only: no agency card, so Rasa was not asked
    paths = [r["path"] for r in line.api.wait_for(2)]
    assert f"/v2/bot/group/{group}/leave" in paths


def test_join_event_gets_the_notice(line):
    group = new_group_id()
    ev = event("join", source={"type": "group", "groupId": group})
    assert "1対1" in reply_messages(line.send(ev))[0]["text"]
    # The bot then leaves; wait for it so the request does not reach the next test.
    assert f"/v2/bot/group/{group}/leave" in [r["path"] for r in line.api.wait_for(2)]


def test_unfollow_gets_nothing(line):
    assert line.post(event("unfollow")).status_code == 200
    line.assert_nothing_sent()


def test_a_redelivered_event_is_answered_once(line):
    ev = text_event("借金で生活が苦しいです")
    line.send(ev)
    again = dict(ev, deliveryContext={"isRedelivery": True})
    for _ in range(2):
        assert line.post(again).status_code == 200
    time.sleep(QUIET_SECONDS)
    assert len(line.replies_to(ev["replyToken"])) == 1
    assert len([r for r in line.api.requests if r["path"] == REPLY_PATH]) == 1


@pytest.mark.parametrize("headers", [{"Content-Type": "application/json"},
                                     {"Content-Type": "application/json", "X-Line-Signature": "AAAA"},
                                     {"Content-Type": "application/json",
                                      "X-Line-Signature": sign(body_of(text_event(WORRY)), "wrong-secret")}])
def test_bad_or_missing_signature_is_rejected(line, headers):
    response = line.post(text_event(WORRY), headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert "Traceback" not in response.text
    line.assert_nothing_sent()


def test_oversized_body_is_rejected(line):
    big = text_event(WORRY)
    big["padding"] = "x" * (300 * 1024)
    response = line.post(big)
    assert response.status_code == 413
    line.assert_nothing_sent()


def test_oversized_chunked_body_is_rejected(line):
    big = text_event(WORRY)
    big["padding"] = "x" * (300 * 1024)
    body = body_of(big)

    def chunks():
        for i in range(0, len(body), 16 * 1024):
            yield body[i:i + 16 * 1024]
    response = requests.post(line.url, data=chunks(), headers=headers_for(body), timeout=10)
    assert response.status_code == 413
    line.assert_nothing_sent()


@pytest.mark.parametrize("body", [b"{not json", b'{"events": "x"}', b"[1, 2]"])
def test_malformed_body_is_rejected(line, body):
    response = line.post(body=body, headers=headers_for(body))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_json"
    line.assert_nothing_sent()


def test_the_line_user_id_is_never_the_sender_nor_logged(line, stack):
    user = new_user_id()
    words = "父が最近ひとりで外に出て迷子になります"
    ev = text_event(words, user)
    line.send(ev)
    sender = line_sender_id(PSEUDONYM_SECRET, user)
    assert sender.startswith("line-") and user not in sender and user[1:] not in sender
    for request_ in line.api.requests:
        assert user.encode() not in request_["raw"]
    time.sleep(0.5)
    logs = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in stack.log_dir.glob("*.log")}
    web_log = next(text for name, text in logs.items() if name.startswith("web-"))
    assert "line webhook" in web_log  # the web side does log LINE traffic...
    assert user not in web_log and words not in web_log  # ...but neither the id nor the words
    for name, text in logs.items():
        assert user not in text, name


def _handoffs(db_path) -> list:
    conn = sqlite3.connect(str(db_path))
    try:
        return conn.execute("SELECT channel, consent, summary, resident_text FROM handoffs ORDER BY id").fetchall()
    finally:
        conn.close()


def test_a_handoff_from_line_is_channel_line_without_line_ids(line, db_path):
    user = new_user_id()
    before = len(_handoffs(db_path))
    reply = line.send(text_event("母の介護と、息子の引きこもりと、お金のことが重なって困っています", user))
    if "/affirm" not in [i["action"]["data"] for i in quick_reply_items(reply)]:
        reply = line.send(postback_event("/dont_know", user))  # 総合相談支援センター for sure
    # consent question; then answer every form question with "答えない" (or the first button)
    assert "/affirm" in [i["action"]["data"] for i in quick_reply_items(reply)], texts(reply)
    reply = line.send(postback_event("/affirm", user))
    for _ in range(15):
        items = quick_reply_items(reply)
        if "送らない" in [i["action"]["label"] for i in items]:
            break
        skip = next((i for i in items if "skip" in i["action"]["data"]), items[0] if items else None)
        assert skip is not None, texts(reply)
        reply = line.send(postback_event(skip["action"]["data"], user))
    reply = line.send(postback_event("/affirm", user))
    assert "受付番号" in texts(reply)
    rows = _handoffs(db_path)[before:]
    assert rows and rows[-1][0] == "line" and rows[-1][1] in ("yes", 1, "1")
    sender = line_sender_id(PSEUDONYM_SECRET, user)
    for row in rows:
        stored = json.dumps(row, ensure_ascii=False)
        assert user not in stored and sender not in stored and sender[5:] not in stored
