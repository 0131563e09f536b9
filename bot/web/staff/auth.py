"""Staff login: checking a password with the lockout rules, and server-side sessions. The accounts
themselves (create, list, disable, unlock, set a password) are ``bot.web.staff.accounts``.

- Lockout, by account: after ``LOCK_AFTER`` failed logins in a row (from any address) the account
  is locked ``LOCK_MINUTES``. A username that does not exist is counted and locked the same way,
  so the answers never tell whether a name exists.
- Lockout, by client address: ``ADDRESS_LOCK_AFTER`` failures from one address within
  ``LOCK_MINUTES`` (whatever the usernames) lock that address ``LOCK_MINUTES`` for every username.
- Sessions: the browser's cookie carries only a random token; the server keeps its SHA-256 in
  ``staff_sessions`` with the last time it was used. Idle sessions, logged-out sessions and
  sessions of disabled accounts stop working at once (a copied cookie is worthless after logout).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Optional, Tuple

import sqlite_utils
from werkzeug.security import check_password_hash

from bot.core.clock import now, stamp
from bot.core.store import transaction
from bot.web.staff.accounts import StaffUser, get_user, get_user_by_id, hash_password, name_key, password_matches

LOCK_AFTER = 5
LOCK_MINUTES = 15
ADDRESS_LOCK_AFTER = 20
LOCKED_OUTCOMES = ("locked", "locked_now", "address_locked", "address_locked_now")

_DUMMY_HASH: Optional[str] = None


def _dummy_check(password: str) -> None:
    """Spend the same time for an unknown user as for a known one."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(16))
    check_password_hash(_DUMMY_HASH, password)


def _throttle_locked(db: sqlite_utils.Database, key: str, moment: datetime) -> bool:
    rows = list(db.query("SELECT locked_until FROM login_throttle WHERE key = ?", [key]))
    return bool(rows and rows[0]["locked_until"] and datetime.fromisoformat(rows[0]["locked_until"]) > moment)


def _throttle_fail(db: sqlite_utils.Database, key: str, limit: int, moment: datetime, *,
                   window: bool) -> Tuple[int, bool]:
    """Count one failure for ``key`` inside the caller's transaction; returns (count, locked now).

    ``window``: count only the failures of the last ``LOCK_MINUTES`` (addresses). Otherwise count
    failures in a row (usernames); ``window_start`` is then the time of the last failure. A new
    key, or one whose lock has expired, starts a fresh count. One statement, so parallel attempts
    cannot slip past the limit."""
    at = stamp(moment)
    window_from = stamp(moment - timedelta(minutes=LOCK_MINUTES)) if window else ""
    expired = "(locked_until IS NOT NULL AND locked_until <= :now)"
    fresh = f"({expired} OR window_start < :window_from)"
    failures = db.execute(
        "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES (:key, 1, :now, NULL) "
        f"ON CONFLICT(key) DO UPDATE SET failures = CASE WHEN {fresh} THEN 1 ELSE failures + 1 END, "
        f"window_start = CASE WHEN {fresh} OR NOT :window THEN :now ELSE window_start END, "
        f"locked_until = CASE WHEN {expired} THEN NULL ELSE locked_until END RETURNING failures",
        {"key": key, "now": at, "window_from": window_from, "window": 1 if window else 0}).fetchone()[0]
    if failures >= limit:
        db.execute("UPDATE login_throttle SET failures = 0, window_start = ?, locked_until = ? WHERE key = ?",
                   [at, stamp(moment + timedelta(minutes=LOCK_MINUTES)), key])
        return 0, True
    return failures, False


def _prune_throttle(db: sqlite_utils.Database, moment: datetime) -> None:
    """Forget counts with no failure for a day and no lock in force (the same rule for every
    username, known or not)."""
    db.execute("DELETE FROM login_throttle WHERE window_start < ? AND (locked_until IS NULL OR locked_until <= ?)",
               [stamp(moment - timedelta(days=1)), stamp(moment)])


