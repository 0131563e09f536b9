"""Behind a reverse proxy (TRUSTED_PROXY): waitress, as bot.web.serve runs it, takes the client's
address from X-Forwarded-For, so a lockout by address hits the attacker, not everyone behind the
proxy; without TRUSTED_PROXY the header is ignored."""
from __future__ import annotations

import threading

import pytest
import requests
from waitress.server import create_server

from bot.web.serve import server_options
from bot.web.staff import auth
from tests.staff.conftest import CSRF_FIELD, STAFF

WRONG = "wrong-password-1234"


@pytest.fixture
def serve_with(app):
    servers = []

    def start(environ):
        server = create_server(app, host="127.0.0.1", port=0, threads=2, **server_options(environ))
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.effective_port}"
    yield start
    for server in servers:
        server.close()


def login(base: str, forwarded_for: str, username: str, password: str) -> requests.Response:
    session = requests.Session()
    headers = {"X-Forwarded-For": forwarded_for}
    page = session.get(base + "/staff/login", headers=headers, timeout=10).text
    token = CSRF_FIELD.search(page).group(1)
    return session.post(base + "/staff/login", headers=headers, allow_redirects=False, timeout=10,
                        data={"username": username, "password": password, "csrf_token": token})


def test_a_trusted_proxy_lets_the_lockout_see_each_client(serve_with, accounts):
    base = serve_with({"TRUSTED_PROXY": "127.0.0.1"})
    for i in range(auth.ADDRESS_LOCK_AFTER):
        assert login(base, "203.0.113.50", f"guess{i:03d}", WRONG).status_code == 401
    assert login(base, "203.0.113.50", *STAFF).status_code == 401  # the attacker's address is locked
    assert login(base, "198.51.100.7", *STAFF).status_code == 303  # a colleague behind the same proxy is not


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(serve_with, accounts):
    base = serve_with({})
    for i in range(auth.ADDRESS_LOCK_AFTER):
        login(base, f"203.0.113.{i}", f"guess{i:03d}", WRONG)
    # Every try came from 127.0.0.1, whatever the header said: that address is locked.
    assert login(base, "198.51.100.7", *STAFF).status_code == 401
