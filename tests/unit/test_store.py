"""The handoff store on a real SQLite file: schema, WAL, references, concurrent writers."""
import multiprocessing
import os
import sqlite3

import pytest

from bot.core.store import (StoreError, create_handoff, get_handoff, is_valid_reference, new_reference, open_store,
                       transaction, update_case)
from tests.cases import case_summary


def _make(db, resident_text="母の介護と借金", **values):
    return create_handoff(db, case_summary(**dict(dict(urgency="medium", fields=["elderly", "poverty"]), **values)),
                          resident_text=resident_text)


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


def test_the_columns_come_from_the_summary_and_a_bad_summary_names_its_part(tmp_path):
    db = open_store(tmp_path / "s.db")
    row = get_handoff(db, _make(db, channel="line", urgency="high", urgent=True, fields=["dv_abuse", "kids"]))
    assert (row["channel"], row["consent"], row["urgency"], row["urgent"]) == ("line", "yes", "high", 1)
    assert row["fields"] == ["dv_abuse", "kids"] and row["main_field"] == "dv_abuse"
    calm = get_handoff(db, _make(db, consent=False))
    assert (calm["consent"], calm["urgency"], calm["urgent"]) == ("no", "medium", 0)
    for part, value in [("reception", {"channel": "fax"}), ("urgency", {"level": "soon"}), ("fields", {"all": "elderly"}),
                        ("consent", "maybe")]:
        with pytest.raises(ValueError, match=part):
            create_handoff(db, dict(case_summary(), **{part: value}))
    assert db["handoffs"].count == 2


def test_a_case_saved_again_keeps_its_channel_and_the_higher_urgency(tmp_path):
    db = open_store(tmp_path / "s.db")
    ref = _make(db, channel="line", urgency="high", urgent=True)
    assert update_case(db, ref, case_summary(urgency="low", fields=["poverty"]), resident_text="借金も", note="追加")
    row = get_handoff(db, ref)
    assert (row["channel"], row["urgency"], row["urgent"], row["fields"]) == ("line", "high", 1, ["poverty"])
    assert row["resident_text"] == "借金も" and row["summary"]["reception"]["ref"] == ref
    assert update_case(db, ref, case_summary(consent=False), resident_text="消える", note="同意の取り消し")
    assert get_handoff(db, ref)["resident_text"] is None
    assert not update_case(db, "123-4566", case_summary(), resident_text=None, note="x")


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


def _schema(db):
    return sorted((r["type"], r["name"], r["sql"]) for r in db.query(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlite_migrations%'"))


def test_database_at_legacy_version_3_migrates_forward(tmp_path):
    """Cities run databases made by the hand-written runner at version 3 (schema_version table):
    they get 4-6 only, keep their rows, and end with the schema of a new database."""
    import sqlite_utils
    from bot.core.store import MIGRATIONS, _migration_1, _migration_2_staff, _migration_3_login_throttle

    path = tmp_path / "city.db"
    old = sqlite_utils.Database(sqlite3.connect(str(path)))
    for migration in (_migration_1, _migration_2_staff, _migration_3_login_throttle):
        migration(old)
    old["schema_version"].insert({"id": 1, "version": 3}, pk="id")
    old["handoffs"].insert({"ref": "482-9135", "created_at": "2025-04-01T10:00:00", "channel": "web",
                            "consent": "yes", "urgency": "low", "summary": "{}", "fields": "[]"})
    old.execute("INSERT INTO staff_users (username, password_hash, role, created_at) "
                "VALUES ('sato', 'x', 'admin', '2025-04-01T09:00:00')")
    old.conn.commit()
    old.conn.close()

    db = open_store(path)
    assert "schema_version" not in db.table_names()
    assert [m.name for m in MIGRATIONS.applied(db)] == ["1_handoffs", "2_staff", "3_login_throttle", "4_outcomes",
                                                        "5_handoff_requests", "6_line_contact"]
    assert MIGRATIONS.pending(db) == []
    assert get_handoff(db, "482-9135")["channel"] == "web"
    assert db["staff_users"].count == 1
    assert {"line_contact", "line_contact_hash"} <= {c.name for c in db["handoffs"].columns}
    assert _schema(db) == _schema(open_store(tmp_path / "new.db"))
    assert open_store(path) is not None  # and again: nothing left to do


def _starter(path, queue):
    try:
        open_store(path).conn.close()
        queue.put("ok")
    except Exception as exc:  # reported to the test, which fails on it
        queue.put(repr(exc))


def test_processes_starting_together_migrate_once(tmp_path):
    path = tmp_path / "s.db"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_starter, args=(path, queue)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == ["ok"] * 3
    from bot.core.store import MIGRATIONS
    db = open_store(path)
    assert len(MIGRATIONS.applied(db)) == 6 and db["handoffs"].count == 0


def test_a_transaction_keeps_its_writes_together(tmp_path):
    """sqlite-utils commits each write on its own; bot.core.store.transaction makes a block all or nothing."""
    db = open_store(tmp_path / "t.db")
    db.execute("CREATE TABLE pairs (n INTEGER NOT NULL)")
    with pytest.raises(sqlite3.IntegrityError):
        with transaction(db):
            db.execute("INSERT INTO pairs (n) VALUES (1)")
            db.execute("INSERT INTO pairs (n) VALUES (NULL)")  # fails: the first insert must go too
    assert db.execute("SELECT count(*) FROM pairs").fetchone()[0] == 0
    with transaction(db):
        db.execute("INSERT INTO pairs (n) VALUES (1)")
        with transaction(db):  # nested: a savepoint inside the same transaction
            db.execute("INSERT INTO pairs (n) VALUES (2)")
    assert [r[0] for r in db.execute("SELECT n FROM pairs ORDER BY n")] == [1, 2]
    assert not db.conn.in_transaction
