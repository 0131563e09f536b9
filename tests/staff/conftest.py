"""Fixtures for the staff pages: a real SQLite file per test, the Flask test client, accounts."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Optional

import pytest

from bot.core.store import create_handoff, open_store
from tests.cases import case_summary

NOW = "2026-11-30T10:00:00+09:00"
ADMIN = ("kanri", "Hakodate-Bay-2026")
STAFF = ("shokuin", "Oshima-Plain-77")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """Moves SOUDAN_NOW, the clock every part of the app reads."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.set(NOW)

    def set(self, iso: str) -> None:
        self.current = datetime.fromisoformat(iso)
        self.monkeypatch.setenv("SOUDAN_NOW", self.current.isoformat())

    def advance(self, **delta) -> None:
        self.set((self.current + timedelta(**delta)).isoformat())


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def db_file(tmp_path, monkeypatch, clock):
    path = tmp_path / "soudan.db"
    monkeypatch.setenv("SOUDAN_DB", str(path))
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    return path


@pytest.fixture
def db(db_file):
    store = open_store()
    yield store
    store.conn.close()


@pytest.fixture
def accounts(db):
    from bot.web.staff import accounts as account_store
    account_store.create_user(db, ADMIN[0], "admin", ADMIN[1])
    account_store.create_user(db, STAFF[0], "staff", STAFF[1])
    return {"admin": ADMIN, "staff": STAFF}


@pytest.fixture
def settings():
    from bot.web.config import Settings
    # Rasa is not running in these tests: an unused port makes /api/chat answer 503 at once.
    return Settings(secret_key="test-secret", rasa_urls=("http://127.0.0.1:9",), action_server_urls=("http://127.0.0.1:9",),
                    rasa_timeout_seconds=0.5, session_idle_minutes=30)


@pytest.fixture
def app(db, settings):
    from bot.web import create_app
    application = create_app(settings)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()


def make_handoff(db, *, text: Optional[str] = "母のことで相談です。", **values) -> str:
    """A stored case (``tests.cases.case_summary`` takes the values); its number."""
    return create_handoff(db, case_summary(**values), resident_text=text)


def csrf_token(client, path: str = "/staff/login") -> str:
    response = client.get(path)
    match = CSRF_FIELD.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def login(client, username: str, password: str, next_url: str = ""):
    token = csrf_token(client)
    path = "/staff/login" + (f"?next={next_url}" if next_url else "")
    return client.post(path, data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def as_admin(client, accounts):
    response = login(client, *ADMIN)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@pytest.fixture
def as_staff(client, accounts):
    response = login(client, *STAFF)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def audit_rows(db, action: Optional[str] = None):
    if action:
        return [dict(r) for r in db.query("SELECT * FROM audit_log WHERE action = ? ORDER BY id", [action])]
    return [dict(r) for r in db.query("SELECT * FROM audit_log ORDER BY id")]
