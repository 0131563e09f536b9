"""Residents' first questions about the service (匿名で相談できますか, 家族にバレますか, お金は
かかりますか, 場所は, 受付時間は, 受付番号は何でしたっけ), answered from ``directory/faq.yml`` and
the directory. Used at any turn, inside the intake form too, on the widget and on LINE.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bot.core.directory import DIRECTORY_DIR, Directory
from bot.core.textnorm import contains_gapped, fold_gapped, fold_kana

HOURS, REFERENCE = "hours", "reference"


@dataclass(frozen=True)
class Topic:
    name: str
    words: Tuple[str, ...]  # folded once at load (bot.core.textnorm.fold_gapped)
    answer: str
    confirmed: bool


@dataclass(frozen=True)
class Faq:
    topics: Tuple[Topic, ...]
    question_marks: Tuple[str, ...]

    def topic_of(self, text: str) -> Optional[Topic]:
        """The topic a question is about (the first whose words appear), or None."""
        folded = fold_kana(text)
        for topic in self.topics:
            if any(contains_gapped(folded, w) for w in topic.words):
                return topic
        return None

    def is_question(self, text: str) -> bool:
        """Ends like a question (か, ？, っけ), asks (教えて), or is a short 「受付時間は」."""
        folded = fold_kana(text).rstrip("。.!！ ")
        marks = self.question_marks
        return (any(folded.endswith(m) for m in marks) or "?" in folded or "？" in folded
                or any(m in folded for m in marks if len(m) >= 3) or (len(folded) <= 12 and folded.endswith("は")))

    def question_topic(self, text: str) -> Optional[Topic]:
        """The topic when ``text`` is a question about the service, else None."""
        topic = self.topic_of(text)
        return topic if topic is not None and self.is_question(text) else None

    @property
    def unconfirmed(self) -> List[str]:
        return [t.name for t in self.topics if not t.confirmed]


@lru_cache(maxsize=1)
def faq(path: Path = DIRECTORY_DIR / "faq.yml") -> Faq:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    topics = tuple(Topic(name, tuple(fold_gapped(str(w)) for w in t["words"]), t["answer"], bool(t.get("confirmed")))
                   for name, t in data["topics"].items())
    return Faq(topics, tuple(fold_kana(str(m)) for m in data.get("question_marks") or ()))


def answer(topic: Topic, directory: Directory, when: datetime, reference: Optional[str] = None) -> List[dict]:
    """The reply messages for a topic (the hours topic: the sogo card's hours and, when closed,
    the 24-hour lines)."""
    from bot.core.hours import describe_hours, is_open
    from bot.core.replies import always_open_text
    sogo = directory.agency("sogo")
    if topic.answer == HOURS:
        messages = [{"text": f"{sogo.name}の{describe_hours(sogo, when)}"}]
        if not is_open(sogo, when):
            messages.append({"text": always_open_text(directory)})
        return messages
    if topic.answer == REFERENCE:
        if reference:
            return [{"text": f"受付番号は「{reference}」です。電話するときに伝えてください。{sogo.name}：{sogo.phone}"}]
        return [{"text": "この会話では、まだ受付番号はお出ししていません。"}]
    values: Dict[str, str] = {"sogo_name": sogo.name, "sogo_phone": sogo.phone, "sogo_address": sogo.address}
    return [{"text": topic.answer.format(**values)}]
