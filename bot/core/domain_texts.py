"""Fixed texts kept in domain.yml's responses, for code outside Rasa's own answers.

The category buttons are one list, under ``utter_greet``: the greeting shows all of them; the
actions (「うまく読み取れませんでした」, 「いちばん困っていることに近いものは」) and LINE's answer to a
sticker or photo show them from here, never a copy. A payload that is not an intent of the domain
stops the start (DomainTextError).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, List

import yaml

from bot import PROJECT_ROOT
from bot.core.fields import WORRY_INTENT_FIELD

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
# Buttons that name a worry (the rest: emergency lines, やさしい日本語).
WORRY_PAYLOADS = tuple("/" + intent for intent in WORRY_INTENT_FIELD) + ("/dont_know",)


class DomainTextError(ValueError):
    """domain.yml lacks a response the code needs, or a button names an unknown intent."""


@lru_cache(maxsize=2)
def _domain(path: Path = DOMAIN_FILE) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def response_text(name: str) -> str:
    """The (first) text of a response of domain.yml."""
    variants = (_domain().get("responses") or {}).get(name) or []
    if not variants or not variants[0].get("text"):
        raise DomainTextError(f"domain.yml: response {name!r} missing")
    return variants[0]["text"]


@lru_cache(maxsize=2)
def load_category_buttons(path: Path = DOMAIN_FILE) -> tuple:
    """(title, payload) of utter_greet's buttons, checked: every payload an intent of the domain,
    a button for every worry intent."""
    domain = _domain(path)
    buttons = ((domain.get("responses") or {}).get("utter_greet") or [{}])[0].get("buttons") or []
    if not buttons:
        raise DomainTextError("domain.yml: utter_greet has no category buttons")
    intents = set(domain.get("intents") or ())
    for button in buttons:
        if str(button.get("payload", "")).lstrip("/") not in intents or not button.get("title"):
            raise DomainTextError(f"domain.yml/utter_greet: button {button!r} names no intent of the domain")
    missing = [p for p in WORRY_PAYLOADS if p not in [b["payload"] for b in buttons]]
    if missing:
        raise DomainTextError(f"domain.yml/utter_greet: no button for {missing}")
    return tuple((b["title"], b["payload"]) for b in buttons)


def category_buttons() -> List[Dict[str, str]]:
    """Every category button of the greeting, in its order."""
    return [{"title": title, "payload": payload} for title, payload in load_category_buttons()]


def worry_buttons() -> List[Dict[str, str]]:
    """The buttons that name a worry (and 「分からない」), for questions about the worry."""
    return [b for b in category_buttons() if b["payload"] in WORRY_PAYLOADS]
