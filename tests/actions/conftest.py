"""Action tests run in the Rasa environment (rasa_sdk), with real trackers and a real SQLite file."""
import pytest


@pytest.fixture(autouse=True)
def store_and_clock(tmp_path, monkeypatch):
    monkeypatch.setenv("SOUDAN_DB", str(tmp_path / "soudan.db"))
    monkeypatch.setenv("SOUDAN_NOW", "2026-11-29T03:00:00+09:00")  # Sunday, 3 a.m.
    return tmp_path / "soudan.db"
