"""Staff accounts, passwords, login lockout and server-side sessions.

- Passwords: scrypt hashes (werkzeug), at least 12 characters; no default account exists.
- Lockout: after ``LOCK_AFTER`` failed logins in a row the account is locked ``LOCK_MINUTES``.
- Sessions: the browser's cookie carries only a random token; the server keeps its SHA-256 in
  ``staff_sessions`` with the last time it was used. Idle sessions, logged-out sessions and
  sessions of disabled accounts stop working at once (a copied cookie is worthless after logout).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional, Tuple

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from bot.clock import now

ROLES = ("staff", "admin")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
LOCK_AFTER = 5
LOCK_MINUTES = 15
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$")
_COMMON = {"password1234", "passwordpassword", "123456789012", "1234567890123", "qwertyuiopas",
           "hokutohokuto", "hokuto123456", "administrator", "soudansoudan", "abcdefghijkl"}


class AccountError(ValueError):
    """A bad username, role or password, or an unknown account (message in Japanese)."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    role: str
    disabled: bool
    failed_logins: int
    locked_until: Optional[str]
    created_at: str
    last_login_at: Optional[str]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def locked_at(self, moment: datetime) -> bool:
        return bool(self.locked_until) and datetime.fromisoformat(self.locked_until) > moment


def _stamp(moment: Optional[datetime] = None) -> str:
    return (moment or now()).isoformat(timespec="seconds")


def _user(row) -> StaffUser:
    return StaffUser(id=row["id"], username=row["username"], role=row["role"], disabled=bool(row["disabled"]),
                     failed_logins=row["failed_logins"], locked_until=row["locked_until"],
                     created_at=row["created_at"], last_login_at=row["last_login_at"])


def password_problem(username: str, password: str) -> Optional[str]:
    """Why a password is too weak, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください。"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"パスワードは{MAX_PASSWORD_LENGTH}文字以内にしてください。"
    if password != password.strip():
        return "パスワードの最初と最後に空白は使えません。"
    lowered = password.lower()
    if username and username.lower() in lowered:
        return "パスワードにユーザー名を含めないでください。"
    if len(set(password)) < 5:
        return "同じ文字のくり返しが多すぎます。"
    if lowered in _COMMON:
        return "よく使われるパスワードは使えません。"
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


_DUMMY_HASH: Optional[str] = None


def _dummy_check(password: str) -> None:
    """Spend the same time for an unknown user as for a known one."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(16))
    check_password_hash(_DUMMY_HASH, password)


def get_user(db: sqlite_utils.Database, username: str) -> Optional[StaffUser]:
    rows = list(db.query("SELECT * FROM staff_users WHERE username = ?", [username]))
    return _user(rows[0]) if rows else None


def get_user_by_id(db: sqlite_utils.Database, user_id: int) -> Optional[StaffUser]:
    rows = list(db.query("SELECT * FROM staff_users WHERE id = ?", [user_id]))
    return _user(rows[0]) if rows else None


def list_users(db: sqlite_utils.Database) -> List[StaffUser]:
    return [_user(r) for r in db.query("SELECT * FROM staff_users ORDER BY username")]


