"""Custom actions with real rasa_sdk trackers (the way Rasa's demo bots test theirs)."""
import asyncio
import json

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.crisis_actions import ActionCrisis
from actions.handoff_actions import ActionConsentReply, ActionReadBackSummary, ActionSaveHandoff
from actions.intake_actions import ValidateHandoffForm
from actions.routing_actions import ActionAnswerFaq, ActionRouteWorry
from bot.core.danger import detect
from bot.core.directory import get_directory
from bot.core.intake import SKIPPED, form
from bot.core.lexicon import lexicon_entities
from bot.core.store import get_handoff, open_store

DOMAIN = {"slots": {}, "forms": {"handoff_form": {"required_slots": list(form().slots)}}}  # bot/intake.yml


def tracker(text="", intent="vague", confidence=0.99, slots=None, sender="web-tester", active_loop=None):
    entities = lexicon_entities(text) if text and not text.startswith("/") else []
    if text and not text.startswith("/"):
        entities += [{"entity": "crisis_kind", "value": f.kind, "text": f.text}
                     for f in detect(text, kind_order=get_directory().kind_order).findings]
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence},
              "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": entities}
    return Tracker(sender, slots or {}, latest, [], False, None, {"name": active_loop} if active_loop else {},
                   "action_listen")


def run(action, t):
    """The messages a resident sees (internal notes taken out, as the web side does) and the events."""
    messages, _, result = run_with_notes(action, t)
    return messages, result


def is_note(message) -> bool:
    return isinstance(message.get("custom"), dict) and "internal" in message["custom"]


def run_with_notes(action, t):
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, t, DOMAIN)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    shown = [m for m in dispatcher.messages if not is_note(m)]
    notes = [m["custom"]["internal"] for m in dispatcher.messages if is_note(m)]
    return shown, notes, result


def slot(events, name):
    values = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == name]
    return values[-1] if values else None


def test_one_field_worry_gets_the_agency_card_and_the_follow_up_question():
    messages, events = run(ActionRouteWorry(), tracker("母の物忘れがひどくて心配です", "worry_elderly"))
    card = messages[0]["custom"]
    assert card["type"] == "agency_card" and card["agency"]["slug"] == "kakehashi"
    assert "ほかにも気になることはありますか" in messages[-1]["text"]
    assert slot(events, "pending") == "more" and slot(events, "fields") == ["elderly"]


def test_sunday_3am_lists_the_24h_lines_and_words_hours_as_unconfirmed():
    messages, _ = run(ActionRouteWorry(), tracker("母の物忘れがひどくて心配です", "worry_elderly"))
    assert "見込み" in messages[0]["custom"]["agency"]["hours_text"]
    assert "時間外" in messages[0]["custom"]["agency"]["hours_text"]
    assert any("24時間" in (m.get("text") or "") for m in messages)


@pytest.mark.parametrize("moment,opens", [
    ("2026-11-23T10:00:00+09:00", "明日の8時45分"),          # 勤労感謝の日 (a Monday), office hours
    ("2026-12-30T10:00:00+09:00", "1月4日（月）の8時45分"),  # the year-end closure
])
def test_holidays_and_the_year_end_closure_get_the_24h_lines(monkeypatch, moment, opens):
    monkeypatch.setenv("SOUDAN_NOW", moment)
    messages, _ = run(ActionRouteWorry(), tracker("母の物忘れがひどくて心配です", "worry_elderly"))
    hours = messages[0]["custom"]["agency"]["hours_text"]
    assert "時間外" in hours and opens in hours, hours
    assert any("24時間" in (m.get("text") or "") for m in messages)


def test_an_ordinary_weekday_morning_is_open_and_lists_no_24h_lines(monkeypatch):
    monkeypatch.setenv("SOUDAN_NOW", "2026-11-24T10:00:00+09:00")
    messages, _ = run(ActionRouteWorry(), tracker("母の物忘れがひどくて心配です", "worry_elderly"))
    assert "受付時間内" in messages[0]["custom"]["agency"]["hours_text"]
    assert not any("24時間" in (m.get("text") or "") for m in messages)


def test_second_field_in_a_later_turn_asks_consent():
    t = tracker("借金もあって", "worry_poverty", slots={"fields": ["elderly"]})
    messages, events = run(ActionRouteWorry(), t)
    assert messages[0]["custom"]["agency"]["slug"] == "sogo"
    assert slot(events, "pending") == "consent" and slot(events, "fields") == ["elderly", "poverty"]


