import pytest

from bot.form_answers import SKIPPED, normalize_phone, parse_answer


@pytest.mark.parametrize("slot,text,expected", [
    ("consulter", "本人", "本人"),
    ("consulter", "母のことで娘の私が", "家族"),
    ("consulter", "民生委員をしています", "民生委員"),
    ("consulter", "skip", SKIPPED),
    ("consulter", "ありがとう", None),
    ("subject_age", "８０代", "80代以上"),
    ("subject_living", "母とふたり暮らし", "家族と同居"),
    ("wish_urgency", "できれば今日", "今日中"),
    ("contact_method", "電話でお願いします", "電話"),
    ("contact_method", "匿名のままで", "匿名"),
    ("contact_name", "山田", "山田"),
    ("contact_name", "http://example.com", None),
])
def test_parse_answer(slot, text, expected):
    assert parse_answer(slot, text) == expected


@pytest.mark.parametrize("text,expected", [
    ("０９０－１２３４－５６７８", "090-1234-5678"),
    ("0138742500", "0138-74-2500"),
    ("090 1234 5678", "090-1234-5678"),
    ("123", None),
    ("1234567890", None),
    ("0901234567890", None),
])
def test_phone(text, expected):
    assert normalize_phone(text) == expected
    assert parse_answer("contact_phone", text) == expected
