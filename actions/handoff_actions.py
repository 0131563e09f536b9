"""Consent, read-back, corrections and saving the case: one case per conversation.

The first save (with or without consent) creates the record and keeps its number in ``case_ref``;
every later save (consent given after a no, a corrected answer, another worry after the number)
updates that same record and writes what changed into its history. Only a committed record gets
a reference number shown to the resident (``handoff_ref``).
"""
from __future__ import annotations

import logging
from typing import Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet

from actions import texts
from actions.common import (channel_of, directory, is_typed_text, latest_intent, latest_text, note as internal_note,
                            send)
from actions.intake_actions import form_slot_values
from bot.core.clock import now
from bot.core.faq import answer as faq_answer, faq
from bot.core.fields import SOGO
from bot.core.hours import describe_hours
from bot.core.intake import ANSWER_ENTITY, SKIPPED, answer_payload, consent_is_conditional, form, item_named
from bot.core.replies import agency_card, please_call_text
from bot.shared import handoff_store
from bot.shared.handoff_store import turn_key
from bot.core.store import StoreError
from bot.core.summary import build_summary, read_back_text, redact
from bot.core.textnorm import fold_kana

logger = logging.getLogger("soudan.actions")

def _summary(tracker: Tracker, consent: str, more_fields: List[str] = ()) -> dict:
    sogo = directory().agency("sogo")
    fields = list(tracker.get_slot("fields") or [])
    fields += [f for f in more_fields if f not in fields]
    urgency = tracker.get_slot("urgency") or "low"
    if tracker.get_slot("urgent") or tracker.get_slot("wish_urgency") == "今日中":
        urgency = "high"
    route = tracker.get_slot("route") or "sogo"
    agency = directory().agencies.get(route, sogo)
    return build_summary(
        received_at=now(), channel=channel_of(tracker), consent=consent, fields=fields,
        main_field=fields[0] if fields else None, urgency=urgency,
        urgency_phrases=tracker.get_slot("urgency_phrases") or [],
        crisis_kinds=tracker.get_slot("crisis_kinds") or [], route=route,
        route_reason=tracker.get_slot("route_reason") or "", agency_name=agency.name,
        slots=tracker.current_slot_values(), notes=tracker.get_slot("form_notes") or [],
    )


def save_case(tracker: Tracker, consent: bool, note: str = "", more_fields: List[str] = (),
              more_text: str = "") -> str:
    """Create the conversation's case, or update it when it exists; returns its number once the
    row is committed."""
    summary = _summary(tracker, "yes" if consent else "no", more_fields)
    words = "\n".join(list(tracker.get_slot("worry_texts") or []) + ([more_text] if more_text else []))
    text = redact(words) if consent and words else None
    # The SQLite file here, or the web side's internal endpoint at scale (bot.shared.handoff_store);
    # the turn's request key makes a retried save return the same number.
    ref = tracker.get_slot("case_ref")
    if ref and handoff_store.update_case(ref, summary, request_key=turn_key(tracker, f"update:{consent}:{note}"),
                                         resident_text=text, note=note or "内容を更新"):
        return ref
    return handoff_store.create_handoff(summary, request_key=turn_key(tracker, f"create:{consent}:{note}"),
                                        resident_text=text)


def _save_without_consent(tracker: Tracker, note: str, dispatcher=None) -> List[Dict]:
    try:
        ref = save_case(tracker, consent=False, note=note)
        if dispatcher is not None:  # counted in the city's statistics (bot/web/outcomes.py)
            internal_note(dispatcher, outcome="handoff", consent=False)
        return [SlotSet("case_ref", ref)]
    except StoreError:
        logger.exception("anonymous record not saved")
        return []


class ActionConsentReply(Action):
    """The answer to 「伝えてもよいですか」: yes starts the form; a condition (家族に知られないなら,
    名前は言いたくない) is answered with what confidentiality and anonymity mean, then asked again;
    no gives the centre's phone and keeps only the anonymous minimum."""

    def name(self) -> Text:
        return "action_consent_reply"

    def run(self, dispatcher, tracker, domain):
        text, intent = latest_text(tracker), latest_intent(tracker)
        unclear = intent not in ("affirm", "deny")
        if is_typed_text(text) and (consent_is_conditional(text) or faq().question_topic(text) or unclear):
            return answer_conditional_consent(dispatcher, tracker)
        if intent == "affirm":
            dispatcher.utter_message(text=texts.FORM_INTRO)
            return [SlotSet("consent", "yes"), SlotSet("pending", None), SlotSet("form_failures", 0)]
        dispatcher.utter_message(text=texts.CONSENT_DECLINED)
        send(dispatcher, agency_card(directory().agency(SOGO), now()))
        return [SlotSet("consent", "no"), SlotSet("pending", None)] + _save_without_consent(tracker, "同意なし", dispatcher)


def answer_conditional_consent(dispatcher, tracker: Tracker) -> List[Dict]:
    """What confidentiality and anonymity mean (and the topic asked about), then the consent
    question again."""
    text = latest_text(tracker)
    asked = faq().topic_of(text)
    topics = [asked] if asked else []
    for name in ("confidential", "anonymous"):
        if name not in [t.name for t in topics]:
            topics.append(next(t for t in faq().topics if t.name == name))
    for topic in topics:
        for reply in faq_answer(topic, directory(), now(), tracker.get_slot("handoff_ref")):
            send(dispatcher, reply)
    dispatcher.utter_message(text=texts.CONSENT_AGAIN, buttons=texts.CONSENT_BUTTONS)
    return [SlotSet("consent", "conditional"), SlotSet("pending", "consent")]


