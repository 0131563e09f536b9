"""Killed processes: a reference number once shown is never lost; a resident always gets a
phone number while a component is down; everything recovers when the process is back."""
import time

import pytest
import requests

from bot.core.directory import get_directory
from bot.core.store import get_handoff, open_store
from tests.conftest import REF, Conversation, all_text, reach_confirmation, wait_healthy

pytestmark = pytest.mark.stack


def test_sigkill_action_server_right_after_a_reference_number(stack, db_path):
    c = reach_confirmation(stack.web_url)
    ref = REF.search(all_text(c.say("はい"))).group(1)
    stack.services["actions"].kill()
    try:
        row = get_handoff(open_store(db_path), ref)
        assert row is not None and row["consent"] == "yes" and "hikikomori" in row["fields"]
        # While the action server is down the resident still gets a phone number.
        response = requests.post(stack.web_url + "/api/chat",
                                 json={"sender": Conversation(stack.web_url).sender, "message": "母の介護で困っています"},
                                 timeout=30)
        sogo = get_directory().agency("sogo")
        body = response.text
        assert response.status_code in (200, 503)
        assert sogo.phone in body or get_directory().agency("kakehashi").phone in body
    finally:
        stack.services["actions"].start()
        wait_healthy(stack)
    assert custom_slug(Conversation(stack.web_url).say("母の物忘れがひどくて心配です")) == "kakehashi"


def custom_slug(messages):
    cards = [m["custom"] for m in messages if m.get("custom", {}).get("type") == "agency_card"]
    return cards[0]["agency"]["slug"] if cards else None


def test_rasa_killed_gives_the_phone_then_recovers(stack):
    stack.services["rasa"].kill()
    try:
        response = requests.post(stack.web_url + "/api/chat",
                                 json={"sender": Conversation(stack.web_url).sender, "message": "もう死にたい"},
                                 timeout=30)
        assert response.status_code == 503
        message = response.json()["error"]["message"]
        assert get_directory().agency("sogo").phone in message
        assert get_directory().hotlines["yorisoi"].number in message
        assert requests.get(stack.web_url + "/healthz", timeout=10).status_code == 503
    finally:
        stack.services["rasa"].start()
        wait_healthy(stack, timeout=180)
    assert custom_slug(Conversation(stack.web_url).say("母の物忘れがひどくて心配です")) == "kakehashi"
