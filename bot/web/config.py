"""Web-side settings, read from the environment once when the app is created."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Tuple

from bot.tools.scale import url_list


def _urls(name: str, single: str, default: Tuple[str, ...]) -> Tuple[str, ...]:
    """The URLs listed in ``name`` (``RASA_URLS``), else the one in ``single`` (``RASA_URL``)."""
    return url_list(os.environ.get(name)) or url_list(os.environ.get(single)) or default


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass
class Settings:
    # One Rasa server (RASA_URL) or several (RASA_URLS, docs/deployment.md) sharing Rasa's SQL
    # tracker store and redis lock store; "conversation" routing keeps a conversation on one
    # server, "message" spreads each conversation's messages over all of them in turn. The same
    # for the action servers whose health the web side reports.
    rasa_urls: Tuple[str, ...] = ("http://127.0.0.1:5005",)
    action_server_urls: Tuple[str, ...] = ("http://127.0.0.1:5055",)
    rasa_routing: str = "conversation"
    # The handoff store's internal endpoint for action servers on other machines
    # (bot/web/internal_store.py): "host:port" on a private address, and its shared secret.
    handoff_store_listen: str = ""
    handoff_store_secret: str = ""
    rasa_timeout_seconds: float = 10.0
    max_message_chars: int = 2000
    max_body_bytes: int = 16 * 1024
    allowed_origins: Tuple[str, ...] = ()
    rate_limit_per_session: int = 30  # messages per minute
    rate_limit_per_ip: int = 120
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    pseudonym_secret: str = ""
    line_channel_secret: str = ""
    line_channel_access_token: str = ""
    line_api_endpoint: str = "https://api.line.me"
    session_idle_minutes: int = 30
    https: bool = False

    @classmethod
    def from_env(cls) -> "Settings":
        origins = tuple(o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip())
        secret = os.environ.get("SECRET_KEY") or secrets.token_hex(32)
        return cls(
            rasa_urls=_urls("RASA_URLS", "RASA_URL", cls.rasa_urls),
            action_server_urls=_urls("ACTION_SERVER_URLS", "ACTION_SERVER_URL", cls.action_server_urls),
            rasa_routing=os.environ.get("RASA_ROUTING", cls.rasa_routing).strip().lower() or cls.rasa_routing,
            handoff_store_listen=os.environ.get("HANDOFF_STORE_LISTEN", "").strip(),
            handoff_store_secret=os.environ.get("HANDOFF_STORE_SECRET", ""),
            rasa_timeout_seconds=float(os.environ.get("RASA_TIMEOUT", cls.rasa_timeout_seconds)),
            allowed_origins=origins,
            rate_limit_per_session=_int("RATE_LIMIT_PER_SESSION", cls.rate_limit_per_session),
            rate_limit_per_ip=_int("RATE_LIMIT_PER_IP", cls.rate_limit_per_ip),
            secret_key=secret,
            pseudonym_secret=os.environ.get("PSEUDONYM_SECRET") or secret,
            line_channel_secret=os.environ.get("LINE_CHANNEL_SECRET", ""),
            line_channel_access_token=os.environ.get("LINE_CHANNEL_ACCESS_TOKEN", ""),
            line_api_endpoint=os.environ.get("LINE_API_ENDPOINT", cls.line_api_endpoint).rstrip("/"),
            session_idle_minutes=_int("STAFF_SESSION_IDLE_MINUTES", cls.session_idle_minutes),
            https=os.environ.get("HTTPS", "").lower() in ("1", "true", "yes"),
        )
