"""Route a worry to an agency, ask what is unclear, answer out-of-scope and hours questions."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.common import (decision_events, directory, is_typed_text, latest_intent, latest_text, note, reply_language,
                            send)
from actions.handoff_actions import add_to_case, answer_conditional_consent
from bot.core.intake import consent_is_conditional
from bot.core.faq import HOURS, answer as faq_answer, faq
from actions.crisis_actions import answer_crisis
from bot.core.clock import now
from bot.core.easy import easy_text
from bot.core.domain_texts import worry_buttons
from bot.core.replies import (agency_card, always_open_text, foreign_language_message, listening_line_text, topic_lines_text,
                         out_of_scope_message, please_call_text)
from bot.core.hours import is_open
from bot.core.language import EASY_JAPANESE, is_foreign
from bot.core.lexicon import topic_lexicon
from bot.core.routing import decide
from bot.core.textnorm import has_japanese, looks_unusable

MAX_CLARIFY_ROUNDS = 2


def sogo_messages(when, because: str = "unknown", easy: bool = False) -> List[dict]:
    sogo = directory().agency("sogo")
    if easy:
        card = agency_card(sogo, when, intro=easy_text("sogo_intro"), easy=True)
        ask = {"text": easy_text("consent_question"),
               "buttons": [{"title": easy_text("consent_yes"), "payload": "/affirm"},
                           {"title": easy_text("consent_no"), "payload": "/deny"}]}
        return [card, ask]
    explanation = texts.SOGO_EXPLANATIONS.get(because, texts.SOGO_EXPLANATIONS["unknown"]).format(name=sogo.name)
    card = agency_card(sogo, when, intro=explanation)
    ask = {"text": texts.CONSENT_QUESTION, "buttons": texts.CONSENT_BUTTONS}
    return [card, ask]


def single_agency_messages(slug: str, when, distress: bool = False, easy: bool = False) -> List[dict]:
    agency = directory().agency(slug)
    if easy:
        intro = (easy_text("distress_intro") + "\n" if distress else "") + easy_text("agency_intro")
        more = {"text": easy_text("anything_else"), "buttons": [{"title": easy_text("answer_yes"), "payload": "/affirm"},
                                                                {"title": easy_text("answer_no"), "payload": "/deny"}]}
    else:
        intro = (texts.DISTRESS_INTRO + "\n" if distress else "") + texts.AGENCY_INTRO
        more = {"text": texts.ANYTHING_ELSE, "buttons": texts.ANYTHING_ELSE_BUTTONS}
    messages = [agency_card(agency, when, intro=intro, easy=easy)]
    if not is_open(agency, when):
        messages.append({"text": always_open_text(directory())})
    elif distress:
        messages.append({"text": listening_line_text(directory())})
    messages.append(more)
    return messages


def easy_ask_who() -> dict:
    return {"text": easy_text("ask_more"),
            "buttons": [{"title": easy_text(f"ask_who_{who}"), "payload": f'/clarify_answer{{"about": "{who}"}}'}
                        for who in ("self", "family", "neighbour")]}


def decision_possible(text: str) -> bool:
    """Text with letters in it (not only digits and signs) can be routed."""
    return any(ch.isalpha() for ch in text)


def added_to_case(dispatcher, tracker: Tracker, decision, text: str) -> List[Dict]:
    """A worry told after the reference number: into the same case, not a new one."""
    ref = add_to_case(tracker, decision.fields, text)
    if ref is None:
        dispatcher.utter_message(text=please_call_text(directory(), texts.NOT_ADDED))
        return []
    dispatcher.utter_message(text=texts.ADDED.format(ref=ref))
    return [SlotSet("pending", None)]


class ActionRouteWorry(Action):
    """Decide where a worry goes (bot.core.routing.decide) and answer with the agency, the
    総合相談支援センター path with a consent question, or a clarifying question."""

    def name(self) -> Text:
        return "action_route_worry"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        parse = tracker.latest_message or {}
        text, intent = latest_text(tracker), latest_intent(tracker)
        if intent == "nlu_fallback" and (looks_unusable(text) or not decision_possible(text)):
            dispatcher.utter_message(response="utter_cannot_use", buttons=worry_buttons())
            return []
        if intent == "inform" and not tracker.active_loop_name:
            dispatcher.utter_message(text=texts.NOT_IN_FORM)  # a form button or command after the form
            return []
        if tracker.get_slot("pending") == "consent" and is_typed_text(text) and consent_is_conditional(text):
            # 「匿名ならいいですよ」 read as a worry by the classifier: still an answer to the question.
            return answer_conditional_consent(dispatcher, tracker)
        if intent == "affirm" and tracker.get_slot("consent") == "no" and not tracker.get_slot("handoff_ref"):
            # 「いいえ」 then 「やっぱり伝えてほしい」: asked again; the same case is then completed.
            dispatcher.utter_message(text=texts.CONSENT_QUESTION, buttons=texts.CONSENT_BUTTONS)
            return [SlotSet("pending", "consent")]
        decision = decide(parse, tracker.get_slot("fields") or [])
        language = reply_language(tracker)
        if decision.route != "emergency" and (is_foreign(language) or (not has_japanese(text) and not text.startswith("/"))):
            # Another language (or markup, stray keys): answered in that language when it is one
            # of ours; the classifier's guess is not trusted and nothing is remembered from it.
            send(dispatcher, foreign_language_message(directory(), language))
            note(dispatcher, outcome="other_language")
            return []
        when = now()
        easy = language == EASY_JAPANESE
        events = decision_events(tracker, decision) + ([SlotSet("easy_japanese", True)] if easy else [])
        route = decision.route
        rounds = int(tracker.get_slot("clarify_round") or 0)
        undecided = route == "clarify" and rounds >= MAX_CLARIFY_ROUNDS
        if undecided:
            route = "sogo"
            decision.reason = "確認の質問を2回しても分野がはっきりしない相談"
        if route == "emergency":
            return answer_crisis(dispatcher, tracker, decision)
        if tracker.get_slot("handoff_ref") and route not in ("out_of_scope", "clarify") and is_typed_text(text):
            return events + added_to_case(dispatcher, tracker, decision, text)
        if route == "out_of_scope":
            answer_out_of_scope(dispatcher, text)
            return events
        if route == "clarify":
            first = rounds == 0 and not tracker.get_slot("about")
            send(dispatcher, (easy_ask_who() if easy else texts.ASK_WHO) if first else texts.ask_what())
            note(dispatcher, outcome="clarify")
            return events + [SlotSet("clarify_round", rounds + 1), SlotSet("pending", "clarify")]
        events += [SlotSet("route", route), SlotSet("route_reason", decision.reason),
                   SlotSet("clarify_round", 0)]
        if route == "sogo":
            for message in with_topic_lines(sogo_messages(when, decision.sogo_because, easy), text):
                send(dispatcher, message)
            note(dispatcher, outcome="sogo", undecided=undecided)
            return events + [SlotSet("pending", "consent")]
        for message in with_topic_lines(single_agency_messages(route, when, decision.distress, easy), text):
            send(dispatcher, message)
        note(dispatcher, outcome="agency", agency=route)
        return events + [SlotSet("pending", "more")]


def with_topic_lines(messages: List[dict], text: str, before_question: bool = True) -> List[dict]:
    """A worry about a scam or a contract (topics in bot/lexicons/fields.yml) also gets the
    specialised line from directory/hotlines.yml (消費者ホットライン 188), after the answer and
    before its closing question."""
    line = topic_lines_text(directory(), topic_lexicon().labels(text)) if is_typed_text(text) else None
    if not line:
        return messages
    at = len(messages) - 1 if before_question and messages else len(messages)
    return messages[:at] + [{"text": line}] + messages[at:]


def answer_out_of_scope(dispatcher, text: str) -> None:
    """Not a welfare worry: where to ask instead (and 188 for a scam), counted for the statistics."""
    for message in with_topic_lines([out_of_scope_message(directory())], text, before_question=False):
        send(dispatcher, message)
    note(dispatcher, outcome="out_of_scope")


class ActionOutOfScope(Action):
    def name(self) -> Text:
        return "action_out_of_scope"

    def run(self, dispatcher, tracker, domain):
        answer_out_of_scope(dispatcher, latest_text(tracker))
        return []


class ActionAnswerFaq(Action):
    """A question about the service (directory/faq.yml): hours of the agency suggested last (or
    総合相談支援センター, with the 24-hour lines when closed), the reference number of this
    conversation, anonymity, cost, place...; whatever was pending stays pending."""

    def name(self) -> Text:
        return "action_answer_faq"

    def run(self, dispatcher, tracker, domain):
        text = latest_text(tracker)
        topic = faq().topic_of(text)
        when = now()
        if topic is None or topic.answer == HOURS:
            slug = tracker.get_slot("route")
            agency = directory().agencies.get(slug) if slug else None
            agency = agency or directory().agency("sogo")
            send(dispatcher, agency_card(agency, when))
            if not is_open(agency, when):
                send(dispatcher, {"text": always_open_text(directory())})
            return []
        for reply in faq_answer(topic, directory(), when, tracker.get_slot("handoff_ref")):
            send(dispatcher, reply)
        return []


class ActionClearPending(Action):
    def name(self) -> Text:
        return "action_clear_pending"

    def run(self, dispatcher, tracker, domain):
        return [SlotSet("pending", None)]
