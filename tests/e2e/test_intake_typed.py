"""The intake form as residents type it, through /api/chat against the real stack, with the stored
record read back: skips, going back, stopping, negations, whole words, natural answers, conditional
consent, questions in the middle, corrections at the read-back, one case per conversation."""
import json

import pytest

from bot.core.directory import get_directory
from bot.core.intake import SKIPPED
from bot.core.store import get_handoff, open_store
from bot.web.staff.queries import Filters, events, list_handoffs
from tests.conftest import REF, all_text

pytestmark = pytest.mark.stack

COMPLEX = "認知症の母の介護で仕事を辞めて、借金の返済もできません"


def to_form(conversation, consent="はい"):
    assert "伝えてもよいですか" in all_text(conversation.say(COMPLEX))
    text = all_text(conversation.say(consent))
    assert "相談しているのはどなたですか" in text, text
    return text


def answer_all(conversation, answers):
    text = ""
    for said in answers:
        text = all_text(conversation.say(said))
    return text


def send(conversation, db_path):
    ref = REF.search(all_text(conversation.say("はい"))).group(1)
    return get_handoff(open_store(db_path), ref)


@pytest.mark.parametrize("skip", ["スキップ", "パス", "答えたくないです"])
def test_a_skip_word_skips_one_question_only(conversation, skip):
    to_form(conversation)
    text = all_text(conversation.say(skip))
    assert "年代" in text and "やめます" not in text


@pytest.mark.parametrize("back", ["もどる", "戻って", "前の質問に戻って"])
def test_going_back_asks_the_previous_question_again(conversation, back):
    to_form(conversation)
    conversation.say('/inform{"form_answer": "本人"}')
    assert "相談しているのはどなたですか" in all_text(conversation.say(back))


@pytest.mark.parametrize("first", ["仕事をやめたい", "もう仕事やめたいんだけど次が見つかるか不安", "会社をやめたいです、生活が心配"])
def test_quitting_a_job_is_a_worry_not_the_stop_command(conversation, first):
    messages = conversation.say(first)
    assert "やめます" not in all_text(messages)
    cards = [m["custom"]["agency"]["slug"] for m in messages if m.get("custom", {}).get("type") == "agency_card"]
    assert cards and cards[0] in ("seikatsu", "sogo"), all_text(messages)


@pytest.mark.parametrize("story", ["最初から話すと、母が去年倒れて、それから介護が続いています",
                                   "最初から説明すると、息子が3年前から部屋から出てこないんです",
                                   "はじめから言うと、借金が増えたのは夫が仕事をなくしてからです"])
def test_a_story_that_starts_with_from_the_beginning_is_not_a_reset(conversation, story):
    text = all_text(conversation.say(story))
    assert "会話を最初からにしました" not in text and "こんにちは" not in text


def test_stop_asks_whether_to_send_what_is_there(conversation, db_path):
    to_form(conversation)
    conversation.say('/inform{"form_answer": "本人"}')
    assert "送りますか" in all_text(conversation.say("やめる"))
    assert "この内容で送ってよいですか" in all_text(conversation.say("はい"))
    row = send(conversation, db_path)
    assert row["summary"]["consulter"]["type"] == "本人"


@pytest.mark.parametrize("said", ["急ぎではないです", "今日じゃなくていいです", "急いでないです"])
def test_negated_urgency_is_not_today(conversation, db_path, said):
    to_form(conversation)
    answer_all(conversation, ['/inform{"form_answer": "本人"}', '/inform{"form_answer": "40〜50代"}',
                              '/inform{"form_answer": "家族と同居"}'])
    conversation.say(said)
    answer_all(conversation, ['/inform{"form_answer": "匿名"}'])
    row = send(conversation, db_path)
    assert row["summary"]["urgency"]["resident_wish"] == "急がない"
    assert row["urgent"] == 0


@pytest.mark.parametrize("said", ["電話はしないでください", "電話はやめてください", "電話はかけないでほしい"])
def test_no_phone_means_never_call(conversation, db_path, said):
    to_form(conversation)
    answer_all(conversation, ['/inform{"form_answer": "本人"}', '/inform{"form_answer": "40〜50代"}',
                              '/inform{"form_answer": "家族と同居"}', '/inform{"form_answer": "急がない"}'])
    text = all_text(conversation.say(said))
    assert "電話番号を書いて" not in text
    while "この内容で送ってよいですか" not in text:
        text = all_text(conversation.say("スキップ"))
    row = send(conversation, db_path)
    assert row["summary"]["wish"]["contact_method"] == "電話はしないでほしい"
    assert row["summary"]["wish"]["phone"] is None


