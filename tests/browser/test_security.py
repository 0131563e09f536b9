"""Security headers and CORS on the web side (Flask test client; no Rasa, no browser)."""
from __future__ import annotations

import pytest

from bot.core.directory import get_directory
from bot.tools.runner import free_port
from bot.web import create_app
from bot.web.config import Settings

CITY = "https://www.city.hokuto.hokkaido.jp"
STRANGER = "https://evil.example"


@pytest.fixture(scope="module")
def client():
    # Rasa points at a closed port: /api/chat answers 503 at once, which is what we want here.
    closed = f"http://127.0.0.1:{free_port()}"
    settings = Settings(rasa_urls=(closed,), action_server_urls=(closed,), rasa_timeout_seconds=2,
                        allowed_origins=(CITY + "/",), secret_key="test")
    app = create_app(settings)
    app.testing = True
    return app.test_client()


def chat(client, origin=None, **json):
    headers = {"Origin": origin} if origin else {}
    return client.post("/api/chat", json=json or {"sender": "unit-test-1", "message": "こんにちは"},
                       headers=headers)


@pytest.mark.parametrize("path", ["/", "/widget/soudan-widget.js", "/healthz", "/no-such-page", "/demo.css"])
def test_every_response_has_security_headers(client, path):
    response = client.get(path)
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert "camera=()" in headers["Permissions-Policy"] and "microphone=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # HTTPS is off in this app


def test_widget_files_can_be_loaded_by_other_sites(client):
    response = client.get("/widget/soudan-widget.js")
    assert response.status_code == 200
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "javascript" in response.headers["Content-Type"]
    assert client.get("/widget/soudan-widget.css").status_code == 200
    assert client.get("/").headers["Cross-Origin-Resource-Policy"] == "same-origin"


def test_api_errors_are_json_with_headers_and_not_cached(client):
    response = chat(client)
    assert response.status_code == 503
    body = response.get_json()
    sogo = get_directory().agency("sogo")
    assert body["phone"] == sogo.phone and body["tel"] == sogo.tel
    assert sogo.phone in body["error"]["message"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in response.headers  # no Origin, no CORS


def test_allowed_origin_preflight(client):
    response = client.options("/api/chat", headers={
        "Origin": CITY, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == CITY
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_allowed_origin_post_gets_cors_headers_even_on_errors(client):
    response = chat(client, origin=CITY)
    assert response.status_code == 503
    assert response.headers["Access-Control-Allow-Origin"] == CITY
    assert "Origin" in response.headers["Vary"]
    bad = chat(client, origin=CITY, sender="x", message="a")
    assert bad.status_code == 400
    assert bad.headers["Access-Control-Allow-Origin"] == CITY


def test_other_origins_are_refused(client):
    preflight = client.options("/api/chat", headers={"Origin": STRANGER, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    response = chat(client, origin=STRANGER)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert chat(client, origin="null").status_code == 403


def test_same_origin_always_works(client):
    # The demo page on this server: the test client's host is "localhost".
    response = chat(client, origin="http://localhost")
    assert response.status_code == 503  # reached the API (Rasa is down), not refused
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options("/api/chat", headers={"Origin": "http://localhost",
                                                     "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204


def test_cors_only_on_the_chat_api(client):
    response = client.get("/healthz", headers={"Origin": CITY})
    assert "Access-Control-Allow-Origin" not in response.headers
    response = client.get("/", headers={"Origin": CITY})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_body_cap_still_413(client):
    response = client.post("/api/chat", data="x" * (17 * 1024), content_type="application/json",
                           headers={"Origin": CITY})
    assert response.status_code == 413
    assert response.headers["Access-Control-Allow-Origin"] == CITY


def test_hsts_when_https():
    closed = f"http://127.0.0.1:{free_port()}"
    app = create_app(Settings(rasa_urls=(closed,), action_server_urls=(closed,), https=True, secret_key="t"))
    response = app.test_client().get("/demo.css")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
