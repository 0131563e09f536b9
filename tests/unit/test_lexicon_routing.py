"""Lexicons, danger context (without a parse) and the routing decision, on parse dicts shaped like
Rasa's (no model needed). The same rules with GiNZA's parse: tests/actions/test_danger.py."""
import pytest

from bot.core.danger import detect
from bot.core.directory import get_directory
from bot.core.lexicon import field_lexicon, lexicon_entities
from bot.core.routing import DEFAULT, decide, guard_intent


def parse(text, intent="vague", confidence=0.9, ranking=None, models=None):
    danger = detect(text, kind_order=get_directory().kind_order)
    entities = lexicon_entities(text) + [{"entity": "crisis_kind", "value": f.kind, "text": f.text}
                                         for f in danger.findings]
    ranking = ranking or [{"name": intent, "confidence": confidence}]
    guarded = guard_intent({"name": intent, "confidence": confidence}, ranking, entities, text,
                           danger.as_dict(), models or {})
    return {"text": text, "intent": guarded, "intent_ranking": ranking, "entities": entities,
            "text_models": models or {}}


@pytest.mark.parametrize("text,kind", [
    ("もう死にたい", "suicide"),
    ("しにたい", "suicide"),
    ("このまま目が覚めなければいいのに", "suicide"),
    ("もう一緒に死のうかと思う", "suicide"),
    ("薬を全部まとめて飲もうかな", "suicide"),
    ("子どもを叩いてしまいそうで怖い", "child_abuse"),
    ("夫に毎晩殴られています", "violence"),
    ("一人暮らしの父と3日連絡がつかない", "unresponsive"),
    ("灯油がなくてストーブがつけられない", "lifeline"),
    ("隣の家から煙が出てる、火事かも", "fire"),
    ("おっと が たたく。こわい", "violence"),
    # Passive wishes and winter lifelines in the ways residents write them.
    ("あしたなんて来なくていいよ、もう", "suicide"),
    ("しばれる夜に外で寝てしまえば楽かもな、このまま眠ってしまえば楽だべ", "suicide"),
    ("父と一緒に消えたいって思う夜がある", "suicide"),
    ("灯油がおとといから空で部屋が冷えきってます", "lifeline"),
    ("I want to die", "suicide"),
    # Languages the models did not learn: the lexicon's patterns in them.
    ("I have been thinking of ending my own life", "suicide"),
    ("Smoke is pouring from the apartment next door", "fire"),
    ("Baby has a fever and won't wake up, it is 2am at night", "sick_child_night"),
    ("Ông tôi bất tỉnh trong nhà tắm", "medical"),
    ("Tôi muốn chết", "suicide"),
    ("Ayoko na mabuhay, pagod na ako", "suicide"),
    ("어머니가 이틀째 전화를 안 받아요", "unresponsive"),
    ("Saya dipaksa berhubungan oleh bos saya", "sexual_violence"),
    ("दुई दिनदेखि खाना खाएको छैन", "lifeline"),
])
def test_danger_phrases_open_the_crisis_answer(text, kind):
    assert kind in detect(text).kinds
    decision = decide(parse(text, intent="worry_poverty"))
    assert decision.route == "emergency"
    assert kind in decision.crisis_kinds
    assert decision.urgency == "high"


@pytest.mark.parametrize("text", ["死ぬほど忙しくてゴミの日を忘れる", "包丁の研ぎ方を知りたい", "母子手帳をなくしました",
                                  "殺す気か笑", "自殺予防の研修はありますか",
                                  "ストーブが古くて火事にならないか心配です", "冷蔵庫が空っぽになる給料日前がしんどい"])
def test_idioms_are_not_danger(text):
    result = detect(text)
    assert result.kinds == []


def test_past_and_mourning_are_not_danger_and_excuse_the_model():
    for text in ["昔は死にたいと思ったけど今は元気です", "亡くなった祖母、あの世で元気にしてるかな"]:
        result = detect(text)
        assert result.kinds == [] and result.listed_pattern in ("past", "mourning"), text
        sure = [{"name": "crisis", "confidence": 0.99}, {"name": "vague", "confidence": 0.01}]
        assert decide(parse(text, "crisis", 0.99, sure)).route != "emergency", text


