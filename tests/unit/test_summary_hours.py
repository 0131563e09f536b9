from datetime import datetime, timezone

from bot.core.clock import JST, now
from bot.core.directory import get_directory
from bot.core.hours import describe_hours, is_open, next_opening
from bot.core.replies import agency_card, crisis_message, out_of_scope_message, service_unavailable_text, unavailable_messages
from bot.core.summary import ANONYMOUS_KEYS, anonymous_summary, build_summary, read_back_text, redact

SUNDAY_3AM = datetime(2026, 11, 29, 3, 0, tzinfo=JST)
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=JST)


def test_clock_is_injectable(monkeypatch):
    monkeypatch.setenv("SOUDAN_NOW", "2026-11-29T03:00:00+09:00")
    assert now() == SUNDAY_3AM


def test_hours_sunday_night_and_monday_morning():
    sogo = get_directory().agency("sogo")
    assert not is_open(sogo, SUNDAY_3AM)
    assert is_open(sogo, MONDAY_10AM)
    assert next_opening(sogo, SUNDAY_3AM) == datetime(2026, 11, 30, 8, 45, tzinfo=JST)
    text = describe_hours(sogo, SUNDAY_3AM)
    assert "見込み" in text and "時間外" in text and "明日" in text
    assert "変わることがあります" in text and "祝日・年末年始はお休み" in text


def test_hours_wording_has_no_internal_note():
    sogo = get_directory().agency("sogo")
    for when in (SUNDAY_3AM, MONDAY_10AM, HOLIDAY_10AM, YEAR_END_10AM):
        assert "確認中" not in describe_hours(sogo, when)


HOLIDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=JST)   # 勤労感謝の日, a Monday
YEAR_END_10AM = datetime(2026, 12, 30, 10, 0, tzinfo=JST)  # a Wednesday in the year-end closure


def test_national_holiday_is_closed_and_the_next_opening_is_the_next_day():
    for agency in get_directory().agencies.values():
        assert not is_open(agency, HOLIDAY_10AM)
        assert next_opening(agency, HOLIDAY_10AM) == datetime(2026, 11, 24, 8, 45, tzinfo=JST)
    text = describe_hours(get_directory().agency("sogo"), HOLIDAY_10AM)
    assert "時間外" in text and "明日の8時45分" in text


def test_year_end_closure_is_closed_and_the_next_opening_is_after_new_year():
    sogo = get_directory().agency("sogo")
    assert not is_open(sogo, YEAR_END_10AM)
    assert next_opening(sogo, YEAR_END_10AM) == datetime(2027, 1, 4, 8, 45, tzinfo=JST)
    assert "1月4日（月）の8時45分" in describe_hours(sogo, YEAR_END_10AM)
    # The last working day before the closure, after hours: the next opening skips it too.
    assert next_opening(sogo, datetime(2026, 12, 28, 18, 0, tzinfo=JST)) == datetime(2027, 1, 4, 8, 45, tzinfo=JST)
    assert not is_open(sogo, datetime(2027, 1, 1, 10, 0, tzinfo=JST))


def test_ordinary_weekday_at_ten_is_open():
    sogo = get_directory().agency("sogo")
    assert is_open(sogo, datetime(2026, 11, 24, 10, 0, tzinfo=JST))
    assert is_open(sogo, datetime(2027, 1, 4, 10, 0, tzinfo=JST))
    assert "受付時間内" in describe_hours(sogo, datetime(2026, 11, 24, 10, 0, tzinfo=JST))


def test_substitute_holiday_is_closed():
    sogo = get_directory().agency("sogo")
    # 2027-03-22 (Mon): 振替休日 for 春分の日 on Sunday the 21st.
    assert not is_open(sogo, datetime(2027, 3, 22, 10, 0, tzinfo=JST))
    assert next_opening(sogo, datetime(2027, 3, 19, 18, 0, tzinfo=JST)) == datetime(2027, 3, 23, 8, 45, tzinfo=JST)


