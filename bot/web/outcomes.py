"""City-wide statistics of conversation outcomes, without personal data (issue 15).

The action server decides what happened in a turn and says so in an internal note
(``actions.common.note``; the web side gets the notes from ``RasaClient.send_with_notes``).
This module turns those notes into counts in the ``conversation_outcomes`` table
(``bot.core.store._migration_4_outcomes``), one row per conversation:

    day             the day in Japan (YYYY-MM-DD), never a time of day
    channel         "web" (widget) or "line"
    agencies        agencies pointed to, as directory slugs (``sogo`` for 総合相談支援センター)
    crisis_kinds    kinds of danger answered (directory/hotlines.yml)
    clarify_rounds  clarifying questions asked
    undecided       1 when 総合相談支援センター was suggested because the bot could not decide
                    after its clarifying questions
    out_of_scope    1 when a question outside the service was answered
    handoff         NULL (none), "no_consent" (anonymous minimal record), "consent" (reference number)
    link            see below; NULL once the day is over

Never stored: words, the sender id, the reference number, a time of day.

**One conversation, counted once.** A conversation is what one sender (one widget conversation,
one LINE friend) says within one day in Japan. To find that conversation's row again without
storing who the sender is, ``link`` holds HMAC-SHA256 of the sender id under a random key made
for that day. The key lives only in this process's memory (never written, never logged), so
nobody can compute a sender's link from the database; when the day changes the key is dropped
and the day's links are erased from the table. Consequences, on purpose: a conversation that goes
on past midnight counts once per day, and a restart of the web side during the day counts the
rest of an ongoing conversation as a new one (a slight over-count, never an under-count).

Notes the actions send (anything else, or a value not in the directory, is ignored):

    {"outcome": "agency", "agency": "<slug>"}          an agency card (one field)
    {"outcome": "sogo", "undecided": bool}             the 総合相談支援センター path
    {"outcome": "clarify"}                             a clarifying question
    {"outcome": "out_of_scope"}                        outside the service
    {"outcome": "other_language"}                      answered in another language (bot.core.language)
    {"outcome": "crisis", "crisis_kinds": [...]}       a crisis answer
    {"outcome": "handoff", "consent": bool}            a case saved (with or without consent)
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

from bot.core.clock import now
from bot.core.directory import get_directory
from bot.core.store import db_path, open_store, transaction

logger = logging.getLogger("soudan.outcomes")

CHANNELS = ("web", "line")
OUTCOMES = ("agency", "sogo", "clarify", "out_of_scope", "crisis", "handoff")
SOGO = "sogo"
HANDOFF_RANK = {None: 0, "no_consent": 1, "consent": 2}  # a later consent upgrades the count


@dataclass
class Facts:
    """What one turn's notes add to a conversation's row."""
    agencies: List[str] = field(default_factory=list)
    crisis_kinds: List[str] = field(default_factory=list)
    clarify_rounds: int = 0
    undecided: bool = False
    out_of_scope: bool = False
    other_language: bool = False
    handoff: Optional[str] = None

    def __bool__(self) -> bool:
        return bool(self.agencies or self.crisis_kinds or self.clarify_rounds or self.undecided
                    or self.out_of_scope or self.other_language or self.handoff)


def _add(values: List[str], value: str) -> None:
    if value not in values:
        values.append(value)


def facts_from_notes(notes: Iterable[dict]) -> Facts:
    """Read the notes of one turn; unknown outcomes and values outside the directory are dropped
    (they could only be a bug, and free text must never reach the table)."""
    directory = get_directory()
    facts = Facts()
    for note in notes or []:
        if not isinstance(note, dict):
            continue
        outcome = note.get("outcome")
        if outcome == "agency" and note.get("agency") in directory.agencies:
            _add(facts.agencies, note["agency"])
        elif outcome == SOGO:
            _add(facts.agencies, SOGO)
            facts.undecided = facts.undecided or note.get("undecided") is True
        elif outcome == "clarify":
            facts.clarify_rounds += 1
        elif outcome == "out_of_scope":
            facts.out_of_scope = True
        elif outcome == "other_language":
            facts.other_language = True
        elif outcome == "crisis":
            kinds = note.get("crisis_kinds")
            for kind in kinds if isinstance(kinds, list) else []:
                if isinstance(kind, str) and kind in directory.crisis_kinds:
                    _add(facts.crisis_kinds, kind)
        elif outcome == "handoff" and isinstance(note.get("consent"), bool):
            handoff = "consent" if note["consent"] else "no_consent"
            if HANDOFF_RANK[handoff] > HANDOFF_RANK[facts.handoff]:
                facts.handoff = handoff
    return facts


class DayKey:
    """The random key of the current day in Japan, kept in memory only."""

    def __init__(self):
        self._lock = threading.Lock()
        self._day: Optional[str] = None
        self._key = b""

    def link(self, sender: str, day: str) -> str:
        """HMAC-SHA256 of the sender under the day's key (a new key when the day changes)."""
        with self._lock:
            if day != self._day:
                self._day, self._key = day, secrets.token_bytes(32)
            key = self._key
        return hmac.new(key, sender.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


_DAY_KEY = DayKey()


class _Store:
    """One connection for the counts, opened on first use and kept (opening and migrating for
    every answer cost about 2 ms; a count itself about 0.2 ms), reopened when ``SOUDAN_DB``
    changes or after an error. Writes are serialised by a lock (SQLite serialises them anyway).
    ``synchronous=NORMAL`` on this connection only: in WAL mode a crash of the process loses
    nothing, a power cut may lose the last counts, never a handoff (other connections keep FULL)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.path = None
        self.db = None

    def get(self):
        path = db_path()
        if self.db is None or self.path != path:
            self.close()
            self.db = open_store(path)
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.path = path
        return self.db

    def close(self) -> None:
        if self.db is not None:
            try:
                self.db.conn.close()
            except sqlite3.Error:
                pass
        self.db = None


_STORE = _Store()


def record(channel: str, sender: str, notes: Iterable[dict]) -> bool:
    """Count one turn's outcomes for the conversation of ``sender`` on ``channel`` (the web side
    calls this after each answer from Rasa). Never raises: statistics must not stop an answer;
    a failure is logged without text or sender. Returns True when a row was written."""
    facts = facts_from_notes(notes)
    if not facts or channel not in CHANNELS or not sender:
        return False
    link = _DAY_KEY.link(sender, now().date().isoformat())
    with _STORE.lock:
        try:
            add_facts(_STORE.get(), channel, link, facts)
            return True
        except Exception as exc:  # StoreError, sqlite3.Error, a damaged row: the answer goes on
            _STORE.close()
            logger.error("outcome not counted: %s", type(exc).__name__)
            return False


def add_facts(db, channel: str, link: str, facts: Facts, day: Optional[str] = None) -> None:
    """Merge ``facts`` into the conversation's row of ``day`` (today in Japan by default), creating
    it on its first outcome; links of earlier days are erased in the same transaction."""
    day = day or now().date().isoformat()
    with transaction(db):
        db.execute("UPDATE conversation_outcomes SET link = NULL WHERE link IS NOT NULL AND day < ?", [day])
        db.execute("INSERT OR IGNORE INTO conversation_outcomes (day, channel, link) VALUES (?, ?, ?)",
                   [day, channel, link])
        row = db.execute("SELECT id, agencies, crisis_kinds, clarify_rounds, undecided, out_of_scope, other_language, handoff "
                         "FROM conversation_outcomes WHERE day = ? AND link = ?", [day, link]).fetchone()
        row_id, agencies, kinds, rounds, undecided, out_of_scope, other_language, handoff = row
        agencies, kinds = json.loads(agencies or "[]"), json.loads(kinds or "[]")
        for slug in facts.agencies:
            _add(agencies, slug)
        for kind in facts.crisis_kinds:
            _add(kinds, kind)
        if HANDOFF_RANK[facts.handoff] > HANDOFF_RANK.get(handoff, 0):
            handoff = facts.handoff
        db.execute("UPDATE conversation_outcomes SET agencies = ?, crisis_kinds = ?, clarify_rounds = ?, "
                   "undecided = ?, out_of_scope = ?, other_language = ?, handoff = ? WHERE id = ?",
                   [json.dumps(agencies), json.dumps(kinds), rounds + facts.clarify_rounds,
                    1 if (undecided or facts.undecided) else 0, 1 if (out_of_scope or facts.out_of_scope) else 0,
                    1 if (other_language or facts.other_language) else 0,
                    handoff, row_id])


def table_rows(db) -> List[Dict]:
    """Every row as stored (for tests and checks)."""
    return [dict(r) for r in db.query("SELECT * FROM conversation_outcomes ORDER BY id")]