@pytest.mark.parametrize("text", ["夫に殴られています。離婚したいです", "夫の暴力がひどくて離婚したいけど怖い",
                                  "殴られてて、別れたくても別れられない"])
def test_wanting_to_divorce_is_not_the_violence_being_over(text):
    assert detect(text).kinds == ["violence"]


def test_wanting_to_divorce_does_not_excuse_the_models_danger():
    assert detect("主人との生活がつらくて、もう離婚したい").listed_pattern is None
    assert detect("主人とは去年離婚した。いまは実家にいます").listed_pattern == "past"


def test_divorce_after_the_violence_is_the_past():
    for text in ["夫の暴力で離婚しました。今はお金がなくて困っています", "2年前から夫の暴力がひどく離婚。今は実家にいます"]:
        result = detect(text)
        assert result.kinds == [] and result.listed_pattern == "past", text


def test_negation_without_a_parse():
    assert detect("死にたいとは思わない").kinds == []
    assert detect("死にたくない").kinds == []
    assert detect("死にたくないわけじゃない").kinds == ["suicide"]


def test_several_kinds_in_the_data_order():
    kinds = detect("母を殺して自分も死ぬ", kind_order=get_directory().kind_order).kinds
    assert kinds[0] == "threat"


def test_spelling_variants_and_half_width():
    for text in ["引きこもりの息子", "ひきこもりの息子", "ﾋｷｺﾓﾘの息子"]:
        assert "hikikomori" in field_lexicon().labels(text), text


def test_contained_match_is_dropped():
    assert "disability" not in field_lexicon().labels("母子手帳をなくした")


def test_one_field_goes_to_its_agency():
    assert decide(parse("母の物忘れがひどくて心配です", "worry_elderly")).route == "kakehashi"
    assert decide(parse("家賃を3か月滞納しています", "worry_poverty")).route == "seikatsu"


def test_two_fields_go_to_sogo_and_say_so():
    decision = decide(parse("認知症の母の介護で仕事を辞めて、借金もあります", "worry_complex"))
    assert decision.route == "sogo" and decision.sogo_because == "fields"
    assert {"elderly", "poverty"} <= set(decision.fields)


def test_one_centre_owning_the_request_wins_over_a_field_named_in_passing():
    text = "母の介護がつらくて仕事も休みがち。介護保険の申請はどこでできますか"
    assert decide(parse(text, "worry_elderly", 0.93)).route == "kakehashi"


def test_in_between_field_goes_to_sogo():
    decision = decide(parse("息子が10年ひきこもっています", "worry_complex"))
    assert decision.route == "sogo" and decision.sogo_because == "between"


def test_isolation_beside_one_main_field_stays_with_that_field():
    assert decide(parse("転勤してきて育児で孤独です", "worry_child")).route == "kodomo"


def test_fields_accumulate_across_turns():
    first = decide(parse("子どもが不登校です", "worry_child"))
    assert first.route == "kodomo"
    second = decide(parse("家賃も払えなくて", "worry_poverty"), previous_fields=first.fields)
    assert second.route == "sogo"
    assert second.fields == ["child", "poverty"]


def test_childs_disability_is_pastel_alone():
    assert decide(parse("小学生の息子が発達障害と言われました", "worry_disability")).route == "pastel"


def test_field_classifier_adds_a_field_the_lexicon_missed():
    models = {"danger": 0.01, "fields": {"poverty": 0.9, "child": 0.1}}
    assert decide(parse("今月もう財布が空っぽで", "vague", 0.3, models=models)).route == "seikatsu"


def test_out_of_scope_and_clarify():
    assert decide(parse("ゴミの収集日を教えて", "out_of_scope")).route == "out_of_scope"
    assert decide(parse("相談したいことがあります", "vague")).route == "clarify"
    unknown = decide(parse("どこに相談したらいいか分からない", "dont_know"))
    assert unknown.route == "sogo" and unknown.sogo_because == "unknown"


