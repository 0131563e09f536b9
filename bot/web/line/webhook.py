"""``POST /line/webhook``: LINE Messaging API webhook.

Order of checks: configured (else 503) -> signature header present (400) -> size (413, from
Content-Length before reading, and again while reading) -> signature over the raw body (400) ->
JSON (400). Only then are events queued; the answer to LINE is an immediate 200 and the work
(Rasa, reply) happens in the channel's worker pool.
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, abort, current_app, jsonify, request

from bot.web.errors import json_error
from bot.web.line.channel import LineChannel
from bot.web.line.security import signature_is_valid

logger = logging.getLogger("soudan.line")
bp = Blueprint("line", __name__)

# LINE batches several events in one request and one text message may hold 5,000 characters
# (about 15 KB of UTF-8 Japanese), so the app-wide 16 KB cap is too small here. 256 KB holds a
# batch of more than a dozen maximum-length texts plus envelopes; anything bigger is not LINE.
MAX_WEBHOOK_BYTES = 256 * 1024
EXTENSION = "soudan_line"


@bp.record_once
def _init(state) -> None:
    app = state.app
    app.extensions[EXTENSION] = LineChannel(app, app.config["SETTINGS"])


def channel() -> LineChannel:
    return current_app.extensions[EXTENSION]


@bp.post("/line/webhook")
def webhook():
    line = channel()
    if not line.enabled:
        return json_error(503, "line_not_configured", "LINEの設定がされていません。")
    # This route only (Flask 3.1). One byte over the cap so a streamed (chunked) body that is
    # too big shows up as len(body) > cap: werkzeug stops quietly at the limit.
    request.max_content_length = MAX_WEBHOOK_BYTES + 1
    signature = request.headers.get("X-Line-Signature", "")
    if not signature:
        return json_error(400, "bad_signature", "署名がありません。")
    if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
        abort(413)
    body = request.get_data(cache=False)
    if len(body) > MAX_WEBHOOK_BYTES:
        abort(413)
    if not signature_is_valid(line.channel_secret, body, signature):
        logger.warning("line webhook: bad signature (%d bytes)", len(body))
        return json_error(400, "bad_signature", "署名が正しくありません。")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly deep JSON
        return json_error(400, "bad_json", "形式が正しくありません。")
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        return json_error(400, "bad_json", "形式が正しくありません。")
    stats = line.accept(events)
    logger.info("line webhook: %(events)d events, %(duplicates)d duplicates, %(redelivered)d redelivered, "
                "%(shed)d shed", stats)
    return jsonify({"status": "ok"})
