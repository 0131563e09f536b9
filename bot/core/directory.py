"""Load and validate the agency directory and the hotline list (the single source of truth).

Both files live in ``directory/``. A missing phone, a malformed number, an unknown slug, a name
the vocabulary (bot/core/fields.py) does not know or a forbidden line (#7119, #9999) raises
``DirectoryError`` at start-up instead of leaving a gap.

agencies.yml is the home of the agencies and of which main field each takes first (``fields:``,
read here into ``Directory.field_route``); hotlines.yml is the home of the kinds of danger
(``crisis_kinds``): the danger lexicon may only name those.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bot import PROJECT_ROOT
from bot.core.fields import ALL_FIELDS, MAIN_FIELDS, REQUIRED_CRISIS_KINDS, SOGO, WEEKDAYS, check_names

DIRECTORY_DIR = Path(os.environ.get("SOUDAN_DIRECTORY_DIR", PROJECT_ROOT / "directory"))

REQUIRED_SLUGS = (SOGO,)  # the only agency the code names; the others come with the fields they take
FORBIDDEN_NUMBERS = {"#7119", "#9999", "0570-046-556"}

_SHORT_NUMBER = re.compile(r"^(1[0-9]{2}|#[0-9]{4})$")
_LONG_NUMBER = re.compile(r"^0[0-9]{1,4}(-[0-9]{1,6}){1,2}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


class DirectoryError(ValueError):
    """The directory or hotline data is incomplete or malformed."""


def check_phone_number(number: object, where: str) -> str:
    """Return ``number`` if it is a well-formed Japanese phone number, else raise.

    Accepted: 3-digit emergency numbers (110), #-numbers (#8008), and hyphenated numbers
    starting with 0 that have 10 digits (landline, 0120, 0570) or 11 digits (050/070/080/090).
    """
    if not isinstance(number, str) or not number.strip():
        raise DirectoryError(f"{where}: phone number missing")
    if number in FORBIDDEN_NUMBERS:
        raise DirectoryError(f"{where}: {number} must not be shown to Hokuto residents")
    if _SHORT_NUMBER.match(number):
        return number
    if not _LONG_NUMBER.match(number):
        raise DirectoryError(f"{where}: malformed phone number {number!r}")
    digits = number.replace("-", "")
    expected = 11 if digits[:3] in ("050", "070", "080", "090") else 10
    if len(digits) != expected:
        raise DirectoryError(f"{where}: {number!r} has {len(digits)} digits, expected {expected}")
    return number


def tel_uri(number: str) -> str:
    """``tel:`` URI for a number as written in the data (#8008 -> tel:%238008)."""
    return "tel:" + number.replace("-", "").replace("#", "%23")


@dataclass(frozen=True)
class Hours:
    confirmed: bool
    weekdays: Tuple[str, ...]
    open: str
    close: str
    closed_note: str = ""
    closed_on_national_holidays: bool = True
    closed_days: Tuple[str, ...] = ()  # "MM-DD", every year (year-end closure 12-29 .. 01-03)


@dataclass(frozen=True)
class Agency:
    slug: str
    name: str
    short_name: str
    fields: Tuple[str, ...]
    helps_with: str
    address: str
    phone: str
    operator: str
    operator_confirmed: bool
    hours: Hours
    easy: str = ""  # what it helps with, in やさしい日本語

    @property
    def tel(self) -> str:
        return tel_uri(self.phone)

    def card(self) -> dict:
        """The agency as the JSON card the channels render."""
        return {
            "slug": self.slug,
            "name": self.name,
            "helps_with": self.helps_with,
            "address": self.address,
            "phone": self.phone,
            "tel": self.tel,
            "operator": self.operator,
            "hours_confirmed": self.hours.confirmed,
        }


@dataclass(frozen=True)
class Hotline:
    id: str
    name: str
    number: str
    hours: str
    always_open: bool
    kinds: Tuple[str, ...]
    note: str
    source: str
    alt_number: Optional[str] = None

    @property
    def tel(self) -> str:
        return tel_uri(self.number)

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "number": self.number, "tel": self.tel,
                "hours": self.hours, "always_open": self.always_open, "note": self.note}


