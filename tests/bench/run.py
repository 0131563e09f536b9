"""Load and latency benchmark of the whole stack (``make bench``; not part of ``make test``).

Starts the action server, Rasa and the web side (bot.tools.runner.Stack on free ports, its own
temporary DB, rate limits raised), then for each N drives ``/api/chat`` with N concurrent
simulated residents for a fixed time, each running multi-turn conversations drawn from
tests/data/routing_eval.jsonl (worry, follow-up, consent, form answers by button payloads,
confirmation; a new sender id per conversation). The same load then goes to Rasa's REST channel
directly, so the web side's overhead shows as a ratio. Also measured: resident memory (RSS of
each process group) at rest and under load, cold start to healthy, training time (from the
logs), and the LINE webhook's receipt-to-reply time at N = 1 and 20 (FakeLineApi, signed
requests). Prints a table, compares with the targets and writes reports/bench.json.

Environment (defaults in brackets):
    BENCH_N=1,5,20,50        concurrent residents per step
    BENCH_SECONDS=30         seconds per step
    BENCH_SECONDS_MAX=60     seconds for the largest N
    BENCH_RASA_DIRECT=1      also run the load against Rasa's REST channel (0 to skip)
    BENCH_LINE_EVENTS=40     events per LINE timing run (N = 1 and BENCH_LINE_N)
    BENCH_LINE_N=20
    BENCH_OUT=reports/bench.json
    BENCH_SEED=8
    BENCH_REALISTIC=1        the realistic-load ramp after the saturation steps (0 to skip);
                             its settings (BENCH_RESIDENTS=50,100,200,300,400, pauses, limit) are
                             in tests/bench/realistic.py

The machine (CPU model, cores, memory) and the load average before and after every step are in the
report: on a shared machine, numbers taken while other work ran are marked by their load average.
"""
from __future__ import annotations

import json
import os
import platform
import random
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

from bot import PROJECT_ROOT
from tests.bench import realistic
from tests.bench.common import (Channel, Resident, env_float, env_list, load_worries, make_stack, percentile,
                                stack_cpu_seconds, stack_rss_mb, write_report)
from tests.line.helpers import TEST_ACCESS_TOKEN, TEST_CHANNEL_SECRET, new_user_id
from tests.line.timing import WORRIES as LINE_WORRIES
from tests.line.timing import one as line_one
from tests.line_fake import FakeLineApi

TARGETS = {
    "p95_ms_at_20": 150.0,
    "errors_at_50": 0,
    "stack_rss_mb": 2.5 * 1024,
    "cold_start_s": 40.0,
    "saturation_answers_per_s": 80.0,
    "p95_ms_one_resident": 40.0,
    "realistic_residents": 300,
}


