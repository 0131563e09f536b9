"""The action server's side of the LINE follow-up (issue 15): 「このLINEで連絡してほしい」 is asked
only on LINE and only when the runner says the web side keeps contacts (LINE_CONTACT_OFFERED=1);
saving such a case tells the web side its number in an internal note, never anything else."""
import pytest

from actions.handoff_actions import ActionSaveHandoff
from actions.intake_actions import ValidateHandoffForm
from bot.core.intake import LINE_CONTACT_ENV
from tests.actions.test_actions import FORM_SLOTS, run, run_with_notes, slot, tracker

LINE_SENDER = "line-0123456789abcdef0123456789abcdef"
CHOICE = "このLINEで連絡してほしい"


def ask_contact_method(sender):
    from actions import intake_actions
    messages, _ = run(intake_actions.AskQuestion_contact_method(), tracker("", "affirm", sender=sender))
    return [b["title"] for b in messages[0]["buttons"]]


@pytest.mark.parametrize("flag, sender, offered", [
    ("1", LINE_SENDER, True),
    ("0", LINE_SENDER, False),
    (None, LINE_SENDER, False),
    ("1", "web-tester", False),
])
def test_the_choice_needs_line_and_the_flag(monkeypatch, flag, sender, offered):
    if flag is None:
        monkeypatch.delenv(LINE_CONTACT_ENV, raising=False)
    else:
        monkeypatch.setenv(LINE_CONTACT_ENV, flag)
    titles = ask_contact_method(sender)
    assert (CHOICE in titles) is offered and "匿名のまま情報だけ" in titles


def test_a_typed_line_answer_counts_only_where_offered(monkeypatch):
    monkeypatch.setenv(LINE_CONTACT_ENV, "1")
    validator = ValidateHandoffForm()
    line = tracker("LINEで連絡してほしい", "inform", sender=LINE_SENDER, active_loop="handoff_form")
    assert validator._read("contact_method", "LINEで連絡してほしい", *_dispatcher(line))["contact_method"] == "LINE"
    web = tracker("LINEで連絡してほしい", "inform", sender="web-tester", active_loop="handoff_form")
    assert validator._read("contact_method", "LINEで連絡してほしい", *_dispatcher(web))["contact_method"] is None


def _dispatcher(t):
    from rasa_sdk.executor import CollectingDispatcher
    return CollectingDispatcher(), t


def test_saving_a_line_contact_case_notes_its_number_only(monkeypatch):
    monkeypatch.setenv(LINE_CONTACT_ENV, "1")
    slots = dict(FORM_SLOTS, contact_method="LINE", contact_time=None, contact_phone=None)
    shown, notes, events = run_with_notes(ActionSaveHandoff(), tracker("はい", "affirm", slots=slots,
                                                                       sender=LINE_SENDER))
    ref = slot(events, "handoff_ref")
    assert [n for n in notes if "line_contact_ref" in n] == [{"line_contact_ref": ref}]  # the number, nothing else
    assert "このLINEで連絡するよう調整します" in shown[0]["text"] and "連絡をやめる" in shown[0]["text"]

    _, phone_notes, _ = run_with_notes(ActionSaveHandoff(), tracker("はい", "affirm", slots=FORM_SLOTS,
                                                                    sender=LINE_SENDER))
    assert not [n for n in phone_notes if "line_contact_ref" in n]
