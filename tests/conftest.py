"""Shared fixtures. ``stack`` starts the real action server, Rasa and web side once per test
session, on free ports, with its own SQLite file and a fixed clock."""
from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
import requests

from bot.tools.runner import Stack, free_port
from tests.line.helpers import TEST_CONTACT_KEY
from tests.line_fake import FakeLineApi

# A Monday morning in office hours, so answers do not depend on when CI runs.
FIXED_NOW = "2026-11-30T10:00:00+09:00"


@pytest.fixture(scope="session")
def line_api():
    """Stand-in for LINE's API; the web side is pointed at it through LINE_API_ENDPOINT."""
    fake = FakeLineApi().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, line_api):
    db = tmp_path_factory.mktemp("db") / "soudan.db"
    the_stack = Stack(web_port=free_port(), rasa_port=free_port(), action_port=free_port(), db_path=db,
                      extra_env={"SOUDAN_NOW": FIXED_NOW, "RATE_LIMIT_PER_SESSION": "1000",
                                 "RATE_LIMIT_PER_IP": "100000", "SECRET_KEY": "test-secret-key",
                                 "LINE_CHANNEL_SECRET": "test-line-channel-secret",
                                 "LINE_CHANNEL_ACCESS_TOKEN": "test-line-access-token",
                                 "LINE_API_ENDPOINT": line_api.url, "LINE_CONTACT_KEY": TEST_CONTACT_KEY},
                      log_dir=tmp_path_factory.mktemp("logs"))
    the_stack.start()
    yield the_stack
    the_stack.stop()


@pytest.fixture
def web_url(stack) -> str:
    return stack.web_url


@pytest.fixture
def db_path(stack) -> Path:
    return stack.db_path


def new_sender() -> str:
    return "test-" + uuid.uuid4().hex[:16]


class Conversation:
    """One resident talking to /api/chat; keeps the sender id."""

    def __init__(self, web_url: str):
        self.url = web_url + "/api/chat"
        self.sender = new_sender()

    def say(self, text: str) -> list:
        response = requests.post(self.url, json={"sender": self.sender, "message": text}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def conversation(web_url) -> Conversation:
    return Conversation(web_url)


def all_text(messages: list) -> str:
    return "\n".join(m.get("text", "") for m in messages)


REF = re.compile(r"受付番号は「(\d{3}-\d{4})」")


def wait_healthy(stack, timeout: float = 120) -> None:
    """Wait until /healthz says all three processes are up (after a fault test restarts one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if requests.get(stack.web_url + "/healthz", timeout=5).status_code == 200:
            return
        time.sleep(0.5)
    raise AssertionError("stack did not recover")


def reach_confirmation(web_url: str) -> Conversation:
    """A complex case walked by buttons up to the read-back question."""
    c = Conversation(web_url)
    c.say("ひきこもりの兄と認知症の父のことで困っています")
    c.say("はい")
    for answer in ("本人", "40〜50代", "家族と同居", "急がない", "匿名"):
        text = all_text(c.say('/inform{"form_answer": "%s"}' % answer))
    assert "この内容で送ってよいですか" in text
    return c
