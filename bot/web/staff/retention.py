"""Retention: residents' words and contact details are removed from cases older than the days
kept (``RETENTION_DAYS``, default 365); the rows, their counts and statistics stay. Run by
``flask --app bot.web staff purge`` (``make purge``) and the admins' page ``/staff/purge``."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

import sqlite_utils

from bot.core.clock import now, stamp
from bot.core.store import add_event, transaction
from bot.core.summary import anonymous_summary
from bot.web.line import contact as line_contact

SYSTEM_RETENTION = "system:retention"
DEFAULT_RETENTION_DAYS = 365


def default_days() -> int:
    """How long residents' words are kept: RETENTION_DAYS (a whole number of days, at least 1),
    else 365."""
    try:
        days = int(os.environ.get("RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    except ValueError:
        return DEFAULT_RETENTION_DAYS
    return days if days >= 1 else DEFAULT_RETENTION_DAYS


def purge_before(days: int) -> datetime:
    if days < 1:
        raise ValueError("days must be at least 1")
    return now() - timedelta(days=days)


def purge_text(db: sqlite_utils.Database, days: int, *, username: str = SYSTEM_RETENTION,
               dry_run: bool = False) -> dict:
    """Remove residents' words and contact details from handoffs received more than ``days``
    days ago. The rows stay (reference, date, channel, consent, fields, urgency, status), so
    counts and statistics do not change. Returns {"cutoff", "purged", "kept_rows"}."""
    cutoff = stamp(purge_before(days))
    select = ("SELECT id, summary FROM handoffs WHERE created_at < ? AND text_purged_at IS NULL "
              "AND (consent = 'yes' OR resident_text IS NOT NULL)")
    rows = list(db.query(select, [cutoff]))
    if not dry_run and rows:
        at = stamp()
        with transaction(db):
            for row in rows:
                summary = anonymous_summary(json.loads(row["summary"] or "{}"))
                db.execute("UPDATE handoffs SET resident_text = NULL, summary = ?, text_purged_at = ? WHERE id = ?",
                           [json.dumps(summary, ensure_ascii=False), at, row["id"]])
                add_event(db, row["id"], username, "purge", note=f"保存期間（{days}日）を過ぎたため、"
                                                                  "ご本人の言葉と連絡先を削除")
                line_contact.forget(db, row["id"], "retention", username)  # the LINE id and exchange too
                line_contact.purge_messages(db, row["id"])
            # Old server-side sessions carry nothing useful after a month.
            db.execute("DELETE FROM staff_sessions WHERE last_seen < ?", [stamp(now() - timedelta(days=30))])
    kept = next(iter(db.query("SELECT count(*) AS n FROM handoffs")))["n"]
    return {"cutoff": cutoff, "purged": len(rows), "kept_rows": kept, "dry_run": dry_run}
