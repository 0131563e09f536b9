"""Recording conversation outcomes (bot/web/outcomes.py) in a real SQLite file: one row per
conversation, counts merged turn by turn, nothing that identifies the resident."""
import json
import logging

import pytest

from bot.core.store import open_store
from bot.web import outcomes

DAY = "2026-11-30T10:00:00+09:00"


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("SOUDAN_DB", str(tmp_path / "soudan.db"))
    monkeypatch.setenv("SOUDAN_NOW", DAY)
    store = open_store()
    yield store
    store.conn.close()


def rows(db):
    return outcomes.table_rows(db)


def test_one_conversation_is_one_row_with_all_its_outcomes(db):
    sender = "web-test-0123456789abcdef"
    assert outcomes.record("web", sender, [{"outcome": "clarify"}])
    assert outcomes.record("web", sender, [{"outcome": "clarify"}, {"outcome": "sogo", "undecided": True}])
    assert outcomes.record("web", sender, [{"outcome": "handoff", "consent": False}])
    assert outcomes.record("web", sender, [{"outcome": "handoff", "consent": True}])
    assert outcomes.record("web", sender, [{"outcome": "handoff", "consent": False}])  # never downgraded
    [row] = rows(db)
    assert row["day"] == "2026-11-30" and row["channel"] == "web"
    assert json.loads(row["agencies"]) == ["sogo"] and row["clarify_rounds"] == 2 and row["undecided"] == 1
    assert row["handoff"] == "consent"
    assert sender not in json.dumps(row) and "0123456789abcdef" not in json.dumps(row)


def test_two_senders_are_two_conversations_and_a_turn_without_outcome_writes_nothing(db):
    assert outcomes.record("line", "line-aaaaaaaaaaaaaaaa", [{"outcome": "agency", "agency": "kodomo"}])
    assert outcomes.record("line", "line-bbbbbbbbbbbbbbbb", [{"outcome": "crisis", "crisis_kinds": ["suicide", "fire"]}])
    assert not outcomes.record("line", "line-cccccccccccccccc", [])
    assert not outcomes.record("line", "line-cccccccccccccccc", [{"reference": "482-9135"}])
    found = rows(db)
    assert [(r["channel"], json.loads(r["agencies"]), json.loads(r["crisis_kinds"])) for r in found] == [
        ("line", ["kodomo"], []), ("line", [], ["suicide", "fire"])]
    assert found[0]["handoff"] is None and found[0]["link"] != found[1]["link"]


def test_values_outside_the_directory_never_reach_the_table(db):
    assert not outcomes.record("web", "web-x1234567", [
        {"outcome": "agency", "agency": "母の介護で困っています"},
        {"outcome": "crisis", "crisis_kinds": ["死にたい", 3]},
        {"outcome": "handoff", "consent": "yes"}, "not a note"])
    assert not outcomes.record("fax", "web-x1234567", [{"outcome": "clarify"}])
    assert rows(db) == []


def test_the_link_is_not_the_sender_and_is_erased_when_the_day_is_over(db, monkeypatch):
    sender = "line-" + "d" * 32
    outcomes.record("line", sender, [{"outcome": "agency", "agency": "kakehashi"}])
    [first] = rows(db)
    assert first["link"] and sender not in first["link"] and len(first["link"]) == 32
    monkeypatch.setenv("SOUDAN_NOW", "2026-12-01T09:00:00+09:00")
    outcomes.record("line", sender, [{"outcome": "agency", "agency": "kakehashi"}])
    yesterday, today = rows(db)
    assert yesterday["link"] is None and yesterday["day"] == "2026-11-30"
    assert today["day"] == "2026-12-01" and today["link"] not in (None, first["link"])  # a new day's key


def test_a_store_that_cannot_be_opened_loses_the_count_not_the_answer(tmp_path, monkeypatch, caplog):
    (tmp_path / "dir.db").mkdir()
    monkeypatch.setenv("SOUDAN_DB", str(tmp_path / "dir.db"))
    sender = "web-secret-sender-id"
    with caplog.at_level(logging.ERROR, logger="soudan.outcomes"):
        assert outcomes.record("web", sender, [{"outcome": "clarify"}]) is False
    assert "outcome not counted" in caplog.text and sender not in caplog.text


def test_an_answer_in_another_language_is_counted():
    facts = outcomes.facts_from_notes([{"outcome": "other_language"}])
    assert facts and facts.other_language and not facts.agencies
