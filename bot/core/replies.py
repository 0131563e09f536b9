"""Replies built from the directory data: agency cards, crisis answers, hotline lists.

Every phone number, address and hour a resident sees comes from ``directory/`` through these
functions. Messages are dicts in Rasa's REST-channel shape; rich ones carry a ``custom`` payload
(``type`` = agency_card / crisis / hotlines) plus a plain ``text`` any channel can show.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, List, Optional

from bot.core.directory import Agency, Directory
from bot.core.fields import SOGO
from bot.core.easy import easy_text
from bot.core.hours import describe_hours, is_open, next_opening_words, weekly_hours_text

def agency_text(agency: Agency, hours_text: str = "", easy: bool = False) -> str:
    helps, place, phone = ((agency.easy, easy_text("place"), easy_text("phone")) if easy
                           else (agency.helps_with, "住所", "電話"))
    lines = [f"【{agency.name}】", helps, f"{place}：{agency.address}", f"{phone}：{agency.phone}"]
    if hours_text:
        lines.append(hours_text)
    return "\n".join(lines)


def easy_hours_text(agency: Agency, when: datetime) -> str:
    """Open now or when, in やさしい日本語 (the hours from the directory)."""
    if is_open(agency, when):
        return easy_text("open_now", hours=weekly_hours_text(agency))
    day, time = next_opening_words(agency, when, today=easy_text("today"), tomorrow=easy_text("tomorrow"))
    return easy_text("closed_now", day=day, time=time)


def agency_card(agency: Agency, when: datetime, intro: str = "", easy: bool = False) -> dict:
    """The card of one agency, with a sentence on its hours and whether it is open now
    (``easy``: what it helps with and the hours in やさしい日本語)."""
    hours_text = easy_hours_text(agency, when) if easy else describe_hours(agency, when)
    card = dict(agency.card(), hours_text=hours_text, open_now=is_open(agency, when))
    if easy:
        card["helps_with"] = agency.easy
    text = (intro + "\n" if intro else "") + agency_text(agency, hours_text, easy)
    return {"text": text, "custom": {"type": "agency_card", "intro": intro, "agency": card, "text": text}}


def _line_entry(entry) -> dict:
    if isinstance(entry, Agency):
        hours = weekly_hours_text(entry) + ("" if entry.hours.confirmed else "（見込み）")
        return {"id": f"agency:{entry.slug}", "name": entry.name, "number": entry.phone, "tel": entry.tel,
                "hours": hours, "always_open": False, "note": entry.helps_with}
    return entry.as_dict()


def _lines_text(lines: Iterable[dict]) -> str:
    return "\n".join(f"・{l['name']}：{l['number']}（{l['hours']}）" for l in lines)


def crisis_message(directory: Directory, kinds: Iterable[str], language: Optional[str] = None) -> dict:
    """The crisis answer: short, first, with the lines of every kind of danger found, merged in
    the data's order without repeating a line. ``language``: "easy" for やさしい日本語, or a
    language code with a heading in ``foreign_headings`` (its lines then come first)."""
    order = directory.kind_order
    kinds = sorted({k if k in directory.crisis_kinds else "general" for k in kinds} or {"general"},
                   key=order.index)
    if len(kinds) > 1 and "general" in kinds:
        kinds.remove("general")
    refs: List[str] = list(directory.foreign_lines) if language in directory.foreign_headings else []
    for kind in kinds:
        refs += [r for r in directory.crisis_kind(kind).lines if r not in refs]
    lines = [_line_entry(entry) for entry in directory.resolve(refs)]
    if language in directory.foreign_headings:
        heading = directory.foreign_headings[language]
    elif language == "easy":
        heading = "\n".join(_unique(directory.crisis_kind(k).easy for k in kinds[:2]))
    else:
        heading = "\n".join(_unique(directory.crisis_kind(k).heading for k in kinds[:2]))
    text = heading + "\n" + _lines_text(lines)
    return {"text": text, "custom": {"type": "crisis", "kinds": kinds, "heading": heading, "lines": lines,
                                     "text": text}}


def _unique(values: Iterable[str]) -> List[str]:
    out: List[str] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def listening_line_text(directory: Directory) -> str:
    """One 24-hour listening line, offered gently (distress without danger)."""
    line = directory.hotlines[directory.listening_line]
    return (f"つらい気持ちが続くときは、24時間話を聞いてくれる電話もあります。\n"
            f"・{line.name}：{line.number}（{line.hours}）")


def topic_lines_text(directory: Directory, topics: Iterable[str]) -> Optional[str]:
    """Specialised lines for the topics a worry touches (``topics`` in bot/lexicons/fields.yml, the
    hotlines whose kinds name the topic): offered beside the answer, never instead of it."""
    lines = [h for topic in topics for h in directory.hotlines.values() if topic in h.kinds]
    if not lines:
        return None
    return "\n".join(f"{h.note}は、{h.name}でも受け付けています（電話：{h.number}。{h.hours}）。" for h in lines)


def _hotlines(heading: str, lines: List[dict]) -> dict:
    """A list of lines under a heading, as a hotlines message (channels show call buttons)."""
    text = heading + "\n" + _lines_text(lines)
    return {"text": text, "custom": {"type": "hotlines", "heading": heading, "lines": lines, "text": text}}


def hotlines_message(directory: Directory, intro: str = "緊急のときや、夜間・休日の相談先です。") -> dict:
    """Every always-open line first, then the ones with limited hours."""
    ordered = sorted(directory.hotlines.values(), key=lambda h: (not h.always_open,))
    return _hotlines(intro, [h.as_dict() for h in ordered])


def always_open_text(directory: Directory) -> str:
    """Short list of 24-hour lines, for answers given outside office hours."""
    lines = [_line_entry(entry) for entry in directory.resolve(directory.after_hours_lines)]
    return "夜間や休日で急ぐときは、24時間の窓口があります。\n" + _lines_text(lines)


def out_of_scope_message(directory: Directory) -> dict:
    hall = directory.city_hall
    text = (f"ごめんなさい。ここでは、暮らしの困りごとの相談先をご案内しています。\n"
            f"税金、ごみ、バス、マイナンバーカードなど市の手続きのことは、{hall.name}（電話：{hall.phone}）に"
            f"お問い合わせください。\n困りごとがあれば、いつでも書いてください。")
    return {"text": text}


def foreign_language_message(directory: Directory, language: Optional[str] = None) -> dict:
    """For text in another language: a short text in that language (directory/languages.yml)
    when it is one of them, else easy Japanese and English; then the lines that take foreign
    languages."""
    lines = [directory.hotlines["foreign_center"].as_dict(), _line_entry(directory.agency("sogo")),
             directory.hotlines["yorisoi"].as_dict()]
    intro = language_text(directory, language)
    text = ((intro + "\n" if intro else "")
            + "日本語で書くときは、やさしい日本語で大丈夫です。\n"
            + ("" if intro else "Please write in Japanese, or call:\n") + _lines_text(lines))
    return {"text": text, "custom": {"type": "hotlines", "heading": text.split("\n")[0], "lines": lines,
                                     "text": text}}


def please_call_text(directory: Directory, before: str = "") -> str:
    """「（before）北斗市総合相談支援センター（電話：…）にお電話ください。」: the one way a resident is
    told to call when the assistant cannot go further (name and number from agencies.yml)."""
    sogo = directory.agency(SOGO)
    return f"{before}{sogo.name}（電話：{sogo.phone}）にお電話ください。"


def service_unavailable_text(directory: Directory) -> str:
    """What the web side says when the assistant cannot answer: always a number to call (the
    crisis answer comes before it when the words need it: ``unavailable_messages``)."""
    return (please_call_text(directory, "ごめんなさい。いま案内の仕組みがうまく動いていません。\nお急ぎの相談は、") + "\n"
            + "命に関わるときは、{police}番（警察）・{fire_ambulance}番（救急）へ。".format(**directory.emergency_numbers()))


def unavailable_messages(directory: Directory, text: str = "") -> List[dict]:
    """The answer when the assistant cannot answer, for every channel: the crisis answer first when
    the resident's words show danger (bot.core.danger, without the assistant), then a number to call."""
    from bot.core.danger import detect
    kinds = detect(text, kind_order=directory.kind_order).kinds if text else []
    return ([crisis_message(directory, kinds)] if kinds else []) + [{"text": service_unavailable_text(directory)}]


def rate_limited_text(directory: Directory) -> str:
    return please_call_text(directory, "短い時間にたくさん送られました。少し待ってから、もう一度送ってください。"
                                       "お急ぎのときは、")


def offline_text(directory: Directory) -> str:
    """What the widget says when a message could not reach the server at all (the resident's
    connection); served to it beforehand (``GET /api/chat``)."""
    return please_call_text(directory, "通信がうまくいきませんでした。インターネットにつながっているか確かめて、"
                                       "もう一度送ってください。\nお急ぎの相談は、")


def emergency_lines_message(directory: Directory, heading: str) -> dict:
    """``heading``, then the lines of the general crisis answer (110, 119, ...), as a hotlines
    message."""
    return _hotlines(heading, [_line_entry(entry) for entry in directory.crisis_lines("general")])



def language_text(directory: Directory, language: Optional[str]) -> str:
    """The fixed text of ``language`` from directory/languages.yml, numbers filled in, or ""."""
    from bot.core.directory import languages
    entry = languages().get(language or "")
    if not entry:
        return ""
    return entry["text"].format(foreign_center=directory.hotlines["foreign_center"].number,
                                sogo_phone=directory.agency("sogo").phone)
