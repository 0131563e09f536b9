"""The crisis answer (any turn, also inside the form and after a reference number) and the list
of emergency lines."""
from __future__ import annotations

import logging
from typing import Dict, List, Text

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from actions import texts
from actions.common import decision_events, directory, merge, note, reply_language, send
from bot.core.replies import crisis_message, hotlines_message
from bot.core.routing import Decision, decide
from bot.shared import handoff_store
from bot.shared.handoff_store import turn_key
from bot.core.store import StoreError

logger = logging.getLogger("soudan.actions")


def raise_stored_case(ref: str, decision: Decision, tracker) -> bool:
    """Danger after the reference number goes into the stored case at once (the SQLite file, or
    the web side's internal endpoint at scale: bot.shared.handoff_store)."""
    labels = [directory().crisis_label(k) for k in decision.crisis_kinds]
    return handoff_store.raise_danger(ref, request_key=turn_key(tracker, "danger"), kinds=decision.crisis_kinds,
                                      phrases=decision.crisis_phrases, kind_labels=labels)


def answer_crisis(dispatcher, tracker, decision: Decision) -> List[Dict]:
    """The crisis answer first (in the resident's language when it is not Japanese), then an
    offer to go on; the conversation, and a stored case if there is one, become urgent."""
    kinds = decision.crisis_kinds or ["general"]
    decision.crisis_kinds = kinds
    send(dispatcher, crisis_message(directory(), kinds, reply_language(tracker)))
    ref = tracker.get_slot("handoff_ref")
    if ref:
        try:
            if raise_stored_case(ref, decision, tracker):
                dispatcher.utter_message(text=texts.AFTER_HANDOFF.format(ref=ref))
        except StoreError:
            logger.exception("danger after the reference number not written to the case")
    elif tracker.active_loop_name:
        dispatcher.utter_message(text=texts.IN_FORM_CONTINUE)
    else:
        dispatcher.utter_message(response="utter_offer_continue")
    note(dispatcher, outcome="crisis", crisis_kinds=list(kinds))
    return decision_events(tracker, decision) + [
        SlotSet("urgent", True),
        SlotSet("urgency", "high"),
        SlotSet("crisis_kinds", merge(tracker.get_slot("crisis_kinds"), kinds)),
    ]


class ActionCrisis(Action):
    """Lines chosen by the kind of danger first, short; the case is flagged urgent."""

    def name(self) -> Text:
        return "action_crisis"

    def run(self, dispatcher, tracker, domain):
        return answer_crisis(dispatcher, tracker, decide(tracker.latest_message or {}, tracker.get_slot("fields") or []))


class ActionShowHotlines(Action):
    def name(self) -> Text:
        return "action_show_hotlines"

    def run(self, dispatcher, tracker, domain):
        send(dispatcher, hotlines_message(directory()))
        return []
