"""``POST /api/chat`` (the widget's API), ``GET /healthz`` and the demo page."""
from __future__ import annotations

import logging
import re
import time
from typing import Optional, Tuple

from flask import Blueprint, current_app, jsonify, render_template, request, send_from_directory

from bot import PROJECT_ROOT

from bot.danger import detect
from bot.replies import service_unavailable_text
from bot.inputtext import clean_text
from bot.web import json_error, outcomes
from bot.web.rasa_client import RasaUnavailable

logger = logging.getLogger("soudan.web")
bp = Blueprint("chat", __name__)

WIDGET_DIR = PROJECT_ROOT / "web_widget"
SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def parse_chat_request() -> Tuple[Optional[Tuple[str, str]], Optional[tuple]]:
    """(sender, message) from the JSON body, or an error response."""
    settings = current_app.config["SETTINGS"]
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly deep JSON
        data = None
    if not isinstance(data, dict):
        return None, json_error(400, "bad_json", "送信の形式が正しくありません。ページを読み込み直してください。")
    sender, message = data.get("sender"), data.get("message")
    if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
        return None, json_error(400, "bad_sender", "会話の番号が正しくありません。ページを読み込み直してください。")
    if not isinstance(message, str):
        return None, json_error(400, "bad_message", "メッセージは文字で送ってください。")
    # Invisible characters from copied text are removed (emoji sequences stay whole); only
    # characters no text can contain (control characters, lone surrogates) are refused.
    cleaned = clean_text(message)
    if cleaned.refused:
        return None, json_error(400, "control_characters", "送れない文字が含まれています。文字だけで書いてください。")
    message = cleaned.text
    if not message.strip():
        return None, json_error(400, "empty_message", "メッセージが空です。困っていることを書いてください。")
    if len(message) > settings.max_message_chars:
        return None, json_error(400, "too_long", f"メッセージが長すぎます。{settings.max_message_chars}文字以内で、"
                                            "いくつかに分けて送ってください。")
    return (sender, message), None


def unavailable_response(message: str):
    """503 that still gives a number to call (and the crisis lines when the text needs them)."""
    directory = current_app.config["DIRECTORY"]
    kinds = detect(message, kind_order=directory.kind_order).kinds if message else []
    sogo = directory.agency("sogo")
    return json_error(503, "unavailable", service_unavailable_text(directory, kinds),
                 phone=sogo.phone, tel=sogo.tel)


@bp.post("/api/chat")
def chat():
    started = time.monotonic()
    parsed, failure = parse_chat_request()
    if failure:
        return failure
    sender, message = parsed
    limits = current_app.config["RATE_LIMITERS"]
    if not limits["session"].allow(sender) or not limits["ip"].allow(request.remote_addr or "-"):
        sogo = current_app.config["DIRECTORY"].agency("sogo")
        return json_error(429, "rate_limited", "短い時間にたくさん送られました。少し待ってから、もう一度送ってください。"
                     f"お急ぎのときは{sogo.name}（電話：{sogo.phone}）へ。", phone=sogo.phone, tel=sogo.tel)
    try:
        messages, notes = current_app.config["RASA"].send_with_notes("web-" + sender, message)
    except RasaUnavailable as exc:
        logger.warning("chat unavailable: %s", exc)
        return unavailable_response(message)
    outcomes.record("web", "web-" + sender, notes)
    logger.info("chat ok: %d messages in %.0f ms", len(messages), (time.monotonic() - started) * 1000)
    return jsonify(messages)


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
