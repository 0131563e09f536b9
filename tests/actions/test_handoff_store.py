"""Where the action server saves (bot.shared.handoff_store): the request key of a turn makes a repeated
save return the same 受付番号 without a second record; with HANDOFF_STORE_URL set and the web
side's internal store unreachable (a closed port) or its secret missing, no number is shown and
the resident gets the phone number, and nothing is written to a local file."""
from rasa_sdk import Tracker

from actions.handoff_actions import ActionSaveHandoff
from bot.core.directory import get_directory
from bot.shared.handoff_store import turn_key
from bot.tools.runner import free_port
from bot.core.store import open_store
from tests.actions.test_actions import FORM_SLOTS, run, slot


def tracker_with_turn(timestamp: float, sender: str = "web-turn-tester") -> Tracker:
    latest = {"text": "はい", "intent": {"name": "affirm", "confidence": 0.99}, "entities": []}
    events = [{"event": "user", "timestamp": timestamp, "text": "はい"}]
    return Tracker(sender, dict(FORM_SLOTS), latest, events, False, None, {}, "action_listen")


def test_the_same_turn_saved_twice_gives_one_record_and_one_number(store_and_clock):
    _, first = run(ActionSaveHandoff(), tracker_with_turn(1790000000.25))
    _, again = run(ActionSaveHandoff(), tracker_with_turn(1790000000.25))
    _, later = run(ActionSaveHandoff(), tracker_with_turn(1790000042.5))
    assert slot(first, "handoff_ref") == slot(again, "handoff_ref")
    assert slot(later, "handoff_ref") != slot(first, "handoff_ref")
    assert open_store(store_and_clock)["handoffs"].count == 2


def test_keys_differ_by_conversation_turn_and_kind_and_do_not_show_the_sender():
    key = turn_key(tracker_with_turn(1.5, "line-0123456789abcdef"), "create")
    assert key == turn_key(tracker_with_turn(1.5, "line-0123456789abcdef"), "create")
    assert key != turn_key(tracker_with_turn(1.5, "line-0123456789abcdeX"), "create")
    assert key != turn_key(tracker_with_turn(2.5, "line-0123456789abcdef"), "create")
    assert key != turn_key(tracker_with_turn(1.5, "line-0123456789abcdef"), "danger")
    assert "0123456789abcdef" not in key


def test_unreachable_internal_store_gives_no_number_but_the_phone(store_and_clock, monkeypatch):
    monkeypatch.setenv("HANDOFF_STORE_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setenv("HANDOFF_STORE_SECRET", "a-secret-of-some-length")
    messages, events = run(ActionSaveHandoff(), tracker_with_turn(1790000000.25))
    assert slot(events, "handoff_ref") is None
    assert "受付番号はお出しできません" in messages[0]["text"]
    assert get_directory().agency("sogo").phone in messages[0]["text"]
    assert not store_and_clock.exists()  # not written locally instead


def test_internal_store_without_its_secret_gives_no_number(store_and_clock, monkeypatch):
    monkeypatch.setenv("HANDOFF_STORE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("HANDOFF_STORE_SECRET", raising=False)
    messages, events = run(ActionSaveHandoff(), tracker_with_turn(1790000000.25))
    assert slot(events, "handoff_ref") is None and "受付番号はお出しできません" in messages[0]["text"]