def test_clarify_twice_then_sogo():
    _, events = run(ActionRouteWorry(), tracker("ちょっと困っていて", "vague"))
    assert slot(events, "pending") == "clarify" and slot(events, "clarify_round") == 1
    messages, events = run(ActionRouteWorry(), tracker("うーん", "vague", slots={"clarify_round": 2}))
    assert messages[0]["custom"]["agency"]["slug"] == "sogo"


def test_crisis_action_uses_the_kind_and_flags_urgency():
    t = tracker("子どもを叩いてしまいそう", "crisis", 1.0)
    messages, events = run(ActionCrisis(), t)
    assert messages[0]["custom"]["type"] == "crisis"
    assert messages[0]["custom"]["lines"][0]["number"] == "189"
    assert slot(events, "urgent") is True and "child_abuse" in slot(events, "crisis_kinds")


def test_crisis_inside_the_form_says_the_form_goes_on():
    t = tracker("もう死にたい", "crisis", 1.0, active_loop="handoff_form")
    messages, _ = run(ActionCrisis(), t)
    assert "質問の続き" in messages[-1]["text"]


def test_hours_action_outside_hours():
    messages, _ = run(ActionAnswerFaq(), tracker("何時まで？", "faq", slots={"route": "pastel"}))
    assert messages[0]["custom"]["agency"]["slug"] == "pastel"
    assert "24時間" in messages[-1]["text"]


FORM_SLOTS = {"consulter": "家族", "consulter_relation": "子", "subject_age": "80代以上",
              "subject_living": "一人暮らし", "wish_urgency": "数日のうち", "contact_method": "電話",
              "contact_time": "平日の午前", "contact_name": SKIPPED, "contact_phone": "090-1234-5678",
              "fields": ["elderly", "poverty"], "route": "sogo", "route_reason": "複数の分野",
              "worry_texts": ["母の介護と借金で困っています。電話は090-1111-2222です"], "consent": "yes"}


def test_read_back_then_save_commits_before_the_number(store_and_clock):
    messages, events = run(ActionReadBackSummary(), tracker("", "affirm", slots=FORM_SLOTS))
    assert "090-1234-5678" in messages[0]["text"] and slot(events, "pending") == "confirm"
    messages, events = run(ActionSaveHandoff(), tracker("はい", "affirm", slots=FORM_SLOTS))
    ref = slot(events, "handoff_ref")
    assert ref and f"「{ref}」" in messages[0]["text"]
    row = get_handoff(open_store(store_and_clock), ref)
    assert row["consent"] == "yes" and row["fields"] == ["elderly", "poverty"]
    assert "［電話番号］" in row["resident_text"] and "090-1111-2222" not in row["resident_text"]
    assert row["summary"]["reception"]["received_at"].startswith("2026-11-29T03:00")


def test_line_sender_gives_line_channel_and_no_identifier(store_and_clock):
    t = tracker("はい", "affirm", slots=FORM_SLOTS, sender="line-0123456789abcdef0123456789abcdef")
    _, events = run(ActionSaveHandoff(), t)
    row = get_handoff(open_store(store_and_clock), slot(events, "handoff_ref"))
    assert row["channel"] == "line"
    assert "0123456789abcdef" not in json.dumps(row, ensure_ascii=False)


def test_failed_write_gives_no_number_but_the_phone(store_and_clock):
    store_and_clock.mkdir()  # a directory where the database file should be: cannot open
    messages, events = run(ActionSaveHandoff(), tracker("はい", "affirm", slots=FORM_SLOTS))
    assert slot(events, "handoff_ref") is None
    assert "受付番号はお出しできません" in messages[0]["text"]
    assert get_directory().agency("sogo").phone in messages[0]["text"]


def test_no_consent_saves_only_the_minimum(store_and_clock):
    messages, events = run(ActionConsentReply(), tracker("いいえ", "deny", slots=FORM_SLOTS))
    assert get_directory().agency("sogo").phone in json.dumps(messages, ensure_ascii=False)
    rows = list(open_store(store_and_clock)["handoffs"].rows)
    assert len(rows) == 1 and rows[0]["consent"] == "no" and rows[0]["resident_text"] is None
    assert "090-1234-5678" not in rows[0]["summary"]