def create_user(db: sqlite_utils.Database, username: str, role: str, password: str) -> StaffUser:
    if not USERNAME_PATTERN.match(username or ""):
        raise AccountError("ユーザー名は英数字と . _ - の3〜32文字にしてください。")
    if role not in ROLES:
        raise AccountError("役割は staff か admin にしてください。")
    problem = password_problem(username, password)
    if problem:
        raise AccountError(problem)
    if get_user(db, username):
        raise AccountError(f"ユーザー名 {username} はすでにあります。")
    with db.conn:
        db.execute("INSERT INTO staff_users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                   [username, hash_password(password), role, _stamp()])
    return get_user(db, username)


def _require(db: sqlite_utils.Database, username: str) -> StaffUser:
    user = get_user(db, username)
    if user is None:
        raise AccountError(f"ユーザー名 {username} はありません。")
    return user


def set_disabled(db: sqlite_utils.Database, username: str, disabled: bool) -> StaffUser:
    user = _require(db, username)
    with db.conn:
        db.execute("UPDATE staff_users SET disabled = ? WHERE id = ?", [1 if disabled else 0, user.id])
        if disabled:
            end_user_sessions(db, user.id)
    return get_user_by_id(db, user.id)


def unlock(db: sqlite_utils.Database, username: str) -> StaffUser:
    user = _require(db, username)
    with db.conn:
        db.execute("UPDATE staff_users SET failed_logins = 0, locked_until = NULL WHERE id = ?", [user.id])
    return get_user_by_id(db, user.id)


def set_password(db: sqlite_utils.Database, username: str, password: str) -> StaffUser:
    user = _require(db, username)
    problem = password_problem(username, password)
    if problem:
        raise AccountError(problem)
    with db.conn:
        db.execute("UPDATE staff_users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
                   [hash_password(password), user.id])
        end_user_sessions(db, user.id)
    return get_user_by_id(db, user.id)


def authenticate(db: sqlite_utils.Database, username: str, password: str) -> Tuple[Optional[StaffUser], str]:
    """Check a login. Returns (user, outcome); outcome is one of
    ``ok``, ``unknown``, ``bad_password``, ``disabled``, ``locked`` (still locked) and
    ``locked_now`` (this failure locked the account)."""
    moment = now()
    user = get_user(db, username) if username else None
    if user is None:
        _dummy_check(password)
        return None, "unknown"
    if user.locked_at(moment):
        _dummy_check(password)
        return user, "locked"
    stored = db.query("SELECT password_hash FROM staff_users WHERE id = ?", [user.id])
    good = check_password_hash(next(iter(stored))["password_hash"], password)
    if good and user.disabled:
        return user, "disabled"
    with db.conn:
        if good:
            db.execute("UPDATE staff_users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?",
                       [_stamp(moment), user.id])
            return get_user_by_id(db, user.id), "ok"
        if user.locked_until:  # an expired lock starts a fresh count
            db.execute("UPDATE staff_users SET failed_logins = 0, locked_until = NULL WHERE id = ? AND locked_until = ?",
                       [user.id, user.locked_until])
        # Counted in the database, so parallel attempts cannot slip past the limit.
        failures = db.execute("UPDATE staff_users SET failed_logins = failed_logins + 1 WHERE id = ? "
                              "RETURNING failed_logins", [user.id]).fetchone()[0]
        if failures >= LOCK_AFTER:
            db.execute("UPDATE staff_users SET failed_logins = 0, locked_until = ? WHERE id = ?",
                       [_stamp(moment + timedelta(minutes=LOCK_MINUTES)), user.id])
            return user, "locked_now"
    return user, "bad_password"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(db: sqlite_utils.Database, user: StaffUser) -> str:
    token = secrets.token_urlsafe(32)
    stamp = _stamp()
    with db.conn:
        db.execute("INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen) VALUES (?, ?, ?, ?)",
                   [_token_hash(token), user.id, stamp, stamp])
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
    with db.conn:
        if moment - datetime.fromisoformat(row["last_seen"]) > timedelta(minutes=idle_minutes):
            db.execute("UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ?", [_stamp(moment), row["token_hash"]])
            return user, "expired"
        if user is None or user.disabled:
            db.execute("UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ?", [_stamp(moment), row["token_hash"]])
            return None, "disabled"
        db.execute("UPDATE staff_sessions SET last_seen = ? WHERE token_hash = ?", [_stamp(moment), row["token_hash"]])
    return user, "ok"


def end_session(db: sqlite_utils.Database, token: str) -> None:
    if token:
        with db.conn:
            db.execute("UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                       [_stamp(), _token_hash(token)])


def end_user_sessions(db: sqlite_utils.Database, user_id: int) -> None:
    db.execute("UPDATE staff_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL", [_stamp(), user_id])
