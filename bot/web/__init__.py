"""The public web side (Flask): widget API, demo page, LINE webhook, staff pages.

Runs in its own Python 3.11 environment and talks to Rasa over loopback HTTP.
"""
from __future__ import annotations

from typing import Optional

from flask import Flask

from bot.core.directory import get_directory
from bot.web.config import Settings
from bot.web.rasa_client import RasaClient
from bot.web.ratelimit import RateLimiter


def create_app(settings: Optional[Settings] = None) -> Flask:
    """Application factory: validates the directory at start-up (bad data stops the app)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        DIRECTORY=get_directory(),
        RASA=RasaClient(settings.rasa_urls, settings.action_server_urls, settings.rasa_timeout_seconds,
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

    from bot.web.errors import register_error_handlers
    register_error_handlers(app)
    return app