class ActionReadBackSummary(Action):
    """What will be sent, only the items answered, with a way to correct any of them."""

    def name(self) -> Text:
        return "action_read_back_summary"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(
            text=read_back_text(_summary(tracker, "yes")), buttons=texts.READ_BACK_BUTTONS)
        return [SlotSet("pending", "confirm"), SlotSet("readback", None)]


def answered_items(tracker: Tracker) -> List[str]:
    values = form_slot_values(tracker)
    return [slot for slot in form().required(values) if values.get(slot) not in (None, "", SKIPPED)]


class ActionReadBackReply(Action):
    """「いいえ」 or 「なおしたい」 at the read-back: an item named (急ぎ具合が違います) is asked
    again; 「なおしたい」 alone asks which; a plain no keeps only the anonymous minimum."""

    def name(self) -> Text:
        return "action_readback_reply"

    def run(self, dispatcher, tracker, domain):
        message = tracker.latest_message or {}
        text, intent = latest_text(tracker), latest_intent(tracker)
        button_item = next((e.get("value") for e in message.get("entities") or []
                            if e.get("entity") == ANSWER_ENTITY), None)
        item = button_item if button_item in form().slots else item_named(text)
        if item:
            return [SlotSet(item, None), SlotSet("readback", "fix"), SlotSet("pending", None)]
        if intent == "correct" or "なお" in fold_kana(text) or "訂正" in text or "違" in text:
            items = answered_items(tracker) or form().required(form_slot_values(tracker))
            buttons = [{"title": form().question(s).label, "payload": answer_payload(s, "correct")} for s in items]
            dispatcher.utter_message(text=texts.WHICH_ITEM, buttons=buttons)
            return [SlotSet("readback", "which"), SlotSet("pending", "confirm")]
        dispatcher.utter_message(text=please_call_text(directory(), texts.NOT_SENT))
        return ([SlotSet("readback", "discard"), SlotSet("consent", "no"), SlotSet("pending", None)]
                + _save_without_consent(tracker, "確認で送らないと答えた", dispatcher))


class ActionSaveHandoff(Action):
    """Save first; only a committed record gets a reference number. A failed write tells the
    resident to call instead."""

    def name(self) -> Text:
        return "action_save_handoff"

    def run(self, dispatcher, tracker, domain):
        sogo = directory().agency("sogo")
        try:
            ref = save_case(tracker, consent=True, note="同意あり・受付番号を伝えた")
        except Exception:  # any failure: never show a number that does not exist
            logger.exception("handoff not saved")
            dispatcher.utter_message(text=please_call_text(directory(), texts.NOT_SAVED))
            return [SlotSet("pending", None)]
        reachable = (tracker.get_slot("contact_method") in ("電話", "訪問")
                     and tracker.get_slot("contact_phone") not in (None, SKIPPED))
        nxt = texts.NEXT_REACHABLE if reachable else texts.NEXT_UNREACHABLE
        if tracker.get_slot("contact_method") == "LINE" and channel_of(tracker) == "line":
            # The LINE channel keeps this chat's id, encrypted, for this case (bot/web/line/followup.py).
            internal_note(dispatcher, line_contact_ref=ref)
            nxt = texts.NEXT_LINE_CONTACT
        dispatcher.utter_message(
            text=texts.SAVED.format(ref=ref) + f"\n{nxt}\n"
                 f"{sogo.name}：{sogo.phone}\n{describe_hours(sogo, now())}")
        internal_note(dispatcher, outcome="handoff", consent=True)
        return [SlotSet("handoff_ref", ref), SlotSet("case_ref", ref), SlotSet("pending", None),
                SlotSet("consent", "yes")]


class ActionStop(Action):
    """「やめる」: inside the form with answers given, ask whether to send what is there or not;
    otherwise stop at once."""

    def name(self) -> Text:
        return "action_stop"

    def run(self, dispatcher, tracker, domain):
        if tracker.get_slot("consent") == "yes" and answered_items(tracker) and not tracker.get_slot("handoff_ref"):
            dispatcher.utter_message(text=texts.STOP_QUESTION, buttons=texts.STOP_BUTTONS)
            return [SlotSet("pending", "stopped"), SlotSet("requested_slot", None)]
        return stop_now(dispatcher)


def stop_now(dispatcher) -> List[Dict]:
    dispatcher.utter_message(text=please_call_text(directory(), texts.STOPPED))
    return [SlotSet(slot, None) for slot in form().slots + ("requested_slot",)] + [
        SlotSet("pending", None), SlotSet("form_failures", 0)]


class ActionDiscardHandoff(Action):
    """Declined after 「やめる」: nothing is sent; only the anonymous minimal record is kept."""

    def name(self) -> Text:
        return "action_discard_handoff"

    def run(self, dispatcher, tracker, domain):
        events = _save_without_consent(tracker, "途中でやめた（送らない）", dispatcher)
        return stop_now(dispatcher) + events + [SlotSet("consent", "no")]


def add_to_case(tracker: Tracker, fields: List[str], text: str) -> Optional[str]:
    """A worry told after the reference number goes into the same case."""
    try:
        return save_case(tracker, consent=True, note="受付のあとに相談を追加：" + (redact(text)[:80] if text else ""),
                         more_fields=fields, more_text=text)
    except StoreError:
        logger.exception("later worry not added to the case")
        return None
