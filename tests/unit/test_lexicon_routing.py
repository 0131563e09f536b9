"""Lexicons and the routing decision, on parse dicts shaped like Rasa's (no model needed)."""
import pytest

from bot.lexicon import crisis_lexicon, field_lexicon, lexicon_entities
from bot.routing import CRISIS_MIN_CONFIDENCE, decide, guard_intent


def parse(text, intent="vague", confidence=0.9, ranking=None):
    entities = lexicon_entities(text)
    ranking = ranking or [{"name": intent, "confidence": confidence}]
    guarded = guard_intent({"name": intent, "confidence": confidence}, ranking, entities, text)
    return {"text": text, "intent": guarded, "intent_ranking": ranking, "entities": entities}


@pytest.mark.parametrize("text,kind", [
    ("もう死にたい", "suicide"),
    ("しにたい", "suicide"),
    ("このまま目が覚めなければいいのに", "suicide"),
    ("もう一緒に死のうかと思う", "suicide"),
    ("薬を全部まとめて飲もうかな", "suicide"),
    ("子どもを叩いてしまいそうで怖い", "child_abuse"),
    ("夫に毎晩殴られています", "violence"),
    ("一人暮らしの父と3日連絡がつかない", "danger"),
    ("灯油がなくてストーブがつけられない", "lifeline"),
])
def test_crisis_phrases_open_the_crisis_answer(text, kind):
    assert kind in crisis_lexicon().labels(text)
    decision = decide(parse(text, intent="worry_poverty"))
    assert decision.route == "emergency"
    assert kind in decision.crisis_kinds
    assert decision.urgency == "high"


@pytest.mark.parametrize("text", ["死ぬほど忙しくてゴミの日を忘れる", "包丁の研ぎ方を知りたい", "母子手帳をなくしました"])
def test_idioms_are_not_crises(text):
    assert crisis_lexicon().labels(text) == []


def test_spelling_variants_and_half_width():
    for text in ["引きこもりの息子", "ひきこもりの息子", "ﾋｷｺﾓﾘの息子"]:
        assert "hikikomori" in field_lexicon().labels(text), text


def test_contained_match_is_dropped():
    assert "disability" not in field_lexicon().labels("母子手帳をなくした")


def test_one_field_goes_to_its_agency():
    assert decide(parse("母の物忘れがひどくて心配です", "worry_elderly")).route == "kakehashi"
    assert decide(parse("家賃を3か月滞納しています", "worry_poverty")).route == "seikatsu"


def test_two_fields_go_to_sogo():
    decision = decide(parse("認知症の母の介護で仕事を辞めて、借金もあります", "worry_elderly"))
    assert decision.route == "sogo"
    assert {"elderly", "poverty"} <= set(decision.fields)


def test_in_between_field_goes_to_sogo():
    assert decide(parse("息子が10年ひきこもっています", "worry_complex")).route == "sogo"


def test_fields_accumulate_across_turns():
    first = decide(parse("子どもが不登校です", "worry_child"))
    assert first.route == "kodomo"
    second = decide(parse("家賃も払えなくて", "worry_poverty"), previous_fields=first.fields)
    assert second.route == "sogo"
    assert second.fields == ["child", "poverty"]


def test_childs_disability_is_pastel_alone():
    assert decide(parse("小学生の息子が発達障害と言われました", "worry_disability")).route == "pastel"


def test_out_of_scope_and_clarify():
    assert decide(parse("ゴミの収集日を教えて", "out_of_scope")).route == "out_of_scope"
    assert decide(parse("相談したいことがあります", "vague")).route == "clarify"
    assert decide(parse("どこに相談したらいいか分からない", "dont_know")).route == "sogo"


def test_model_crisis_below_threshold_is_not_a_crisis():
    ranking = [{"name": "crisis", "confidence": 0.5}, {"name": "worry_child", "confidence": 0.48}]
    assert 0.5 < CRISIS_MIN_CONFIDENCE
    p = parse("離乳食を食べてくれない", "crisis", 0.5, ranking)
    assert p["intent"]["name"] == "worry_child"
    assert decide(p).route == "kodomo"


def test_model_crisis_above_threshold_wins_without_lexicon():
    ranking = [{"name": "crisis", "confidence": 0.99}, {"name": "worry_child", "confidence": 0.01}]
    decision = decide(parse("なんかもう全部どうでもいい", "crisis", 0.99, ranking))
    assert decision.route == "emergency"
    assert decision.crisis_kinds == ["general"]


def test_unusable_text_becomes_fallback():
    assert parse("😀😀😀", "greet", 0.9)["intent"]["name"] == "nlu_fallback"


@pytest.mark.parametrize("text", ["123", "０９０－１２３４－５６７８", "110"])
def test_digits_alone_carry_no_intent(text):
    assert parse(text, "emergency_info", 0.9)["intent"]["name"] == "nlu_fallback"


def test_a_weak_complex_guess_does_not_override_one_named_field():
    weak = parse("子どもが不登校で悩んでいます", "worry_complex", 0.6)
    assert decide(weak).route == "kodomo"
    sure = parse("子どもが不登校で悩んでいます", "worry_complex", 0.95)
    assert decide(sure).route == "sogo"
