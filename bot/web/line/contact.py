"""The LINE follow-up contact (issue 15): the key, the encrypted user id on a case, and the
LINE exchange in the case history.

- ``LINE_CONTACT_KEY``: 32 random bytes in URL-safe base64 (what ``Fernet.generate_key()``
  prints). Unset: the follow-up is off (the choice is not offered). Malformed: nothing starts.
- A case whose resident chose 「このLINEで連絡してほしい」 keeps ``Fernet(key).encrypt(user id)``
  in ``handoffs.line_contact`` and ``HMAC-SHA256(lookup key, user id)`` in
  ``line_contact_hash`` (the lookup key is derived from the same key, so it never changes while
  stored ids can be read). The raw id is never written to the database or a log.
- The id is deleted at once when the resident writes 「連絡をやめる」 or blocks the account, when
  the case is closed (終結) and by retention (``forget``, called by the staff workflow).
- Each message of the exchange is one history event (kind ``line_out`` / ``line_in``; the
  history stays append-only) with its words in ``line_messages`` (removed by retention).

Standard library plus ``cryptography``; no Flask, no LINE SDK (the runner and the retention
command import it).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional

import sqlite_utils

from bot.core.clock import stamp
from bot.core.store import add_event, transaction

KEY_ENV = "LINE_CONTACT_KEY"
KEY_BYTES = 32
LINE_OUT, LINE_IN, LINE_CONTACT = "line_out", "line_in", "line_contact"
EVENT_KINDS = (LINE_OUT, LINE_IN, LINE_CONTACT)
RESIDENT = "（相談者・LINE）"
SYSTEM = "（LINE）"
_LOOKUP_LABEL = b"soudan line contact lookup v1"
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}=$")

# Why a stored id was deleted: the history's words (for staff).
FORGET_NOTES = {
    "stop": "相談者が「連絡をやめる」と書いたため、LINEの連絡先を削除しました。",
    "unfollow": "相談者がLINEの友だちをやめた（ブロックした）ため、LINEの連絡先を削除しました。",
    "closed": "終結にしたため、LINEの連絡先を削除しました。",
    "retention": "保存期間を過ぎたため、LINEの連絡先を削除しました。",
}
KEPT_NOTE = "相談者が「このLINEで連絡してほしい」を選びました。LINEの連絡先を暗号化して保存しました。"


class ContactKeyError(ValueError):
    """LINE_CONTACT_KEY is set but is not a key (message in Japanese and English, no key shown)."""


def parse_key(value: str) -> bytes:
    """The key as Fernet takes it (URL-safe base64 of 32 bytes); ContactKeyError otherwise."""
    text = (value or "").strip()
    problem = None
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
        if len(text) != 44:
            problem = f"{len(text)} characters, not 44"
        elif not _KEY_PATTERN.match(text):
            problem = "characters outside URL-safe base64 (A-Z a-z 0-9 - _, one = at the end)"
        elif len(raw) != KEY_BYTES:
            problem = f"decodes to {len(raw)} bytes, not {KEY_BYTES}"
    except (binascii.Error, UnicodeEncodeError, ValueError):
        problem = "not URL-safe base64"
    if problem:
        raise ContactKeyError(
            f"{KEY_ENV} is malformed ({problem}). It must be 32 random bytes in URL-safe base64, as printed by "
            f"`.venv-web/bin/python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\"`."
            f" / {KEY_ENV} の形が正しくありません。")
    return text.encode("ascii")


def key_from_env(environ: Mapping[str, str]) -> Optional[bytes]:
    """The key from the environment, None when unset or empty; ContactKeyError when malformed."""
    value = environ.get(KEY_ENV, "")
    return parse_key(value) if value.strip() else None


@dataclass(frozen=True)
class Vault:
    """Encrypts, decrypts and hashes LINE user ids with one LINE_CONTACT_KEY."""

    key: bytes

    @property
    def _fernet(self):
        from cryptography.fernet import Fernet
        return Fernet(self.key)

    def encrypt(self, user_id: str) -> str:
        return self._fernet.encrypt(user_id.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> Optional[str]:
        """The user id, or None when the token was made with another key or is damaged."""
        from cryptography.fernet import InvalidToken
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            return None

    def lookup_hash(self, user_id: str) -> str:
        lookup_key = hmac.new(base64.urlsafe_b64decode(self.key), _LOOKUP_LABEL, hashlib.sha256).digest()
        return hmac.new(lookup_key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def _scrub(db: sqlite_utils.Database) -> None:
    """Deleted bytes are overwritten in the file (SQLite secure_delete) on this connection."""
    db.execute("PRAGMA secure_delete = ON")


def checkpoint(db: sqlite_utils.Database) -> None:
    """Copy the WAL into the database file and empty it, so a deleted id's old page images do not
    stay in the WAL (best effort: a reader still holding old pages keeps them until it finishes)."""
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass


def remember(db: sqlite_utils.Database, vault: Vault, ref: str, user_id: str) -> bool:
    """Keep the encrypted id on the case ``ref``: only a LINE case with consent whose resident
    chose LINE. Returns False (nothing stored) otherwise."""
    rows = list(db.query("SELECT id, channel, consent, status, summary FROM handoffs WHERE ref = ?", [ref]))
    if not rows:
        return False
    row = rows[0]
    wish = (json.loads(row["summary"] or "{}").get("wish") or {})
    if row["channel"] != "line" or row["consent"] != "yes" or row["status"] == "closed" \
            or wish.get("contact_method") != "LINE":
        return False
    with transaction(db):
        db.execute("UPDATE handoffs SET line_contact = ?, line_contact_hash = ?, line_contact_at = ? WHERE id = ?",
                   [vault.encrypt(user_id), vault.lookup_hash(user_id), stamp(), row["id"]])
        add_event(db, row["id"], SYSTEM, LINE_CONTACT, note=KEPT_NOTE)
    return True


def cases_of(db: sqlite_utils.Database, vault: Vault, user_id: str) -> List[dict]:
    """Open cases keeping this resident's LINE contact, the one most recently written to first."""
    return [dict(r) for r in db.query(
        "SELECT h.id, h.ref, h.status, "
        "(SELECT max(m.id) FROM line_messages m WHERE m.handoff_id = h.id AND m.direction = 'out' "
        " AND m.accepted = 1) AS last_out "
        "FROM handoffs h WHERE h.line_contact_hash = ? AND h.line_contact IS NOT NULL AND h.status != 'closed' "
        "ORDER BY last_out IS NULL, last_out DESC, h.id DESC", [vault.lookup_hash(user_id)])]


