"""Signature check for LINE webhooks and pseudonymous sender ids.

Both are plain HMAC-SHA256: LINE signs the raw body with the channel secret; the bot turns a
LINE user id into a sender id with a server-side secret, so Rasa, the logs and the handoff
records never see the real id (and the id cannot be recovered without the secret).
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from bot.core.fields import CHANNEL_PREFIXES

SENDER_PREFIX = CHANNEL_PREFIXES["line"]  # the bot reads the channel back from it (bot.core.fields.channel_of_sender)
PSEUDONYM_HEX_CHARS = 32


def compute_signature(channel_secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(channel secret, raw body)), the value of ``X-Line-Signature``."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_is_valid(channel_secret: str, body: bytes, signature: str) -> bool:
    """Constant-time comparison of the header against the expected signature."""
    if not channel_secret or not signature:
        return False
    expected = compute_signature(channel_secret, body).encode("ascii")
    try:
        given = signature.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)


def pseudonym(secret: str, line_id: str) -> str:
    """Keyed hash of a LINE id (hex, 32 chars): stable per resident, not reversible."""
    if not secret:
        raise ValueError("pseudonym secret missing")
    mac = hmac.new(secret.encode("utf-8"), line_id.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()[:PSEUDONYM_HEX_CHARS]


def line_sender_id(secret: str, user_id: str) -> str:
    """The Rasa sender id of a LINE user: ``line-`` + pseudonym."""
    return SENDER_PREFIX + pseudonym(secret, user_id)
