"""The webhook with the real Flask app and a real HTTP stand-in for LINE's API, but a fake Rasa
(no model needed): signature, size and JSON checks, event kinds, de-duplication, privacy."""
from __future__ import annotations

import hashlib
import io
import hmac
import json
import logging
import threading
import time

import pytest

from bot.core.directory import get_directory
from bot.core.replies import agency_card
from bot.web import create_app
from bot.web.config import Settings
from bot.web.line.security import line_sender_id, signature_is_valid
from bot.web.rasa_client import RasaUnavailable
from tests.line.helpers import (TEST_ACCESS_TOKEN, TEST_CHANNEL_SECRET, body_of, check_line_limits, event,
                                flex_buttons, headers_for, new_group_id, new_user_id, postback_event,
                                quick_reply_items, reply_messages, sign, sticker_event, text_event)
from tests.line_fake import FakeLineApi
from tests.rasa_fake import FakeRasa

PSEUDONYM_SECRET = "unit-test-pseudonym-secret"
REPLY_PATH = "/v2/bot/message/reply"


@pytest.fixture(scope="module")
def api():
    fake = FakeLineApi().start()
    yield fake
    fake.stop()


@pytest.fixture
def rasa():
    return FakeRasa()


def make_app(api, rasa, **overrides):
    settings = dict(line_channel_secret=TEST_CHANNEL_SECRET, line_channel_access_token=TEST_ACCESS_TOKEN,
                    line_api_endpoint=api.url, pseudonym_secret=PSEUDONYM_SECRET, secret_key="unit-secret")
    settings.update(overrides)
    app = create_app(Settings(**settings))
    app.config["RASA"] = rasa
    return app


@pytest.fixture
def app(api, rasa):
    api.clear()
    app = make_app(api, rasa)
    yield app
    app.extensions["soudan_line"].pool.executor.shutdown(wait=True)


@pytest.fixture
def client(app):
    return app.test_client()


def post(client, body: bytes, headers=None):
    return client.post("/line/webhook", data=body, headers=headers if headers is not None else headers_for(body))


def settle(app, api, expected: int, timeout: float = 10.0):
    """Wait for the worker pool to finish and return the LINE API requests."""
    assert app.extensions["soudan_line"].pool.wait_idle(timeout)
    return api.wait_for(expected, timeout=0.5 if expected == 0 else timeout)


def replies(requests_):
    return [r["body"] for r in requests_ if r["path"] == REPLY_PATH]


# -- signature, size, format ----------------------------------------------------------------

def test_signature_helper_matches_an_independent_hmac():
    body = body_of(text_event("こんにちは"))
    assert signature_is_valid(TEST_CHANNEL_SECRET, body, sign(body))
    assert not signature_is_valid(TEST_CHANNEL_SECRET, body + b" ", sign(body))
    assert not signature_is_valid(TEST_CHANNEL_SECRET, body, sign(body, "other-secret"))
    assert not signature_is_valid(TEST_CHANNEL_SECRET, body, "")
    assert not signature_is_valid(TEST_CHANNEL_SECRET, body, "署名")
    assert not signature_is_valid("", body, sign(body, ""))


