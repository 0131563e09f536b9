"""Rasa's replies (widget shape, see bot.web.rasa_client.to_widget_messages) as LINE messages.

One LINE reply carries at most 5 message objects, so texts are merged when there are more;
buttons become quick replies on the last message (at most 13; labels within 20 characters;
postback actions whose data is the Rasa payload and whose display text is the button title);
agency cards, crisis answers and hotline lists become Flex bubbles with ``tel:`` call buttons.
The builders return LINE's JSON (dicts); ``to_sdk`` turns them into line-bot-sdk v3 objects.
"""
from __future__ import annotations

import logging
from typing import Iterable, List, Optional

from linebot.v3.messaging import Message

logger = logging.getLogger("soudan.line")

MAX_MESSAGES = 5
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_TEXT = 5000
MAX_ALT_TEXT = 400
MAX_POSTBACK_DATA = 300
MAX_DISPLAY_TEXT = 300
LINES_PER_BUBBLE = 6
MAX_BUBBLES = 12

GREY = "#666666"
CALL_COLOR = "#1E6E3C"  # dark green: enough contrast for the white label


def clip(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(text: str, **style) -> dict:
    return dict({"type": "text", "text": text or " ", "wrap": True}, **style)


def call_button(tel: str, number: str, primary: bool = True) -> dict:
    return {"type": "button", "style": "primary" if primary else "secondary", "height": "sm",
            "color": CALL_COLOR if primary else "#E8F0EA",
            "action": {"type": "uri", "label": clip(f"{number}に電話する", MAX_LABEL), "uri": tel}}


def _row(label: str, value: str) -> dict:
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        _text(label, size="xs", color=GREY, flex=2, wrap=False),
        _text(value, size="sm", flex=7)]}


def agency_bubble(custom: dict) -> Optional[dict]:
    agency = custom.get("agency") or {}
    if not agency.get("name") or not agency.get("phone") or not agency.get("tel"):
        return None
    body = []
    if custom.get("intro"):
        body.append(_text(custom["intro"], size="sm"))
        body.append({"type": "separator", "margin": "md"})
    body.append(_text(agency["name"], weight="bold", size="lg", margin="md"))
    if agency.get("helps_with"):
        body.append(_text(agency["helps_with"], size="sm", color=GREY))
    details = [_row("電話", agency["phone"])]
    if agency.get("address"):
        details.append(_row("住所", agency["address"]))
    if agency.get("hours_text"):
        details.append(_row("受付", agency["hours_text"]))
    body.append({"type": "box", "layout": "vertical", "spacing": "sm", "margin": "lg", "contents": details})
    return {"type": "bubble",
            "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
            "footer": {"type": "box", "layout": "vertical", "contents": [
                call_button(agency["tel"], agency["phone"])]}}


def _line_block(line: dict, primary: bool) -> Optional[dict]:
    """One line of a list: name, what it is for, hours, and the call button (with the number)."""
    if not line.get("name") or not line.get("number") or not line.get("tel"):
        return None
    contents = [_text(line["name"], weight="bold", size="sm")]
    for detail in (line.get("note"), line.get("hours")):
        if detail:
            contents.append(_text(detail, size="xs", color=GREY))
    contents.append(call_button(line["tel"], line["number"], primary))
    return {"type": "box", "layout": "vertical", "spacing": "xs", "margin": "lg", "contents": contents}


def lines_container(heading: str, lines: List[dict], urgent: bool) -> Optional[dict]:
    """Crisis answer or hotline list: a bubble, or a carousel when the list is long."""
    blocks = []
    for i, line in enumerate(lines or []):
        # In a crisis the first lines are the ones to call now: show them as strong buttons.
        block = _line_block(line, primary=(i < 2) if urgent else line.get("always_open", False))
        if block:
            blocks.append(block)
    if not blocks:
        return None
    chunks = [blocks[i:i + LINES_PER_BUBBLE] for i in range(0, len(blocks), LINES_PER_BUBBLE)][:MAX_BUBBLES]
    bubbles = []
    for n, chunk in enumerate(chunks):
        style = {"weight": "bold", "color": "#B3261E"} if urgent else {"weight": "bold"}
        head = [_text(heading, size="md", **style)] if n == 0 and heading else []
        bubbles.append({"type": "bubble", "body": {"type": "box", "layout": "vertical", "spacing": "sm",
                                                   "contents": head + chunk}})
    if len(bubbles) == 1:
        return bubbles[0]
    return {"type": "carousel", "contents": bubbles}


