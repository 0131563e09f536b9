"""Long fuzz of /api/chat and /line/webhook against the real stack (not part of ``make test``).

    .venv-web/bin/python -m tests.fuzz.run      (FUZZ_CHAT=6000 FUZZ_LINE=4000 FUZZ_MAX_SECONDS=900)

Starts its own Stack (free ports, temporary DB, FakeLineApi for LINE's API), sends hypothesis-
generated inputs (tests/fuzz/strategies.py, ``known_bugs=True``: everything, including the
shapes that gave a 500 before d28451c) over real HTTP, and checks: no 5xx except a 503 that gives
the centre's phone, no crashed process, the web process' RSS sampled every 1,000 inputs (it
must not keep growing), unhandled errors counted in the web log. Writes reports/fuzz.json and
exits 1 when the contract is broken.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter

import requests
from hypothesis import HealthCheck, Phase, given, seed, settings

from bot import PROJECT_ROOT
from bot.core.directory import get_directory
from tests.bench.common import env_float, group_rss_mb, make_stack
from tests.fuzz.strategies import acceptable, chat_cases, line_cases
from tests.line.helpers import TEST_ACCESS_TOKEN, TEST_CHANNEL_SECRET
from tests.line_fake import FakeLineApi


def main() -> int:
    counts = {"/api/chat": int(env_float("FUZZ_CHAT", 6000)), "/line/webhook": int(env_float("FUZZ_LINE", 4000))}
    max_seconds = env_float("FUZZ_MAX_SECONDS", 900)
    fuzz_seed = int(env_float("FUZZ_SEED", 8))
    out_path = PROJECT_ROOT / os.environ.get("FUZZ_OUT", "reports/fuzz.json")
    phone = get_directory().agency("sogo").phone
    api = FakeLineApi().start()
    stack, work = make_stack(extra={"LINE_CHANNEL_SECRET": TEST_CHANNEL_SECRET,
                                    "LINE_CHANNEL_ACCESS_TOKEN": TEST_ACCESS_TOKEN, "LINE_API_ENDPOINT": api.url})
    print(f"Starting the stack (logs in {work / 'logs'})...", flush=True)
    stack.start()
    started = time.monotonic()
    session = requests.Session()
    statuses, bad, examples = Counter(), Counter(), {}
    rss, sent, skipped = [], [0], [0]
    web_pid = stack.services["web"].process.pid
    line = stack.services["web"]
    dead, healthy = "not reached", False
    conn_errors = Counter()

    def send(path, case):
        if time.monotonic() - started > max_seconds:
            skipped[0] += 1
            return
        if sent[0] % 1000 == 0:
            rss.append({"inputs": sent[0], "web_rss_mb": round(group_rss_mb(web_pid), 1)})
        sent[0] += 1
        try:
            r = session.post(stack.web_url + path, data=case.body, headers=case.headers, timeout=30)
            status, body = r.status_code, r.content
        except requests.RequestException as exc:
            conn_errors[f"{path} {case.kind}: {type(exc).__name__}"] += 1
            session.close()
            return
        statuses[f"{path} {status}"] += 1
        if not acceptable(status, body, phone):
            key = f"{path} | {case.kind} | {status}"
            bad[key] += 1
            examples.setdefault(key, repr(case)[:400])

    common = dict(deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    try:
        for path, strategy in (("/api/chat", chat_cases(known_bugs=True)), ("/line/webhook", line_cases(known_bugs=True))):
            print(f"{path}: {counts[path]} inputs...", flush=True)

            @seed(fuzz_seed)  # reproducible, still random-looking
            @settings(max_examples=counts[path], **common)
            @given(strategy)
            def fuzz(case):
                send(path, case)

            fuzz()
        time.sleep(3)
        rss.append({"inputs": sent[0], "web_rss_mb": round(group_rss_mb(web_pid), 1)})
        dead = stack.dead_service()
        healthy = requests.get(stack.web_url + "/healthz", timeout=10).status_code == 200
    finally:
        elapsed = time.monotonic() - started
        stack.stop()
        api.stop()
    log = line.log_path.read_text(encoding="utf-8", errors="replace")
    report = {
        "inputs_sent": sent[0], "skipped_over_time": skipped[0], "seconds": round(elapsed, 1), "seed": fuzz_seed,
        "statuses": dict(sorted(statuses.items())), "connection_errors": dict(conn_errors),
        "contract_violations": dict(bad), "examples": examples,
        "unhandled_errors_in_web_log": log.count("unhandled error"),
        "line_worker_failures_in_web_log": log.count("line worker failed") + log.count("line event failed"),
        "web_rss_mb": rss, "dead_service": dead, "healthy_at_end": healthy,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "examples"}, ensure_ascii=False, indent=1))
    for key, example in examples.items():
        print(f"  {key}: {example}")
    print(f"wrote {out_path.relative_to(PROJECT_ROOT)}")
    ok = not bad and not conn_errors and dead is None and healthy
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
