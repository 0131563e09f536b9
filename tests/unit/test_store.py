"""The handoff store on a real SQLite file: schema, WAL, references, concurrent writers."""
import json
import multiprocessing
import os
import sqlite3

import pytest

from bot.store import StoreError, create_handoff, get_handoff, is_valid_reference, new_reference, open_store


def _make(db, **overrides):
    args = dict(channel="web", consent=True, urgency="medium", urgent=False, fields=["elderly", "poverty"],
                main_field="elderly", summary={"reception": {"channel": "web"}}, resident_text="母の介護と借金")
    args.update(overrides)
    return create_handoff(db, **args)


def test_schema_wal_and_round_trip(tmp_path):
    db = open_store(tmp_path / "s.db")
    assert db.journal_mode == "wal"
    ref = _make(db)
    assert is_valid_reference(ref)
    row = get_handoff(db, ref)
    assert row["fields"] == ["elderly", "poverty"] and row["status"] == "new"
    assert row["summary"]["reception"]["ref"] == ref
    assert row["resident_text"] == "母の介護と借金"


def test_no_consent_keeps_no_free_text(tmp_path):
    db = open_store(tmp_path / "s.db")
    ref = _make(db, consent=False, resident_text="should not be stored")
    row = get_handoff(db, ref)
    assert row["consent"] == "no" and row["resident_text"] is None


def test_migration_is_idempotent(tmp_path):
    open_store(tmp_path / "s.db")
    db = open_store(tmp_path / "s.db")
    assert "handoffs" in db.table_names()


def test_reference_numbers_have_a_check_digit():
    ref = new_reference()
    assert is_valid_reference(ref)
    digits = ref.replace("-", "")
    wrong = digits[:6] + str((int(digits[6]) + 1) % 10)
    assert not is_valid_reference(wrong)


def _writer(path, count, queue):
    db = open_store(path)
    refs = [_make(db, resident_text=f"writer {os.getpid()} #{i}") for i in range(count)]
    queue.put(refs)


def test_two_processes_writing_lose_nothing(tmp_path):
    path = tmp_path / "s.db"
    open_store(path)
    queue = multiprocessing.get_context("spawn").Queue()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, 150, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    refs = queue.get(timeout=120) + queue.get(timeout=120)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    db = open_store(path)
    assert db["handoffs"].count == 300
    assert len(set(refs)) == 300
    assert all(get_handoff(db, r) is not None for r in refs)


def test_read_only_database_raises_store_error(tmp_path):
    path = tmp_path / "s.db"
    db = open_store(path)
    db.conn.close()
    ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    import sqlite_utils
    with pytest.raises(StoreError):
        _make(sqlite_utils.Database(ro))
