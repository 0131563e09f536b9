"""Whether an agency is open now and how to say so, from the directory's hours."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.core.calendar_jp import is_national_holiday
from bot.core.clock import JST
from bot.core.directory import Agency
from bot.core.fields import WEEKDAY_LABELS as DAY_NAMES, WEEKDAYS


def _hhmm(value: str) -> str:
    hour, minute = value.split(":")
    return f"{int(hour)}時" + (f"{int(minute)}分" if int(minute) else "")


def _local(when: datetime) -> datetime:
    """``when`` in Japan time (naive times are taken as Japan time)."""
    return when.astimezone(JST) if when.tzinfo is not None else when


def is_closed_day(agency: Agency, day: date) -> bool:
    """Closed all day: not one of the weekdays, a closure day (12-29 .. 01-03) or a national
    holiday, as the directory says (the hours may be unconfirmed)."""
    hours = agency.hours
    return (WEEKDAYS[day.weekday()] not in hours.weekdays
            or day.strftime("%m-%d") in hours.closed_days
            or (hours.closed_on_national_holidays and is_national_holiday(day)))


def is_open(agency: Agency, when: datetime) -> bool:
    """Open by the directory's (possibly unconfirmed) hours, closure days and national holidays."""
    hours = agency.hours
    when = _local(when)
    return not is_closed_day(agency, when.date()) and hours.open <= when.strftime("%H:%M") < hours.close


def next_opening(agency: Agency, when: datetime) -> datetime:
    """The next time the office opens after ``when``, skipping closed days."""
    hours = agency.hours
    when = _local(when)
    hour, minute = (int(x) for x in hours.open.split(":"))
    for days_ahead in range(0, 366):  # a year: every closure pattern ends well before
        day = when + timedelta(days=days_ahead)
        start = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if start > when and not is_closed_day(agency, day.date()):
            return start
    return when


def weekly_hours_text(agency: Agency) -> str:
    hours = agency.hours
    days = hours.weekdays
    if days == ("mon", "tue", "wed", "thu", "fri"):
        day_text = "平日（月〜金）"
    else:
        day_text = "・".join(DAY_NAMES[d] for d in days) + "曜日"
    return f"{day_text} {_hhmm(hours.open)}〜{_hhmm(hours.close)}"


def describe_hours(agency: Agency, when: datetime) -> str:
    """One or two short sentences: hours, open now or when a person can answer.

    Unconfirmed hours are said to be expected ("見込み") and liable to change, never stated as
    fact; which values are unconfirmed is for the city (README, start-up log), not residents."""
    hours = agency.hours
    when = _local(when)
    weekly = weekly_hours_text(agency)
    note = f"（{hours.closed_note}）" if hours.closed_note else ""
    if hours.confirmed:
        head = f"受付時間は{weekly}です{note}。"
    else:
        head = f"受付時間は{weekly}の見込みです{note}。受付の日や時間は変わることがあります。"
    if is_open(agency, when):
        return head + "いまは受付時間内の見込みです。"
    day, time = next_opening_words(agency, when)
    return head + f"いまは時間外です。次に担当の人が電話に出られるのは、{day}の{time}ごろの見込みです。"


def next_opening_words(agency: Agency, when: datetime, today: str = "今日", tomorrow: str = "明日") -> tuple:
    """(day, time) of the next opening as words: 今日 / 明日 / 1月4日（月）, 8時45分."""
    when = _local(when)
    nxt = next_opening(agency, when)
    day = today if nxt.date() == when.date() else (tomorrow if nxt.date() == (when + timedelta(days=1)).date()
                                                   else f"{nxt.month}月{nxt.day}日（{DAY_NAMES[WEEKDAYS[nxt.weekday()]]}）")
    return day, _hhmm(agency.hours.open)
