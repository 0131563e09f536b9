"""SIGKILL the action server, Rasa and the web side at random points of scripted conversations.

    .venv-web/bin/python -m tests.bench.faults      (about 3-5 minutes on 2 cores)

Starts its own Stack (free ports, temporary DB), runs FAULT_CONVERSATIONS (50) simulated
residents through /api/chat, FAULT_WORKERS (4) at a time, while a killer thread SIGKILLs the
services in FAULT_KILLS order ("actions,rasa,web,actions,web") at random points (a random number
of answered turns), leaves each down FAULT_DOWN_SECONDS (1-4 s, random) and restarts it. A
resident whose message fails retries it, like a person pressing send again. Checks:

* every reference number shown to a resident (受付番号「NNN-NNNN」) is in the SQLite file
  (bot.core.store.get_handoff), with consent "yes", a field list (empty when no lexicon matched), a
  summary that parses, has all its sections and carries the same number; ``PRAGMA
  integrity_check`` is ok;
* while a component is down every answer is a normal answer, or a 503 whose body has the
  centre's phone (bot.core.directory), or a connection error only while the web side is down;
  a 503 never lacks the phone;
* after each restart the stack is healthy again, and at the end a fresh resident reaches a
  reference number with no error.

Writes reports/faults.json; exits 1 when a check fails.
"""
from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Tuple

from bot import PROJECT_ROOT
from bot.core.directory import get_directory
from bot.core.store import get_handoff, open_store
from tests.bench.common import Channel, Resident, Turn, env_float, load_worries, make_stack, wait_healthy

HEALTH = {"actions": "/health", "rasa": "/", "web": "/healthz"}
REQUIRED_SUMMARY_KEYS = ("reception", "fields", "urgency", "consent", "suggested_agency", "consulter",
                         "subject", "wish")


