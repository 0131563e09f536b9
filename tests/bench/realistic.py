"""Realistic load: residents who read and type between messages (part of ``make bench``).

Each of N residents runs the benchmark's conversations (tests/bench/common.Resident: worry,
follow-up, consent, form answers, confirmation) through /api/chat, pausing a random 5-15 s
(BENCH_PAUSE) before every message and between conversations, with a new connection per message
(a phone that went quiet; BENCH_KEEP_ALIVE=1 keeps one per resident). Residents join at random
moments over the first BENCH_RAMP_IN seconds (15), which are not counted; then BENCH_RESIDENT_SECONDS
(60) are measured. N steps up through BENCH_RESIDENTS (50,100,200,300,400) and stops at the first
step whose p95 is over BENCH_P95_LIMIT_MS (300) or that has any error. The answer: the largest N
served within the limit, and the memory (RSS) of each process at that load.

Run alone (its own stack): ``.venv-web/bin/python -m tests.bench.realistic`` (writes
reports/realistic.json); ``make bench`` runs it after the saturation steps (tests/bench/run.py).
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot import PROJECT_ROOT
from tests.bench.common import (Channel, Resident, Turn, env_float, env_list, load_worries, make_stack, percentile,
                                stack_cpu_seconds, stack_rss_mb, write_report)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def settings() -> dict:
    low, _, high = os.environ.get("BENCH_PAUSE", "5,15").partition(",")
    return {"residents": env_list("BENCH_RESIDENTS", "50,100,200,300,400"),
            "seconds": env_float("BENCH_RESIDENT_SECONDS", 60), "ramp_in": env_float("BENCH_RAMP_IN", 15),
            "pause_s": [float(low), float(high or low)], "p95_limit_ms": env_float("BENCH_P95_LIMIT_MS", 300),
            "keep_alive": os.environ.get("BENCH_KEEP_ALIVE", "0") == "1",
            "seed": int(env_float("BENCH_SEED", 8))}


def step(stack, n: int, cfg: dict, worries: List[str]) -> dict:
    url = stack.web_url + "/api/chat"
    low, high = cfg["pause_s"]
    started = time.monotonic()
    measure_from = started + cfg["ramp_in"]
    deadline = measure_from + cfg["seconds"]
    stop = threading.Event()
    lock = threading.Lock()
    turns: List[Turn] = []
    conversations = [0]

    def on_turn(turn: Turn) -> None:
        with lock:
            turns.append(turn)

    def resident(i: int) -> None:
        rng = random.Random(cfg["seed"] * 7919 + n * 1000 + i)
        channel = Channel(url, keep_alive=cfg["keep_alive"])

        def pause() -> bool:
            return not stop.wait(rng.uniform(low, high)) and time.monotonic() < deadline

        if stop.wait(rng.uniform(0, cfg["ramp_in"])):
            return
        while time.monotonic() < deadline:
            Resident(channel, worries, rng, on_turn=on_turn, pause=pause).run(deadline)
            with lock:
                conversations[0] += 1
            if not pause():
                return

    peak: Dict[str, float] = {}

    def sample_memory() -> None:
        while not stop.wait(2.0):
            for key, mb in stack_rss_mb(stack).items():
                peak[key] = max(peak.get(key, 0.0), mb)

    load_before = loadavg()
    cpu: Dict[str, Dict[str, float]] = {}

    def cpu_at_start() -> None:
        if not stop.wait(max(0.0, measure_from - time.monotonic())):
            cpu["start"] = stack_cpu_seconds(stack)

    threading.Thread(target=cpu_at_start, daemon=True).start()
    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=resident, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    while time.monotonic() < deadline:
        time.sleep(0.5)
    cpu["end"] = stack_cpu_seconds(stack)
    stop.set()
    for t in threads:
        t.join(40)  # a request in flight ends within the client's 30 s timeout
    sampler.join(5)
    counted = [t for t in turns if measure_from <= t.started < deadline]
    latencies = [t.seconds * 1000 for t in counted if t.ok]
    errors = [t for t in counted if not t.ok]
    statuses: Dict[str, int] = {}
    for t in errors:
        statuses[str(t.status)] = statuses.get(str(t.status), 0) + 1
    p95 = round(percentile(latencies, 0.95), 1) if latencies else None
    start_cpu = cpu.get("start", {})
    cpu_ms = {k: round((cpu["end"][k] - start_cpu[k]) * 1000 / max(1, len(latencies)), 1)
              for k in start_cpu if k in cpu["end"]}
    return {"residents": n, "measured_s": cfg["seconds"], "answers": len(latencies),
            "answers_per_s": round(len(latencies) / cfg["seconds"], 2),
            "median_ms": round(statistics.median(latencies), 1) if latencies else None, "p95_ms": p95,
            "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
            "max_ms": round(max(latencies), 1) if latencies else None,
            "errors": len(errors), "error_statuses": statuses, "conversations": conversations[0],
            "memory_mb_max": {k: round(v, 1) for k, v in peak.items()}, "cpu_ms_per_answer": cpu_ms,
            "loadavg_before": load_before, "loadavg_after": loadavg(),
            "ok": bool(latencies) and not errors and p95 is not None and p95 <= cfg["p95_limit_ms"]}


def ramp(stack, worries: List[str], cfg: Optional[dict] = None) -> dict:
    """Steps up the number of residents until one step misses the limit; see the module doc."""
    cfg = cfg or settings()
    steps, best = [], None
    for n in cfg["residents"]:
        print(f"realistic: {n} residents pausing {cfg['pause_s'][0]:.0f}-{cfg['pause_s'][1]:.0f} s, "
              f"{cfg['ramp_in']:.0f} s joining + {cfg['seconds']:.0f} s measured...", flush=True)
        row = step(stack, n, cfg, worries)
        steps.append(row)
        print(f"   {row['answers_per_s']} answers/s, median {row['median_ms']} ms, p95 {row['p95_ms']} ms, "
              f"errors {row['errors']} {row['error_statuses'] or ''}; CPU ms per answer {row['cpu_ms_per_answer']}; "
              f"RSS total {row['memory_mb_max'].get('total')} MB "
              f"(load average {row['loadavg_before']} -> {row['loadavg_after']})", flush=True)
        dead = stack.dead_service()
        if dead:
            raise RuntimeError(dead)
        if not row["ok"]:
            break
        best = row
        time.sleep(3)  # let the last requests drain before the next step
    return {"config": cfg, "steps": steps,
            "max_residents_ok": best["residents"] if best else 0,
            "memory_mb_at_max": best["memory_mb_max"] if best else None,
            "stopped_at": steps[-1]["residents"] if steps and best is not steps[-1] else None}


def print_summary(result: dict) -> None:
    cfg = result["config"]
    print(f"\n== realistic load (pauses {cfg['pause_s'][0]:.0f}-{cfg['pause_s'][1]:.0f} s; "
          f"limit p95 <= {cfg['p95_limit_ms']:.0f} ms, 0 errors) ==")
    print(f"{'residents':>9} {'ans/s':>7} {'median':>8} {'p95':>8} {'p99':>8} {'errors':>6} {'RSS MB':>7}  load avg")
    for row in result["steps"]:
        print(f"{row['residents']:>9} {row['answers_per_s']:>7.1f} {row['median_ms'] or '-':>8} "
              f"{row['p95_ms'] or '-':>8} {row['p99_ms'] or '-':>8} {row['errors']:>6} "
              f"{row['memory_mb_max'].get('total', '-'):>7}  {row['loadavg_before']} -> {row['loadavg_after']}")
    print(f"largest number of residents served within the limit: {result['max_residents_ok']}"
          + (f" (missed at {result['stopped_at']})" if result.get("stopped_at") else ""))


def main() -> int:
    out_path = PROJECT_ROOT / os.environ.get("BENCH_OUT", "reports/realistic.json")
    worries = load_worries()
    stack, work = make_stack()
    print(f"Starting the stack (logs in {work / 'logs'})...", flush=True)
    try:
        stack.start()
        for i in range(4):  # warm-up: the first answers load lazy parts of the models
            Resident(Channel(stack.web_url + "/api/chat"), worries, random.Random(i)).run()
        result = ramp(stack, worries)
    except RuntimeError as exc:
        print(f"realistic bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    print_summary(result)
    write_report(out_path, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
