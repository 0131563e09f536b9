"""The vocabulary: every name the data files, the NLU, the dialogue, the store and the staff pages
share, in one place. Each loader checks its data against it (``check_names``; every file at
start-up: bot/core/datacheck.py), so a data file that names an unknown field, agency or weekday stops
the start with a clear error.

What is *not* here, because a data file is its home:
- agencies (slug, name, the main field each takes first): directory/agencies.yml
- kinds of danger (label, headings, lines): ``crisis_kinds`` in directory/hotlines.yml
"""
from typing import Iterable

MAIN_FIELDS = ("elderly", "disability", "child", "poverty")
BETWEEN_FIELDS = ("hikikomori", "isolation", "hoarding", "young_carer", "8050", "double_care",
                  "foreign", "dv_abuse")
ALL_FIELDS = MAIN_FIELDS + BETWEEN_FIELDS
# Lexicon label for words that only say a child is involved (counts as ``child``, see bot.core.routing).
CHILD_CONTEXT = "child_context"
# In-between fields that send a worry to 総合相談支援センター only when no main field owns it
# (育児で孤独 is a parenting worry; 一人で誰とも話さない is isolation).
WEAK_BETWEEN_FIELDS = ("isolation",)

# Staff-facing names of the fields (the buttons residents press are worded in domain.yml utter_greet).
FIELD_LABELS = {
    "elderly": "高齢・介護",
    "disability": "障がい",
    "child": "子ども・子育て・妊娠",
    "poverty": "生活困窮・仕事・借金",
    "hikikomori": "ひきこもり",
    "isolation": "社会的孤立",
    "hoarding": "ゴミ屋敷・ためこみ",
    "young_carer": "ヤングケアラー",
    "8050": "8050問題",
    "double_care": "ダブルケア（介護と子育て）",
    "foreign": "外国籍住民の困りごと",
    "dv_abuse": "DV・虐待",
}

# The one agency the code names: complex, in-between and unclear worries go there (every other
# agency, and which main field it takes, is data: directory/agencies.yml).
SOGO = "sogo"
# Routes that are not an agency.
EMERGENCY, OUT_OF_SCOPE = "emergency", "out_of_scope"

# Kinds of danger the code itself names (bot/core/danger.py tells violence, child_abuse, elder_abuse and
# sexual_violence apart; ``general`` answers a kind the data lacks): directory/hotlines.yml must have
# them. Every other kind is data only.
REQUIRED_CRISIS_KINDS = ("general", "violence", "child_abuse", "elder_abuse", "sexual_violence")

WORRY_INTENT_FIELD = {
    "worry_elderly": "elderly",
    "worry_disability": "disability",
    "worry_child": "child",
    "worry_poverty": "poverty",
}
CONSENT_LABELS = {"yes": "同意あり", "no": "同意なし", "not_asked": "未確認"}
URGENCY_LEVELS = ("low", "medium", "high")  # in rising order
URGENCY_LABELS = {"high": "高", "medium": "中", "low": "低"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
WEEKDAY_LABELS = {"mon": "月", "tue": "火", "wed": "水", "thu": "木", "fri": "金", "sat": "土", "sun": "日"}

# Sender ids carry their channel as a prefix (the web side adds it; the actions read it back).
CHANNEL_PREFIXES = {"web": "web-", "line": "line-"}
# A case's reference number (「482-9135」): made and checked in bot/core/store.py (new_reference,
# is_valid_reference), its one home.


def channel_of_sender(sender_id: str) -> str:
    """``line`` for ``line-...`` sender ids, else ``web``."""
    return "line" if (sender_id or "").startswith(CHANNEL_PREFIXES["line"]) else "web"


def higher_urgency(a: str, b: str) -> str:
    return max(a or "low", b or "low", key=URGENCY_LEVELS.index)


class VocabularyError(ValueError):
    """A data file names something the vocabulary does not know."""


def check_names(values: Iterable[str], known: Iterable[str], where: str, what: str,
                error: type = VocabularyError) -> tuple:
    """``values`` as a tuple if every one is in ``known``, else ``error`` naming the unknown ones,
    the file and what was expected."""
    values, known = tuple(values or ()), tuple(known)
    unknown = [v for v in values if v not in known]
    if unknown:
        raise error(f"{where}: unknown {what} {unknown} (known: {', '.join(map(str, known))})")
    return values
