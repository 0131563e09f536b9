"""Building and signing LINE webhook requests the way LINE does (the HMAC is computed here,
independently of the code under test)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import requests

TEST_CHANNEL_SECRET = "test-line-channel-secret"
TEST_ACCESS_TOKEN = "test-line-access-token"
REPLY_PATH = "/v2/bot/message/reply"
QUIET_SECONDS = 1.5  # how long "nothing was sent" is watched
# LINE_CONTACT_KEY of the test stack (a key made for the tests only, never used anywhere else).
TEST_CONTACT_KEY = "6s4dLlnkjuWK8dh3D9dXh4pTeVfnI_8dep0JooHHnjM="


def sign(body: bytes, secret: str = TEST_CHANNEL_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def new_user_id() -> str:
    return "U" + uuid.uuid4().hex  # LINE user ids: "U" + 32 hex digits


def new_group_id() -> str:
    return "C" + uuid.uuid4().hex


def event(kind: str, user_id: str = None, *, source: dict = None, redelivery: bool = False,
          event_id: str = None, **extra) -> dict:
    e = {
        "type": kind,
        "mode": "active",
        "timestamp": 1764464400000,
        "source": source or {"type": "user", "userId": user_id or new_user_id()},
        "webhookEventId": event_id or ("01" + uuid.uuid4().hex.upper()[:24]),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if kind not in ("unfollow", "leave"):
        e["replyToken"] = uuid.uuid4().hex
    e.update(extra)
    return e


def text_event(text: str, user_id: str = None, **kw) -> dict:
    return event("message", user_id, message={"id": str(uuid.uuid4().int)[:18], "type": "text",
                                               "quoteToken": "q" + uuid.uuid4().hex, "text": text}, **kw)


def sticker_event(user_id: str = None, **kw) -> dict:
    return event("message", user_id, message={"id": "1", "type": "sticker", "packageId": "446",
                                               "stickerId": "1988", "stickerResourceType": "STATIC"}, **kw)


def postback_event(data: str, user_id: str = None, **kw) -> dict:
    return event("postback", user_id, postback={"data": data}, **kw)


def body_of(*events: dict) -> bytes:
    return json.dumps({"destination": "U" + "0" * 32, "events": list(events)}, ensure_ascii=False).encode()


def headers_for(body: bytes, secret: str = TEST_CHANNEL_SECRET) -> dict:
    return {"Content-Type": "application/json; charset=utf-8", "X-Line-Signature": sign(body, secret)}


def reply_messages(reply: dict) -> list:
    return (reply or {}).get("messages") or []


def quick_reply_items(reply: dict) -> list:
    return [item for m in reply_messages(reply) for item in (m.get("quickReply") or {}).get("items", [])]


def flex_buttons(node) -> list:
    """Every button action inside a Flex container."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "button" and isinstance(node.get("action"), dict):
            found.append(node["action"])
        for value in node.values():
            found += flex_buttons(value)
    elif isinstance(node, list):
        for value in node:
            found += flex_buttons(value)
    return found


def check_line_limits(reply: dict) -> None:
    """LINE's limits for one reply: 1-5 messages, <= 13 quick replies, labels <= 20 characters,
    altText <= 400, text <= 5000, postback data <= 300."""
    messages = reply_messages(reply)
    assert 1 <= len(messages) <= 5, len(messages)
    for m in messages[:-1]:
        assert "quickReply" not in m, "quick replies only show on the last message"
    items = quick_reply_items(reply)
    assert len(items) <= 13
    for item in items:
        action = item["action"]
        assert 1 <= len(action["label"]) <= 20, action["label"]
        if action["type"] == "postback":
            assert 0 < len(action["data"]) <= 300
            assert action["displayText"]
    for m in messages:
        if m["type"] == "text":
            assert 0 < len(m["text"]) <= 5000
        elif m["type"] == "flex":
            assert 0 < len(m["altText"]) <= 400
            for action in flex_buttons(m["contents"]):
                assert len(action.get("label", "")) <= 20
                if action["type"] == "uri":
                    assert action["uri"].startswith(("tel:", "https://"))


class Line:
    """Posts signed webhook batches and collects the replies the fake LINE API received."""

    def __init__(self, stack, api):
        self.url = stack.web_url + "/line/webhook"
        self.api = api

    def post(self, *events, headers=None, body: bytes = None) -> requests.Response:
        body = body if body is not None else body_of(*events)
        return requests.post(self.url, data=body, headers=headers if headers is not None else headers_for(body),
                             timeout=10)

    def send(self, ev: dict) -> dict:
        """One event in, the one reply to its token out (checked against LINE's limits)."""
        response = self.post(ev)
        assert response.status_code == 200, response.text
        reply = self.api.reply_for(ev["replyToken"], timeout=30)
        assert reply is not None, "no reply within 30 s"
        check_line_limits(reply)
        return reply

    def replies_to(self, token: str) -> list:
        return [r for r in self.api.requests if r["path"] == REPLY_PATH and r["body"]["replyToken"] == token]

    def assert_nothing_sent(self):
        time.sleep(QUIET_SECONDS)
        assert self.api.requests == []
