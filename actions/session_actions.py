"""Start over (「最初から」). Stop (「やめる」) lives with the form it ends (handoff_actions)."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Action
from rasa_sdk.events import AllSlotsReset


class ActionStartOver(Action):
    def name(self) -> Text:
        return "action_start_over"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(response="utter_greet")
        return [AllSlotsReset()]
