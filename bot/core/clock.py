"""The clock, injectable: tests and demos set ``SOUDAN_NOW`` (ISO 8601) to run at any time."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Optional

JST = timezone(timedelta(hours=9), "JST")


def now() -> datetime:
    """Current time in Japan, or the fixed time in ``SOUDAN_NOW`` when set."""
    fixed = os.environ.get("SOUDAN_NOW")
    if fixed:
        value = datetime.fromisoformat(fixed)
        return value.replace(tzinfo=JST) if value.tzinfo is None else value.astimezone(JST)
    return datetime.now(JST)


def stamp(moment: Optional[datetime] = None) -> str:
    """``moment`` (default: now) as the stores write times: ISO 8601 to the second, with +09:00."""
    return (moment or now()).isoformat(timespec="seconds")