def authenticate(db: sqlite_utils.Database, username: str, password: str,
                 address: Optional[str] = None) -> Tuple[Optional[StaffUser], str]:
    """Check a login from ``address`` (the client's IP). Returns (user, outcome); outcome is one of
    ``ok``, ``unknown``, ``bad_password``, ``disabled``, ``locked`` (the username is still locked),
    ``locked_now`` (this failure locked it), ``address_locked`` (the address is still locked) and
    ``address_locked_now``.

    Every failure counts against the username (known or not, in ``login_throttle``; mirrored on
    ``staff_users`` for the account pages) and against the address. Every path checks one
    password hash, so neither the answer nor its time tells whether a name exists."""
    moment = now()
    user = get_user(db, username) if username else None
    user_key = name_key(username)
    address_key = f"addr:{address}" if address else None
    if address_key and _throttle_locked(db, address_key, moment):
        _dummy_check(password)
        return user, "address_locked"
    if _throttle_locked(db, user_key, moment) or (user is not None and user.locked_at(moment)):
        _dummy_check(password)
        return user, "locked"
    if user is None:
        _dummy_check(password)
        good = False
    else:
        good = password_matches(db, user, password)
    with transaction(db):
        if good and not user.disabled:
            db.execute("DELETE FROM login_throttle WHERE key = ?", [user_key])
            db.execute("UPDATE staff_users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?",
                       [stamp(moment), user.id])
            return get_user_by_id(db, user.id), "ok"
        _prune_throttle(db, moment)
        failures, locked = _throttle_fail(db, user_key, LOCK_AFTER, moment, window=False)
        if user is not None:
            db.execute("UPDATE staff_users SET failed_logins = ?, locked_until = ? WHERE id = ?",
                       [failures, stamp(moment + timedelta(minutes=LOCK_MINUTES)) if locked else None, user.id])
        address_locked = bool(address_key) and _throttle_fail(db, address_key, ADDRESS_LOCK_AFTER, moment,
                                                               window=True)[1]
    if locked:
        return user, "locked_now"
    if address_locked:
        return user, "address_locked_now"
    if user is None:
        return None, "unknown"
    return user, "disabled" if good else "bad_password"


def unlock_address(db: sqlite_utils.Database, address: str) -> bool:
    """Clear the lock and count of one client address; False when it had none."""
    with transaction(db):
        return db.execute("DELETE FROM login_throttle WHERE key = ?", [f"addr:{address}"]).rowcount > 0


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(db: sqlite_utils.Database, user: StaffUser) -> str:
    token = secrets.token_urlsafe(32)
    at = stamp()
    with transaction(db):
        db.execute("INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen) VALUES (?, ?, ?, ?)",
                   [_token_hash(token), user.id, at, at])
    return token


def resume_session(db: sqlite_utils.Database, token: str, idle_minutes: int) -> Tuple[Optional[StaffUser], str]:
    """The user behind a session token, touching its last-use time. Outcome: ``ok``, ``none``
    (unknown or ended), ``expired`` (idle too long, now ended) or ``disabled``."""
    if not token:
        return None, "none"
    rows = list(db.query("SELECT * FROM staff_sessions WHERE token_hash = ?", [_token_hash(token)]))
    if not rows or rows[0]["ended_at"]:
        return None, "none"
    row = rows[0]
    moment = now()
    user = get_user_by_id(db, row["user_id"])
    with transaction(db):
        if moment - datetime.fromisoformat(row["last_seen"]) > timedelta(minutes=idle_minutes):
            db.execute("UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ?", [stamp(moment), row["token_hash"]])
            return user, "expired"
        if user is None or user.disabled:
            db.execute("UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ?", [stamp(moment), row["token_hash"]])
            return None, "disabled"
        db.execute("UPDATE staff_sessions SET last_seen = ? WHERE token_hash = ?", [stamp(moment), row["token_hash"]])
    return user, "ok"


def end_session(db: sqlite_utils.Database, token: str) -> None:
    if token:
        with transaction(db):
            db.execute("UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                       [stamp(), _token_hash(token)])
