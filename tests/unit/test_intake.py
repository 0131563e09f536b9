"""The intake form read from bot/intake.yml: natural answers, commands, phone numbers, and the
domain's form derived from it (bot/tools/intake_domain.py). Words with their negation are given as the
NLU gives them (bot.core.words); the same readings through the real model: tests/e2e/test_intake_typed.py."""
import pytest
import yaml

from bot import PROJECT_ROOT
from bot.core.intake import (SKIPPED, consent_is_conditional, form, item_named, parse_phone, read_answer,
                             relation_from_consulter_answer)
from bot.tools.intake_domain import FORM_NAME, form_domain, write


def words(*pairs):
    """Words as the NLU gives them: ("急ぎ", True) is a negated word."""
    return [{"text": w, "norm": w, "neg": neg} for w, neg in pairs]


@pytest.mark.parametrize("text,expected", [
    ("85歳", "80代以上（85歳）"), ("七十八歳です", "60〜70代（七十八歳）"), ("70すぎ", "60〜70代（70すぎ）"),
    ("中2", "10代以下（中2）"), ("大学生です", "20〜30代（大学生）"), ("80代", "80代以上"),
])
def test_ages_in_digits_kanji_and_school_years(text, expected):
    assert read_answer("subject_age", text).value == expected


@pytest.mark.parametrize("text,number,note", [
    ("090-1234-5678です", "090-1234-5678", ""),
    ("携帯は09012345678", "090-1234-5678", ""),
    ("０１３８－７４－２５００", "0138-74-2500", ""),
    ("73-1234", "0138-73-1234", "0138"),
])
def test_phone_numbers_by_their_real_digit_counts(text, number, note):
    answer = read_answer("contact_phone", text)
    assert answer.value == number and note in answer.note


@pytest.mark.parametrize("text,problem", [("090-1234-567", "short"), ("090-1234-56789", "long"), ("123", "none")])
def test_a_number_with_a_digit_missing_or_extra_is_refused(text, problem):
    answer = read_answer("contact_phone", text)
    assert answer.kind == "unclear" and parse_phone(text).problem == problem


@pytest.mark.parametrize("text,expected", [("佐藤です", "佐藤"), ("山田と申します", "山田"), ("すずき", "すずき")])
def test_names_without_polite_endings(text, expected):
    assert read_answer("contact_name", text).value == expected


@pytest.mark.parametrize("text", ["匿名で", "匿名でお願いします", "名前は言いたくないです"])
def test_anonymous_is_not_a_name(text):
    assert read_answer("contact_name", text).kind == "skip"


@pytest.mark.parametrize("text,kind", [("スキップ", "skip"), ("パスで", "skip"), ("答えたくないです", "skip"),
                                       ("もどる", "back"), ("前の質問に戻って", "back"), ("これで送る", "send_now")])
def test_commands_skip_go_back_or_send(text, kind):
    assert read_answer("subject_age", text).kind == kind


def test_negated_words_do_not_choose():
    assert read_answer("wish_urgency", "急ぎではないです", words(("急ぎ", True), ("です", False))).value == "急がない"
    assert read_answer("wish_urgency", "今日じゃなくていいです",
                       words(("今日", True), ("じゃ", False), ("なく", False), ("て", False), ("いい", False))).value == "急がない"
    assert read_answer("contact_method", "電話はしないでください",
                       words(("電話", True), ("は", False), ("し", False), ("ない", False))).value == "電話はしないでほしい"


def test_whole_words_only():
    # 夫 is a relation word; 大丈夫 is one word and says nothing about a husband.
    assert read_answer("consulter", "大丈夫です", words(("大丈夫", False), ("です", False))).kind != "value"
    assert read_answer("consulter_relation", "夫です", words(("夫", False), ("です", False))).value == "配偶者（夫）"


def test_a_relation_answered_at_the_first_question():
    assert relation_from_consulter_answer("娘です") == "子（娘）"
    assert relation_from_consulter_answer("母のことで娘の私が") == "子（娘）"
    assert relation_from_consulter_answer("本人です") is None


def test_living_and_time_keep_what_the_resident_said():
    assert read_answer("subject_living", "母と二人で住んでます",
                       words(("母", False), ("と", False), ("二人", False), ("で", False), ("住ん", False))
                       ).value.startswith("家族と同居（")
    for text in ("夜", "土日", "18時以降"):
        assert read_answer("contact_time", text).value == text


def test_a_long_story_is_kept_not_taken_as_a_button_value():
    text = "母のことなんですが、去年の冬に転んでから家の中でも歩くのがやっとで、私も仕事があって毎日は行けません"
    assert read_answer("consulter", text).kind == "story"


def test_conditional_consent_and_items_named_in_a_correction():
    assert consent_is_conditional("家族に知られないならいいです")
    assert consent_is_conditional("名前は言いたくないです")
    assert not consent_is_conditional("はい、お願いします")
    assert item_named("急ぎ具合が違います") == "wish_urgency"
    assert item_named("電話番号をまちがえました") == "contact_phone"


def test_questions_that_do_not_apply_are_not_asked():
    assert "consulter_relation" not in form().required({"consulter": "本人"})
    assert "consulter_relation" in form().required({"consulter": "家族"})
    anonymous = form().required({"consulter": "本人", "contact_method": "匿名"})
    assert not {"contact_time", "contact_name", "contact_phone"} & set(anonymous)
    visit = form().required({"consulter": "本人", "contact_method": "来所"})
    assert "contact_name" in visit and "contact_phone" not in visit


def test_send_now_is_offered_from_the_third_question():
    first = [b["title"] for b in form().buttons("consulter", {})]
    third = [b["title"] for b in form().buttons("subject_living", {"consulter": "本人"})]
    assert "これで送る" not in first and "これで送る" in third


def test_the_domain_form_is_derived_from_the_data_and_written_nowhere_else():
    derived = form_domain()
    assert derived["forms"][FORM_NAME]["required_slots"] == list(form().slots)
    assert list(derived["slots"]) == list(form().slots)
    assert derived["actions"] == [f"validate_{FORM_NAME}"] + [f"action_ask_{slot}" for slot in form().slots]
    for slot in form().slots:
        mappings = derived["slots"][slot]["mappings"]
        assert all(m["conditions"] == [{"active_loop": FORM_NAME, "requested_slot": slot}] for m in mappings), slot
    hand_written = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert not set(form().slots) & set(hand_written["slots"])
    assert "forms" not in hand_written
    assert not [a for a in hand_written["actions"] if a.startswith("action_ask_") or a.startswith("validate_")]
    assert not [r for r in hand_written["responses"] if r.removeprefix("utter_ask_") in form().slots]


def test_the_derived_domain_is_rewritten_only_when_it_changes(tmp_path):
    assert write(tmp_path) == ["domain.yml", "intake_form.yml"]
    made = yaml.safe_load((tmp_path / "intake_form.yml").read_text(encoding="utf-8"))
    assert made == form_domain()
    assert (tmp_path / "domain.yml").read_text(encoding="utf-8") == (PROJECT_ROOT / "domain.yml").read_text(
        encoding="utf-8")
    assert write(tmp_path) == []
    (tmp_path / "intake_form.yml").write_text("edited by hand", encoding="utf-8")
    assert write(tmp_path) == ["intake_form.yml"]
