"""The web side's internal handoff store over real HTTP (waitress on a free loopback port, a real
SQLite file): the secret, repeated request keys for a new case, a case saved again and late
danger, and clear errors for bad requests."""
from __future__ import annotations

import pytest
import requests

from bot.tools.runner import free_port
from bot.core.store import get_handoff, open_store
from bot.web.internal_store import SECRET_HEADER, parse_listen, serve_in_thread
from tests.cases import case_summary

SECRET = "unit-store-secret-0123456789"
CASE = {"summary": case_summary(channel="line", urgency="medium", fields=["elderly", "poverty"]), "resident_text": "母の介護"}


def with_part(part: str, value) -> dict:
    """CASE whose summary has ``part`` replaced."""
    return dict(CASE, key="k" * 20, summary=dict(CASE["summary"], **{part: value}))


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("SOUDAN_DB", str(tmp_path / "soudan.db"))
    open_store().conn.close()  # the web side migrates at start (bot.web.serve), then serves this
    port = free_port()
    server = serve_in_thread(f"127.0.0.1:{port}", SECRET)
    session = requests.Session()
    session.headers[SECRET_HEADER] = SECRET
    yield f"http://127.0.0.1:{port}/internal/handoffs", session, tmp_path / "soudan.db"
    server.close()


def test_new_case_then_saved_again_then_late_danger_each_once_per_key(store):
    url, session, db_path = store
    ref = session.post(url, json=dict(CASE, key="k" * 20), timeout=5).json()["ref"]
    assert session.post(url, json=dict(CASE, key="k" * 20), timeout=5).json()["ref"] == ref
    update = dict(CASE, key="u" * 20, summary=case_summary(channel="web", urgency="high"), note="内容を更新")
    for _ in range(2):
        answer = session.post(f"{url}/{ref}/case", json=update, timeout=5)
        assert answer.status_code == 200 and answer.json() == {"updated": True}
    danger = {"key": "d" * 20, "kinds": ["suicide"], "phrases": ["死にたい"], "kind_labels": ["自殺の危険"]}
    for _ in range(2):
        assert session.post(f"{url}/{ref}/danger", json=danger, timeout=5).json() == {"updated": True}
    db = open_store(db_path)
    row = get_handoff(db, ref)
    assert row["urgency"] == "high" and row["urgent"] == 1 and row["channel"] == "line"
    kinds = [e["kind"] for e in db["handoff_events"].rows_where("handoff_id = ?", [row["id"]])]
    assert kinds.count("case") == 1 and kinds.count("danger") == 1  # repeats changed nothing
    assert db["handoffs"].count == 1


def test_unknown_case_is_not_updated_and_bad_requests_say_what_is_wrong(store):
    url, session, _ = store
    danger = {"key": "d" * 20, "kinds": ["suicide"], "phrases": [], "kind_labels": ["自殺の危険"]}
    assert session.post(f"{url}/123-4566/danger", json=danger, timeout=5).json() == {"updated": False}
    assert session.post(f"{url}/not-a-ref/danger", json=danger, timeout=5).status_code == 404
    for body, words in [(dict(CASE, key="short"), "request key"), (with_part("reception", {"channel": "fax"}), "channel"),
                        (with_part("fields", {"all": "elderly"}), "fields"), (dict(CASE, key="k" * 20, summary=[]), "summary"),
                        ([1, 2], "JSON object")]:
        answer = session.post(url, json=body, timeout=5)
        assert answer.status_code == 400 and words in answer.json()["error"]["message"], body
    assert session.post(url, data=b"x" * (600 * 1024), headers={"Content-Type": "application/json"},
                        timeout=5).status_code == 413
    assert requests.get(url.replace("/handoffs", "/stats"), timeout=5).status_code == 403


def test_settings_are_checked():
    assert parse_listen("10.0.0.1:8001") == ("10.0.0.1", 8001)
    for bad in ("8001", "host:", ":8001", "host:port"):
        with pytest.raises(ValueError, match="host:port"):
            parse_listen(bad)
    with pytest.raises(ValueError, match="16 characters"):
        serve_in_thread("127.0.0.1:0", "short")