@dataclass(frozen=True)
class CrisisKind:
    """A kind of danger: its label for staff, the headings residents read first (Japanese and
    やさしい日本語, with hotline numbers filled in from the data) and its lines in order."""
    kind: str
    label: str
    heading: str
    easy: str
    lines: Tuple[str, ...]


@dataclass(frozen=True)
class CityHall:
    name: str
    address: str
    phone: str
    phone_confirmed: bool


@dataclass(frozen=True)
class Directory:
    agencies: Dict[str, Agency]
    hotlines: Dict[str, Hotline]
    crisis_kinds: Dict[str, CrisisKind]
    city_hall: CityHall
    unconfirmed: Tuple[str, ...] = field(default=())
    listening_line: str = "yorisoi"
    foreign_headings: Dict[str, str] = field(default_factory=dict)
    foreign_lines: Tuple[str, ...] = ()
    after_hours_lines: Tuple[str, ...] = ()

    def agency(self, slug: str) -> Agency:
        return self.agencies[slug]

    @property
    def field_route(self) -> Dict[str, str]:
        """Main field -> the agency that takes it first (``fields:`` in agencies.yml)."""
        return {f: a.slug for a in self.agencies.values() for f in a.fields}

    @property
    def routes(self) -> Tuple[str, ...]:
        """Every route a worry can take: the field agencies, sogo, emergency, out_of_scope."""
        from bot.core.fields import EMERGENCY, OUT_OF_SCOPE
        return tuple(dict.fromkeys(list(self.field_route.values()) + [SOGO, EMERGENCY, OUT_OF_SCOPE]))

    def crisis_kind(self, kind: str) -> CrisisKind:
        return self.crisis_kinds.get(kind) or self.crisis_kinds["general"]

    @property
    def kind_order(self) -> Tuple[str, ...]:
        """Kinds in the order their answers come first."""
        return tuple(self.crisis_kinds)

    def emergency_numbers(self) -> Dict[str, str]:
        """110 and 119 as the hotline data gives them, for texts that name them inline."""
        return {"police": self.hotlines["police"].number, "fire_ambulance": self.hotlines["fire_ambulance"].number}

    def crisis_label(self, kind: str) -> str:
        """The kind's Japanese label; a kind the data does not name reads as ``general``'s
        (``general`` and every label are required when the data is loaded)."""
        return self.crisis_kind(kind).label

    def resolve(self, refs) -> List[object]:
        """Hotlines (and local agencies, for ``agency:SLUG``) for a list of references."""
        entries = []
        for ref in refs:
            if ref.startswith("agency:"):
                entries.append(self.agencies[ref.split(":", 1)[1]])
            else:
                entries.append(self.hotlines[ref])
        return entries

    def crisis_lines(self, kind: str) -> List[object]:
        """The lines of a kind of danger, in order."""
        return self.resolve(self.crisis_kind(kind).lines)

    def always_open_lines(self) -> List[Hotline]:
        return [h for h in self.hotlines.values() if h.always_open]


def _require(mapping: dict, key: str, where: str):
    value = mapping.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DirectoryError(f"{where}: '{key}' missing")
    return value


def _real_month_day(value: str) -> bool:
    month, day = (int(x) for x in value.split("-"))
    try:
        date(2000, month, day)  # a leap year: 02-29 is allowed
    except ValueError:
        return False
    return True


def _parse_hours(raw: object, where: str) -> Hours:
    if not isinstance(raw, dict):
        raise DirectoryError(f"{where}: 'hours' missing")
    days = check_names(_require(raw, "weekdays", where), WEEKDAYS, where, "weekdays", DirectoryError)
    if not days:
        raise DirectoryError(f"{where}: no weekdays")
    opening, closing = _require(raw, "open", where), _require(raw, "close", where)
    if not (_TIME.match(opening) and _TIME.match(closing) and opening < closing):
        raise DirectoryError(f"{where}: bad hours {opening!r}-{closing!r}")
    if not isinstance(raw.get("confirmed"), bool):
        raise DirectoryError(f"{where}: hours need 'confirmed: true/false'")
    on_holidays = raw.get("closed_on_national_holidays", True)
    if not isinstance(on_holidays, bool):
        raise DirectoryError(f"{where}: 'closed_on_national_holidays' must be true/false")
    closed_days = tuple(raw.get("closed_days") or ())
    for day in closed_days:
        if not (isinstance(day, str) and _MONTH_DAY.match(day) and _real_month_day(day)):
            raise DirectoryError(f"{where}: bad closed day {day!r} (expected \"MM-DD\")")
    return Hours(raw["confirmed"], days, opening, closing, raw.get("closed_note", ""),
                 closed_on_national_holidays=on_holidays, closed_days=closed_days)


