"""Japanese national holidays (国民の祝日, 振替休日, 国民の休日), from the maintained ``holidays``
package rather than a list kept by hand. Which days an office is closed is decided in
bot/core/hours.py with the directory's data (year-end closure and so on)."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Optional

import holidays


@lru_cache(maxsize=32)
def _japan(year: int):
    try:
        return holidays.country_holidays("JP", years=year)
    except (NotImplementedError, ValueError):  # outside the years the package knows
        return {}


def national_holiday(day: date) -> Optional[str]:
    """The holiday's (English) name, or None when ``day`` is not a national holiday."""
    return _japan(day.year).get(day)


def is_national_holiday(day: date) -> bool:
    return national_holiday(day) is not None