def machine() -> Dict[str, object]:
    """What the numbers were measured on: CPU model, cores, memory, Python, OS."""
    out: Dict[str, object] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                              "platform": platform.platform()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                out["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                out["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return out


def training_time() -> Dict[str, object]:
    """Seconds from the "Trained in N s" line (var/train.log, then var/make-train.log), else the
    ``real`` line of var/train.time (time(1) output), else unknown."""
    for name in ("train.log", "make-train.log"):
        path = PROJECT_ROOT / "var" / name
        if path.exists():
            m = re.search(r"Trained in (\d+) s", path.read_text(encoding="utf-8", errors="replace"))
            if m:
                return {"seconds": int(m.group(1)), "source": f"var/{name}"}
    path = PROJECT_ROOT / "var" / "train.time"
    if path.exists():
        m = re.search(r"real\s+(\d+)m([\d.]+)s", path.read_text(encoding="utf-8", errors="replace"))
        if m:
            return {"seconds": round(int(m.group(1)) * 60 + float(m.group(2)), 1),
                    "source": "var/train.time (time(1) of an earlier rasa train)"}
    return {"seconds": None, "source": "unknown (no 'Trained in' line in var/train.log)"}


class MemorySampler(threading.Thread):
    def __init__(self, stack, every: float = 1.0):
        super().__init__(daemon=True)
        self.stack, self.every = stack, every
        self.samples: List[Dict[str, float]] = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            self.samples.append(stack_rss_mb(self.stack))
            self._halt.wait(self.every)

    def stop(self) -> Dict[str, float]:
        self._halt.set()
        self.join(5)
        if not self.samples:
            return {}
        return {key: max(s[key] for s in self.samples) for key in self.samples[0]}


def load_step(url: str, kind: str, n: int, seconds: float, worries: List[str], seed: int,
              stack=None) -> Dict[str, object]:
    """N residents, each running conversations back to back until the time is up. With ``stack``,
    also the CPU milliseconds each service used per answer."""
    load_before = realistic.loadavg()
    cpu_before = stack_cpu_seconds(stack) if stack else {}
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    turns, conversations, refs = [], [0], [0]

    def resident(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        channel = Channel(url, kind)
        while time.monotonic() < deadline:
            r = Resident(channel, worries, rng).run(deadline)
            with lock:
                turns.extend(t for t in r.turns if t.started < deadline)
                conversations[0] += 1
                refs[0] += len(r.refs)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(resident, range(n)))
    elapsed = time.monotonic() - started
    latencies = [t.seconds * 1000 for t in turns if t.ok]
    load_after = realistic.loadavg()
    cpu_after = stack_cpu_seconds(stack) if stack else {}
    cpu_ms = {key: round((cpu_after[key] - cpu_before[key]) * 1000 / max(1, len(latencies)), 1)
              for key in cpu_before if key in cpu_after}
    errors = [t for t in turns if not t.ok]
    statuses: Dict[str, int] = {}
    for t in errors:
        statuses[str(t.status)] = statuses.get(str(t.status), 0) + 1
    return {
        "target": kind, "n": n, "seconds": round(elapsed, 1), "requests": len(turns),
        "answers": len(latencies), "answers_per_s": round(len(latencies) / elapsed, 2),
        "median_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "errors": len(errors), "error_statuses": statuses,
        "conversations": conversations[0], "reference_numbers": refs[0],
        "cpu_ms_per_answer": cpu_ms, "loadavg_before": load_before, "loadavg_after": load_after,
    }


def line_timing(stack, api: FakeLineApi, events: int, n: int) -> Dict[str, object]:
    url = stack.web_url + "/line/webhook"
    failures = []

    def run_one(i: int):
        try:
            return line_one(url, api, LINE_WORRIES[i % len(LINE_WORRIES)], new_user_id())
        except RuntimeError as exc:
            failures.append(str(exc))
            return None

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = [r for r in pool.map(run_one, range(events)) if r]
    total = [r[0] for r in results]
    ack = [r[1] for r in results]
    return {"n": n, "events": events, "failures": len(failures),
            "reply_median_ms": round(statistics.median(total), 1) if total else None,
            "reply_p95_ms": round(percentile(total, 0.95), 1) if total else None,
            "ack_median_ms": round(statistics.median(ack), 1) if ack else None,
            "ack_p95_ms": round(percentile(ack, 0.95), 1) if ack else None}


def fmt(value, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.0f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def print_table(report: dict) -> None:
    print("\n== /api/chat (web side) and Rasa REST directly ==")
    print(f"{'target':<6} {'N':>3} {'s':>5} {'ans/s':>7} {'median':>8} {'p95':>8} {'p99':>8} {'max':>8} "
          f"{'errors':>6} {'convs':>6} {'refs':>5}")
    for row in report["load"]:
        print(f"{row['target']:<6} {row['n']:>3} {row['seconds']:>5.0f} {row['answers_per_s']:>7.1f} "
              f"{fmt(row['median_ms'], 'ms'):>8} {fmt(row['p95_ms'], 'ms'):>8} {fmt(row['p99_ms'], 'ms'):>8} "
              f"{fmt(row['max_ms'], 'ms'):>8} {row['errors']:>6} {row['conversations']:>6} "
              f"{row['reference_numbers']:>5}")
    if report.get("overhead"):
        print("\nweb side overhead (web / rasa-direct):")
        for row in report["overhead"]:
            r = {k: ("-" if row[k] is None else f"x{row[k]:.2f}") for k in ("median_ratio", "p95_ratio",
                                                                             "throughput_ratio")}
            print(f"  N={row['n']:>3}: median {r['median_ratio']}, p95 {r['p95_ratio']}, "
                  f"throughput {r['throughput_ratio']}")
    print("\n== memory (RSS MB, process group incl. children) ==")
    for label, key in (("at rest", "rest"), ("under load (max)", "load_max")):
        m = report["memory_mb"].get(key) or {}
        print(f"  {label:<17} actions {fmt(m.get('actions'))}  rasa {fmt(m.get('rasa'))}  "
              f"web {fmt(m.get('web'))}  total {fmt(m.get('total'))}")
    if report.get("realistic"):
        realistic.print_summary(report["realistic"])
    m = report["machine"]
    print(f"\nmachine: {m.get('cpu_model', '?')}, {m['cpus']} cores, {m.get('memory_gb', '?')} GB; load average "
          f"{report['loadavg_at_start']} at the start, {report['loadavg_at_end']} at the end")
    print(f"\ncold start to healthy: {report['cold_start_s']:.1f} s")
    t = report["training"]
    print(f"training time: {fmt(t['seconds'], ' s') if t['seconds'] is not None else 'unknown'} ({t['source']})")
    if report.get("line"):
        print("\n== LINE webhook receipt -> reply at the (fake) API ==")
        for row in report["line"]:
            print(f"  N={row['n']:>2}: {row['events']} events, median {fmt(row['reply_median_ms'], ' ms')}, "
                  f"p95 {fmt(row['reply_p95_ms'], ' ms')}; webhook 200 median {fmt(row['ack_median_ms'], ' ms')}; "
                  f"failures {row['failures']}")
    print("\n== targets ==")
    for row in report["targets"]:
        print(f"  [{'met' if row['met'] else 'MISSED' if row['met'] is False else 'n/a'}] {row['name']}: "
              f"{row['value']} (target {row['target']})")


def evaluate_targets(report: dict) -> List[dict]:
    web = {row["n"]: row for row in report["load"] if row["target"] == "web"}
    out = []
    r20 = web.get(20)
    out.append({"name": "p95 at 20 concurrent (/api/chat)", "target": f"<= {TARGETS['p95_ms_at_20']:.0f} ms",
                "value": f"{r20['p95_ms']} ms" if r20 else "not run",
                "met": (r20["p95_ms"] is not None and r20["p95_ms"] <= TARGETS["p95_ms_at_20"]) if r20 else None})
    top = max(web) if web else None
    r50 = web.get(50)
    out.append({"name": "errors at 50 concurrent", "target": "0 in 60 s",
                "value": (f"{r50['errors']} errors in {r50['seconds']:.0f} s ({r50['requests']} requests)"
                          if r50 else f"not run (largest N {top})"),
                "met": (r50["errors"] == 0 and r50["seconds"] >= 59) if r50 else None})
    peak = (report["memory_mb"].get("load_max") or {}).get("total")
    out.append({"name": "whole stack resident", "target": "<= 2560 MB",
                "value": f"{peak} MB under load (max)" if peak else "-",
                "met": peak is not None and peak <= TARGETS["stack_rss_mb"]})
    out.append({"name": "cold start to healthy", "target": "<= 40 s", "value": f"{report['cold_start_s']:.1f} s",
                "met": report["cold_start_s"] <= TARGETS["cold_start_s"]})
    sat = max((row["answers_per_s"] for row in web.values()), default=None)
    top_n = max(web, key=lambda k: web[k]["answers_per_s"]) if web else None
    out.append({"name": "saturation throughput (/api/chat, best step)", "target": ">= 80 answers/s",
                "value": f"{sat} answers/s at N={top_n}" if sat is not None else "not run",
                "met": sat >= TARGETS["saturation_answers_per_s"] if sat is not None else None})
    r1 = web.get(1)
    out.append({"name": "p95 for one resident alone", "target": "<= 40 ms",
                "value": f"{r1['p95_ms']} ms" if r1 else "not run",
                "met": (r1["p95_ms"] is not None and r1["p95_ms"] <= TARGETS["p95_ms_one_resident"]) if r1 else None})
    real = report.get("realistic")
    out.append({"name": "residents pausing 5-15 s, served with p95 <= 300 ms and 0 errors", "target": ">= 300",
                "value": (f"{real['max_residents_ok']} (tried {', '.join(str(s['residents']) for s in real['steps'])})"
                          if real else "not run"),
                "met": real["max_residents_ok"] >= TARGETS["realistic_residents"] if real else None})
    return out


def main() -> int:
    ns = env_list("BENCH_N", "1,5,20,50")
    seconds = env_float("BENCH_SECONDS", 30)
    seconds_max = env_float("BENCH_SECONDS_MAX", 60)
    rasa_direct = os.environ.get("BENCH_RASA_DIRECT", "1") != "0"
    line_events = int(env_float("BENCH_LINE_EVENTS", 40))
    line_n = int(env_float("BENCH_LINE_N", 20))
    seed = int(env_float("BENCH_SEED", 8))
    out_path = PROJECT_ROOT / os.environ.get("BENCH_OUT", "reports/bench.json")
    worries = load_worries()

    api = FakeLineApi().start()
    stack, work = make_stack(extra={"LINE_CHANNEL_SECRET": TEST_CHANNEL_SECRET,
                                    "LINE_CHANNEL_ACCESS_TOKEN": TEST_ACCESS_TOKEN, "LINE_API_ENDPOINT": api.url})
    print(f"Starting the stack (logs in {work / 'logs'})...", flush=True)
    report: dict = {"machine": machine(), "loadavg_at_start": realistic.loadavg(),
                    "config": {"n": ns, "seconds": seconds, "seconds_max": seconds_max, "seed": seed,
                               "rasa_direct": rasa_direct},
                    "load": [], "memory_mb": {}}
    try:
        report["cold_start_s"] = round(stack.start(), 2)
        print(f"Healthy after {report['cold_start_s']:.1f} s", flush=True)
        web_url = stack.web_url + "/api/chat"
        rasa_url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook"
        # Warm-up (first requests load lazy parts of the models), not counted.
        load_step(web_url, "web", 2, 8, worries, seed + 99)
        time.sleep(2)
        report["memory_mb"]["rest"] = stack_rss_mb(stack)
        sampler = MemorySampler(stack)
        sampler.start()
        for target, url in (("web", web_url),) + ((("rasa", rasa_url),) if rasa_direct else ()):
            for n in ns:
                duration = seconds_max if n == max(ns) else seconds
                print(f"{target}: {n} concurrent residents for {duration:.0f} s...", flush=True)
                row = load_step(url, target, n, duration, worries, seed, stack)
                print(f"   {row['answers_per_s']} answers/s, median {row['median_ms']} ms, p95 {row['p95_ms']} ms, "
                      f"p99 {row['p99_ms']} ms, errors {row['errors']} {row['error_statuses'] or ''}; CPU ms per answer "
                      f"{row['cpu_ms_per_answer']} (load average {row['loadavg_before']} -> {row['loadavg_after']})",
                      flush=True)
                report["load"].append(row)
                dead = stack.dead_service()
                if dead:
                    raise RuntimeError(dead)
        report["memory_mb"]["load_max"] = sampler.stop()
        report["memory_mb"]["after_load"] = stack_rss_mb(stack)
        if os.environ.get("BENCH_REALISTIC", "1") != "0":
            report["realistic"] = realistic.ramp(stack, worries)
        if line_events > 0:
            report["line"] = []
            for n in (1, line_n):
                print(f"LINE: {line_events} events at {n} concurrent...", flush=True)
                report["line"].append(line_timing(stack, api, line_events, n))
    except RuntimeError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        api.stop()

    web = {r["n"]: r for r in report["load"] if r["target"] == "web"}
    rasa = {r["n"]: r for r in report["load"] if r["target"] == "rasa"}

    def ratio(a, b):
        return round(a / b, 2) if a is not None and b else None

    report["overhead"] = [{"n": n, "median_ratio": ratio(web[n]["median_ms"], rasa[n]["median_ms"]),
                           "p95_ratio": ratio(web[n]["p95_ms"], rasa[n]["p95_ms"]),
                           "throughput_ratio": ratio(web[n]["answers_per_s"], rasa[n]["answers_per_s"])}
                          for n in ns if n in web and n in rasa]
    report["loadavg_at_end"] = realistic.loadavg()
    report["training"] = training_time()
    report["targets"] = evaluate_targets(report)
    print_table(report)
    write_report(out_path, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
