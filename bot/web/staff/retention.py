"""Retention: remove residents' words and contact details older than N days, keep the counts.

    python -m bot.web.staff.retention --days 365          # or RETENTION_DAYS=365, default 365
    python -m bot.web.staff.retention --days 365 --dry-run

The handoff rows stay (reference, date, channel, consent, fields, urgency, status, history of
status changes), so weekly statistics and counts do not change. Each purged case gets a
``purge`` event in its history and the run is written to the audit log. Meant to be run daily
by cron or a systemd timer (see README)."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional

from bot.store import StoreError, db_path, open_store
from bot.web.staff import audit
from bot.web.staff.queries import SYSTEM_RETENTION, purge_text

DEFAULT_DAYS = 365


def default_days() -> int:
    """RETENTION_DAYS from the environment (a whole number of days, at least 1), else 365."""
    try:
        days = int(os.environ.get("RETENTION_DAYS", DEFAULT_DAYS))
    except ValueError:
        return DEFAULT_DAYS
    return days if days >= 1 else DEFAULT_DAYS


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.web.staff.retention", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=default_days(),
                        help="keep residents' words this many days (default: RETENTION_DAYS or 365)")
    parser.add_argument("--dry-run", action="store_true", help="only count what would be removed")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    try:
        db = open_store()
    except StoreError as exc:
        print(f"retention: {exc}", file=sys.stderr)
        return 2
    try:
        result = purge_text(db, args.days, username=SYSTEM_RETENTION, dry_run=args.dry_run)
        if not args.dry_run:
            audit.record(db, "purge", SYSTEM_RETENTION, detail={"days": args.days, "purged": result["purged"],
                                                                "cutoff": result["cutoff"]})
    finally:
        db.conn.close()
    verb = "would remove" if args.dry_run else "removed"
    print(f"retention ({db_path()}): {verb} residents' words from {result['purged']} handoff(s) received "
          f"before {result['cutoff']}; {result['kept_rows']} handoff row(s) kept for counts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