def test_injected_clock_on_a_holiday(monkeypatch):
    monkeypatch.setenv("SOUDAN_NOW", "2026-11-23T10:00:00+09:00")
    sogo = get_directory().agency("sogo")
    assert not is_open(sogo, now())
    assert next_opening(sogo, now()) == datetime(2026, 11, 24, 8, 45, tzinfo=JST)


def test_time_in_another_zone_is_read_as_japan_time():
    sogo = get_directory().agency("sogo")
    assert is_open(sogo, datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc))        # 10:00 in Japan
    assert not is_open(sogo, datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))    # the holiday


def test_agency_card_comes_from_the_directory():
    kakehashi = get_directory().agency("kakehashi")
    message = agency_card(kakehashi, MONDAY_10AM)
    card = message["custom"]["agency"]
    assert card["phone"] == kakehashi.phone and card["tel"] == kakehashi.tel
    assert kakehashi.address in message["text"] and kakehashi.name in message["text"]


def test_crisis_message_by_kind():
    d = get_directory()
    abuse = crisis_message(d, ["child_abuse"])
    assert abuse["custom"]["lines"][0]["number"] == "189"
    suicide = crisis_message(d, ["suicide"])
    assert any(line["number"] == d.hotlines["yorisoi"].number for line in suicide["custom"]["lines"])
    assert "#7119" not in suicide["text"]


def test_unavailable_text_always_has_a_number():
    d = get_directory()
    assert d.agency("sogo").phone in service_unavailable_text(d)
    with_danger = unavailable_messages(d, "隣の子が毎晩たたかれて泣いています")
    assert "189" in with_danger[0]["text"] and d.agency("sogo").phone in with_danger[-1]["text"]
    assert d.city_hall.phone in out_of_scope_message(d)["text"]


def test_summary_without_consent_is_minimal():
    summary = build_summary(received_at=MONDAY_10AM, channel="line", consent="no", fields=["elderly"],
                            main_field="elderly", urgency="low", urgency_phrases=[], crisis_kinds=[],
                            route="kakehashi", route_reason="x", agency_name="y",
                            slots={"contact_name": "山田", "contact_phone": "090-1234-5678"})
    assert "wish" not in summary and "consulter" not in summary
    assert summary["consent_label"] == "同意なし"


def test_summary_with_consent_and_read_back():
    slots = {"consulter": "家族", "consulter_relation": "子", "subject_age": "80代以上", "subject_living": "一人暮らし",
             "wish_urgency": "数日のうち", "contact_method": "電話", "contact_time": "平日の午前",
             "contact_name": "未回答", "contact_phone": "090-1234-5678"}
    summary = build_summary(received_at=MONDAY_10AM, channel="web", consent="yes", fields=["elderly", "poverty"],
                            main_field="elderly", urgency="medium", urgency_phrases=["心配"], crisis_kinds=[],
                            route="sogo", route_reason="複数の分野", agency_name="北斗市総合相談支援センター", slots=slots)
    assert summary["consulter"] == {"type": "家族", "relation": "子"}
    assert summary["wish"]["name"] is None and summary["reception"]["anonymous"] is True
    text = read_back_text(summary)
    assert "090-1234-5678" in text and "高齢・介護" in text


def test_retention_keeps_what_a_summary_without_consent_keeps():
    """One definition of the anonymous minimum: purging a consented summary leaves the same keys,
    and none of the resident's answers, as a summary made without consent."""
    common = dict(received_at=MONDAY_10AM, channel="web", fields=["elderly"], main_field="elderly", urgency="medium",
                  urgency_phrases=["心配"], crisis_kinds=[], route="kakehashi", route_reason="x", agency_name="y",
                  slots={"wish_urgency": "数日のうち", "contact_name": "山田", "consulter": "家族"})
    purged = anonymous_summary(build_summary(consent="yes", **common))
    without_consent = build_summary(consent="no", **common)
    assert set(purged) == set(without_consent) == set(ANONYMOUS_KEYS)
    assert purged["urgency"]["resident_wish"] is None
    assert "山田" not in str(purged) and "数日のうち" not in str(purged)


def test_redact_contact_details():
    assert redact("電話は090-1234-5678、mail a.b@example.jp です") == "電話は［電話番号］、mail ［メール］ です"