def test_form_validation_two_failures_skip_the_question():
    form = ValidateHandoffForm()
    dispatcher = CollectingDispatcher()
    t = tracker("ありがとう", "thanks", slots={"requested_slot": "consulter"}, active_loop="handoff_form")
    first = form._read("consulter", "ありがとう", dispatcher, t)
    assert first == {"consulter": None, "form_failures": 1}
    t = tracker("ええと", "vague", slots={"requested_slot": "consulter", "form_failures": 1}, active_loop="handoff_form")
    second = form._read("consulter", "ええと", dispatcher, t)
    assert second == {"consulter": SKIPPED, "form_failures": 0}
    assert get_directory().agency("sogo").phone in dispatcher.messages[-1]["text"]


def test_required_slots_skip_contact_details_when_anonymous():
    form = ValidateHandoffForm()
    t = tracker("", "inform", slots={"consulter": "本人", "contact_method": "匿名"}, active_loop="handoff_form")
    slots = asyncio.run(form.required_slots(DOMAIN["forms"]["handoff_form"]["required_slots"], CollectingDispatcher(), t, DOMAIN))
    assert slots == ["consulter", "subject_age", "subject_living", "wish_urgency", "contact_method"]


def test_required_slots_without_phone_questions_for_a_visit():
    form = ValidateHandoffForm()
    t = tracker("", "inform", slots={"consulter": "本人", "contact_method": "来所"}, active_loop="handoff_form")
    slots = asyncio.run(form.required_slots(DOMAIN["forms"]["handoff_form"]["required_slots"], CollectingDispatcher(), t, DOMAIN))
    assert "contact_name" in slots and "contact_phone" not in slots and "contact_time" not in slots


def test_latin_only_text_gets_the_foreign_language_lines_and_is_not_remembered():
    messages, events = run(ActionRouteWorry(), tracker("I lost my job and cannot pay rent", "worry_disability"))
    assert events == []
    assert get_directory().hotlines["foreign_center"].number in messages[0]["custom"]["text"]


def test_danger_after_the_reference_number_raises_the_stored_case(store_and_clock):
    _, events = run(ActionSaveHandoff(), tracker("はい", "affirm", slots=FORM_SLOTS))
    ref = slot(events, "handoff_ref")
    assert get_handoff(open_store(store_and_clock), ref)["urgency"] != "high"
    messages, _ = run(ActionCrisis(), tracker("夫に殴られて家から逃げてきました", "crisis", 1.0,
                                              slots=dict(FORM_SLOTS, handoff_ref=ref, case_ref=ref)))
    assert messages[0]["custom"]["type"] == "crisis" and ref in messages[-1]["text"]
    db = open_store(store_and_clock)
    row = get_handoff(db, ref)
    assert row["urgency"] == "high" and row["urgent"] == 1
    assert "violence" in row["summary"]["urgency"]["crisis_kinds"]
    history = list(db["handoff_events"].rows_where("handoff_id = ?", [row["id"]]))
    assert any(e["kind"] == "danger" and "暴力" in e["note"] for e in history)


def test_a_conditional_consent_is_answered_and_asked_again():
    messages, events = run(ActionConsentReply(), tracker("家族に知られないならいいです", "affirm", slots={"pending": "consent"}))
    text = " ".join(m.get("text") or "" for m in messages)
    assert "知らせることはありません" in text and "伝えてもよいですか" in text
    assert slot(events, "consent") == "conditional" and slot(events, "pending") == "consent"


def test_danger_in_english_gets_110_and_119_with_an_english_heading():
    messages, _ = run(ActionCrisis(), tracker("my husband hits me, I am scared", "crisis", 1.0))
    crisis = messages[0]["custom"]
    assert crisis["heading"].startswith("If you are in danger")
    numbers = [line["number"] for line in crisis["lines"]]
    assert numbers[:2] == ["110", "119"] and get_directory().hotlines["dv_plus"].number in numbers


def test_easy_mode_is_switched_on_and_off():
    from actions.easy_actions import ActionEasyMode

    messages, events = run(ActionEasyMode(), tracker("やさしい日本語で", "easy_on"))
    assert "やさしい にほんご で こたえます" in messages[0]["text"] and slot(events, "easy_japanese") is True
    messages, events = run(ActionEasyMode(), tracker("ふつうの日本語で", "easy_off", slots={"easy_japanese": True}))
    assert "ふつうの日本語" in messages[0]["text"] and slot(events, "easy_japanese") is False


