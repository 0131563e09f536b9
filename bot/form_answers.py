"""Turn a resident's answer to a form question into a canonical value (or None when unclear).

Buttons send canonical values; typed answers are matched by keywords. ``SKIPPED`` marks a
question the resident chose not to answer (or that was skipped after two unclear answers).
"""
from __future__ import annotations

import re
from typing import Callable, Dict, Optional, Tuple

from bot.textnorm import fold_kana, normalize_text

SKIPPED = "未回答"
_SKIP_WORDS = ("skip", "スキップ", "答えない", "こたえない", "書かない", "かかない", "わからない", "分からない",
               "不明", "なし", "ない", "パス", "言いたくない", "いいたくない", "とばす", "飛ばす")

# (canonical value, keywords); the first choice with a keyword in the answer wins, so more
# specific choices come first (「母のことで娘の私が」 is 家族, not 本人).
_CHOICES: Dict[str, Tuple[Tuple[str, Tuple[str, ...]], ...]] = {
    "consulter": (
        ("家族", ("家族", "かぞく", "母", "父", "夫", "妻", "息子", "娘", "子ども", "こども", "子供", "親", "兄",
                 "姉", "弟", "妹", "孫", "祖母", "祖父", "嫁", "婿", "おっと", "つま")),
        ("近所・知人", ("近所", "きんじょ", "知人", "知り合い", "友人", "友達", "ともだち", "隣", "となり")),
        ("民生委員", ("民生委員", "みんせい", "児童委員")),
        ("関係機関", ("関係機関", "機関", "事業所", "ケアマネ", "病院", "学校", "施設", "職員", "支援員")),
        ("本人", ("本人", "じぶん", "自分", "わたし", "私", "僕", "ぼく", "俺", "おれ", "あたし")),
    ),
    "consulter_relation": (
        ("配偶者", ("配偶者", "夫", "妻", "おっと", "つま", "旦那", "だんな", "嫁さん")),
        ("子", ("子", "息子", "むすこ", "娘", "むすめ")),
        ("親", ("親", "母", "父", "はは", "ちち", "おかあさん", "おとうさん")),
        ("きょうだい", ("きょうだい", "兄", "姉", "弟", "妹", "あに", "あね", "おとうと", "いもうと")),
        ("孫", ("孫", "まご")),
        ("その他の家族", ("その他", "そのた", "おじ", "おば", "いとこ", "親戚")),
    ),
    "subject_age": (
        ("10代以下", ("10代以下", "10代", "十代", "子ども", "こども", "子供", "小学", "中学", "高校", "赤ちゃん",
                    "幼児", "乳児", "未成年")),
        ("20〜30代", ("20〜30代", "20代", "30代", "二十代", "三十代")),
        ("40〜50代", ("40〜50代", "40代", "50代", "四十代", "五十代")),
        ("60〜70代", ("60〜70代", "60代", "70代", "六十代", "七十代")),
        ("80代以上", ("80代以上", "80代", "90代", "100", "八十代", "九十代")),
    ),
    "subject_living": (
        ("一人暮らし", ("一人暮らし", "ひとり暮らし", "ひとりぐらし", "独居", "一人で", "ひとりで")),
        ("家族と同居", ("同居", "家族と", "一緒に", "いっしょに", "夫と", "妻と", "親と", "子と", "息子と", "娘と",
                      "二人暮らし", "ふたり暮らし")),
        ("施設・病院", ("施設", "病院", "入院", "入所", "ホーム")),
    ),
    "wish_urgency": (
        ("今日中", ("今日中", "今日", "きょう", "今すぐ", "いますぐ", "すぐ", "急ぎ", "至急", "早く", "はやく")),
        ("数日のうち", ("数日のうち", "数日", "今週", "近いうち", "明日", "あした")),
        ("急がない", ("急がない", "いそがない", "いつでも", "ゆっくり", "急いでない")),
    ),
    "contact_method": (
        ("匿名", ("匿名", "とくめい", "情報だけ", "連絡不要", "連絡はいらない", "連絡しないで")),
        ("電話", ("電話", "でんわ", "tel", "携帯")),
        ("来所", ("来所", "窓口", "行く", "いく", "伺う", "出向")),
        ("訪問", ("訪問", "来てほしい", "きてほしい", "家に来", "自宅")),
    ),
    "contact_time": (
        ("平日の午前", ("平日の午前", "午前", "朝", "あさ", "ごぜん")),
        ("平日の午後", ("平日の午後", "午後", "昼", "夕方", "ごご")),
        ("いつでも", ("いつでも", "いつも", "何時でも")),
    ),
}

_PHONE = re.compile(r"^0\d{9,10}$")


def _is_skip(folded: str) -> bool:
    return any(fold_kana(w) == folded or (len(w) > 2 and fold_kana(w) in folded) for w in _SKIP_WORDS)


def _choose(slot: str, value: str) -> Optional[str]:
    folded = fold_kana(value)
    for canonical, keywords in _CHOICES[slot]:
        if fold_kana(canonical) == folded:
            return canonical
    for canonical, keywords in _CHOICES[slot]:
        if any(fold_kana(k) in folded for k in keywords):
            return canonical
    return None


def normalize_phone(value: str) -> Optional[str]:
    """A Japanese phone number (landline 10 digits, mobile/IP 11 digits), hyphenated for reading,
    or None."""
    digits = re.sub(r"[\s\-‐－ー−()（）]", "", normalize_text(value))
    if not _PHONE.match(digits):
        return None
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if digits.startswith(("0120", "0570")):
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


def _name(value: str) -> Optional[str]:
    text = normalize_text(value)
    if not text or len(text) > 40 or re.search(r"\d{3,}|@|https?:", text):
        return None
    return text


PARSERS: Dict[str, Callable[[str], Optional[str]]] = {
    **{slot: (lambda v, s=slot: _choose(s, v)) for slot in _CHOICES},
    "contact_name": _name,
    "contact_phone": normalize_phone,
}


def parse_answer(slot: str, value: object) -> Optional[str]:
    """Canonical answer for ``slot``, ``SKIPPED`` when the resident declined, None when unclear."""
    if not isinstance(value, str) or not value.strip():
        return None
    if _is_skip(fold_kana(value)):
        return SKIPPED
    return PARSERS[slot](value)
