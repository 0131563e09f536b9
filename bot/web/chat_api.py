"""``POST /api/chat`` (the widget's API), ``GET /api/chat`` (what the widget shows when a message
cannot be sent), ``GET /healthz`` and the demo page."""
from __future__ import annotations

import logging
import re
import time
from typing import Optional, Tuple

from flask import Blueprint, current_app, jsonify, render_template, request, send_from_directory

from bot import PROJECT_ROOT

from bot.core.fields import CHANNEL_PREFIXES, SOGO
from bot.core.replies import offline_text, rate_limited_text, service_unavailable_text, unavailable_messages
from bot.core.inputtext import clean_text
from bot.web import outcomes, texts
from bot.web.errors import json_error
from bot.web.rasa_client import RasaUnavailable

logger = logging.getLogger("soudan.web")
bp = Blueprint("chat", __name__)

WIDGET_DIR = PROJECT_ROOT / "web_widget"
SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
WEB_PREFIX = CHANNEL_PREFIXES["web"]


def parse_chat_request() -> Tuple[Optional[Tuple[str, str]], Optional[tuple]]:
    """(sender, message) from the JSON body, or an error response."""
    settings = current_app.config["SETTINGS"]
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly deep JSON
        data = None
    if not isinstance(data, dict):
        return None, json_error(400, "bad_json", texts.BAD_JSON)
    sender, message = data.get("sender"), data.get("message")
    if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
        return None, json_error(400, "bad_sender", texts.BAD_SENDER)
    if not isinstance(message, str):
        return None, json_error(400, "bad_message", texts.NOT_TEXT)
    # Invisible characters from copied text are removed (emoji sequences stay whole); only
    # characters no text can contain (control characters, lone surrogates) are refused.
    cleaned = clean_text(message)
    if cleaned.refused:
        return None, json_error(400, "control_characters", texts.CONTROL_CHARACTERS)
    message = cleaned.text
    if not message.strip():
        return None, json_error(400, "empty_message", texts.EMPTY)
    if len(message) > settings.max_message_chars:
        return None, json_error(400, "too_long", texts.too_long_text(settings.max_message_chars))
    return (sender, message), None


def unavailable_response(message: str):
    """503 that still gives a number to call (and the crisis lines when the text needs them)."""
    directory = current_app.config["DIRECTORY"]
    sogo = directory.agency(SOGO)
    text = "\n\n".join(m["text"] for m in unavailable_messages(directory, message))
    return json_error(503, "unavailable", text, phone=sogo.phone, tel=sogo.tel)


@bp.post("/api/chat")
def chat():
    started = time.monotonic()
    parsed, failure = parse_chat_request()
    if failure:
        return failure
    sender, message = parsed
    limits = current_app.config["RATE_LIMITERS"]
    if not limits["session"].allow(sender) or not limits["ip"].allow(request.remote_addr or "-"):
        directory = current_app.config["DIRECTORY"]
        sogo = directory.agency(SOGO)
        return json_error(429, "rate_limited", rate_limited_text(directory), phone=sogo.phone, tel=sogo.tel)
    rasa_sender = WEB_PREFIX + sender
    try:
        messages, notes = current_app.config["RASA"].send_with_notes(rasa_sender, message)
    except RasaUnavailable as exc:
        logger.warning("chat unavailable: %s", exc)
        return unavailable_response(message)
    outcomes.record("web", rasa_sender, notes)
    logger.info("chat ok: %d messages in %.0f ms", len(messages), (time.monotonic() - started) * 1000)
    return jsonify(messages)


@bp.get("/api/chat")
def widget_config():
    """What the widget needs before a message goes wrong, fetched when it first opens: the texts
    for a message that could not be sent (no connection, the server in trouble, too many
    messages), the number to call with them (agencies.yml) and the longest message accepted.
    The widget itself keeps only a last-resort line for when even this could not be fetched."""
    directory = current_app.config["DIRECTORY"]
    sogo = directory.agency(SOGO)
    return jsonify({
        "max_chars": current_app.config["SETTINGS"].max_message_chars,
        "call": {"name": sogo.name, "phone": sogo.phone, "tel": sogo.tel},
        "texts": {"offline": offline_text(directory), "unavailable": service_unavailable_text(directory),
                  "busy": rate_limited_text(directory)},
    })


@bp.get("/healthz")
def healthz():
    status = current_app.config["RASA"].health()
    healthy = all(v == "ok" for v in status.values())
    return jsonify(dict(status, status="ok" if healthy else "degraded")), 200 if healthy else 503


@bp.get("/")
def demo_page():
    return render_template("demo.html", directory=current_app.config["DIRECTORY"])


@bp.get("/demo.css")
def demo_css():
    return current_app.send_static_file("demo.css")


@bp.get("/widget/<path:filename>")
def widget_asset(filename: str):
    """The widget's files, served from web_widget/ (no build step)."""
    return send_from_directory(WIDGET_DIR, filename, max_age=300)
