"""Fixtures for the staff pages: a real SQLite file per test, the Flask test client, accounts."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Optional

import pytest

from bot.clock import now
from bot.store import create_handoff, open_store
from bot.summary import build_summary

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
    from bot.web.staff import auth
    auth.create_user(db, ADMIN[0], "admin", ADMIN[1])
    auth.create_user(db, STAFF[0], "staff", STAFF[1])
    return {"admin": ADMIN, "staff": STAFF}


@pytest.fixture
def settings():
    from bot.web.config import Settings
    # Rasa is not running in these tests: an unused port makes /api/chat answer 503 at once.
    return Settings(secret_key="test-secret", rasa_url="http://127.0.0.1:9", action_server_url="http://127.0.0.1:9",
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


SLOTS = {"consulter": "家族", "consulter_relation": "子", "subject_age": "80代以上", "subject_living": "一人暮らし",
         "wish_urgency": "数日のうち", "contact_method": "電話", "contact_time": "平日の午前",
         "contact_name": "北斗花子", "contact_phone": "090-1111-2222"}


def make_handoff(db, *, consent: bool = True, urgency: str = "low", urgent: bool = False, channel: str = "web",
                 fields=("elderly", "hikikomori"), text: Optional[str] = "母のことで相談です。",
                 phrases=()) -> str:
    fields = list(fields)
    summary = build_summary(
        received_at=now(), channel=channel, consent="yes" if consent else "no", fields=fields,
        main_field=fields[0] if fields else None, urgency=urgency, urgency_phrases=list(phrases),
        crisis_kinds=["suicide"] if urgent else [], route="sogo", route_reason="複数の分野にまたがるため",
        agency_name="北斗市総合相談支援センター", slots=SLOTS)
    return create_handoff(db, channel=channel, consent=consent, urgency=urgency, urgent=urgent, fields=fields,
                          main_field=fields[0] if fields else None, summary=summary,
                          resident_text=text if consent else None)


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
