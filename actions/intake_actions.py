"""The intake form's questions and the reading of each answer, both from ``bot/intake.yml``.

Every question is asked by ``action_ask_<slot>`` (text and buttons from the data); every answer is
read by ``validate_handoff_form`` (bot.core.intake.read_answer): a value, a skip (that question only),
「もどる」, 「これで送る」, a long story (kept as the resident's words, the question asked again), or a
question about the service (answered from directory/faq.yml, the question asked again, not counted
as a failed answer). Two unclear answers to one question skip it and give the phone number.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import texts
from actions.common import channel_of, directory, is_typed_text, latest_intent, latest_text, merge, send
from actions.easy_actions import switch_mode
from bot.core.clock import now
from bot.core.faq import answer as faq_answer, faq
from bot.core.intake import (BACK, SEND_NOW, SKIP, SKIPPED, form, offered_extras, read_answer,
                         relation_from_consulter_answer)
from bot.core.replies import please_call_text
from bot.core.routing import EASY_MODE_INTENTS, decide
from bot.core.textnorm import normalize_text

logger = logging.getLogger("soudan.actions")

MAX_FAILURES = 2


def form_slot_values(tracker: Tracker) -> Dict[str, Any]:
    return {slot: tracker.get_slot(slot) for slot in form().slots}


class ValidateHandoffForm(FormValidationAction):
    """Reads each answer (bot.core.intake.read_answer) and decides what the form asks next."""

    def name(self) -> Text:
        return "validate_handoff_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        return form().required(form_slot_values(tracker))

    def _read(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        message = tracker.latest_message or {}
        text = latest_text(tracker)
        # The slot holds the resident's text as sent; the parse has it NFKC-normalised (？ -> ?).
        typed = is_typed_text(text) and isinstance(value, str) and normalize_text(value) == normalize_text(text)
        intent = latest_intent(tracker) if typed else None
        if intent in EASY_MODE_INTENTS.values():
            # 「やさしい日本語で」 in the middle of the form: the mode changes, the question comes again.
            return dict(switch_mode(dispatcher, intent), **{slot: None})
        if typed:
            topic = faq().question_topic(text)
            if topic is not None:
                for reply in faq_answer(topic, directory(), now(), tracker.get_slot("handoff_ref")):
                    send(dispatcher, reply)
                return {slot: None}
        answer = read_answer(slot, value if isinstance(value, str) else "", message.get("words") if typed else None,
                             offered_extras(channel_of(tracker)))
        slots = form_slot_values(tracker)
        if answer.kind == "value":
            result = {slot: answer.value, "form_failures": 0}
            if slot == "consulter" and typed:
                relation = relation_from_consulter_answer(text, message.get("words"))
                if relation:
                    result.update(consulter="家族", consulter_relation=relation)
            if answer.note:
                result["form_notes"] = merge(tracker.get_slot("form_notes"), [answer.note])
                dispatcher.utter_message(text=answer.note)
            return result
        if answer.kind == "unclear" and slot == "consulter" and typed:
            relation = relation_from_consulter_answer(text, message.get("words"))
            if relation:  # 「娘です」: the relation answers both questions
                return {"consulter": "家族", "consulter_relation": relation, "form_failures": 0}
        if answer.kind == SKIP:
            return {slot: SKIPPED, "form_failures": 0}
        if answer.kind == BACK:
            previous = form().previous(slot, slots)
            if previous is None:
                dispatcher.utter_message(text=texts.FIRST_QUESTION)
                return {slot: None}
            return {slot: None, previous: None, "form_failures": 0}
        if answer.kind == SEND_NOW:
            if form().number(slot, slots) < form().send_now_from:
                dispatcher.utter_message(text=texts.NOT_YET.format(number=form().send_now_from))
                return {slot: None}
            remaining = [s for s in form().required(slots) if slots.get(s) in (None, "")]
            return dict({s: SKIPPED for s in remaining}, form_failures=0)
        if answer.kind == "story":
            dispatcher.utter_message(text=texts.STORY_KEPT)
            decision = decide(message, tracker.get_slot("fields") or [])
            return {slot: None, "worry_texts": merge(tracker.get_slot("worry_texts"), [text]),
                    "fields": merge(tracker.get_slot("fields"), decision.fields)}
        failures = int(tracker.get_slot("form_failures") or 0) + 1
        if failures >= MAX_FAILURES:
            dispatcher.utter_message(text=please_call_text(directory(), texts.GIVE_UP))
            return {slot: SKIPPED, "form_failures": 0}
        dispatcher.utter_message(text=texts.PHONE_RETRY.get(answer.note, texts.RETRY) if slot == "contact_phone"
                                 else texts.RETRY)
        return {slot: None, "form_failures": failures}


def _validator(slot: str):
    def validate(self, value, dispatcher, tracker, domain):
        return self._read(slot, value, dispatcher, tracker)
    validate.__name__ = f"validate_{slot}"
    return validate


class AskQuestion(Action):
    """``action_ask_<slot>``: the question and its buttons, from bot/intake.yml."""

    slot = ""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    def run(self, dispatcher, tracker, domain):
        question = form().question(self.slot)
        dispatcher.utter_message(text=question.ask, buttons=form().buttons(self.slot, form_slot_values(tracker),
                                                                          offered_extras(channel_of(tracker))))
        return []


# rasa_sdk looks up ``validate_<slot>`` on the validation action, and one action per ``action_ask_<slot>``.
for _slot in form().slots:
    setattr(ValidateHandoffForm, f"validate_{_slot}", _validator(_slot))
    globals()[f"AskQuestion_{_slot}"] = type(f"AskQuestion_{_slot}", (AskQuestion,), {"slot": _slot})
