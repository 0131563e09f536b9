"""The case workflow staff run from the 相談受付票: a new status (with the agency a case was
connected to), a note, an assignee; each change and its line in the case's append-only history in
one transaction. A change made meanwhile by someone else is a ``Conflict`` (HTTP 409), never
applied over it."""
from __future__ import annotations

from typing import Iterable, Optional

import sqlite_utils

from bot.core.clock import stamp
from bot.core.store import add_event, transaction
from bot.web.line import contact as line_contact
from bot.web.staff.labels import TRANSITIONS

NOTE_MAX_CHARS = 2000


class WorkflowError(ValueError):
    """A move the workflow does not allow, or bad input (message in Japanese, shown to staff)."""


class Conflict(WorkflowError):
    """Someone else changed the case since this member of staff saw it (HTTP 409)."""


MOVED_MEANWHILE = "ほかの職員がこの相談の状態を変えました。画面を読み込み直して確認してください。"


def _clean_note(note: Optional[str], required: bool) -> Optional[str]:
    note = (note or "").replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise WorkflowError(f"メモは{NOTE_MAX_CHARS}文字以内にしてください。")
    if required and not note:
        raise WorkflowError("メモが空です。")
    return note or None


def change_status(db: sqlite_utils.Database, handoff: dict, to_status: str, username: str, *,
                  expected_status: Optional[str] = None, agency: Optional[str] = None,
                  note: Optional[str] = None, agencies: Iterable[str] = ()) -> None:
    """Move a case along the workflow and record it in the history, in one transaction.

    ``expected_status`` is the status the member of staff saw: if someone else moved the case
    meanwhile, nothing changes and they are told."""
    current = handoff["status"]
    if expected_status and expected_status != current:
        raise Conflict(MOVED_MEANWHILE)
    if to_status not in TRANSITIONS.get(current, ()):
        raise WorkflowError("この状態には変えられません。")
    if to_status == "connected":
        if not agency or agency not in set(agencies):
            raise WorkflowError("「つないだ」にするときは、つないだ先を一覧から選んでください。")
    else:
        agency = None
    note = _clean_note(note, required=False)
    at = stamp()
    with transaction(db):
        cursor = db.execute(
            "UPDATE handoffs SET status = ?, status_changed_at = ?, "
            "connected_agency = COALESCE(?, connected_agency) WHERE id = ? AND status = ?",
            [to_status, at, agency, handoff["id"], current])
        if cursor.rowcount != 1:
            raise Conflict(MOVED_MEANWHILE)
        add_event(db, handoff["id"], username, "status", from_status=current, to_status=to_status,
                   agency=agency, note=note)
        forgot = to_status == "closed" and line_contact.forget(db, handoff["id"], "closed", username)
    if forgot:  # closing deletes the resident's stored LINE id (issue 15)
        line_contact.checkpoint(db)


def add_note(db: sqlite_utils.Database, handoff: dict, username: str, note: str) -> None:
    note = _clean_note(note, required=True)
    with transaction(db):
        add_event(db, handoff["id"], username, "note", note=note)


def set_assignee(db: sqlite_utils.Database, handoff: dict, username: str, assignee: str,
                 allowed: Iterable[str]) -> None:
    assignee = (assignee or "").strip()
    if assignee and assignee not in set(allowed):
        raise WorkflowError("担当者は一覧から選んでください。")
    if (handoff.get("assignee") or "") == assignee:
        raise WorkflowError("担当者は変わっていません。")
    with transaction(db):
        db.execute("UPDATE handoffs SET assignee = ? WHERE id = ?", [assignee or None, handoff["id"]])
        add_event(db, handoff["id"], username, "assign", assignee=assignee or None)
