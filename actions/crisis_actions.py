"""The crisis answer (any turn, also inside the form) and the list of emergency lines."""
from __future__ import annotations

from typing import Dict, List, Text

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from actions.common import decision_events, directory, merge, send
from bot.replies import crisis_message, hotlines_message
from bot.routing import Decision, decide

IN_FORM_CONTINUE = "落ち着いたら、さきほどの質問の続きに答えてください。やめるときは「やめる」と書いてください。"


def answer_crisis(dispatcher, tracker, decision: Decision) -> List[Dict]:
    """The crisis answer, then an offer to go on; slots flag the case urgent."""
    kinds = decision.crisis_kinds or ["general"]
    send(dispatcher, crisis_message(directory(), kinds))
    if tracker.active_loop_name:
        dispatcher.utter_message(text=IN_FORM_CONTINUE)
    else:
        dispatcher.utter_message(response="utter_offer_continue")
    return decision_events(tracker, decision) + [
        SlotSet("urgent", True),
        SlotSet("urgency", "high"),
        SlotSet("crisis_kinds", merge(tracker.get_slot("crisis_kinds"), kinds)),
    ]


class ActionCrisis(Action):
    """Lines chosen by the kind of crisis first, short; the case is flagged urgent."""

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
