"""Where the action server saves cases: the SQLite file itself, or the web side's internal endpoint.

Embedded (one machine, the default) the action server writes the SQLite file directly
(``bot.core.store``). When several action servers run on several machines, ``HANDOFF_STORE_URL``
points them at the web side, which owns the file and serves ``bot/web/internal_store.py`` on a
private address; ``HANDOFF_STORE_SECRET`` is the shared secret both sides know. Either way a
number is returned only after its record is committed.

Every save carries a request key made from the conversation, its turn and the kind of save
(``turn_key``). The store commits the key with the record, so a request retried after a lost
answer returns the same 受付番号 instead of storing the case twice. Python 3.10 and 3.11; requests and the standard library only.

It lives in bot/shared/, not bot/core/, because it needs ``requests`` (both environments have it)
and both the action server (actions/handoff_actions.py, actions/crisis_actions.py) and the web side
(bot/web/serve.py, bot/web/internal_store.py) import it.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from typing import Iterable, Optional

import requests

from bot.core import store
from bot.core.store import StoreError

SECRET_HEADER = "X-Handoff-Store-Secret"
ATTEMPTS = 3
TIMEOUT_SECONDS = 3.0  # x ATTEMPTS stays under the web side's RASA_TIMEOUT (10 s)


def request_key(sender_id: str, turn: object, kind: str) -> str:
    """A stable key for one save of one turn; it does not reveal the sender."""
    return hashlib.sha256(f"{sender_id}\x1f{turn}\x1f{kind}".encode("utf-8")).hexdigest()[:40]


def turn_key(tracker, kind: str) -> str:
    """The request key of this turn of ``tracker``'s conversation (the resident's last message,
    by its timestamp in the tracker, which every Rasa server shares through the tracker store).
    A tracker without a message of the resident gets a key of its own (never a false repeat)."""
    turn = next((e.get("timestamp") for e in reversed(tracker.events or [])
                 if isinstance(e, dict) and e.get("event") == "user" and e.get("timestamp")), None)
    return request_key(tracker.sender_id, turn if turn is not None else uuid.uuid4().hex, kind)


def _remote() -> Optional[str]:
    url = os.environ.get("HANDOFF_STORE_URL", "").strip().rstrip("/")
    return url or None


_session = requests.Session()
_migrated = set()  # database paths this process has migrated (once, at its first save)


def _local_db():
    """The SQLite file, migrated at this process's first save (the action server has no other
    start-up hook); later saves only connect."""
    path = store.db_path()
    if path in _migrated:
        return store.connect(path)
    db = store.open_store(path)
    _migrated.add(path)
    return db


def _locally(save, *args, **values):
    """``save(db, *args, **values)`` on the SQLite file (one connection, closed after)."""
    with contextlib.closing(_local_db()) as db:
        return save(db, *args, **values)


def _post(path: str, body: dict) -> dict:
    """POST to the internal endpoint, retried on a lost connection or a 5xx: safe because the
    request key makes a repeat return the first answer."""
    secret = os.environ.get("HANDOFF_STORE_SECRET", "")
    if not secret:
        raise StoreError("HANDOFF_STORE_URL is set but HANDOFF_STORE_SECRET is not")
    problem = "no answer"
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(0.2 * attempt)
        try:
            response = _session.post(_remote() + path, json=body, timeout=TIMEOUT_SECONDS,
                                     headers={SECRET_HEADER: secret})
        except requests.RequestException as exc:
            problem = type(exc).__name__
            continue
        if response.status_code >= 500:
            problem = f"HTTP {response.status_code}"
            continue
        if response.status_code not in (200, 201):
            raise StoreError(f"the handoff store refused the request: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise StoreError("the handoff store answered with invalid JSON") from None
    raise StoreError(f"the handoff store did not answer: {problem}")


def create_handoff(summary: dict, *, request_key: str, resident_text: Optional[str]) -> str:
    """A new case from its summary (``bot.core.store.create_handoff``), committed; its reference number."""
    if _remote():
        ref = _post("/internal/handoffs", dict(summary=summary, resident_text=resident_text,
                                               key=request_key)).get("ref")
        if not isinstance(ref, str) or not store.is_valid_reference(ref):
            raise StoreError("the handoff store answered without a valid reference number")
        return ref
    return _locally(store.create_handoff, summary, request_key=request_key, resident_text=resident_text)


def update_case(ref: str, summary: dict, *, request_key: str, resident_text: Optional[str], note: str) -> bool:
    """The case saved again (``bot.core.store.update_case``); False when no case has that number."""
    if _remote():
        return bool(_post(f"/internal/handoffs/{ref}/case", dict(summary=summary, resident_text=resident_text,
                                                                 note=note, key=request_key)).get("updated"))
    return _locally(store.update_case, ref, summary, resident_text=resident_text, note=note)


def raise_danger(ref: str, *, request_key: str, kinds: Iterable[str], phrases: Iterable[str],
                 kind_labels: Iterable[str]) -> bool:
    """Danger after the number (``bot.core.store.raise_danger``); False when no case has that number."""
    values = dict(kinds=list(kinds), phrases=list(phrases), kind_labels=list(kind_labels))
    if _remote():
        return bool(_post(f"/internal/handoffs/{ref}/danger", dict(values, key=request_key)).get("updated"))
    return _locally(store.raise_danger, ref, **values)