@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/json"},                                   # missing
    {"Content-Type": "application/json", "X-Line-Signature": "AAAA"},       # wrong
    {"Content-Type": "application/json", "X-Line-Signature": sign(b"other body")},
    {"Content-Type": "application/json", "X-Line-Signature": sign(b"x", "wrong-secret")},
])
def test_bad_or_missing_signature_is_rejected_and_nothing_happens(client, app, api, rasa, headers):
    body = body_of(text_event("母の物忘れがひどくて心配です"))
    if headers.get("X-Line-Signature") == sign(b"x", "wrong-secret"):
        headers = dict(headers, **{"X-Line-Signature": sign(body, "wrong-secret")})
    response = post(client, body, headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert settle(app, api, 0) == [] and rasa.calls == []


def test_oversized_body_is_413_before_reading(client, app, api, rasa):
    big = text_event("あ" * 100)
    big["padding"] = "x" * (300 * 1024)
    body = body_of(big)
    response = post(client, body)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "413"
    assert settle(app, api, 0) == [] and rasa.calls == []


def test_oversized_chunked_body_is_413(client, app, api, rasa):
    big = text_event("あ")
    big["padding"] = "x" * (300 * 1024)
    body = body_of(big)
    # no Content-Length; the server (waitress) de-chunks and marks the stream as terminated
    response = client.post("/line/webhook", input_stream=io.BytesIO(body),
                           headers=dict(headers_for(body), **{"Transfer-Encoding": "chunked"}),
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert settle(app, api, 0) == [] and rasa.calls == []


def test_a_batch_larger_than_the_app_cap_is_accepted(client, app, api, rasa):
    events = [text_event("困っています。" + "あ" * 4900) for _ in range(6)]  # ~90 KB > 16 KB app cap
    body = body_of(*events)
    assert len(body) > app.config["MAX_CONTENT_LENGTH"]
    assert post(client, body).status_code == 200
    assert len(replies(settle(app, api, 6))) == 6


@pytest.mark.parametrize("body", [b"{not json", b"", b"[]", b'{"events": {}}', b'"text"',
                                  "\ufeff{}".encode("utf-16")])
def test_malformed_json_is_400(client, app, api, rasa, body):
    response = post(client, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_json"
    assert settle(app, api, 0) == [] and rasa.calls == []


def test_console_verify_request_with_no_events(client, app, api):
    body = json.dumps({"destination": "U" + "1" * 32, "events": []}).encode()
    assert post(client, body).status_code == 200
    assert settle(app, api, 0) == []


def test_without_credentials_the_webhook_answers_503(api, rasa):
    app = make_app(api, rasa, line_channel_secret="", line_channel_access_token="")
    body = body_of(text_event("こんにちは"))
    response = app.test_client().post("/line/webhook", data=body, headers=headers_for(body))
    assert response.status_code == 503
    assert "LINE" in response.get_json()["error"]["message"]


def test_get_is_405_json(client):
    response = client.get("/line/webhook")
    assert response.status_code == 405 and response.is_json


# -- events ---------------------------------------------------------------------------------

def test_text_goes_to_rasa_under_a_pseudonym_and_one_reply_comes_back(client, app, api, rasa):
    user = new_user_id()
    e = text_event("母の物忘れがひどくて心配です", user)
    kakehashi = get_directory().agency("kakehashi")
    from tests.line.test_convert import MONDAY_10
    rasa.answer = lambda s, t: [agency_card(kakehashi, MONDAY_10, intro="こちらの窓口が相談にのってくれます。"),
                                {"text": "ほかにも気になることはありますか。",
                                 "buttons": [{"title": "ある", "payload": "/affirm"},
                                             {"title": "ない", "payload": "/deny"}]}]
    started = time.monotonic()
    response = post(client, body_of(e))
    assert response.status_code == 200 and time.monotonic() - started < 1.0
    requests_ = settle(app, api, 1)
    assert len(requests_) == 1
    request_ = requests_[0]
    assert request_["path"] == REPLY_PATH
    assert request_["headers"]["Authorization"] == f"Bearer {TEST_ACCESS_TOKEN}"
    reply = request_["body"]
    assert reply["replyToken"] == e["replyToken"]
    check_line_limits(reply)
    flex = reply_messages(reply)[0]
    assert flex["type"] == "flex"
    assert {"type": "uri", "label": f"{kakehashi.phone}に電話する", "uri": kakehashi.tel} in flex_buttons(flex)
    assert [i["action"]["data"] for i in quick_reply_items(reply)] == ["/affirm", "/deny"]
    # the sender id: "line-" + HMAC-SHA256(pseudonym secret, user id), never the user id
    expected = "line-" + hmac.new(PSEUDONYM_SECRET.encode(), user.encode(), hashlib.sha256).hexdigest()[:32]
    assert rasa.calls == [(expected, "母の物忘れがひどくて心配です")]
    assert user not in expected and line_sender_id(PSEUDONYM_SECRET, user) == expected
    assert user.encode() not in request_["raw"]


def test_same_user_same_pseudonym_other_user_other_pseudonym(client, app, api, rasa):
    a, b = new_user_id(), new_user_id()
    post(client, body_of(text_event("一つめ", a), text_event("二つめ", a), text_event("三つめ", b)))
    settle(app, api, 3)
    senders = {text: sender for sender, text in rasa.calls}
    assert senders["一つめ"] == senders["二つめ"] != senders["三つめ"]


def test_events_of_one_user_are_answered_in_order(client, app, api, rasa):
    user = new_user_id()
    post(client, body_of(*[text_event(f"メッセージ{i}", user) for i in range(5)]))
    settle(app, api, 5)
    assert [text for _, text in rasa.calls] == [f"メッセージ{i}" for i in range(5)]


def test_postback_data_reaches_rasa_as_text(client, app, api, rasa):
    e = postback_event("/worry_elderly")
    post(client, body_of(e))
    assert len(replies(settle(app, api, 1))) == 1
    assert rasa.calls[0][1] == "/worry_elderly" and rasa.calls[0][0].startswith("line-")


@pytest.mark.parametrize("kind", ["sticker", "image", "video", "audio", "file", "location"])
def test_non_text_messages_get_a_polite_request_to_write(client, app, api, rasa, kind):
    e = sticker_event() if kind == "sticker" else event("message", message={"id": "1", "type": kind})
    post(client, body_of(e))
    reply = replies(settle(app, api, 1))[0]
    check_line_limits(reply)
    text = reply_messages(reply)[0]["text"]
    assert "ことばで書いてください" in text and "ありがとうございます" in text
    assert "/worry_elderly" in [i["action"]["data"] for i in quick_reply_items(reply)]
    assert rasa.calls == []


def test_group_message_gets_the_one_to_one_notice_and_the_bot_leaves(client, app, api, rasa):
    group = new_group_id()
    source = {"type": "group", "groupId": group, "userId": new_user_id()}
    post(client, body_of(text_event("グループで相談です", source=source)))
    requests_ = settle(app, api, 2)
    reply = replies(requests_)[0]
    assert "1対1" in reply_messages(reply)[0]["text"]
    assert f"/v2/bot/group/{group}/leave" in [r["path"] for r in requests_]
    assert rasa.calls == []


def test_join_to_a_room_gets_the_notice(client, app, api, rasa):
    room = "R" + new_user_id()[1:]
    post(client, body_of(event("join", source={"type": "room", "roomId": room})))
    requests_ = settle(app, api, 2)
    assert "1対1" in reply_messages(replies(requests_)[0])[0]["text"]
    assert f"/v2/bot/room/{room}/leave" in [r["path"] for r in requests_]
    assert rasa.calls == []


def test_group_notice_is_not_repeated_for_every_message(client, app, api, rasa):
    source = {"type": "group", "groupId": new_group_id()}
    post(client, body_of(*[text_event(f"雑談{i}", source=source) for i in range(3)]))
    requests_ = settle(app, api, 4)
    assert len(replies(requests_)) == 1 and rasa.calls == []


def test_follow_gets_the_greeting_with_anonymity_and_emergency_lines(client, app, api, rasa):
    rasa.answer = lambda s, t: [{"text": "こんにちは。北斗市の「困りごと相談の案内」です。",
                                 "buttons": [{"title": "高齢・介護のこと", "payload": "/worry_elderly"}]}]
    post(client, body_of(event("follow")))
    reply = replies(settle(app, api, 1))[0]
    check_line_limits(reply)
    assert rasa.calls[0][1] == "/greet"
    messages = reply_messages(reply)
    assert messages[0]["text"].startswith("こんにちは")
    assert "LINEのお名前やID" in messages[-1]["altText"]
    uris = [a["uri"] for a in flex_buttons(messages[-1])]
    assert "tel:110" in uris and "tel:119" in uris
    assert quick_reply_items(reply)[0]["action"]["data"] == "/worry_elderly"


def test_unfollow_and_other_events_get_nothing(client, app, api, rasa):
    post(client, body_of(event("unfollow"), event("unsend", unsend={"messageId": "1"}),
                         event("videoPlayComplete", videoPlayComplete={"trackingId": "t"}),
                         dict(text_event("待機中のチャネルへの発言"), mode="standby")))
    assert settle(app, api, 0) == [] and rasa.calls == []


def test_redelivered_event_is_answered_once(client, app, api, rasa):
    e = text_event("お金のことで困っています")
    post(client, body_of(e))
    again = dict(e, deliveryContext={"isRedelivery": True})
    post(client, body_of(again))
    post(client, body_of(again))
    requests_ = settle(app, api, 1)
    time.sleep(0.3)
    assert len(replies(api.wait_for(1))) == 1 and len(rasa.calls) == 1


def test_when_rasa_is_down_the_resident_still_gets_a_number(client, app, api, rasa):
    def down(sender, text):
        raise RasaUnavailable("ConnectionError")
    rasa.answer = down
    post(client, body_of(text_event("母の物忘れがひどくて心配です")))
    reply = replies(settle(app, api, 1))[0]
    check_line_limits(reply)
    text = reply_messages(reply)[-1]["text"]
    sogo = get_directory().agency("sogo")
    assert sogo.phone in text and "総合相談支援センター" in text


def test_when_rasa_is_down_crisis_words_still_get_the_crisis_lines(client, app, api, rasa):
    def down(sender, text):
        raise RasaUnavailable("HTTP 500")
    rasa.answer = down
    post(client, body_of(text_event("もう死にたい")))
    reply = replies(settle(app, api, 1))[0]
    messages = reply_messages(reply)
    assert messages[0]["type"] == "flex"
    assert "tel:119" in [a["uri"] for a in flex_buttons(messages[0])]
    assert get_directory().agency("sogo").phone in messages[-1]["text"]


def test_follow_when_rasa_is_down_still_greets(client, app, api, rasa):
    def down(sender, text):
        raise RasaUnavailable("timeout")
    rasa.answer = down
    post(client, body_of(event("follow")))
    reply = replies(settle(app, api, 1))[0]
    check_line_limits(reply)
    assert "友だち追加ありがとうございます" in reply_messages(reply)[0]["text"]
    assert get_directory().agency("sogo").phone in reply_messages(reply)[0]["text"]


def test_too_long_and_empty_texts(client, app, api, rasa):
    post(client, body_of(text_event("あ" * 2001), text_event("\u200b\u200b ")))
    bodies = replies(settle(app, api, 2))
    texts = sorted(reply_messages(b)[0]["text"] for b in bodies)
    assert any("長すぎます" in t for t in texts) and any("空です" in t for t in texts)
    assert rasa.calls == []


def test_control_characters_are_removed_not_refused(client, app, api, rasa):
    post(client, body_of(text_event("家族\u200dのこと\u202eで困っています")))
    settle(app, api, 1)
    assert rasa.calls[0][1] == "家族のことで困っています"


def test_a_failing_line_api_is_logged_without_a_crash(client, app, api, rasa, caplog):
    api.status = 400  # e.g. expired reply token
    with caplog.at_level(logging.INFO, logger="soudan.line"):
        post(client, body_of(text_event("こんにちは")))
        settle(app, api, 1)
    assert "failed: HTTP 400" in caplog.text


def test_stale_batches_are_answered_without_rasa(app, api, rasa):
    line = app.extensions["soudan_line"]
    e = text_event("子育てのことで相談したい")
    line.process([e], time.monotonic() - 60)
    reply = api.reply_for(e["replyToken"], timeout=5)
    assert get_directory().agency("sogo").phone in reply_messages(reply)[-1]["text"]
    assert rasa.calls == []


def test_overload_sheds_and_forgets_the_event_ids(app, api, rasa):
    line = app.extensions["soudan_line"]
    release = threading.Event()
    rasa.answer = lambda s, t: (release.wait(5), [{"text": "はい"}])[1]
    line.pool.max_pending = 1
    first, second = text_event("一つめ"), text_event("二つめ")
    stats = line.accept([first, second])
    assert stats["shed"] == 1
    assert second["webhookEventId"] not in line.seen and first["webhookEventId"] in line.seen
    release.set()
    settle(app, api, 1)


def test_logs_carry_neither_the_line_id_nor_the_text(client, app, api, rasa, caplog):
    user, group = new_user_id(), new_group_id()
    words = "母の物忘れがひどくて心配です"
    with caplog.at_level(logging.DEBUG):
        post(client, body_of(text_event(words, user), postback_event("/worry_child", user), event("follow", user),
                             text_event("グループの話", source={"type": "group", "groupId": group, "userId": user})))
        post(client, b"{broken", headers={"X-Line-Signature": sign(b"{broken")})
        post(client, body_of(text_event(words, user)), headers={"X-Line-Signature": "bad"})
        settle(app, api, 5)
    assert "line webhook" in caplog.text and "line reply to message: 1 messages" in caplog.text
    assert "failed" not in caplog.text and "not understood" not in caplog.text
    for secret in (user, group, words, "グループの話"):
        assert secret not in caplog.text
