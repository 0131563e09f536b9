"""Retention for Rasa's conversation history in the SQL tracker store.

At scale the trackers live in PostgreSQL (``TRACKER_STORE_URL``, bot/tools/scale.py), and their events
hold residents' words. ``make purge`` runs this after the handoff retention, with the same number
of days: every conversation whose last event is older than that is deleted whole (a conversation
still going on is never cut). The embedded default keeps trackers in Rasa's memory only, so there
is nothing to delete. Runs in the Rasa environment (psycopg2 comes with it). Prints counts only.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Mapping, Optional, Tuple

DAY_SECONDS = 86400


def purge_events(url: str, days: int, password: Optional[str] = None, now: Optional[float] = None) -> Tuple[int, int]:
    """Delete the conversations whose last event is older than ``days``; (conversations, events)."""
    import psycopg2

    cutoff = (now if now is not None else time.time()) - days * DAY_SECONDS
    connection = psycopg2.connect(url, **({"password": password} if password else {}))
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('public.events') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return 0, 0  # Rasa has not written anything yet
            cursor.execute("CREATE TEMP TABLE old_conversations ON COMMIT DROP AS "
                           "SELECT sender_id FROM events GROUP BY sender_id HAVING max(timestamp) < %s", [cutoff])
            conversations = cursor.rowcount
            cursor.execute("DELETE FROM events WHERE sender_id IN (SELECT sender_id FROM old_conversations)")
            return conversations, cursor.rowcount
    finally:
        connection.close()


def main(argv=None, environ: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, required=True, help="keep conversations active in the last DAYS days")
    args = parser.parse_args(argv)
    if args.days < 1:
        print("--days must be 1 or more", file=sys.stderr)
        return 2
    url = environ.get("TRACKER_STORE_URL", "").strip()
    if not url:
        print("tracker store: in memory (TRACKER_STORE_URL not set), nothing to delete")
        return 0
    try:
        conversations, events = purge_events(url, args.days, environ.get("TRACKER_STORE_PASSWORD") or None)
    except Exception as exc:  # psycopg2.Error and connection errors: say what failed, no traceback
        print(f"tracker store retention failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    print(f"tracker store: deleted {conversations} conversations ({events} events) older than {args.days} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
