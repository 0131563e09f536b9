"""やさしい日本語モード on and off (directory/easy_japanese.yml)."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from actions.common import directory
from bot.easy import TO_EASY, TO_PLAIN, easy_text


class ActionEasyMode(Action):
    """「やさしい日本語で」 turns the mode on (until 「ふつうの日本語で」): agency cards, questions and
    the crisis answer then come in short sentences with everyday words, from the same data."""

    def name(self) -> Text:
        return "action_easy_mode"

    def run(self, dispatcher, tracker, domain):
        on = (tracker.latest_message or {}).get("intent", {}).get("name") == "easy_on"
        dispatcher.utter_message(text=easy_text(TO_EASY if on else TO_PLAIN, directory()))
        return [SlotSet("easy_japanese", on)]
