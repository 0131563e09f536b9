"""Web-side hardening: CORS for the widget API and security headers on every response.

Installed by ``create_app`` with ``security.init_app(app)``.

* CORS applies to ``/api/chat`` only (the widget's messages, and ``GET`` for its texts). A
  browser request from an origin listed in ``ALLOWED_ORIGINS`` (the city's CMS, e.g.
  ``https://www.city.hokuto.hokkaido.jp``) gets ``Access-Control-Allow-Origin`` for that origin; a preflight ``OPTIONS`` is answered with 204.
  Same-origin requests (the demo page) always work (Origin host == Host header; behind a reverse
  proxy, pass the Host header through or list the public origin in ALLOWED_ORIGINS). A request
  that carries an ``Origin`` that is neither the same origin nor allowed is refused with 403
  before it reaches Rasa or the rate limiter, so other sites cannot drive the assistant from
  their pages. No cookies are involved (the widget sends ``credentials: "omit"``), so
  ``Allow-Credentials`` is never sent.
* Every response gets a Content-Security-Policy without ``unsafe-inline`` / ``unsafe-eval``,
  ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (plus ``frame-ancestors
  'none'``), ``Referrer-Policy``, ``Permissions-Policy``, and HSTS when ``HTTPS`` is on.
  The staff pages (``/staff/``) get a stricter one (``STAFF_CONTENT_SECURITY_POLICY``: no script
  at all). A view that needs a different CSP can set its own header; it is then left alone.
* API responses and staff pages (not their static files) are ``Cache-Control: no-store`` (they
  hold what residents wrote).
* The widget's own files (``/widget/...``) are loaded by other sites' pages, so they get
  ``Cross-Origin-Resource-Policy: cross-origin``; everything else is ``same-origin``.
"""
from __future__ import annotations

import logging
from typing import FrozenSet
from urllib.parse import urlsplit

from flask import Flask, current_app, request

from bot.web.errors import json_error

CORS_PATHS = ("/api/chat",)
CORS_MAX_AGE = "600"

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

# The staff pages need no script, font or fetch: everything not named is refused.
STAFF_CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])
STAFF_PATHS = "/staff/"
STAFF_STATIC_PATHS = "/staff/static/"

PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
    "magnetometer", "microphone", "midi", "payment", "usb",
))

# ``same-origin`` (not ``no-referrer``): Flask-WTF checks the Referer of same-origin HTTPS form
# posts on the staff pages; other sites never learn which page a resident was on.
REFERRER_POLICY = "same-origin"

logger = logging.getLogger("soudan.web")

FORBIDDEN_ORIGIN_MESSAGE = "このページからは使えません。北斗市のホームページから相談してください。"


def normalize_origin(origin: str) -> str:
    """``https://Example.jp/`` -> ``https://example.jp`` (scheme://host[:port], lower case)."""
    parts = urlsplit(origin.strip())
    if not parts.scheme or not parts.netloc:
        return origin.strip().lower().rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def allowed_origins(app: Flask) -> FrozenSet[str]:
    settings = app.config["SETTINGS"]
    return frozenset(normalize_origin(o) for o in (getattr(settings, "allowed_origins", ()) or ()) if o)


def is_same_origin(origin: str) -> bool:
    """The Origin names this server. Only host[:port] is compared, so a TLS-terminating proxy
    in front of waitress (which sees plain HTTP) does not turn the demo page into a stranger."""
    return urlsplit(origin).netloc.lower() == (request.host or "").lower()


def _is_cors_path() -> bool:
    return request.path in CORS_PATHS


def _origin_verdict():
    """None when there is no Origin header; else 'same', 'allowed' or 'forbidden'."""
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if origin != "null" and is_same_origin(origin):
        return "same"
    if normalize_origin(origin) in current_app.config["SECURITY_ALLOWED_ORIGINS"]:
        return "allowed"
    return "forbidden"


def _forbidden():
    logger.warning("refused %s %s from origin %r (not in ALLOWED_ORIGINS)", request.method, request.path,
                   request.headers.get("Origin", "")[:100])
    return json_error(403, "origin_not_allowed", FORBIDDEN_ORIGIN_MESSAGE)


def _before_request():
    if not _is_cors_path():
        return None
    verdict = _origin_verdict()
    if request.method == "OPTIONS":
        if verdict in ("allowed", "same"):
            response = current_app.response_class(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
            return response
        return _forbidden()
    if verdict == "forbidden":
        return _forbidden()
    return None


def _set_default(headers, name: str, value: str) -> None:
    if name not in headers:
        headers[name] = value


def _after_request(response):
    headers = response.headers
    if _is_cors_path():
        _vary(headers, "Origin")
        if _origin_verdict() == "allowed":
            headers["Access-Control-Allow-Origin"] = request.headers["Origin"]
    staff = request.path.startswith(STAFF_PATHS)
    _set_default(headers, "Content-Security-Policy", STAFF_CONTENT_SECURITY_POLICY if staff else CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    _set_default(headers, "X-Frame-Options", "DENY")
    _set_default(headers, "Referrer-Policy", REFERRER_POLICY)
    _set_default(headers, "Permissions-Policy", PERMISSIONS_POLICY)
    _set_default(headers, "Cross-Origin-Opener-Policy", "same-origin")
    _set_default(headers, "Cross-Origin-Resource-Policy",
                 "cross-origin" if request.path.startswith("/widget/") else "same-origin")
    if request.path.startswith("/api/") or (staff and not request.path.startswith(STAFF_STATIC_PATHS)):
        headers["Cache-Control"] = "no-store"
    if getattr(current_app.config["SETTINGS"], "https", False):
        _set_default(headers, "Strict-Transport-Security", "max-age=31536000")
    return response


def _vary(headers, value: str) -> None:
    current = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
    if value not in current:
        current.append(value)
    headers["Vary"] = ", ".join(current)


def init_app(app: Flask) -> None:
    """Install CORS and the security headers on ``app``."""
    app.config["SECURITY_ALLOWED_ORIGINS"] = allowed_origins(app)
    app.before_request(_before_request)
    app.after_request(_after_request)

