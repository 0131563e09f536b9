"""Residents who write in another language, through /api/chat against the real stack: a plain
worry gets the short text in that language (directory/languages.yml) with the lines that take
foreign languages; danger gets the heading in that language with 110 and 119 first."""
import pytest

from bot.core.directory import get_directory
from bot.core.replies import language_text
from tests.conftest import all_text

pytestmark = pytest.mark.stack

# (language, a plain worry, danger) written for these tests.
RESIDENTS = [
    ("en", "I lost my job at the factory and I cannot pay my rent next month. Where can I ask for help?",
     "My husband hits me every night and I am scared he will kill me"),
    ("vi", "Tôi bị mất việc ở công ty và không có tiền trả tiền nhà. Tôi nên hỏi ở đâu?",
     "Chồng tôi đánh tôi mỗi ngày, tôi rất sợ"),
    ("zh", "我在工厂的工作没有了，下个月的房租付不起，应该去哪里咨询？",
     "我不想活了，想死"),
    ("ko", "회사에서 해고되어서 월세를 낼 수 없어요. 어디에 상담하면 되나요?",
     "남편이 매일 때려요. 너무 무서워요"),
    ("tl", "Nawalan ako ng trabaho at wala akong pambayad sa upa. Saan ako puwedeng humingi ng tulong?",
     "Sinasaktan ako ng asawa ko araw-araw, natatakot ako"),
    ("ne", "मेरो काम छुट्यो र घरभाडा तिर्न पैसा छैन। म कहाँ सोध्न सक्छु?",
     "म मर्न चाहन्छु, बाँच्न मन छैन"),
    ("id", "Saya kehilangan pekerjaan dan tidak bisa membayar sewa rumah. Di mana saya bisa minta tolong?",
     "Suami saya memukul saya setiap hari, saya takut"),
]


@pytest.mark.parametrize("language,worry,danger", RESIDENTS, ids=[r[0] for r in RESIDENTS])
def test_a_plain_worry_is_answered_in_the_residents_language(conversation, language, worry, danger):
    messages = conversation.say(worry)
    text = all_text(messages)
    directory = get_directory()
    assert language_text(directory, language) in text, text
    assert directory.hotlines["foreign_center"].number in text
    assert directory.agency("sogo").phone in text
    assert "伝えてもよいですか" not in text  # not sent into the Japanese intake


@pytest.mark.parametrize("language,worry,danger", RESIDENTS, ids=[r[0] for r in RESIDENTS])
def test_danger_is_answered_first_with_emergency_numbers(conversation, language, worry, danger):
    messages = conversation.say(danger)
    first = messages[0]
    assert first.get("custom", {}).get("type") == "crisis", all_text(messages)
    directory = get_directory()
    assert first["custom"]["heading"] == directory.foreign_headings[language]
    assert first["text"].startswith(directory.foreign_headings[language])
    numbers = [line["number"] for line in first["custom"]["lines"]]
    assert "110" in first["custom"]["heading"] and "119" in first["custom"]["heading"]
    assert directory.hotlines["foreign_center"].number in numbers
