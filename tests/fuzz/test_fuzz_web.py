"""Fast, deterministic fuzz of /api/chat and /line/webhook (part of ``make test``, < 1 minute).

* 1,200 chat and 800 LINE inputs against the Flask app with a fake Rasa (test client,
  ``derandomize=True``): random Unicode, huge bodies, deep JSON, wrong types, invalid UTF-8,
  control characters, HTML/script, SQL fragments, emoji floods; LINE both signed with the test
  secret and unsigned / wrongly signed. Contract: no 5xx except a 503 that gives the centre's
  phone (that is what the resident sees when Rasa cannot answer); a 200 from /api/chat is a list
  of messages; the LINE workers never fail.
* 300 chat inputs against the real web side of the session stack (real Rasa behind it), with
  the web process' memory sampled before and after.
* regression tests for the 500s this fuzz found (deep JSON, LINE event parts of the wrong
  type; fixed in commit d28451c).

The long run (10,000+ inputs against the real stack) is ``python -m tests.fuzz.run``.
"""
from __future__ import annotations

import json
import logging
import threading

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings

from bot.core.directory import get_directory
from bot.web.rasa_client import RasaUnavailable
from tests.bench.common import group_rss_mb
from tests.fuzz.strategies import acceptable, chat_cases, line_cases
from tests.line.helpers import sign
from tests.line.test_webhook import FakeRasa, make_app
from tests.line_fake import FakeLineApi

PHONE = get_directory().agency("sogo").phone
FAST = dict(deadline=None, database=None, derandomize=True, phases=[Phase.generate],
            suppress_health_check=list(HealthCheck))


class _Failures(logging.Handler):
    """Collects ERROR records of the web side's loggers (worker failures, unhandled errors)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture(scope="module")
def fuzz_app():
    api = FakeLineApi().start()
    rasa = FakeRasa()
    # Deterministic mix of normal answers and "Rasa busy / down" (-> 503 with the phone).
    def answer(sender, text):
        if sum(map(ord, text)) % 5 == 0:
            raise RasaUnavailable("busy")
        return [{"text": "はい。どんなことか、書ける範囲で教えてください。"}]
    rasa.answer = answer
    app = make_app(api, rasa, rate_limit_per_session=100000, rate_limit_per_ip=10000000)
    failures = _Failures()
    logging.getLogger("soudan").addHandler(failures)
    yield app, failures
    logging.getLogger("soudan").removeHandler(failures)
    app.extensions["soudan_line"].pool.executor.shutdown(wait=True)
    api.stop()


def test_chat_fuzz_test_client(fuzz_app):
    app, failures = fuzz_app
    client = app.test_client()
    seen = {"n": 0}

    @settings(max_examples=1200, **FAST)
    @given(chat_cases(known_bugs=True))
    def check(case):
        seen["n"] += 1
        response = client.post("/api/chat", data=case.body, headers=case.headers)
        assert acceptable(response.status_code, response.data, PHONE), (response.status_code, response.data[:300])
        if response.status_code == 200:
            body = response.get_json()
            assert isinstance(body, list) and body
        elif response.status_code != 413 or response.is_json:
            assert response.get_json()["error"]["message"]

    check()
    assert seen["n"] >= 1000
    assert not failures.records, failures.records[:5]


def test_line_fuzz_test_client(fuzz_app):
    app, failures = fuzz_app
    client = app.test_client()
    seen = {"n": 0}

    @settings(max_examples=800, **FAST)
    @given(line_cases(known_bugs=True))
    def check(case):
        seen["n"] += 1
        response = client.post("/line/webhook", data=case.body, headers=case.headers)
        assert acceptable(response.status_code, response.data, PHONE), (response.status_code, response.data[:300])
        if "(signed)" not in case.kind:
            assert response.status_code in (400, 413)

    check()
    assert seen["n"] >= 650
    assert app.extensions["soudan_line"].pool.wait_idle(30)
    assert not failures.records, failures.records[:5]


@pytest.mark.stack
def test_chat_fuzz_real_web_side(stack):
    url = stack.web_url + "/api/chat"
    web_pid = stack.services["web"].process.pid
    session = requests.Session()
    for _ in range(20):  # warm-up before the first memory sample
        session.post(url, json={"sender": "fuzzwarm12345678", "message": "こんにちは"}, timeout=30)
    before = group_rss_mb(web_pid)
    seen = {"n": 0}

    @settings(max_examples=300, **FAST)
    @given(chat_cases(known_bugs=True))
    def check(case):
        seen["n"] += 1
        response = session.post(url, data=case.body, headers=case.headers, timeout=30)
        assert acceptable(response.status_code, response.content, PHONE), (response.status_code,
                                                                           response.content[:300])

    check()
    after = group_rss_mb(web_pid)
    assert stack.dead_service() is None
    assert seen["n"] >= 250
    assert after - before < 60, (before, after)
    assert requests.get(stack.web_url + "/healthz", timeout=10).status_code == 200


# -- what the fuzz found (500s, fixed in d28451c): regression tests --------------------------------

def _deep(depth):
    return ("[" * depth + "]" * depth).encode()


def test_found_by_fuzz_deep_json_chat(fuzz_app):
    app, _ = fuzz_app
    response = app.test_client().post("/api/chat", data=_deep(5000), content_type="application/json")
    assert response.status_code < 500


def test_found_by_fuzz_deep_json_line(fuzz_app):
    app, _ = fuzz_app
    body = _deep(5000)
    response = app.test_client().post("/line/webhook", data=body, headers={"X-Line-Signature": sign(body)})
    assert response.status_code < 500


@pytest.mark.parametrize("event", [{"type": "message", "source": "x"}, {"type": "message", "deliveryContext": [1]}])
def test_found_by_fuzz_line_event_parts_of_the_wrong_type(fuzz_app, event):
    app, _ = fuzz_app
    body = json.dumps({"events": [event]}).encode()
    response = app.test_client().post("/line/webhook", data=body, headers={"X-Line-Signature": sign(body)})
    assert response.status_code < 500


def test_found_by_fuzz_line_message_of_the_wrong_type(fuzz_app):
    app, failures = fuzz_app
    failures.records.clear()
    body = json.dumps({"events": [{"type": "message", "replyToken": "t" * 32, "message": "text",
                                   "source": {"type": "user", "userId": "U" + "1" * 32}}]}).encode()
    response = app.test_client().post("/line/webhook", data=body, headers={"X-Line-Signature": sign(body)})
    assert response.status_code == 200
    assert app.extensions["soudan_line"].pool.wait_idle(10)
    try:
        assert not failures.records, failures.records
    finally:
        failures.records.clear()