def _keyed_records(records, key: str, kind: str, file: str, known: dict):
    """(key, where, record) for each record of a list, refusing a missing or repeated key; the
    caller adds each record to ``known`` under its key."""
    for raw in records or []:
        name = _require(raw, key, kind)
        where = f"{file}/{name}"
        if name in known:
            raise DirectoryError(f"{where}: duplicate {key}")
        yield name, where, raw


def parse_agencies(data: dict) -> Tuple[Dict[str, Agency], CityHall]:
    agencies: Dict[str, Agency] = {}
    for slug, where, raw in _keyed_records(data.get("agencies"), "slug", "agency", "agencies.yml", agencies):
        agencies[slug] = Agency(
            slug=slug,
            name=_require(raw, "name", where),
            short_name=raw.get("short_name") or raw["name"],
            fields=check_names(raw.get("fields") or (), ALL_FIELDS, where, "fields", DirectoryError),
            helps_with=_require(raw, "helps_with", where),
            address=_require(raw, "address", where),
            phone=check_phone_number(raw.get("phone"), where),
            operator=_require(raw, "operator", where),
            operator_confirmed=bool(raw.get("operator_confirmed")),
            hours=_parse_hours(raw.get("hours"), where),
            easy=_require(raw, "easy", where),
        )
    missing = [s for s in REQUIRED_SLUGS if s not in agencies]
    if missing:
        raise DirectoryError(f"agencies.yml: missing agencies {missing}")
    for main in MAIN_FIELDS:  # each main field goes to exactly one agency
        takers = [a.slug for a in agencies.values() if main in a.fields]
        if len(takers) != 1:
            raise DirectoryError(f"agencies.yml: field {main!r} must be in the 'fields' of exactly one "
                                 f"agency, found {takers or 'none'}")
    for a in agencies.values():
        between = [f for f in a.fields if f not in MAIN_FIELDS]
        if between:
            raise DirectoryError(f"agencies.yml/{a.slug}: {between} are in-between fields; they go to "
                                 f"{SOGO} (list only main fields {list(MAIN_FIELDS)})")
    hall = _require(data, "city_hall", "agencies.yml")
    city_hall = CityHall(
        name=_require(hall, "name", "city_hall"),
        address=_require(hall, "address", "city_hall"),
        phone=check_phone_number(hall.get("phone"), "city_hall"),
        phone_confirmed=bool(hall.get("phone_is_main_number_confirmed")),
    )
    return agencies, city_hall


def parse_hotlines(data: dict, agencies: Dict[str, Agency]) -> Tuple[Dict[str, Hotline], Dict[str, "CrisisKind"]]:
    hotlines: Dict[str, Hotline] = {}
    for hid, where, raw in _keyed_records(data.get("hotlines"), "id", "hotline", "hotlines.yml", hotlines):
        alt = raw.get("alt_number")
        hotlines[hid] = Hotline(
            id=hid,
            name=_require(raw, "name", where),
            number=check_phone_number(str(raw.get("number") or ""), where),
            hours=_require(raw, "hours", where),
            always_open=bool(raw.get("always_open")),
            kinds=tuple(raw.get("kinds") or ()),
            note=raw.get("note", ""),
            source=_require(raw, "source", where),
            alt_number=check_phone_number(alt, where) if alt else None,
        )
    kinds = parse_crisis_kinds(data.get("crisis_kinds") or {}, hotlines, agencies)
    return hotlines, kinds


_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


def fill_numbers(template: str, hotlines: Dict[str, Hotline], where: str) -> str:
    """``{police}`` -> ``110``: numbers in texts come from the hotline entries."""
    def number(m: re.Match) -> str:
        if m.group(1) not in hotlines:
            raise DirectoryError(f"{where}: unknown hotline {{{m.group(1)}}}")
        return hotlines[m.group(1)].number
    return _PLACEHOLDER.sub(number, template)


