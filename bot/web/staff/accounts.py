"""Staff accounts: the ``staff_users`` store and what an administrator does to an account
(create, list, disable, unlock, set a password). Logging in, the lockout rules and sessions are
``bot.web.staff.auth``.

- Passwords: scrypt hashes (werkzeug), at least 12 characters; no default account exists.
- Disabling an account or setting its password ends its sessions at once; unlocking it or setting
  its password clears its count of failed logins.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from bot.core.clock import stamp
from bot.core.store import transaction

ROLES = ("staff", "admin")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
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


def password_matches(db: sqlite_utils.Database, user: StaffUser, password: str) -> bool:
    stored = db.query("SELECT password_hash FROM staff_users WHERE id = ?", [user.id])
    return check_password_hash(next(iter(stored))["password_hash"], password)


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
    with transaction(db):
        db.execute("INSERT INTO staff_users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                   [username, hash_password(password), role, stamp()])
    return get_user(db, username)


def _require(db: sqlite_utils.Database, username: str) -> StaffUser:
    user = get_user(db, username)
    if user is None:
        raise AccountError(f"ユーザー名 {username} はありません。")
    return user


def set_disabled(db: sqlite_utils.Database, username: str, disabled: bool) -> StaffUser:
    user = _require(db, username)
    with transaction(db):
        db.execute("UPDATE staff_users SET disabled = ? WHERE id = ?", [1 if disabled else 0, user.id])
        if disabled:
            end_user_sessions(db, user.id)
    return get_user_by_id(db, user.id)


def unlock(db: sqlite_utils.Database, username: str) -> StaffUser:
    user = _require(db, username)
    with transaction(db):
        db.execute("UPDATE staff_users SET failed_logins = 0, locked_until = NULL WHERE id = ?", [user.id])
        db.execute("DELETE FROM login_throttle WHERE key = ?", [name_key(user.username)])
    return get_user_by_id(db, user.id)


def set_password(db: sqlite_utils.Database, username: str, password: str) -> StaffUser:
    user = _require(db, username)
    problem = password_problem(username, password)
    if problem:
        raise AccountError(problem)
    with transaction(db):
        db.execute("UPDATE staff_users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
                   [hash_password(password), user.id])
        db.execute("DELETE FROM login_throttle WHERE key = ?", [name_key(user.username)])
        end_user_sessions(db, user.id)
    return get_user_by_id(db, user.id)


def name_key(username: str) -> str:
    """The key of a username's failed logins in ``login_throttle`` (counted by ``auth``, cleared
    here when an account is unlocked or gets a new password)."""
    return f"user:{username}"


def end_user_sessions(db: sqlite_utils.Database, user_id: int) -> None:
    """End every session of one account (in the caller's transaction)."""
    db.execute("UPDATE staff_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL", [stamp(), user_id])
