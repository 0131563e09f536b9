"""Consent, the intake form's validation, read-back, and saving the handoff record."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import channel_of, directory, send
from bot.clock import now
from bot.form_answers import SKIPPED, parse_answer
from bot.hours import describe_hours
from bot.replies import agency_card
from bot.store import StoreError, create_handoff, open_store
from bot.summary import build_summary, read_back_text, redact

logger = logging.getLogger("soudan.actions")

FORM_INTRO = ("ありがとうございます。いくつか質問します。答えたくない質問は「答えない」でとばせます。"
              "途中でやめるときは「やめる」と書いてください。")
RETRY = "ごめんなさい、うまく受け取れませんでした。ボタンから選ぶか、「答えない」を押してください。"
GIVE_UP = ("うまく受け取れなかったので、この質問はとばします。やめるときは「やめる」と書いてください。"
           "電話で話すこともできます：{name} {phone}")
MAX_FAILURES = 2
FORM_SLOTS = ("consulter", "consulter_relation", "subject_age", "subject_living", "wish_urgency",
              "contact_method", "contact_time", "contact_name", "contact_phone")


def _summary(tracker: Tracker, consent: str) -> dict:
    sogo = directory().agency("sogo")
    fields = tracker.get_slot("fields") or []
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
        slots=tracker.current_slot_values(),
    )


def _save(tracker: Tracker, consent: bool) -> str:
    """Write the handoff; returns the reference number only once the row is committed."""
    summary = _summary(tracker, "yes" if consent else "no")
    words = "\n".join(tracker.get_slot("worry_texts") or [])
    db = open_store()
    try:
        return create_handoff(
            db, channel=summary["reception"]["channel"], consent=consent,
            urgency=summary["urgency"]["level"], urgent=bool(tracker.get_slot("urgent")),
            fields=summary["fields"]["all"], main_field=summary["fields"]["main"], summary=summary,
            resident_text=redact(words) if consent and words else None,
        )
    finally:
        db.conn.close()


class ActionConsentYes(Action):
    def name(self) -> Text:
        return "action_consent_yes"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=FORM_INTRO)
        return [SlotSet("consent", "yes"), SlotSet("pending", None), SlotSet("form_failures", 0)]


class ActionConsentNo(Action):
    """No consent: the centre's phone, and only an anonymous minimal record (no free text)."""

    def name(self) -> Text:
        return "action_consent_no"

    def run(self, dispatcher, tracker, domain):
        sogo = directory().agency("sogo")
        dispatcher.utter_message(text="わかりました。まとめは伝えません。ご自分で相談するときは、こちらに電話してください。")
        send(dispatcher, agency_card(sogo, now()))
        try:
            _save(tracker, consent=False)
        except StoreError:
            logger.exception("anonymous record not saved")
        return [SlotSet("consent", "no"), SlotSet("pending", None)]


class ActionReadBackSummary(Action):
    def name(self) -> Text:
        return "action_read_back_summary"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(
            text=read_back_text(_summary(tracker, "yes")),
            buttons=[{"title": "はい、送ります", "payload": "/affirm"},
                     {"title": "送らない", "payload": "/deny"}])
        return [SlotSet("pending", "confirm")]


class ActionSaveHandoff(Action):
    """Save first; only a committed record gets a reference number. A failed write tells the
    resident to call instead."""

    def name(self) -> Text:
        return "action_save_handoff"

    def run(self, dispatcher, tracker, domain):
        sogo = directory().agency("sogo")
        try:
            ref = _save(tracker, consent=True)
        except Exception:  # any failure: never show a number that does not exist
            logger.exception("handoff not saved")
            dispatcher.utter_message(
                text=f"ごめんなさい。いま記録を保存できませんでした。受付番号はお出しできません。\n"
                     f"お手数ですが、{sogo.name}に直接お電話ください：{sogo.phone}")
            return [SlotSet("pending", None)]
        reachable = (tracker.get_slot("contact_method") in ("電話", "訪問")
                     and tracker.get_slot("contact_phone") not in (None, SKIPPED))
        nxt = ("センターの職員が内容を確認して、ご希望の方法で連絡するよう調整します。"
               "連絡がないときや急ぐときは、受付番号を伝えて電話してください。" if reachable else
               "センターからは連絡先が分からないため、相談するときは受付番号を伝えて、電話するか窓口に来てください。")
        dispatcher.utter_message(
            text=f"受け付けました。受付番号は「{ref}」です。\n{nxt}\n"
                 f"{sogo.name}：{sogo.phone}\n{describe_hours(sogo, now())}")
        return [SlotSet("handoff_ref", ref), SlotSet("pending", None)]


class ActionDiscardHandoff(Action):
    """Declined at read-back: nothing is sent; only the anonymous minimal record is kept."""

    def name(self) -> Text:
        return "action_discard_handoff"

    def run(self, dispatcher, tracker, domain):
        sogo = directory().agency("sogo")
        dispatcher.utter_message(text=f"わかりました。内容はセンターに送りません。\n"
                                      f"相談したいときは、こちらに電話してください：{sogo.name} {sogo.phone}")
        try:
            _save(tracker, consent=False)
        except StoreError:
            logger.exception("anonymous record not saved")
        return [SlotSet("consent", "no"), SlotSet("pending", None)]


class ValidateHandoffForm(FormValidationAction):
    """Canonical answers; two unclear answers to one question skip it and offer a way out."""

    def name(self) -> Text:
        return "validate_handoff_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        slots = list(domain_slots)
        if tracker.get_slot("consulter") != "家族":
            slots.remove("consulter_relation")
        if tracker.get_slot("contact_method") == "匿名":
            for slot in ("contact_time", "contact_name", "contact_phone"):
                slots.remove(slot)
        return slots

    def _validate(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        answer: Optional[str] = parse_answer(slot, value)
        if answer is not None:
            return {slot: answer, "form_failures": 0}
        failures = int(tracker.get_slot("form_failures") or 0) + 1
        if failures >= MAX_FAILURES:
            sogo = directory().agency("sogo")
            dispatcher.utter_message(text=GIVE_UP.format(name=sogo.name, phone=sogo.phone))
            return {slot: SKIPPED, "form_failures": 0}
        dispatcher.utter_message(text=RETRY if slot != "contact_phone" else
                                 "電話番号の形になっていないようです。0から始まる番号（例：090-0000-0000）を書くか、「書かない」を押してください。")
        return {slot: None, "form_failures": failures}


def _validator(slot: str):
    def validate(self, value, dispatcher, tracker, domain):
        return self._validate(slot, value, dispatcher, tracker)
    validate.__name__ = f"validate_{slot}"
    return validate


# rasa_sdk looks up ``validate_<slot>`` for each slot of the form.
for _slot in FORM_SLOTS:
    setattr(ValidateHandoffForm, f"validate_{_slot}", _validator(_slot))