def _check_ref(ref: str, hotlines: Dict[str, Hotline], agencies: Dict[str, Agency], where: str) -> None:
    known = agencies if ref.startswith("agency:") else hotlines
    key = ref.split(":", 1)[1] if ref.startswith("agency:") else ref
    if key not in known:
        raise DirectoryError(f"{where} refers to unknown {ref!r}")


def parse_crisis_kinds(raw: dict, hotlines: Dict[str, Hotline], agencies: Dict[str, Agency]) -> Dict[str, CrisisKind]:
    missing = [k for k in REQUIRED_CRISIS_KINDS if k not in raw]
    if missing:
        raise DirectoryError(f"hotlines.yml: crisis_kinds {missing} missing (bot/core/danger.py names them)")
    kinds: Dict[str, CrisisKind] = {}
    for kind, entry in raw.items():
        where = f"hotlines.yml/crisis_kinds.{kind}"
        lines = tuple(_require(entry, "lines", where))
        for ref in lines:
            _check_ref(ref, hotlines, agencies, where)
        kinds[kind] = CrisisKind(kind=kind, label=_require(entry, "label", where),
                                 heading=fill_numbers(_require(entry, "heading", where), hotlines, where),
                                 easy=fill_numbers(_require(entry, "easy", where), hotlines, where), lines=lines)
    return kinds


def list_unconfirmed(agencies: Dict[str, Agency], city_hall: CityHall) -> Tuple[str, ...]:
    """Human-readable list of values the source did not give (for the README and start-up log)."""
    items = []
    for a in agencies.values():
        if not a.hours.confirmed:
            closed = (["national holidays"] if a.hours.closed_on_national_holidays else []) + list(a.hours.closed_days)
            items.append(f"{a.slug}: hours (assumed {'/'.join(a.hours.weekdays)} {a.hours.open}-{a.hours.close}"
                         + (f", closed on {', '.join(closed)}" if closed else "") + ")")
        if not a.operator_confirmed:
            items.append(f"{a.slug}: operator")
    if not city_hall.phone_confirmed:
        items.append("city_hall: phone is the main switchboard number")
    return tuple(items)


def load_directory(directory_dir: Path = DIRECTORY_DIR) -> Directory:
    try:
        agencies_raw = yaml.safe_load((Path(directory_dir) / "agencies.yml").read_text(encoding="utf-8"))
        hotlines_raw = yaml.safe_load((Path(directory_dir) / "hotlines.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"cannot read directory data: {exc}") from exc
    agencies, city_hall = parse_agencies(agencies_raw or {})
    hotlines_raw = hotlines_raw or {}
    hotlines, kinds = parse_hotlines(hotlines_raw, agencies)
    listening = hotlines_raw.get("listening_line", "yorisoi")
    _check_ref(listening, hotlines, agencies, "hotlines.yml/listening_line")
    foreign_lines = tuple(hotlines_raw.get("foreign_lines") or ())
    for ref in foreign_lines:
        _check_ref(ref, hotlines, agencies, "hotlines.yml/foreign_lines")
    after_hours = tuple(_require(hotlines_raw, "after_hours_lines", "hotlines.yml"))
    for ref in after_hours:
        _check_ref(ref, hotlines, agencies, "hotlines.yml/after_hours_lines")
    headings = {lang: fill_numbers(text, hotlines, f"hotlines.yml/foreign_headings.{lang}")
                for lang, text in (hotlines_raw.get("foreign_headings") or {}).items()}
    return Directory(agencies, hotlines, kinds, city_hall, list_unconfirmed(agencies, city_hall),
                     listening_line=listening, foreign_headings=headings, foreign_lines=foreign_lines,
                     after_hours_lines=after_hours)


@lru_cache(maxsize=1)
def languages() -> Dict[str, dict]:
    """directory/languages.yml: code -> {name, text} for residents writing in another language."""
    data = yaml.safe_load((DIRECTORY_DIR / "languages.yml").read_text(encoding="utf-8")) or {}
    entries = data.get("languages") or {}
    for code, entry in entries.items():
        if not entry.get("text"):
            raise DirectoryError(f"languages.yml/{code}: 'text' missing")
    return entries


@lru_cache(maxsize=1)
def get_directory() -> Directory:
    """The validated directory, loaded once per process."""
    return load_directory()