def test_in_easy_mode_the_card_and_the_question_are_in_easy_words():
    kakehashi = get_directory().agency("kakehashi")
    messages, _ = run(ActionRouteWorry(), tracker("母の物忘れがひどくて心配です", "worry_elderly",
                                                  slots={"easy_japanese": True}))
    card = messages[0]["custom"]
    assert card["intro"] == "ここに そうだん できます。" and card["agency"]["helps_with"] == kakehashi.easy
    assert card["agency"]["phone"] == kakehashi.phone
    assert messages[-1]["text"] == "ほかにも こまって いる ことは ありますか。"


def test_spaced_simple_japanese_turns_the_easy_mode_on_by_itself():
    messages, events = run(ActionRouteWorry(), tracker("わたし の はは びょうき。 かいご が たいへん", "worry_elderly"))
    assert slot(events, "easy_japanese") is True
    assert messages[0]["custom"]["intro"] == "ここに そうだん できます。"


def test_danger_in_easy_mode_gets_the_easy_heading_first():
    messages, _ = run(ActionCrisis(), tracker("もう死にたい", "crisis", 1.0, slots={"easy_japanese": True}))
    heading = messages[0]["custom"]["heading"]
    assert heading == get_directory().crisis_kind("suicide").easy


def test_easy_japanese_asked_inside_the_form_changes_the_mode_and_asks_again():
    form = ValidateHandoffForm()
    dispatcher = CollectingDispatcher()
    t = tracker("やさしい日本語で", "easy_on", slots={"requested_slot": "subject_age"}, active_loop="handoff_form")
    assert form._read("subject_age", "やさしい日本語で", dispatcher, t) == {"subject_age": None, "easy_japanese": True}
    assert "やさしい にほんご で こたえます" in dispatcher.messages[-1]["text"]


@pytest.mark.parametrize("text, intent", [
    ("母が電話でだまされて、貯金を振り込んでしまいました", "worry_elderly"),
    ("ネット通販で買った物が届かず、お金も返ってきません", "out_of_scope"),
])
def test_a_scam_also_gets_the_consumer_line_after_the_answer(text, intent):
    consumer = next(h for h in get_directory().hotlines.values() if "consumer" in h.kinds)
    messages, _ = run(ActionRouteWorry(), tracker(text, intent))
    texts = [m.get("text") or "" for m in messages]
    assert any(consumer.number in t and consumer.name in t for t in texts[1:]), texts
    assert consumer.number not in (texts[0] or "")  # the answer itself comes first
    if messages[-1].get("buttons"):  # a closing question stays last
        assert consumer.name not in texts[-1]


def test_a_worry_without_a_scam_gets_no_consumer_line():
    consumer = next(h for h in get_directory().hotlines.values() if "consumer" in h.kinds)
    messages, _ = run(ActionRouteWorry(), tracker("母の物忘れがひどくなりました", "worry_elderly"))
    assert all(consumer.name not in (m.get("text") or "") for m in messages)


def test_the_worry_question_and_cannot_use_show_the_greetings_category_buttons():
    """One list of categories (domain.yml utter_greet): the second clarifying question and the
    answer to unusable text show its worry buttons, with the same titles."""
    from bot.core.domain_texts import category_buttons
    worry = [b for b in category_buttons() if b["payload"] not in ("/emergency_info", "/easy_on")]
    messages, _ = run(ActionRouteWorry(), tracker("うーん", "vague", slots={"clarify_round": 1, "about": "self"}))
    assert "いちばん困っていること" in messages[0]["text"] and messages[0]["buttons"] == worry
    assert any(b["title"] == "障がい・こころの病気のこと" for b in worry)
    messages, _ = run(ActionRouteWorry(), tracker("？？？", "nlu_fallback"))
    assert messages[0]["response"] == "utter_cannot_use" and messages[0]["buttons"] == worry


def test_stopping_gives_the_centres_number_in_the_one_please_call_sentence():
    from actions.handoff_actions import ActionStop
    sogo = get_directory().agency("sogo")
    messages, _ = run(ActionStop(), tracker("やめる", "stop"))
    assert messages[-1]["text"].endswith(f"{sogo.name}（電話：{sogo.phone}）にお電話ください。")