def flex(alt_text: str, contents: dict) -> dict:
    # "_text" (the full plain text) is kept until the reply is final, in case the Flex has to
    # become a text message; it is removed before sending.
    return {"type": "flex", "altText": clip(alt_text.strip() or "相談先のご案内", MAX_ALT_TEXT),
            "contents": contents, "_text": alt_text}


def text_message(text: str) -> dict:
    return {"type": "text", "text": clip(text.strip() or " ", MAX_TEXT)}


def convert_one(message: dict) -> Optional[dict]:
    """One Rasa message as one LINE message (without quick replies)."""
    text = message.get("text") or ""
    custom = message.get("custom")
    if isinstance(custom, dict):
        kind = custom.get("type")
        contents = None
        if kind == "agency_card":
            contents = agency_bubble(custom)
        elif kind in ("crisis", "hotlines"):
            contents = lines_container(custom.get("heading") or "", custom.get("lines") or [],
                                       urgent=(kind == "crisis"))
        text = text or custom.get("text") or ""
        if contents is not None:
            return flex(text, contents)
    if text.strip():
        return text_message(text)
    return None


def quick_reply_item(button: dict) -> Optional[dict]:
    title = str(button.get("title") or "").strip()
    payload = button.get("payload")
    url = button.get("url")
    if not title:
        return None
    if isinstance(url, str) and url.startswith(("https://", "http://", "tel:")):
        return {"type": "action", "action": {"type": "uri", "label": clip(title, MAX_LABEL), "uri": url}}
    if not isinstance(payload, str) or not payload or len(payload) > MAX_POSTBACK_DATA:
        return None
    return {"type": "action", "action": {"type": "postback", "label": clip(title, MAX_LABEL), "data": payload,
                                         "displayText": clip(title, MAX_DISPLAY_TEXT)}}


def quick_replies(messages: Iterable[dict]) -> List[dict]:
    """Buttons of all messages, later messages first when there are more than 13."""
    per_message = [m.get("buttons") or [] for m in messages]
    chosen: List[dict] = []
    seen = set()
    for buttons in reversed(per_message):
        group = []
        for button in buttons:
            item = quick_reply_item(button) if isinstance(button, dict) else None
            if item is None:
                continue
            key = item["action"].get("data") or item["action"].get("uri")
            if key in seen:
                continue
            seen.add(key)
            group.append(item)
        room = MAX_QUICK_REPLIES - len(chosen)
        if room <= 0:
            break
        chosen = group[:room] + chosen
    return chosen


def _merge_two(a: dict, b: dict) -> dict:
    return text_message(a["text"] + "\n\n" + b["text"])


def fit(messages: List[dict]) -> List[dict]:
    """At most 5 messages: merge neighbouring texts (shortest pair first), then show the
    surplus Flex messages as their text, and as a last resort join the tail into one text."""
    out = list(messages)
    while len(out) > MAX_MESSAGES:
        pairs = [(len(out[i]["text"]) + len(out[i + 1]["text"]), i) for i in range(len(out) - 1)
                 if out[i]["type"] == "text" and out[i + 1]["type"] == "text"]
        if pairs:
            _, i = min(pairs)
            out[i:i + 2] = [_merge_two(out[i], out[i + 1])]
            continue
        # No neighbouring texts: turn the last Flex into text (its alt text carries the content).
        flex_positions = [i for i, m in enumerate(out) if m["type"] == "flex"]
        if flex_positions:
            i = flex_positions[-1]
            out[i] = text_message(out[i].get("_text") or out[i]["altText"])
            continue
        break  # pragma: no cover - only texts left and no neighbours is impossible
    return out[:MAX_MESSAGES]


def to_line_messages(rasa_messages: List[dict]) -> List[dict]:
    """The whole conversion: LINE JSON for one reply (1 to 5 messages)."""
    converted = [m for m in (convert_one(x) for x in rasa_messages if isinstance(x, dict)) if m]
    items = quick_replies(rasa_messages)
    if not converted:
        if not items:
            return []
        converted = [text_message("下のボタンから選んでください。")]
    out = [{k: v for k, v in m.items() if k != "_text"} for m in fit(converted)]
    if items:
        out[-1] = dict(out[-1], quickReply={"items": items})
    return out


def to_sdk(line_messages: List[dict]) -> List[Message]:
    """line-bot-sdk v3 message objects (validated by the SDK's models)."""
    return [Message.from_dict(m) for m in line_messages]
