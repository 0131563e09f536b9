"""The public web side (Flask): widget API, demo page, LINE webhook, staff pages.

Runs in its own Python 3.11 environment and talks to Rasa over loopback HTTP.
"""
from __future__ import annotations

import logging
from typing import Optional

from flask import Flask, jsonify, request

from bot.directory import get_directory
from bot.web.config import Settings
from bot.web.rasa_client import RasaClient
from bot.web.ratelimit import RateLimiter


def json_error(status: int, code: str, message: str, **extra):
    """The one error shape of the JSON endpoints: ``{"error": {"code", "message"}, ...extra}``."""
    return jsonify({"error": {"code": code, "message": message}, **extra}), status


def create_app(settings: Optional[Settings] = None) -> Flask:
    """Application factory: validates the directory at start-up (bad data stops the app)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        DIRECTORY=get_directory(),
        RASA=RasaClient(settings.all_rasa_urls, settings.all_action_server_urls, settings.rasa_timeout_seconds,
                        routing=settings.rasa_routing),
        RATE_LIMITERS={"session": RateLimiter(settings.rate_limit_per_session),
                       "ip": RateLimiter(settings.rate_limit_per_ip)},
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False

    from bot.web import security
    from bot.web.chat_api import bp as chat_bp
    from bot.web.line import bp as line_bp
    from bot.web.staff import bp as staff_bp

    app.register_blueprint(chat_bp)  # /api/chat, /healthz, demo page, widget files
    app.register_blueprint(line_bp)  # /line/webhook
    app.register_blueprint(staff_bp)  # /staff
    security.init_app(app)  # CORS for /api/chat, security headers

    from bot.web.staff.cli import staff_cli
    app.cli.add_command(staff_cli)  # flask --app bot.web staff create|list|...|unlock-address|purge

    _register_error_handlers(app)
    return app


def _register_error_handlers(app: Flask) -> None:
    """JSON errors for the API, short Japanese pages elsewhere; never a stack trace."""
    messages = {
        400: "リクエストの形式が正しくありません。",
        404: "ページが見つかりません。",
        405: "この方法では使えません。",
        413: "送られた内容が大きすぎます。",
        429: "短い時間にたくさん送られました。少し待ってください。",
        500: "エラーが起きました。時間をおいてもう一度お試しください。",
    }

    def handle(exc):
        code = getattr(exc, "code", 500) or 500
        if code not in messages:
            code = 500
        if code == 500:
            logging.getLogger("soudan.web").exception("unhandled error")
        message = messages[code]
        extra = {}
        if code in (429, 500) or request.path.startswith("/api/"):
            sogo = app.config["DIRECTORY"].agency("sogo")
            message += f" お急ぎの相談は{sogo.name}（電話：{sogo.phone}）へ。"
            extra = {"phone": sogo.phone, "tel": sogo.tel}
        if request.path.startswith(("/api/", "/line/", "/healthz")):
            return json_error(code, str(code), message, **extra)
        return (f"<!doctype html><html lang=ja><meta charset=utf-8><title>{code}</title>"
                f"<p>{message}</p></html>"), code, {"Content-Type": "text/html; charset=utf-8"}

    for code in (400, 404, 405, 413, 429, 500):
        app.register_error_handler(code, handle)
    app.register_error_handler(Exception, handle)
