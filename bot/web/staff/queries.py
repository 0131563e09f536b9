"""Staff-side reads of the handoff store: the queue with its filters, search by 受付番号 or phone
number, a case's history, weekly statistics. The writes are ``workflow`` (status, note, assignee)
and ``retention`` (purge)."""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Dict, List, Mapping, Optional, Tuple

import sqlite_utils

from bot.core.clock import now
from bot.core.store import LATE_DANGER_AT, is_valid_reference
from bot.web.staff.labels import CHANNELS, CONSENT_VIEWS, FIELDS, NO_FIELD, STATUSES, URGENCIES

PAGE_SIZE = 50
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Filters:
    status: str = ""       # "", "open" (not 終結) or one of STATUSES
    urgency: str = ""
    field: str = ""
    channel: str = ""
    date_from: str = ""    # YYYY-MM-DD, inclusive
    date_to: str = ""
    consent: str = ""      # "" the working queue (同意なし left out), "no" only 同意なし, "all"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Tuple["Filters", List[str]]:
        """Filters from a query string; unknown values are dropped and reported."""
        allowed = {"status": ("open",) + STATUSES, "urgency": URGENCIES, "field": FIELDS, "channel": CHANNELS,
                   "consent": CONSENT_VIEWS}
        values, problems = {}, []
        for name, choices in allowed.items():
            value = (args.get(name) or "").strip()
            if value and value not in choices:
                problems.append(name)
                value = ""
            values[name] = value
        for name in ("date_from", "date_to"):
            value = (args.get(name) or "").strip()
            if value:
                try:
                    if not _DATE.match(value):
                        raise ValueError
                    date.fromisoformat(value)
                except ValueError:
                    problems.append(name)
                    value = ""
            values[name] = value
        return cls(**values), problems

    def active(self) -> Dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    def where(self, *, ignore_status: bool = False, consent: Optional[str] = None) -> Tuple[str, list]:
        """SQL for these filters; ``consent`` overrides the consent view (for the 同意なし count)."""
        clauses, params = [], []
        view = self.consent if consent is None else consent
        if view == "no":
            clauses.append("consent = 'no'")
        elif view != "all":
            clauses.append("consent != 'no'")
        if self.status and not ignore_status:
            if self.status == "open":
                clauses.append("status != 'closed'")
            else:
                clauses.append("status = ?")
                params.append(self.status)
        if self.urgency:
            clauses.append("urgency = ?")
            params.append(self.urgency)
        if self.channel:
            clauses.append("channel = ?")
            params.append(self.channel)
        if self.field:
            clauses.append("EXISTS (SELECT 1 FROM json_each(handoffs.fields) WHERE json_each.value = ?)")
            params.append(self.field)
        if self.date_from:
            clauses.append("substr(created_at, 1, 10) >= ?")
            params.append(self.date_from)
        if self.date_to:
            clauses.append("substr(created_at, 1, 10) <= ?")
            params.append(self.date_to)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


PINNED = "CASE WHEN status IN ('new', 'in_progress') AND (urgent = 1 OR urgency = 'high') THEN 1 ELSE 0 END"
# Such a case goes above everything while it is open, and also when the danger came after its
# last change of status (e.g. told after the case was closed), until someone moves it again.
LATE_DANGER_FIRST = ("CASE WHEN late_danger_at IS NOT NULL AND (status IN ('new', 'in_progress') "
                     "OR status_changed_at IS NULL OR late_danger_at > status_changed_at) THEN 1 ELSE 0 END")
QUEUE_COLUMNS = ("id, ref, created_at, channel, consent, urgency, urgent, fields, main_field, status, assignee, "
                 "connected_agency, status_changed_at, text_purged_at, summary")


def _row(row: Mapping) -> dict:
    item = dict(row)
    item["fields"] = json.loads(item.get("fields") or "[]")
    if "summary" in item:
        item["summary"] = json.loads(item["summary"] or "{}")
    return item


def _queue_sql(clause: str) -> str:
    """Queue rows under ``clause`` in queue order: danger told after the handoff first
    (``late_danger``), then open urgent cases (``pinned``), then newest first."""
    return (f"SELECT *, {LATE_DANGER_FIRST} AS late_danger FROM ("
            f"SELECT {QUEUE_COLUMNS}, {PINNED} AS pinned, {LATE_DANGER_AT} AS late_danger_at FROM handoffs{clause}) "
            f"ORDER BY late_danger DESC, pinned DESC, created_at DESC, id DESC")


def list_handoffs(db: sqlite_utils.Database, filters: Filters, *, page: int = 1,
                  page_size: Optional[int] = PAGE_SIZE) -> Tuple[List[dict], int]:
    """Cases with danger told after the handoff first (``late_danger``), then open urgent cases
    (``pinned``), then newest first. Returns (rows, total)."""
    clause, params = filters.where()
    total = next(iter(db.query(f"SELECT count(*) AS n FROM handoffs{clause}", params)))["n"]
    sql = _queue_sql(clause)
    if page_size:
        sql += " LIMIT ? OFFSET ?"
        params = params + [page_size, (max(page, 1) - 1) * page_size]
    return [_row(r) for r in db.query(sql, params)], total


