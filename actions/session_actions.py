"""Stop (「やめる」) and start over (「最初から」)."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Action
from rasa_sdk.events import AllSlotsReset, SlotSet

from actions.common import directory
from actions.handoff_actions import FORM_SLOTS



class ActionStop(Action):
    def name(self) -> Text:
        return "action_stop"

    def run(self, dispatcher, tracker, domain):
        sogo = directory().agency("sogo")
        dispatcher.utter_message(
            text=f"わかりました。ここでやめます。途中まで入力した内容は送っていません。\n"
                 f"相談したくなったら、いつでも書いてください。電話でも相談できます：{sogo.name} {sogo.phone}")
        return [SlotSet(slot, None) for slot in FORM_SLOTS + ("requested_slot",)] + [SlotSet("pending", None),
                                                                 SlotSet("form_failures", 0)]


class ActionStartOver(Action):
    def name(self) -> Text:
        return "action_start_over"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(response="utter_greet")
        return [AllSlotsReset()]
