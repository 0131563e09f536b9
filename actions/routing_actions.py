"""Route a worry to an agency, ask what is unclear, answer out-of-scope and hours questions."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import decision_events, directory, is_typed_text, note, reply_language, send
from actions.handoff_actions import add_to_case, answer_conditional_consent
from bot.intake import consent_is_conditional
from bot.faq import HOURS, answer as faq_answer, faq
from actions.crisis_actions import answer_crisis
from bot.clock import now
from bot.easy import easy_text
from bot.replies import (agency_card, always_open_text, foreign_language_message, listening_line_text, topic_lines_text,
                         out_of_scope_message)
from bot.hours import is_open
from bot.language import EASY_JAPANESE, is_foreign
from bot.lexicon import topic_lexicon
from bot.routing import decide
from bot.textnorm import has_japanese, looks_unusable

MAX_CLARIFY_ROUNDS = 2

# Why 総合相談支援センター: said only as far as it is true (two fields found, an in-between
# worry, or no field named).
SOGO_EXPLANATIONS = {
    "fields": ("いくつかの困りごとが重なっているようです。{name}は、介護・障がい・子ども・お金など、"
               "分野をまたぐ相談を受けとめて、関係する窓口と一緒に支え方を考えるところです。"),
    "between": ("{name}は、ひきこもりや孤立、ヤングケアラーなど、どこか一つの窓口には当てはまりにくい相談も受けとめて、"
                "関係する窓口と一緒に支え方を考えるところです。"),
    "unknown": ("どこに相談したらよいか分からないときは、{name}が受けとめます。お話をうかがって、合った窓口と"
                "一緒に支え方を考えます。"),
}
DISTRESS_INTRO = "ここまで、ひとりでがんばってこられたのですね。書いてくださって、ありがとうございます。"
NOT_IN_FORM = "いまは質問の途中ではありません。困っていることがあれば、自由に書いてください。"
ADDED = "このことも、受付番号「{ref}」の相談に書き加えて、センターに伝えます。"
CONSENT_BUTTONS = [{"title": "はい、伝えてください", "payload": "/affirm"},
                   {"title": "いいえ、電話番号だけでいい", "payload": "/deny"}]
CONSENT_QUESTION = ("よければ、ここでうかがったことをまとめて、センターに伝えます。まとめは、センターの職員が"
                    "支援を考えるためだけに使います。あなたが「はい」と言わなければ、伝えません。\n伝えてもよいですか。")
ANYTHING_ELSE = "ほかにも気になることはありますか。"

ASK_WHO = {"text": "もう少し教えてください。どなたのことで困っていますか。",
           "buttons": [{"title": "自分のこと", "payload": '/clarify_answer{"about": "self"}'},
                       {"title": "家族のこと", "payload": '/clarify_answer{"about": "family"}'},
                       {"title": "近所・知り合いのこと", "payload": '/clarify_answer{"about": "neighbour"}'}]}
ASK_WHAT = {"text": "いちばん困っていることに近いものはどれですか。自由に書いても大丈夫です。",
            "buttons": [{"title": "高齢・介護", "payload": "/worry_elderly"},
                        {"title": "障がい・こころの病気", "payload": "/worry_disability"},
                        {"title": "子ども・子育て・妊娠", "payload": "/worry_child"},
                        {"title": "お金・仕事・借金", "payload": "/worry_poverty"},
                        {"title": "うまく言えない・分からない", "payload": "/dont_know"}]}


def sogo_messages(when, because: str = "unknown", easy: bool = False) -> List[dict]:
    sogo = directory().agency("sogo")
    if easy:
        card = agency_card(sogo, when, intro=easy_text("sogo_intro"), easy=True)
        ask = {"text": easy_text("consent_question"),
               "buttons": [{"title": easy_text("consent_yes"), "payload": "/affirm"},
                           {"title": easy_text("consent_no"), "payload": "/deny"}]}
        return [card, ask]
    explanation = SOGO_EXPLANATIONS.get(because, SOGO_EXPLANATIONS["unknown"]).format(name=sogo.name)
    card = agency_card(sogo, when, intro=explanation)
    ask = {"text": CONSENT_QUESTION, "buttons": CONSENT_BUTTONS}
    return [card, ask]


def single_agency_messages(slug: str, when, distress: bool = False, easy: bool = False) -> List[dict]:
    agency = directory().agency(slug)
    if easy:
        intro = (easy_text("distress_intro") + "\n" if distress else "") + easy_text("agency_intro")
        more = {"text": easy_text("anything_else"), "buttons": [{"title": easy_text("answer_yes"), "payload": "/affirm"},
                                                                {"title": easy_text("answer_no"), "payload": "/deny"}]}
    else:
        intro = (DISTRESS_INTRO + "\n" if distress else "") + "こちらの窓口が相談にのってくれます。"
        more = {"text": ANYTHING_ELSE,
                "buttons": [{"title": "ある", "payload": "/affirm"}, {"title": "ない", "payload": "/deny"}]}
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
        sogo = directory().agency("sogo")
        dispatcher.utter_message(text=f"ごめんなさい。いま書き加えられませんでした。{sogo.name}に電話で伝えてください：{sogo.phone}")
        return []
    dispatcher.utter_message(text=ADDED.format(ref=ref))
    return [SlotSet("pending", None)]


class ActionRouteWorry(Action):
    """Decide where a worry goes (bot.routing.decide) and answer with the agency, the
    総合相談支援センター path with a consent question, or a clarifying question."""

    def name(self) -> Text:
        return "action_route_worry"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        parse = tracker.latest_message or {}
        text = parse.get("text") or ""
        intent = (parse.get("intent") or {}).get("name")
        if intent == "nlu_fallback" and (looks_unusable(text) or not decision_possible(text)):
            dispatcher.utter_message(response="utter_cannot_use")
            return []
        if intent == "inform" and not tracker.active_loop_name:
            dispatcher.utter_message(text=NOT_IN_FORM)  # a form button or command after the form
            return []
        if tracker.get_slot("pending") == "consent" and is_typed_text(text) and consent_is_conditional(text):
            # 「匿名ならいいですよ」 read as a worry by the classifier: still an answer to the question.
            return answer_conditional_consent(dispatcher, tracker)
        if intent == "affirm" and tracker.get_slot("consent") == "no" and not tracker.get_slot("handoff_ref"):
            # 「いいえ」 then 「やっぱり伝えてほしい」: asked again; the same case is then completed.
            dispatcher.utter_message(text=CONSENT_QUESTION, buttons=CONSENT_BUTTONS)
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
            for message in with_topic_lines([out_of_scope_message(directory())], text, before_question=False):
                send(dispatcher, message)
            note(dispatcher, outcome="out_of_scope")
            return events
        if route == "clarify":
            first = rounds == 0 and not tracker.get_slot("about")
            send(dispatcher, (easy_ask_who() if easy else ASK_WHO) if first else ASK_WHAT)
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


class ActionOutOfScope(Action):
    def name(self) -> Text:
        return "action_out_of_scope"

    def run(self, dispatcher, tracker, domain):
        for message in with_topic_lines([out_of_scope_message(directory())],
                                        (tracker.latest_message or {}).get("text") or "", before_question=False):
            send(dispatcher, message)
        note(dispatcher, outcome="out_of_scope")
        return []


class ActionAnswerFaq(Action):
    """A question about the service (directory/faq.yml): hours of the agency suggested last (or
    総合相談支援センター, with the 24-hour lines when closed), the reference number of this
    conversation, anonymity, cost, place...; whatever was pending stays pending."""

    def name(self) -> Text:
        return "action_answer_faq"

    def run(self, dispatcher, tracker, domain):
        text = (tracker.latest_message or {}).get("text") or ""
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