def main() -> int:
    conversations = int(env_float("FAULT_CONVERSATIONS", 50))
    workers = int(env_float("FAULT_WORKERS", 4))
    kills = [k for k in os.environ.get("FAULT_KILLS", "actions,rasa,web,actions,web").split(",") if k]
    down_min, down_max = env_float("FAULT_DOWN_MIN", 1.0), env_float("FAULT_DOWN_MAX", 4.0)
    seed = int(env_float("FAULT_SEED", 8))
    out_path = PROJECT_ROOT / os.environ.get("FAULT_OUT", "reports/faults.json")
    rng = random.Random(seed)
    worries = load_worries()
    directory = get_directory()
    phones = {directory.agency("sogo").phone}

    stack, work = make_stack()
    print(f"Starting the stack (logs in {work / 'logs'})...", flush=True)
    stack.start()
    ports = {"actions": stack.action_port, "rasa": stack.rasa_port, "web": stack.web_port}
    chat_url = stack.web_url + "/api/chat"

    lock = threading.Lock()
    windows: List[Tuple[str, float, float]] = []   # (service, killed at, healthy again at)
    down_now: dict = {}                             # service -> killed at
    answered = [0]
    all_turns: List[Turn] = []
    problems: List[str] = []
    restarts: List[dict] = []
    # Expected turns: about 11 per conversation; kills land in the first 80 %.
    points = sorted(rng.randint(10, max(11, int(conversations * 11 * 0.8))) for _ in kills)

    def on_turn(turn: Turn) -> None:
        with lock:
            all_turns.append(turn)
            if turn.ok:
                answered[0] += 1

    def retry(turn: Turn) -> bool:
        time.sleep(0.5)
        return time.monotonic() - turn.started < 300  # give up on one message after 5 minutes

    def killer() -> None:
        for service, point in zip(kills, points):
            while answered[0] < point and not done.is_set():
                time.sleep(0.05)
            if done.is_set():
                return
            killed = time.monotonic()
            with lock:
                down_now[service] = killed
            stack.services[service].kill()
            time.sleep(rng.uniform(down_min, down_max))
            stack.services[service].start()
            try:
                wait_healthy(f"http://127.0.0.1:{ports[service]}{HEALTH[service]}", timeout=240)
                wait_healthy(stack.web_url + "/healthz", timeout=60)
                healthy = time.monotonic()
                restarts.append({"service": service, "after_turns": point,
                                 "down_s": round(healthy - killed, 1), "recovered": True})
            except RuntimeError as exc:
                healthy = time.monotonic()
                restarts.append({"service": service, "after_turns": point, "recovered": False})
                problems.append(f"{service} did not recover: {exc}")
            with lock:
                windows.append((service, killed, healthy))
                down_now.pop(service, None)
            print(f"  killed {service} after {point} answers; healthy again after {healthy - killed:.1f} s",
                  flush=True)

    done = threading.Event()
    started = time.monotonic()
    kt = threading.Thread(target=killer, daemon=True)
    kt.start()
    residents: List[Resident] = []

    def converse(i: int) -> Resident:
        r = Resident(Channel(chat_url, timeout=30), worries, random.Random(seed * 1000 + i), max_turns=30,
                     on_turn=on_turn, retry=retry)
        return r.run()

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            residents = list(pool.map(converse, range(conversations)))
        # All planned kills happen, even if the conversations ran out first.
        while kt.is_alive() and len(restarts) < len(kills):
            extra = Resident(Channel(chat_url), worries, random.Random(len(all_turns)), on_turn=on_turn, retry=retry)
            residents.append(extra.run())
        done.set()
        kt.join(300)
        elapsed = time.monotonic() - started

        # 1. Answers while something was down.
        def overlapping(turn: Turn) -> List[str]:
            end = turn.started + turn.seconds
            return [s for s, a, b in windows if turn.started <= b and end >= a]

        counts = {"turns": len(all_turns), "ok": 0, "outage_ok": 0, "outage_503_with_phone": 0,
                  "outage_connection_error_web_down": 0, "errors_outside_outage": 0, "violations": 0}
        for turn in all_turns:
            during = overlapping(turn)
            if turn.status == 503 and not any(p in turn.body for p in phones):
                counts["violations"] += 1
                problems.append(f"503 without the centre's phone: {turn.body[:200]}")
            if turn.ok:
                counts["ok"] += 1
                counts["outage_ok"] += bool(during)
                continue
            if not during:
                counts["errors_outside_outage"] += 1
                problems.append(f"error with everything up: HTTP {turn.status} {turn.body[:200]}")
            elif turn.status == 503 and any(p in turn.body for p in phones):
                counts["outage_503_with_phone"] += 1
            elif turn.status == 0 and "web" in during:
                counts["outage_connection_error_web_down"] += 1
            elif turn.status != 503:
                counts["violations"] += 1
                problems.append(f"during {during} down: HTTP {turn.status} {turn.body[:200]}")

        # 2. Every reference number shown is in the file, whole.
        refs = [ref for r in residents for ref in r.refs]
        db = open_store(stack.db_path)
        missing, broken = [], []
        for ref in refs:
            row = get_handoff(db, ref)
            if row is None:
                missing.append(ref)
                continue
            summary = row["summary"]
            # An empty field list is a whole record (a worry no lexicon matched goes to the centre).
            if (row["consent"] != "yes" or not isinstance(row["fields"], list) or not isinstance(summary, dict)
                    or any(k not in summary for k in REQUIRED_SUMMARY_KEYS)
                    or summary["reception"].get("ref") != ref):
                broken.append(ref)
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        rows = db.execute("SELECT count(*) FROM handoffs").fetchone()[0]
        db.conn.close()
        problems += [f"reference number {r} shown but not in the DB" for r in missing]
        problems += [f"reference number {r} half-written" for r in broken]
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")

        # 3. Recovery: a fresh resident to the end, nothing down.
        wait_healthy(stack.web_url + "/healthz", timeout=120)
        final = Resident(Channel(chat_url), worries, random.Random(seed)).run()
        recovered = bool(final.refs) and all(t.ok for t in final.turns)
        if not recovered:
            problems.append("final conversation after the faults did not reach a reference number: "
                            + "; ".join(f"{t.status} {t.body[:80]}" for t in final.turns[-3:]))
        dead = stack.dead_service()
        if dead:
            problems.append(dead)
    except (RuntimeError, sqlite3.Error) as exc:
        problems.append(f"fault run failed: {exc}")
        counts, refs, missing, broken, integrity, rows, recovered, elapsed = {}, [], [], [], "?", 0, False, 0
    finally:
        done.set()
        stack.stop()

    report = {"conversations": len(residents), "workers": workers, "seconds": round(elapsed, 1),
              "kills": restarts, "answers": counts, "reference_numbers_shown": len(refs),
              "missing": missing, "half_written": broken, "rows_in_db": rows, "integrity_check": integrity,
              "recovered_at_end": recovered, "problems": problems[:50], "problem_count": len(problems)}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\n{len(residents)} conversations in {elapsed:.0f} s, {len(restarts)} kills: "
          + ", ".join(f"{k['service']} ({k.get('down_s', '?')} s)" for k in restarts))
    print(f"answers: {counts}")
    print(f"reference numbers shown {len(refs)}, missing {len(missing)}, half-written {len(broken)}, "
          f"rows {rows}, integrity {integrity}; recovered at the end: {recovered}")
    for p in problems[:20]:
        print("  PROBLEM:", p)
    print(f"wrote {out_path.relative_to(PROJECT_ROOT)}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
