"""The handoff store: one SQLite file in WAL mode, accessed only through sqlite-utils.

The schema is created and migrated once when a process starts (``open_store``: the web side's
app factory, the staff commands, the action server's first save); requests only ``connect``. The
migrations are a ``sqlite_utils.migrations.Migrations`` set (the record of applied ones is the
``_sqlite_migrations`` table). A handoff is committed by
``create_handoff`` before its reference number is returned, so a number shown to a resident
always exists in the file.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Iterable, Iterator, List, Optional

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot import PROJECT_ROOT
from bot.core.clock import stamp
from bot.core.fields import CHANNEL_PREFIXES, URGENCY_LEVELS, higher_urgency

DEFAULT_DB = PROJECT_ROOT / "var" / "soudan.db"
BUSY_TIMEOUT_SECONDS = 15


class StoreError(RuntimeError):
    """The store could not be read or written (disk full, read-only file, locked too long)."""


def db_path() -> Path:
    return Path(os.environ.get("SOUDAN_DB") or DEFAULT_DB)


# Append new migrations at the end with a new name; never edit or rename one that has shipped
# (1-3 are in cities' databases).
MIGRATIONS = Migrations("soudan")


@MIGRATIONS(name="1_handoffs")
def _migration_1(db: sqlite_utils.Database) -> None:
    db["handoffs"].create(
        {
            "id": int,
            "ref": str,
            "created_at": str,
            "channel": str,
            "consent": str,
            "urgency": str,
            "urgent": int,
            "fields": str,
            "main_field": str,
            "status": str,
            "summary": str,
            "resident_text": str,
        },
        pk="id",
        not_null={"ref", "created_at", "channel", "consent", "urgency", "status", "summary"},
        defaults={"status": "new", "urgent": 0},
    )
    db["handoffs"].create_index(["ref"], unique=True)
    db["handoffs"].create_index(["created_at"])
    db["handoffs"].create_index(["status"])


@MIGRATIONS(name="2_staff")
def _migration_2_staff(db: sqlite_utils.Database) -> None:
    """Staff review (issue 6): accounts, server-side sessions, the audit log, the append-only
    case history, and the columns staff work with on ``handoffs``.

    Written to be idempotent (IF NOT EXISTS, columns added only when missing) because the action
    server and the web side may both migrate the same file at start-up (``migrate`` now takes the
    write lock first, so this is only a second safety)."""
    existing = {c.name for c in db["handoffs"].columns}
    for column in ("assignee", "connected_agency", "status_changed_at", "text_purged_at"):
        if column not in existing:
            db.execute(f"ALTER TABLE handoffs ADD COLUMN {column} TEXT")
    db.executescript("""
        CREATE TABLE IF NOT EXISTS staff_users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
            disabled INTEGER NOT NULL DEFAULT 0,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            created_at TEXT NOT NULL,
            last_login_at TEXT
        );
        CREATE TABLE IF NOT EXISTS staff_sessions (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES staff_users(id),
            created_at TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE TABLE IF NOT EXISTS audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            username TEXT,
            action TEXT NOT NULL,
            target TEXT,
            detail TEXT,
            ip TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_audit_log_at ON audit_log(at);
        CREATE TABLE IF NOT EXISTS handoff_events (
            id INTEGER PRIMARY KEY,
            handoff_id INTEGER NOT NULL REFERENCES handoffs(id),
            at TEXT NOT NULL,
            username TEXT NOT NULL,
            kind TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT,
            agency TEXT,
            assignee TEXT,
            note TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_handoff_events_handoff ON handoff_events(handoff_id);
        CREATE TRIGGER IF NOT EXISTS handoff_events_no_update BEFORE UPDATE ON handoff_events
            BEGIN SELECT RAISE(ABORT, 'handoff_events is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS handoff_events_no_delete BEFORE DELETE ON handoff_events
            BEGIN SELECT RAISE(ABORT, 'handoff_events is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    """)


@MIGRATIONS(name="3_login_throttle")
def _migration_3_login_throttle(db: sqlite_utils.Database) -> None:
    """Login failures per client address and per unknown username (known accounts keep theirs on
    ``staff_users``), so a lockout does not depend on whether the name exists. Idempotent."""
    db.executescript("""
        CREATE TABLE IF NOT EXISTS login_throttle (
            key TEXT PRIMARY KEY,
            failures INTEGER NOT NULL DEFAULT 0,
            window_start TEXT NOT NULL,
            locked_until TEXT
        );
    """)


@MIGRATIONS(name="4_outcomes")
def _migration_4_outcomes(db: sqlite_utils.Database) -> None:
    """City-wide statistics (issue 15): one row per conversation with its outcomes, no words, no
    sender, no reference number (written by ``bot.web.outcomes``, which documents each column).
    Retention leaves these rows alone. Idempotent."""
    db.execute("""
        CREATE TABLE IF NOT EXISTS conversation_outcomes (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('web', 'line')),
            link TEXT,
            agencies TEXT NOT NULL DEFAULT '[]',
            crisis_kinds TEXT NOT NULL DEFAULT '[]',
            clarify_rounds INTEGER NOT NULL DEFAULT 0,
            undecided INTEGER NOT NULL DEFAULT 0,
            out_of_scope INTEGER NOT NULL DEFAULT 0,
            other_language INTEGER NOT NULL DEFAULT 0,
            handoff TEXT CHECK (handoff IN ('consent', 'no_consent'))
        )""")
    # Partial: only today's rows keep a link, so finding and erasing links stays small.
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS idx_conversation_outcomes_link "
               "ON conversation_outcomes(day, link) WHERE link IS NOT NULL")
    db.execute("CREATE INDEX IF NOT EXISTS idx_conversation_outcomes_day ON conversation_outcomes(day)")


@MIGRATIONS(name="5_handoff_requests")
def _migration_5_handoff_requests(db: sqlite_utils.Database) -> None:
    """Idempotent saves (issue 16): an action server that retries a save after a lost answer
    sends the same request key and gets the same reference number (``create_handoff``), so a
    case is stored once however often the request arrives. Idempotent."""
    db.execute("""
        CREATE TABLE IF NOT EXISTS handoff_requests (
            key TEXT PRIMARY KEY,
            ref TEXT NOT NULL,
            at TEXT NOT NULL
        )""")


@MIGRATIONS(name="6_line_contact")
def _migration_6_line_contact(db: sqlite_utils.Database) -> None:
    """LINE follow-up (issue 15): on a case whose resident chose 「このLINEで連絡してほしい」, the
    LINE user id encrypted with LINE_CONTACT_KEY (``line_contact``, a Fernet token; the raw id is
    never stored), a keyed hash to find the case when that resident writes (``line_contact_hash``)
    and when it was kept. ``line_messages`` holds the words of the LINE exchange, one row per
    history event, so retention can remove them while the append-only history keeps the fact
    (bot/web/line/contact.py). Idempotent."""
    existing = {c.name for c in db["handoffs"].columns}
    for column in ("line_contact", "line_contact_hash", "line_contact_at"):
        if column not in existing:
            db.execute(f"ALTER TABLE handoffs ADD COLUMN {column} TEXT")
    db.execute("CREATE INDEX IF NOT EXISTS idx_handoffs_line_contact_hash ON handoffs(line_contact_hash) "
               "WHERE line_contact_hash IS NOT NULL")
    db.execute("""
        CREATE TABLE IF NOT EXISTS line_messages (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL UNIQUE REFERENCES handoff_events(id),
            handoff_id INTEGER NOT NULL REFERENCES handoffs(id),
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            accepted INTEGER,
            retry_key TEXT,
            text TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX IF NOT EXISTS idx_line_messages_handoff ON line_messages(handoff_id)")


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction around statements that belong together. sqlite-utils commits each
    write statement on its own when no transaction is open (``with db.conn`` opens none), so a
    block of several writes runs inside this. BEGIN IMMEDIATE takes the write lock first: another
    writer waits for the busy timeout instead of failing when a read would have to turn into a
    write. Nested blocks become savepoints."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def connect(path: Optional[Path] = None) -> sqlite_utils.Database:
    """Open the database file with a busy timeout, WAL mode and foreign keys on (no migration:
    the process migrated at start-up with ``open_store``)."""
    path = Path(path or db_path())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        if db.journal_mode != "wal":
            db.enable_wal()
        return db
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open the handoff store: {exc}") from exc


# Before sqlite_utils.migrations the version was a number in this table (databases at 3 exist).
LEGACY_VERSION_TABLE = "schema_version"


def _adopt_legacy_version(db: sqlite_utils.Database) -> None:
    """A database from the hand-written runner: its first ``version`` migrations are recorded as
    applied under their names, and the old table goes (one record of what is applied)."""
    if LEGACY_VERSION_TABLE not in db.table_names() or MIGRATIONS.applied(db):
        return
    version = db[LEGACY_VERSION_TABLE].get(1)["version"]
    MIGRATIONS.ensure_migrations_table(db)
    applied_at = stamp()
    db[MIGRATIONS.migrations_table].insert_all(
        {"migration_set": MIGRATIONS.name, "name": m.name, "applied_at": applied_at}
        for m in MIGRATIONS.pending(db)[:version])
    db[LEGACY_VERSION_TABLE].drop()


def migrate(db: sqlite_utils.Database) -> List[str]:
    """Apply pending migrations; return the names applied (none when up to date).

    Under the write lock (BEGIN IMMEDIATE), so processes starting together migrate one after
    the other, the second finding nothing to do; each migration is atomic with its record."""
    if LEGACY_VERSION_TABLE not in db.table_names() and not MIGRATIONS.pending(db):
        return []
    with transaction(db):
        _adopt_legacy_version(db)
        names = [m.name for m in MIGRATIONS.pending(db)]
        MIGRATIONS.apply(db)
    return names


def open_store(path: Optional[Path] = None) -> sqlite_utils.Database:
    """Connect and migrate: the one call a process makes at start-up (requests ``connect``)."""
    db = connect(path)
    try:
        migrate(db)
        return db
    except sqlite3.Error as exc:
        db.conn.close()
        raise StoreError(f"cannot open the handoff store: {exc}") from exc


def _check_digit(digits: str) -> str:
    """Luhn check digit, so a number misheard on the phone is noticed."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def new_reference() -> str:
    """A reference number easy to read out: 7 digits, the last a check digit (``482-9135``)."""
    body = f"{secrets.randbelow(10**6):06d}"
    digits = body + _check_digit(body)
    return f"{digits[:3]}-{digits[3:]}"


def is_valid_reference(ref: str) -> bool:
    digits = ref.replace("-", "")
    return len(digits) == 7 and digits.isdigit() and _check_digit(digits[:6]) == digits[6]


def case_columns(summary: dict) -> dict:
    """The columns a case's summary fills (``bot.core.summary.build_summary``): ``channel``, ``consent``
    (``"yes"``/``"no"``), ``urgency``, ``urgent`` (the summary names a kind of danger), ``fields``
    (JSON) and ``main_field``. ValueError naming the part that is missing or wrong."""
    def part(path: str, ok) -> object:
        value = summary
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if not ok(value):
            raise ValueError(f"summary.{path} is missing or invalid")
        return value

    def str_list(value) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    if not isinstance(summary, dict):
        raise ValueError("summary must be an object")
    fields = part("fields.all", str_list)
    return {
        "channel": part("reception.channel", lambda v: v in CHANNEL_PREFIXES),
        "consent": part("consent", lambda v: v in ("yes", "no")),
        "urgency": part("urgency.level", lambda v: v in URGENCY_LEVELS),
        "urgent": 1 if part("urgency.crisis_kinds", lambda v: v is None or str_list(v)) else 0,
        "fields": json.dumps(fields, ensure_ascii=False),
        "main_field": part("fields.main", lambda v: v is None or isinstance(v, str)),
    }


def _with_ref(summary: dict, ref: str) -> str:
    """The summary as stored: its reception part carries the reference number."""
    return json.dumps(dict(summary, reception=dict(summary["reception"], ref=ref)), ensure_ascii=False)


def create_handoff(db: sqlite_utils.Database, summary: dict, *, resident_text: Optional[str] = None,
                   request_key: Optional[str] = None) -> str:
    """Insert one handoff from its summary (``case_columns``), committed, and return its reference
    number.

    Without consent the record is minimal: no resident text, whatever the caller passed. With a
    ``request_key`` the key is committed with the record, and the same key again returns the
    same number without a second record (a retried request)."""
    columns = case_columns(summary)
    for _ in range(20):
        done = request_done(db, request_key)
        if done:
            return done
        ref = new_reference()
        record = dict(columns, ref=ref, created_at=stamp(), status="new", summary=_with_ref(summary, ref),
                      resident_text=resident_text if columns["consent"] == "yes" else None)
        try:
            with transaction(db):
                db["handoffs"].insert(record)
                if request_key:
                    db["handoff_requests"].insert({"key": request_key, "ref": ref, "at": record["created_at"]})
            return ref
        except sqlite3.IntegrityError:
            continue  # reference number (or the same request, just now) taken: look again
        except sqlite3.Error as exc:
            raise StoreError(f"cannot save the handoff: {exc}") from exc
    raise StoreError("no free reference number after 20 draws")


def request_done(db: sqlite_utils.Database, request_key: Optional[str]) -> Optional[str]:
    """The number already given for this request key, if any."""
    if not request_key:
        return None
    try:
        row = db.execute("SELECT ref FROM handoff_requests WHERE key = ?", [request_key]).fetchone()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the handoff store: {exc}") from exc
    return row[0] if row else None


def add_event(db: sqlite_utils.Database, handoff_id: int, username: str, kind: str, **values) -> int:
    """One line of a case's append-only history (``handoff_events``: ``note``, ``from_status``,
    ``to_status``, ``agency``, ``assignee``), stamped now; its id. Runs in the caller's transaction."""
    columns = ["handoff_id", "at", "username", "kind"] + list(values)
    return db.execute(f"INSERT INTO handoff_events ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                      [handoff_id, stamp(), username, kind] + list(values.values())).lastrowid


DANGER_EVENT = "danger"
BOT_USER = "（チャット）"
# When the resident last told of danger after the handoff (``raise_danger``), as an SQL column.
LATE_DANGER_AT = (f"(SELECT max(e.at) FROM handoff_events e WHERE e.handoff_id = handoffs.id "
                  f"AND e.kind = '{DANGER_EVENT}')")


def get_handoff(db: sqlite_utils.Database, ref: str) -> Optional[dict]:
    """One case with its fields and summary decoded, and ``late_danger_at``; None if unknown."""
    rows = list(db.query(f"SELECT *, {LATE_DANGER_AT} AS late_danger_at FROM handoffs WHERE ref = ?", [ref]))
    if not rows:
        return None
    row = dict(rows[0])
    row["fields"] = json.loads(row["fields"] or "[]")
    row["summary"] = json.loads(row["summary"] or "{}")
    return row


def raise_danger(db: sqlite_utils.Database, ref: str, kinds: Iterable[str], phrases: Iterable[str],
                 kind_labels: Iterable[str]) -> bool:
    """Danger told after the reference number: the stored case becomes urgent (緊急度「高」, so it
    rises to the top of the staff queue), its summary gets the kinds and phrases, and the case
    history says when and what. Returns False when no case has that number."""
    kinds, phrases, labels = list(kinds), list(phrases), list(kind_labels)
    try:
        with transaction(db):
            rows = list(db["handoffs"].rows_where("ref = ?", [ref], select="id, summary"))
            if not rows:
                return False
            handoff_id, summary = rows[0]["id"], json.loads(rows[0]["summary"] or "{}")
            urgency = summary.setdefault("urgency", {})
            urgency["level"], urgency["label"] = "high", "高"
            urgency["crisis_kinds"] = _merged(urgency.get("crisis_kinds"), kinds)
            urgency["phrases"] = _merged(urgency.get("phrases"), phrases)
            db["handoffs"].update(handoff_id, {"urgency": "high", "urgent": 1,
                                               "summary": json.dumps(summary, ensure_ascii=False)})
            add_event(db, handoff_id, BOT_USER, DANGER_EVENT,
                      note="受付のあとに危険のサイン：" + "、".join(labels)
                      + (f"（「{'」「'.join(phrases)}」）" if phrases else ""))
        return True
    except sqlite3.Error as exc:
        raise StoreError(f"cannot raise the case: {exc}") from exc


def _merged(values, more) -> List[str]:
    out = list(values or [])
    out += [v for v in more if v and v not in out]
    return out


CASE_EVENT = "case"


def update_case(db: sqlite_utils.Database, ref: str, summary: dict, *, resident_text: Optional[str],
                note: str) -> bool:
    """The conversation's case saved again (one case per conversation): a later consent, a later
    worry or a corrected answer replaces the summary of the same record (``case_columns``; the
    channel stays), keeping the higher urgency, and the history says what changed. Returns False
    when no case has that number."""
    columns = case_columns(summary)
    del columns["channel"]
    try:
        with transaction(db):
            rows = list(db["handoffs"].rows_where("ref = ?", [ref], select="id, urgency, urgent"))
            if not rows:
                return False
            row = rows[0]
            db["handoffs"].update(row["id"], dict(
                columns, urgency=higher_urgency(row["urgency"], columns["urgency"]),
                urgent=max(columns["urgent"], row["urgent"] or 0), summary=_with_ref(summary, ref),
                resident_text=resident_text if columns["consent"] == "yes" else None))
            add_event(db, row["id"], BOT_USER, CASE_EVENT, note=note)
        return True
    except sqlite3.Error as exc:
        raise StoreError(f"cannot update the case: {exc}") from exc