def test_distress_is_not_danger():
    decision = decide(parse("介護に疲れた、もう逃げたい", "worry_elderly"))
    assert decision.route == "kakehashi" and decision.distress


def test_model_crisis_below_threshold_is_not_a_crisis():
    ranking = [{"name": "crisis", "confidence": 0.5}, {"name": "worry_child", "confidence": 0.48}]
    assert 0.5 < DEFAULT.crisis_intent
    p = parse("離乳食を食べてくれない", "crisis", 0.5, ranking)
    assert p["intent"]["name"] == "worry_child"
    assert decide(p).route == "kodomo"


def test_model_danger_wins_without_lexicon_and_takes_its_kind():
    ranking = [{"name": "crisis", "confidence": 0.99}, {"name": "worry_child", "confidence": 0.01}]
    decision = decide(parse("なんかもう全部どうでもいい", "crisis", 0.99, ranking))
    assert decision.route == "emergency" and decision.crisis_kinds == ["general"]
    models = {"danger": 0.93, "kinds": {"missing": 0.8, "suicide": 0.1}}
    decision = decide(parse("うちの子がまだ見つからないんです", "vague", 0.4, models=models))
    assert decision.route == "emergency" and decision.crisis_kinds == ["missing"]


def test_unusable_text_becomes_fallback():
    assert parse("😀😀😀", "greet", 0.9)["intent"]["name"] == "nlu_fallback"


@pytest.mark.parametrize("text", ["123", "０９０－１２３４－５６７８", "110"])
def test_digits_alone_carry_no_intent(text):
    assert parse(text, "emergency_info", 0.9)["intent"]["name"] == "nlu_fallback"


def test_a_weak_complex_guess_does_not_override_one_named_field():
    weak = parse("子どもが不登校で悩んでいます", "worry_complex", 0.6)
    assert decide(weak).route == "kodomo"


@pytest.mark.parametrize("text,kind", [("म मर्न चाहन्छु", "suicide"), ("Tôi không có gì ăn", "lifeline"),
                                       ("죽고 싶어요", "suicide"), ("おっと が たたく", "violence")])
def test_spaces_inside_other_scripts_are_kept_and_japanese_words_joined(text, kind):
    assert detect(text).kinds == [kind]


@pytest.mark.parametrize("text", ["मेरो काम छुट्यो र घरभाडा तिर्न पैसा छैन। म कहाँ सोध्न सक्छु?",
                                  "我在工厂的工作没有了，下个月的房租付不起，应该去哪里咨询？"])
def test_another_language_goes_the_worry_way_whatever_the_classifier_guessed(text):
    guessed = [{"name": "out_of_scope", "confidence": 0.7}, {"name": "greet", "confidence": 0.3}]
    assert guard_intent(guessed[0], guessed, [], text)["name"] == "vague"


@pytest.mark.parametrize("text,kinds", [("Saya kehilangan pekerjaan dan tidak bisa membayar sewa.", []),
                                        ("Anak saya hilang sejak tadi pagi", ["missing"]),
                                        ("Nawawala ang pitaka ko", []), ("Nawawala ang anak ko kahapon pa", ["missing"])])
def test_a_missing_person_in_other_languages_is_a_person_not_a_job_or_a_wallet(text, kinds):
    assert detect(text).kinds == kinds


def test_a_fever_that_is_over_is_not_a_sick_child_at_night():
    assert detect("My son had a fever last week, now he is fine. Which clinic is open on Sunday?").kinds == []


def test_the_models_danger_counts_only_where_they_learned_the_language():
    sure = [{"name": "crisis", "confidence": 0.95}, {"name": "worry_poverty", "confidence": 0.05}]
    rent = "회사에서 해고되어서 월세를 낼 수 없어요. 어디에 상담하면 되나요?"
    assert decide(parse(rent, "crisis", 0.95, sure)).route != "emergency"
    assert decide(parse("仕事がなくて、もう生きていけない気がする", "crisis", 0.95, sure)).route == "emergency"