@pytest.mark.parametrize("said,relation", [("娘です", "子（娘）"), ("息子です", "子（息子）"), ("妻です", "配偶者（妻）")])
def test_a_relation_word_answers_both_questions(conversation, db_path, said, relation):
    to_form(conversation)
    assert "年代" in all_text(conversation.say(said))
    answer_all(conversation, ['/inform{"form_answer": "80代以上"}', '/inform{"form_answer": "一人暮らし"}',
                              '/inform{"form_answer": "急がない"}', '/inform{"form_answer": "匿名"}'])
    row = send(conversation, db_path)
    assert row["summary"]["consulter"] == {"type": "家族", "relation": relation}


def test_daijoubu_is_not_a_husband(conversation):
    to_form(conversation)
    text = all_text(conversation.say("大丈夫です"))
    assert "年代" not in text and "どんな関係" not in text


@pytest.mark.parametrize("age,band", [("85歳", "80代以上（85歳）"), ("七十八歳です", "60〜70代（七十八歳）"),
                                      ("中2です", "10代以下（中2）")])
def test_natural_answers_are_stored_as_meant(conversation, db_path, age, band):
    to_form(conversation)
    answer_all(conversation, ['/inform{"form_answer": "本人"}', age, "母と二人で住んでます", "数日のうちに", "電話で",
                              "夜", "佐藤です"])
    text = all_text(conversation.say("090-1234-567"))
    assert "けたが足りない" in text
    text = all_text(conversation.say("携帯は09012345678です"))
    assert "この内容で送ってよいですか" in text and "（なし）" not in text
    row = send(conversation, db_path)
    s = row["summary"]
    assert s["subject"]["age_band"] == band
    assert s["subject"]["living"].startswith("家族と同居（母と二人")
    assert s["wish"] == {"contact_method": "電話", "contact_time": "夜", "name": "佐藤", "phone": "090-1234-5678"}


def test_a_local_number_gets_hokutos_area_code_and_says_so(conversation, db_path):
    to_form(conversation)
    answer_all(conversation, ['/inform{"form_answer": "本人"}', '/inform{"form_answer": "60〜70代"}',
                              '/inform{"form_answer": "一人暮らし"}', '/inform{"form_answer": "急がない"}',
                              '/inform{"form_answer": "電話"}', "土日", "匿名で"])
    text = all_text(conversation.say("73-1234"))
    assert "0138" in text and "0138-73-1234" in text
    row = send(conversation, db_path)
    assert row["summary"]["wish"]["phone"] == "0138-73-1234" and row["summary"]["wish"]["name"] is None


@pytest.mark.parametrize("condition", ["家族に知られないならいいです", "名前は言いたくないです", "匿名ならいいですよ"])
def test_conditional_consent_is_answered_then_asked_again(conversation, condition):
    conversation.say(COMPLEX)
    text = all_text(conversation.say(condition))
    assert "知らせることはありません" in text and "名前を書かなくても" in text
    assert "伝えてもよいですか" in text and "相談しているのはどなたですか" not in text
    assert "相談しているのはどなたですか" in all_text(conversation.say("はい"))


@pytest.mark.parametrize("question,expected", [("これって無料ですか", "お金"), ("受付時間は？", "受付時間"),
                                                ("匿名でも大丈夫ですか", "名前を書かなくても")])
def test_a_question_in_the_middle_is_answered_and_not_counted_as_a_failure(conversation, question, expected):
    to_form(conversation)
    text = all_text(conversation.say(question))
    assert expected in text and "相談しているのはどなたですか" in text
    text = all_text(conversation.say("ありがとう"))  # one unclear answer: asked again, not skipped
    assert "うまく受け取れませんでした" in text and "とばします" not in text


def test_a_long_story_at_a_button_question_is_kept(conversation, db_path):
    to_form(conversation)
    story = "実は母のことだけじゃなくて、弟も仕事をやめてから家にいて、朝から晩までゲームばかりしています"
    text = all_text(conversation.say(story))
    assert "そのまま相談の内容" in text and "相談しているのはどなたですか" in text
    answer_all(conversation, ['/inform{"form_answer": "本人"}', '/inform{"form_answer": "80代以上"}',
                              '/inform{"form_answer": "一人暮らし"}', '/inform{"form_answer": "急がない"}',
                              '/inform{"form_answer": "匿名"}'])
    row = send(conversation, db_path)
    assert "弟も仕事をやめてから" in row["resident_text"]


