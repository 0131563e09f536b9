"""Each outcome the actions decide is told to the web side in an internal note (for the city's
statistics, bot/web/outcomes.py): facts only, never the resident's words, sender or reference."""
import json

from actions.crisis_actions import ActionCrisis
from actions.handoff_actions import ActionConsentReply, ActionSaveHandoff
from actions.routing_actions import ActionOutOfScope, ActionRouteWorry
from tests.actions.test_actions import FORM_SLOTS, run_with_notes, slot, tracker


def test_an_agency_card_is_noted_with_the_agency():
    shown, notes, _ = run_with_notes(ActionRouteWorry(), tracker("母の物忘れがひどくて心配です", "worry_elderly"))
    assert notes == [{"outcome": "agency", "agency": "kakehashi"}]
    assert shown[0]["custom"]["agency"]["slug"] == "kakehashi"


def test_clarify_rounds_then_the_centre_because_undecided():
    _, notes, _ = run_with_notes(ActionRouteWorry(), tracker("ちょっと困っていて", "vague"))
    assert notes == [{"outcome": "clarify"}]
    _, notes, _ = run_with_notes(ActionRouteWorry(), tracker("うーん", "vague", slots={"clarify_round": 2}))
    assert notes == [{"outcome": "sogo", "undecided": True}]


def test_two_fields_go_to_the_centre_decided():
    t = tracker("借金もあって", "worry_poverty", slots={"fields": ["elderly"]})
    _, notes, _ = run_with_notes(ActionRouteWorry(), t)
    assert notes == [{"outcome": "sogo", "undecided": False}]


def test_a_crisis_answer_is_noted_with_its_kinds():
    shown, notes, events = run_with_notes(ActionCrisis(), tracker("子どもを叩いてしまいそう", "crisis", 1.0))
    assert notes == [{"outcome": "crisis", "crisis_kinds": slot(events, "crisis_kinds")}]
    assert "child_abuse" in notes[0]["crisis_kinds"]
    assert shown[0]["custom"]["type"] == "crisis"


def test_out_of_scope_is_noted():
    _, notes, _ = run_with_notes(ActionOutOfScope(), tracker("天気は？", "out_of_scope"))
    assert notes == [{"outcome": "out_of_scope"}]


def test_a_saved_handoff_is_noted_without_its_reference(store_and_clock):
    _, notes, events = run_with_notes(ActionSaveHandoff(), tracker("はい", "affirm", slots=FORM_SLOTS))
    ref = slot(events, "handoff_ref")
    assert ref and notes == [{"outcome": "handoff", "consent": True}]
    assert ref not in json.dumps(notes)


def test_no_consent_is_noted_as_a_handoff_without_consent(store_and_clock):
    _, notes, _ = run_with_notes(ActionConsentReply(), tracker("いいえ", "deny", slots=FORM_SLOTS))
    assert notes == [{"outcome": "handoff", "consent": False}]


def test_a_failed_save_is_not_noted(store_and_clock):
    store_and_clock.mkdir()  # the database cannot be opened: no case, so no handoff to count
    _, notes, events = run_with_notes(ActionSaveHandoff(), tracker("はい", "affirm", slots=FORM_SLOTS))
    assert slot(events, "handoff_ref") is None and notes == []
