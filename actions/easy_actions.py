"""やさしい日本語モード on and off (directory/easy_japanese.yml)."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from actions.common import directory, latest_intent
from bot.core.easy import TO_EASY, TO_PLAIN, easy_text
from bot.core.routing import EASY_MODE_INTENTS


def switch_mode(dispatcher, intent: str) -> dict:
    """For ``easy_on`` / ``easy_off``: say how the answers come from now on; the slot to set."""
    on = intent == EASY_MODE_INTENTS[TO_EASY]
    dispatcher.utter_message(text=easy_text(TO_EASY if on else TO_PLAIN, directory()))
    return {"easy_japanese": on}


class ActionEasyMode(Action):
    """「やさしい日本語で」 turns the mode on (until 「ふつうの日本語で」): agency cards, questions and
    the crisis answer then come in short sentences with everyday words, from the same data."""

    def name(self) -> Text:
        return "action_easy_mode"

    def run(self, dispatcher, tracker, domain):
        intent = latest_intent(tracker) or ""
        return [SlotSet(name, value) for name, value in switch_mode(dispatcher, intent).items()]
