"""A case's summary as the actions build it (``bot.core.summary.build_summary``), for tests that store
cases: the staff pages, the store, its internal endpoint."""
from __future__ import annotations

from bot.core.clock import now
from bot.core.summary import build_summary

SLOTS = {"consulter": "家族", "consulter_relation": "子", "subject_age": "80代以上", "subject_living": "一人暮らし",
         "wish_urgency": "数日のうち", "contact_method": "電話", "contact_time": "平日の午前",
         "contact_name": "北斗花子", "contact_phone": "090-1111-2222"}


def case_summary(*, consent: bool = True, urgency: str = "low", urgent: bool = False, channel: str = "web",
                 fields=("elderly", "hikikomori"), phrases=(), slots: dict = SLOTS) -> dict:
    """A summary with these values; ``urgent`` names a kind of danger (suicide) in it."""
    fields = list(fields)
    return build_summary(
        received_at=now(), channel=channel, consent="yes" if consent else "no", fields=fields,
        main_field=fields[0] if fields else None, urgency=urgency, urgency_phrases=list(phrases),
        crisis_kinds=["suicide"] if urgent else [], route="sogo", route_reason="複数の分野にまたがるため",
        agency_name="北斗市総合相談支援センター", slots=slots)
