"""Throughput with 1 and 2 Rasa servers on this machine (``make bench-scale``; not in ``make test``).

Three set-ups, one after another, each on free ports with its own SQLite file:

    embedded   1 Rasa + 1 action server, in-memory tracker and lock (the default, ``make run``)
    shared-1   1 Rasa + 1 action server, tracker in PostgreSQL, lock in redis
    shared-2   2 Rasa + 2 action servers, same stores, each conversation's messages alternating
               between the two servers (RASA_ROUTING=message), cases saved through the web
               side's internal handoff store

Each drives ``/api/chat`` with N concurrent simulated residents (tests/bench/common.Resident,
the same load as ``make bench``) for a fixed time. redis-server and PostgreSQL are real,
throw-away instances (tests/scale/services.py). Prints a table and writes reports/bench-scale.json.
The machine has 2 cores: two Rasa servers compete for the same two cores, so the ratio shown is
what one machine gives, not what two machines would.

Environment (defaults in brackets):
    BENCH_N=8               concurrent residents
    BENCH_SECONDS=60        seconds per set-up
    BENCH_SETUPS=embedded,shared-1,shared-2
    BENCH_OUT=reports/bench-scale.json
    BENCH_SEED=8
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Dict, List

from bot import PROJECT_ROOT
from bot.tools.runner import free_port
from bot.tools.scale import ScaleStack
from tests.bench.common import FIXED_NOW, env_float, env_list, load_worries, stack_rss_mb
from tests.bench.run import load_step
from tests.scale.services import Postgres, Redis

SETUPS = ("embedded", "shared-1", "shared-2")


def run_setup(name: str, work: Path, n: int, seconds: float, seed: int, worries: List[str]) -> Dict[str, object]:
    redis = postgres = stack = None
    env = {"SOUDAN_NOW": FIXED_NOW, "SECRET_KEY": "bench-secret-key", "RATE_LIMIT_PER_SESSION": "100000",
           "RATE_LIMIT_PER_IP": "10000000"}
    try:
        pairs = 2 if name == "shared-2" else 1
        if name != "embedded":
            redis, postgres = Redis().start(), Postgres().start()
            env.update(TRACKER_STORE_URL=postgres.url, LOCK_STORE_URL=redis.url,
                       HANDOFF_STORE_SECRET="bench-store-secret-0123456789")
        stack = ScaleStack(web_port=free_port(), rasa_port=free_port(), action_port=free_port(),
                           more_pairs=[(free_port(), free_port()) for _ in range(pairs - 1)],
                           routing="message" if pairs > 1 else "conversation",
                           store_port=free_port() if pairs > 1 else None,
                           db_path=work / f"{name}.db", log_dir=work / f"logs-{name}", extra_env=env)
        started = time.monotonic()
        stack.start(timeout=400)
        cold = time.monotonic() - started
        step = load_step(stack.web_url + "/api/chat", "web", n, seconds, worries, seed)
        step.update(setup=name, rasa_servers=pairs, cold_start_s=round(cold, 1), rss_mb=stack_rss_mb(stack))
        return step
    finally:
        if stack is not None:
            stack.stop()
        if postgres is not None:
            postgres.stop()
        if redis is not None:
            redis.stop()


def main() -> int:
    n = env_list("BENCH_N", "8")[0]
    seconds = env_float("BENCH_SECONDS", 60.0)
    seed = int(env_float("BENCH_SEED", 8))
    wanted = [s.strip() for s in os.environ.get("BENCH_SETUPS", ",".join(SETUPS)).split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SETUPS]
    if unknown:
        print(f"unknown set-up(s): {', '.join(unknown)}; choose from {', '.join(SETUPS)}", file=sys.stderr)
        return 2
    out_path = PROJECT_ROOT / os.environ.get("BENCH_OUT", "reports/bench-scale.json")
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"soudan-bench-scale-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    worries = load_worries()
    results = []
    for name in wanted:
        print(f"{name}: starting...", flush=True)
        results.append(run_setup(name, work, n, seconds, seed, worries))
        r = results[-1]
        print(f"{name}: {r['answers_per_s']} answers/s, median {r['median_ms']} ms, p95 {r['p95_ms']} ms, "
              f"errors {r['errors']}, {r['conversations']} conversations, cold start {r['cold_start_s']} s", flush=True)
    by_name = {r["setup"]: r for r in results}
    ratio = None
    if "shared-1" in by_name and "shared-2" in by_name and by_name["shared-1"]["answers_per_s"]:
        ratio = round(by_name["shared-2"]["answers_per_s"] / by_name["shared-1"]["answers_per_s"], 2)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "n": n, "seconds_per_setup": seconds, "results": results,
              "ratio_2_to_1_rasa_servers": ratio}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\n{'set-up':<10} {'Rasa':>4} {'answers/s':>10} {'median ms':>10} {'p95 ms':>8} {'errors':>7} {'RSS MB':>8}")
    for r in results:
        print(f"{r['setup']:<10} {r['rasa_servers']:>4} {r['answers_per_s']:>10} {r['median_ms']!s:>10} "
              f"{r['p95_ms']!s:>8} {r['errors']:>7} {r['rss_mb']['total']:>8}")
    if ratio is not None:
        print(f"2 Rasa servers / 1 (both on PostgreSQL + redis): {ratio}x on {os.cpu_count()} cores")
    print(f"written to {out_path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