def count_without_consent(db: sqlite_utils.Database, filters: Filters) -> Dict[str, int]:
    """同意なし records under the other filters: {"total", "late_danger"} (kept out of the
    working queue, so the queue page says how many there are)."""
    clause, params = filters.where(consent="no")
    row = next(iter(db.query(
        f"SELECT count(*) AS total, coalesce(sum({LATE_DANGER_AT} IS NOT NULL), 0) AS late_danger "
        f"FROM handoffs{clause}", params)))
    return {"total": row["total"], "late_danger": row["late_danger"]}


def status_counts(db: sqlite_utils.Database, filters: Optional[Filters] = None) -> Dict[str, int]:
    clause, params = (filters or Filters()).where(ignore_status=True)
    counts = {s: 0 for s in STATUSES}
    for row in db.query(f"SELECT status, count(*) AS n FROM handoffs{clause} GROUP BY status", params):
        counts[row["status"]] = row["n"]
    return counts


# ---------------------------------------------------------------- search by 受付番号 or phone number

SEARCH_MAX_CHARS = 40
SEARCH_MAX_ROWS = 50
_DASHES = "-‐‑‒–—―−－ー"


@dataclass
class SearchQuery:
    kind: str          # "ref", "phone" or "invalid"
    value: str = ""    # "482-9135" for a reference, digits only (0 first) for a phone
    problem: str = ""  # why the text was not understood (Japanese, for the page)


def parse_search(text: str) -> SearchQuery:
    """What staff typed: a 受付番号 (``482-9135``, ``4829135``, full-width) or a phone number
    in any usual spelling (``090-1234-5678``, ``09012345678``, ``０９０（１２３４）５６７８``,
    ``+81 90 1234 5678``)."""
    text = unicodedata.normalize("NFKC", text or "").strip()[:SEARCH_MAX_CHARS]
    if not text:
        return SearchQuery("invalid", problem="受付番号か電話番号を入れてください。")
    if re.search(r"[^0-9\s()+" + re.escape(_DASHES) + "]", text):
        return SearchQuery("invalid", problem="数字とハイフンだけで入れてください。")
    digits = phone_digits(text)
    if text.startswith("+81") and digits.startswith("81"):  # +81 typed: a phone, whatever its length
        digits = "0" + digits[2:]
    if len(digits) == 7:
        if not is_valid_reference(digits):
            return SearchQuery("invalid", problem="受付番号の数字が合いません。もう一度確かめてください。")
        return SearchQuery("ref", f"{digits[:3]}-{digits[3:]}")
    if digits.startswith("0") and len(digits) in (10, 11):
        return SearchQuery("phone", digits)
    return SearchQuery("invalid", problem="受付番号（7けた）か電話番号（10けたか11けた）を入れてください。")


def phone_digits(value: Optional[str]) -> str:
    """The digits of a stored phone answer, in the same form as a parsed search."""
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", value or ""))
    if digits.startswith("81") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits


def find_by_phone(db: sqlite_utils.Database, digits: str) -> List[dict]:
    """Cases whose contact phone (kept only with consent, until retention) is this number,
    in queue order. The numbers are stored as the resident typed them, so they are compared
    in Python after normalising."""
    rows = db.query(_queue_sql(" WHERE json_extract(summary, '$.wish.phone') IS NOT NULL"))
    found = [r for r in (_row(row) for row in rows)
             if phone_digits(((r["summary"].get("wish") or {}).get("phone"))) == digits]
    return found[:SEARCH_MAX_ROWS]


def events(db: sqlite_utils.Database, handoff_id: int) -> List[dict]:
    return [dict(r) for r in db.query("SELECT * FROM handoff_events WHERE handoff_id = ? ORDER BY id",
                                      [handoff_id])]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_stats(db: sqlite_utils.Database, weeks: int) -> dict:
    """Handoffs per week (Monday to Sunday, JST) for the last ``weeks`` weeks including this one,
    by main field (each handoff once) and by channel."""
    weeks = max(1, min(weeks, 104))
    last = week_start(now().date())
    starts = [last - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    index = {s: i for i, s in enumerate(starts)}
    by_field: Dict[str, List[int]] = {f: [0] * weeks for f in FIELDS + (NO_FIELD,)}
    by_channel: Dict[str, List[int]] = {c: [0] * weeks for c in CHANNELS}
    totals = [0] * weeks
    rows = db.query("SELECT created_at, main_field, channel FROM handoffs WHERE substr(created_at, 1, 10) >= ?",
                    [starts[0].isoformat()])
    for row in rows:
        try:
            i = index.get(week_start(datetime.fromisoformat(row["created_at"]).date()))
        except (TypeError, ValueError):
            continue
        if i is None:
            continue
        totals[i] += 1
        by_field.setdefault(row["main_field"] or NO_FIELD, [0] * weeks)[i] += 1
        by_channel.setdefault(row["channel"], [0] * weeks)[i] += 1
    return {
        "weeks": starts,
        "totals": totals,
        "by_field": {k: v for k, v in by_field.items() if any(v)},
        "by_channel": {k: v for k, v in by_channel.items() if any(v) or k in CHANNELS},
    }
