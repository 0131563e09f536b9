"""The audit log: who did what, when, from where. Append-only (triggers refuse UPDATE and DELETE).

Rows never carry a resident's words or contact details: ``target`` is a reference number or an
account name, ``detail`` a small JSON object (filters used, status moved, number of rows)."""
from __future__ import annotations

import json
from typing import List, Optional, Tuple

import sqlite_utils

from bot.core.store import transaction
from bot.core.clock import stamp

PAGE_SIZE = 100


def record(db: sqlite_utils.Database, action: str, username: Optional[str], *, target: Optional[str] = None,
           detail: Optional[dict] = None, ip: Optional[str] = None) -> None:
    with transaction(db):
        db.execute("INSERT INTO audit_log (at, username, action, target, detail, ip) VALUES (?, ?, ?, ?, ?, ?)",
                   [stamp(), username, action, target,
                    json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None, ip])


def entries(db: sqlite_utils.Database, *, username: str = "", action: str = "", target: str = "",
            page: int = 1) -> Tuple[List[dict], int]:
    """Newest first, optionally filtered; returns (rows of one page, total matching)."""
    where, params = [], []
    for column, value in (("username", username), ("action", action), ("target", target)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total = next(iter(db.query(f"SELECT count(*) AS n FROM audit_log{clause}", params)))["n"]
    rows = [dict(r) for r in db.query(f"SELECT * FROM audit_log{clause} ORDER BY id DESC LIMIT ? OFFSET ?",
                                      params + [PAGE_SIZE, (max(page, 1) - 1) * PAGE_SIZE])]
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return rows, total
