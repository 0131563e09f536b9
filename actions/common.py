"""Helpers shared by the actions: sending reply dicts, the channel, slot bookkeeping."""
from __future__ import annotations

import logging
from typing import Any, Dict, Iterable, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.core.directory import Directory, get_directory
from bot.core.fields import channel_of_sender, higher_urgency
from bot.core.routing import Decision

logger = logging.getLogger("soudan.actions")


def directory() -> Directory:
    return get_directory()


def send(dispatcher: CollectingDispatcher, message: Dict[str, Any]) -> None:
    """Send one reply dict (see bot.core.replies): rich ones as custom JSON, others as text + buttons."""
    if "custom" in message:
        dispatcher.utter_message(json_message=message["custom"])
    else:
        dispatcher.utter_message(text=message["text"], buttons=message.get("buttons") or [])


def note(dispatcher: CollectingDispatcher, **facts: Any) -> None:
    """An internal note for the web side, never shown to the resident
    (``bot.web.rasa_client.split_notes`` takes it out of the answer)."""
    dispatcher.utter_message(json_message={"internal": facts})


def channel_of(tracker: Tracker) -> str:
    """The web side prefixes sender ids (bot.core.fields.CHANNEL_PREFIXES): ``line`` or ``web``."""
    return channel_of_sender(tracker.sender_id)


def is_typed_text(text: str) -> bool:
    """A resident's own words, not a button payload such as ``/worry_elderly``."""
    return bool(text) and not text.startswith("/")


def merge(values: Iterable[str], more: Iterable[str]) -> List[str]:
    out = list(values or [])
    for v in more or []:
        if v and v not in out:
            out.append(v)
    return out


def decision_events(tracker: Tracker, decision: Decision) -> List[SlotSet]:
    """Slots that keep what was learnt this turn: fields, urgency, words (kept until saved)."""
    text = tracker.latest_message.get("text") or ""
    events = [SlotSet("fields", merge(tracker.get_slot("fields"), decision.fields))]
    phrases = merge(tracker.get_slot("urgency_phrases"), decision.urgency_phrases)
    level = higher_urgency(tracker.get_slot("urgency"), decision.urgency)
    events += [SlotSet("urgency", level), SlotSet("urgency_phrases", phrases)]
    if is_typed_text(text):
        events.append(SlotSet("worry_texts", merge(tracker.get_slot("worry_texts"), [text])))
    return events


def latest_text(tracker: Tracker) -> str:
    """What the resident last sent (typed text or a button's payload); "" when nothing."""
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> Optional[str]:
    """The intent Rasa read in the resident's last message, if any."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def reply_language(tracker: Tracker) -> Optional[str]:
    """The language to answer in: the message's own when it is another language (bot.core.language);
    やさしい日本語 when the mode is on or the message is written that way; else "ja" (None for a
    button payload)."""
    from bot.core.language import EASY_JAPANESE, detect_language, is_foreign

    text = latest_text(tracker)
    language = detect_language(text) if is_typed_text(text) else None
    if not is_foreign(language) and tracker.get_slot("easy_japanese"):
        return EASY_JAPANESE
    return language
