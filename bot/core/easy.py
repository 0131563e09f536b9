"""やさしい日本語モード: the words that switch it (directory/easy_japanese.yml) and its fixed
sentences, numbers filled from the directory. Cards and crisis answers in this mode are built in
bot/core/replies.py from the same data as the ordinary ones."""
from __future__ import annotations

from functools import lru_cache
from typing import Optional

import yaml

from bot.core.directory import DIRECTORY_DIR, Directory, DirectoryError
from bot.core.textnorm import fold_kana

TO_EASY, TO_PLAIN = "to_easy", "to_plain"
REQUIRED_TEXTS = (TO_EASY, TO_PLAIN, "agency_intro", "distress_intro", "sogo_intro", "consent_question", "consent_yes",
                  "consent_no", "anything_else", "answer_yes", "answer_no", "ask_more", "ask_who_self",
                  "ask_who_family", "ask_who_neighbour", "phone", "place", "open_now", "closed_now", "today",
                  "tomorrow")


def _compact(text: str) -> str:
    return "".join(fold_kana(text).split()).rstrip("。．.!！")


@lru_cache(maxsize=1)
def _data() -> dict:
    data = yaml.safe_load((DIRECTORY_DIR / "easy_japanese.yml").read_text(encoding="utf-8")) or {}
    texts = data.get("texts") or {}
    missing = [k for k in REQUIRED_TEXTS if not texts.get(k)]
    if missing:
        raise DirectoryError(f"easy_japanese.yml: texts missing {missing}")
    switch = data.get("switch") or {}
    if not switch.get(TO_EASY) or not switch.get(TO_PLAIN):
        raise DirectoryError("easy_japanese.yml: switch needs 'to_easy' and 'to_plain' words")
    endings = sorted((_compact(e) for e in data.get("endings") or ()), key=len, reverse=True)
    words = {mode: {_compact(w) for w in switch[mode]} for mode in (TO_EASY, TO_PLAIN)}
    return {"texts": texts, "words": words, "endings": endings}


def switch_of(text: str) -> Optional[str]:
    """``TO_EASY`` or ``TO_PLAIN`` when the whole message asks for (or leaves) やさしい日本語, else None.
    「やさしい日本語で」「やさしい にほんご で おねがいします」 are ``TO_EASY``; a worry that mentions
    やさしい日本語 is not."""
    data = _data()
    compact = _compact(text)
    if len(compact) > 30:
        return None
    candidates = {compact}
    for ending in data["endings"]:
        if compact.endswith(ending) and len(compact) > len(ending):
            candidates.add(compact[: -len(ending)])
    for mode in (TO_EASY, TO_PLAIN):
        if candidates & data["words"][mode]:
            return mode
    return None


def easy_text(key: str, directory: Optional[Directory] = None, **values: str) -> str:
    """A fixed sentence of the mode; {police} and {fire_ambulance} come from the hotlines."""
    text = _data()["texts"][key]
    if directory is not None:
        values = dict(directory.emergency_numbers(), **values)
    return text.format(**values) if values else text