def forget(db: sqlite_utils.Database, handoff_id: int, reason: str, username: str = SYSTEM) -> bool:
    """Delete the stored id of one case and say so in its history. Runs in the caller's
    transaction (the staff workflow closes and forgets in one). False when none was kept."""
    _scrub(db)
    cursor = db.execute("UPDATE handoffs SET line_contact = NULL, line_contact_hash = NULL WHERE id = ? "
                        "AND (line_contact IS NOT NULL OR line_contact_hash IS NOT NULL)", [handoff_id])
    if cursor.rowcount != 1:
        return False
    add_event(db, handoff_id, username, LINE_CONTACT, note=FORGET_NOTES[reason])
    return True


def forget_user(db: sqlite_utils.Database, vault: Vault, user_id: str, reason: str) -> List[str]:
    """Delete the stored id from every case of this resident; returns their reference numbers."""
    rows = list(db.query("SELECT id, ref FROM handoffs WHERE line_contact_hash = ?", [vault.lookup_hash(user_id)]))
    with transaction(db):
        for row in rows:
            forget(db, row["id"], reason, RESIDENT if reason in ("stop", "unfollow") else SYSTEM)
    if rows:
        checkpoint(db)
    return [r["ref"] for r in rows]


def purge_messages(db: sqlite_utils.Database, handoff_id: int) -> int:
    """Retention: the words of the LINE exchange go (the history keeps that messages were sent)."""
    _scrub(db)
    return db.execute("DELETE FROM line_messages WHERE handoff_id = ?", [handoff_id]).rowcount


def add_message(db: sqlite_utils.Database, handoff_id: int, *, direction: str, username: str, text: str,
                note: str, accepted: Optional[bool] = None, retry_key: Optional[str] = None) -> int:
    """One message of the exchange: a history event and its words, in one transaction."""
    with transaction(db):
        event_id = add_event(db, handoff_id, username, LINE_OUT if direction == "out" else LINE_IN, note=note)
        db.execute("INSERT INTO line_messages (event_id, handoff_id, direction, accepted, retry_key, text) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   [event_id, handoff_id, direction, None if accepted is None else int(accepted), retry_key, text])
    return event_id


def accepted_with_key(db: sqlite_utils.Database, handoff_id: int, retry_key: str) -> bool:
    """Whether a message sent with this retry key was already accepted by LINE (a form sent twice)."""
    return bool(list(db.query("SELECT 1 FROM line_messages WHERE handoff_id = ? AND retry_key = ? AND accepted = 1",
                              [handoff_id, retry_key])))


def message_texts(db: sqlite_utils.Database, handoff_id: int) -> Dict[int, str]:
    """The words of the exchange by history event id (for the 受付票)."""
    return {r["event_id"]: r["text"] for r in db.query("SELECT event_id, text FROM line_messages WHERE handoff_id = ?",
                                                        [handoff_id])}


def has_replied(db: sqlite_utils.Database, handoff_id: int) -> bool:
    """Whether staff have reached the resident on LINE in this case (LINE accepted a message)."""
    return bool(list(db.query("SELECT 1 FROM line_messages WHERE handoff_id = ? AND direction = 'out' "
                              "AND accepted = 1 LIMIT 1", [handoff_id])))