@pytest.mark.parametrize("fix", ["急ぎ具合が違います", "急ぎのところ、まちがえました", "いいえ、急ぎがちがう"])
def test_one_item_corrected_at_the_read_back(conversation, db_path, fix):
    to_form(conversation)
    text = answer_all(conversation, ['/inform{"form_answer": "本人"}', '/inform{"form_answer": "40〜50代"}',
                                     '/inform{"form_answer": "家族と同居"}', '/inform{"form_answer": "今日中"}',
                                     '/inform{"form_answer": "匿名"}'])
    assert "・急ぎ具合：今日中" in text and "お名前" not in text
    assert "急いでいますか" in all_text(conversation.say(fix))
    assert "・急ぎ具合：急がない" in all_text(conversation.say('/inform{"form_answer": "急がない"}'))
    row = send(conversation, db_path)
    assert row["summary"]["urgency"]["resident_wish"] == "急がない"


def test_send_now_from_the_third_question(conversation, db_path):
    to_form(conversation)
    answer_all(conversation, ['/inform{"form_answer": "本人"}', '/inform{"form_answer": "40〜50代"}'])
    assert "この内容で送ってよいですか" in all_text(conversation.say("これで送る"))
    row = send(conversation, db_path)
    assert row["summary"]["subject"]["age_band"] == "40〜50代" and row["summary"]["wish"]["contact_method"] is None


def _case(conversation, db_path):
    to_form(conversation)
    answer_all(conversation, ['/inform{"form_answer": "本人"}', '/inform{"form_answer": "40〜50代"}',
                              '/inform{"form_answer": "家族と同居"}', '/inform{"form_answer": "急がない"}',
                              '/inform{"form_answer": "匿名"}'])
    return send(conversation, db_path)


def test_after_the_number_a_later_worry_joins_the_same_case(conversation, db_path):
    row = _case(conversation, db_path)
    db = open_store(db_path)
    before = db["handoffs"].count
    text = all_text(conversation.say("あと、子どもが学校に行けていないことも相談したいです"))
    assert row["ref"] in text
    assert db["handoffs"].count == before
    again = get_handoff(db, row["ref"])
    assert "child" in again["fields"] and "学校に行けていない" in again["resident_text"]
    assert any("相談を追加" in (e["note"] or "") for e in events(db, again["id"]))


@pytest.mark.parametrize("ask", ["受付番号は何でしたっけ？", "さっきの番号、もう一度教えて", "受付番号を忘れてしまいました"])
def test_the_number_is_repeated_on_request(conversation, db_path, ask):
    row = _case(conversation, db_path)
    text = all_text(conversation.say(ask))
    assert row["ref"] in text and "110" not in text


def test_no_then_yes_leaves_one_record(conversation, db_path):
    db = open_store(db_path)
    before = db["handoffs"].count
    conversation.say(COMPLEX)
    conversation.say("いいえ")
    assert db["handoffs"].count == before + 1
    assert "伝えてもよいですか" in all_text(conversation.say("やっぱり伝えてほしいです"))
    assert "相談しているのはどなたですか" in all_text(conversation.say("はい"))
    answer_all(conversation, ['/inform{"form_answer": "本人"}', '/inform{"form_answer": "40〜50代"}',
                              '/inform{"form_answer": "家族と同居"}', '/inform{"form_answer": "急がない"}',
                              '/inform{"form_answer": "匿名"}'])
    row = send(conversation, db_path)
    assert db["handoffs"].count == before + 1
    assert row["consent"] == "yes"
    assert any("同意あり" in (e["note"] or "") for e in events(db, row["id"]))


@pytest.mark.parametrize("danger,kind", [("夫に殴られて、いま家の外に逃げています", "violence"),
                                         ("やっぱりもう死にたい", "suicide"),
                                         ("母が朝から帰ってこない、認知症です", "missing")])
def test_danger_after_the_number_raises_the_stored_case_to_the_top(conversation, db_path, danger, kind):
    row = _case(conversation, db_path)
    assert row["urgency"] != "high"
    messages = conversation.say(danger)
    assert messages[0]["custom"]["type"] == "crisis"
    assert row["ref"] in all_text(messages)
    db = open_store(db_path)
    raised = get_handoff(db, row["ref"])
    assert raised["urgency"] == "high" and raised["urgent"] == 1
    assert kind in raised["summary"]["urgency"]["crisis_kinds"]
    assert any(e["kind"] == "danger" for e in events(db, raised["id"]))
    queue, _ = list_handoffs(db, Filters())
    pinned = [r["ref"] for r in queue if r["pinned"]]
    assert row["ref"] in pinned
