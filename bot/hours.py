"""Whether an agency is open now and how to say so, from the directory's hours."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.directory import Agency, WEEKDAYS

DAY_NAMES = {"mon": "月", "tue": "火", "wed": "水", "thu": "木", "fri": "金", "sat": "土", "sun": "日"}


def _hhmm(value: str) -> str:
    hour, minute = value.split(":")
    return f"{int(hour)}時" + (f"{int(minute)}分" if int(minute) else "")


def is_open(agency: Agency, when: datetime) -> bool:
    """Open by the directory's (possibly unconfirmed) weekly hours; holidays are not known."""
    hours = agency.hours
    return WEEKDAYS[when.weekday()] in hours.weekdays and hours.open <= when.strftime("%H:%M") < hours.close


def next_opening(agency: Agency, when: datetime) -> datetime:
    """The next time the office opens after ``when`` (by weekly hours)."""
    hours = agency.hours
    hour, minute = (int(x) for x in hours.open.split(":"))
    for days_ahead in range(0, 8):
        day = when + timedelta(days=days_ahead)
        start = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if WEEKDAYS[day.weekday()] in hours.weekdays and start > when:
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

    Unconfirmed hours are said to be unconfirmed ("見込み"), never stated as fact."""
    hours = agency.hours
    weekly = weekly_hours_text(agency)
    if hours.confirmed:
        head = f"受付時間は{weekly}です。"
    else:
        head = f"受付時間は{weekly}の見込みです（市に確認中です。祝日・年末年始は休みの場合があります）。"
    if is_open(agency, when):
        return head + "いまは受付時間内の見込みです。"
    nxt = next_opening(agency, when)
    day = "今日" if nxt.date() == when.date() else ("明日" if nxt.date() == (when + timedelta(days=1)).date()
                                                    else f"{nxt.month}月{nxt.day}日（{DAY_NAMES[WEEKDAYS[nxt.weekday()]]}）")
    return head + f"いまは時間外です。次に担当の人が電話に出られるのは、{day}の{_hhmm(hours.open)}ごろの見込みです。"
