"""National holidays (bot/core/calendar_jp.py, the ``holidays`` package) and the closure days in the
directory data."""
import copy
from datetime import date, datetime

import pytest
import yaml

from bot.core.calendar_jp import is_national_holiday, national_holiday
from bot.core.clock import JST
from bot.core.directory import DIRECTORY_DIR, DirectoryError, get_directory, parse_agencies
from bot.core.hours import is_closed_day, is_open


def raw_agencies():
    return yaml.safe_load((DIRECTORY_DIR / "agencies.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("day", [date(2026, 11, 23), date(2027, 1, 1), date(2027, 1, 11), date(2026, 9, 22),
                                 date(2027, 3, 22), date(2027, 5, 5)])
def test_national_holidays(day):
    assert is_national_holiday(day), day


@pytest.mark.parametrize("day", [date(2026, 11, 24), date(2026, 12, 28), date(2027, 1, 4), date(2026, 11, 29)])
def test_ordinary_days(day):
    assert not is_national_holiday(day) and national_holiday(day) is None


def test_years_outside_the_calendar_are_not_holidays():
    assert not is_national_holiday(date(2300, 1, 1))


def test_year_end_closure_comes_from_the_directory():
    hours = get_directory().agency("sogo").hours
    assert not hours.confirmed  # assumed, like the weekly hours
    assert hours.closed_on_national_holidays
    assert hours.closed_days == ("12-29", "12-30", "12-31", "01-01", "01-02", "01-03")
    assert any("sogo: hours" in item and "12-29" in item and "national holidays" in item
               for item in get_directory().unconfirmed)


def test_closure_days_and_holidays_can_be_switched_off_in_the_data():
    data = copy.deepcopy(raw_agencies())
    for agency in data["agencies"]:
        agency["hours"] = dict(agency["hours"], closed_on_national_holidays=False, closed_days=[])
    agencies, _ = parse_agencies(data)
    sogo = agencies["sogo"]
    assert not is_closed_day(sogo, date(2026, 11, 23)) and not is_closed_day(sogo, date(2026, 12, 30))
    assert is_open(sogo, datetime(2026, 12, 30, 10, 0, tzinfo=JST))
    assert is_closed_day(sogo, date(2026, 11, 29))  # still not one of the weekdays


@pytest.mark.parametrize("field,value", [("closed_days", ["12/29"]), ("closed_days", ["02-30"]),
                                         ("closed_days", [1229]), ("closed_on_national_holidays", "yes")])
def test_bad_closure_data_is_an_error(field, value):
    data = copy.deepcopy(raw_agencies())
    data["agencies"][0]["hours"] = dict(data["agencies"][0]["hours"], **{field: value})
    with pytest.raises(DirectoryError, match=field.split("_")[0]):
        parse_agencies(data)
