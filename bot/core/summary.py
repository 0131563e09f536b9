"""The handoff summary, laid out like the city's 相談受付票 (the intake sheet staff fill in).

``build_summary`` makes the JSON stored in ``handoffs.summary``; ``read_back_text`` is what the
resident sees before confirming; ``redact`` masks contact details in free text.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable, List, Optional

from bot.core.directory import get_directory
from bot.core.fields import CONSENT_LABELS, FIELD_LABELS, SOGO, URGENCY_LABELS
from bot.core.intake import SKIPPED


# What a handoff keeps without consent, and all that is left of one after retention: no answer of
# the resident's, only the fields, the urgency read from the text, channel, time and the agency.
ANONYMOUS_KEYS = ("reception", "fields", "urgency", "consent", "consent_label", "suggested_agency")

_PHONE_IN_TEXT = re.compile(r"0\d{1,4}[-‐－ー−\s]?\d{1,4}[-‐－ー−\s]?\d{3,4}")
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def redact(text: str) -> str:
    """Mask phone numbers and e-mail addresses in a resident's own words."""
    return _EMAIL_IN_TEXT.sub("［メール］", _PHONE_IN_TEXT.sub("［電話番号］", text))


def _answer(value: Optional[str]) -> Optional[str]:
    return None if value in (None, "", SKIPPED) else value


def anonymous_summary(summary: dict) -> dict:
    """The anonymous minimum of a summary (``ANONYMOUS_KEYS``; the resident's own wish left out)."""
    kept = {key: summary[key] for key in ANONYMOUS_KEYS if key in summary}
    if isinstance(kept.get("urgency"), dict):
        kept["urgency"] = dict(kept["urgency"], resident_wish=None)
    return kept


def suggested_agency(route: str) -> str:
    """Where the case goes: 総合相談支援センター for complex cases, else the field's agency."""
    return route if route in get_directory().field_route.values() else SOGO


def build_summary(
    *,
    received_at: datetime,
    channel: str,
    consent: str,
    fields: List[str],
    main_field: Optional[str],
    urgency: str,
    urgency_phrases: Iterable[str],
    crisis_kinds: Iterable[str],
    route: str,
    route_reason: str,
    agency_name: str,
    slots: dict,
    notes: Iterable[str] = (),
) -> dict:
    """One record per handoff. Without consent only the anonymous minimum is kept:
    fields, urgency, channel and time."""
    summary = {
        "reception": {
            "received_at": received_at.isoformat(timespec="seconds"),
            "channel": channel,
            "anonymous": not _answer(slots.get("contact_name")),
        },
        "fields": {
            "all": list(fields),
            "labels": [FIELD_LABELS.get(f, f) for f in fields],
            "main": main_field,
            "main_label": FIELD_LABELS.get(main_field or "", None),
        },
        "urgency": {
            "level": urgency,
            "label": URGENCY_LABELS.get(urgency, urgency),
            "phrases": list(urgency_phrases),
            "crisis_kinds": list(crisis_kinds),
            "resident_wish": None,
        },
        "consent": consent,
        "consent_label": CONSENT_LABELS[consent],
        "suggested_agency": {"slug": suggested_agency(route), "name": agency_name,
                             "reason": route_reason},
    }
    if consent != "yes":
        return anonymous_summary(summary)
    summary["urgency"]["resident_wish"] = _answer(slots.get("wish_urgency"))
    summary["consulter"] = {"type": _answer(slots.get("consulter")),
                            "relation": _answer(slots.get("consulter_relation"))}
    summary["subject"] = {"age_band": _answer(slots.get("subject_age")),
                          "living": _answer(slots.get("subject_living"))}
    summary["household"] = _household(slots)
    summary["wish"] = {
        "contact_method": _answer(slots.get("contact_method")),
        "contact_time": _answer(slots.get("contact_time")),
        "name": _answer(slots.get("contact_name")),
        "phone": _answer(slots.get("contact_phone")),
    }
    summary["notes"] = list(notes)
    return summary


def _household(slots: dict) -> List[dict]:
    """Members as far as told: the person concerned and, when living together, the consulter."""
    members = []
    if _answer(slots.get("subject_age")) or _answer(slots.get("subject_living")):
        members.append({"role": "相談の対象の方", "age_band": _answer(slots.get("subject_age")),
                        "living": _answer(slots.get("subject_living"))})
    if slots.get("consulter") == "家族" and slots.get("subject_living") == "家族と同居":
        members.append({"role": "相談者（家族・同居）", "relation": _answer(slots.get("consulter_relation"))})
    return members


def read_back_text(summary: dict) -> str:
    """The summary as the resident sees it before confirming: only what was answered."""
    consulter = summary.get("consulter", {})
    subject = summary.get("subject", {})
    wish = summary.get("wish", {})
    who = consulter.get("type")
    if who and consulter.get("relation"):
        who += f"（困っている方の{consulter['relation'].split('（')[-1].rstrip('）')}）"
    method = wish.get("contact_method")
    if method and wish.get("contact_time"):
        method += f"（{wish['contact_time']}）"
    items = [
        ("困りごと", "、".join(summary["fields"]["labels"]) or "くわしくはお話のなかで"),
        ("相談している人", who),
        ("困っている方", "、".join(v for v in (subject.get("age_band"), subject.get("living")) if v)),
        ("急ぎ具合", summary["urgency"].get("resident_wish")),
        ("連絡の方法", method),
        ("お名前", wish.get("name")),
        ("電話番号", wish.get("phone")),
    ]
    lines = ["センターに伝える内容です。"] + [f"・{label}：{value}" for label, value in items if value]
    lines += [f"（{note}）" for note in summary.get("notes") or []]
    lines.append("この内容で送ってよいですか。なおしたいところがあれば、そこを書いてください（例：急ぎ具合が違う）。")
    return "\n".join(lines)
