"""Where one answer's milliseconds go (``make profile``; not part of ``make test``).

Starts its own stack (bot.tools.runner.Stack on free ports, temporary DB, Rasa's HTTP API on for the
trackers), then:

1. Round trips: PROFILE_CONVERSATIONS conversations (one resident at a time) through /api/chat with
   a counting relay between Rasa and the action server, so every call Rasa makes to the action
   server is counted per turn and timed (action server answer time, seen from the relay).
2. Profiles: for each N in PROFILE_N, py-spy records all three processes (CPU samples, the web
   side's threads and the two Sanic event loops) while N residents talk for PROFILE_SECONDS;
   samples are sorted into stages (NLU parts, each policy, tracker store, action round trips, the
   web side) and divided by the answers given: CPU milliseconds per answer per stage.

Raw stacks go to var/profile/<time>/ (collapsed format: open in https://www.speedscope.app or
flamegraph.pl); the summary to reports/profile.json and the terminal.

Environment: PROFILE_N=1,20  PROFILE_SECONDS=30  PROFILE_RATE=100  PROFILE_CONVERSATIONS=20
PROFILE_OUT=reports/profile.json  PROFILE_BLOCKING=0 (1: py-spy pauses the process for each sample:
exact stacks, but at 100 Hz it slows the stack down several times; the default samples without
pausing, and a few stacks come out torn)  BENCH_SEED=8. Needs py-spy in .venv-rasa (make profile
installs it) and the right to ptrace the services (root, or kernel.yama.ptrace_scope=0).
"""
from __future__ import annotations

import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import requests

from bot import PROJECT_ROOT
from bot.tools.runner import RASA_VENV, Stack, free_port
from tests.bench.common import (Channel, Resident, env_float, env_list, load_worries, make_stack, percentile,
                                write_report)
from tests.bench.run import load_step

PY_SPY = RASA_VENV / "bin" / "py-spy"

# Stage rules per process, first match wins: (stage, pattern the whole stack must match,
# pattern it must not match). Frames look like "function (path/file.py:line)".
# Leaves that are waiting, not computing (py-spy cannot always tell: an event loop waiting in C, a
# thread blocked on a lock or a socket).
IDLE = re.compile(r"(serve \(sanic/server/runners\.py|run_forever \(asyncio/base_events\.py"
                  r"|select \(selectors\.py|_run_once \(asyncio/base_events\.py|Condition\.wait \(threading\.py"
                  r"|wait \(threading\.py|readinto \(socket\.py|poll \(waitress/wasyncore\.py"
                  r"|select \(waitress/wasyncore\.py)")
RULES: Dict[str, List[Tuple[str, str, Optional[str]]]] = {
    "rasa": [
        ("action round trip: encode tracker + HTTP (Rasa side)", r"rasa/utils/endpoints\.py", None),
        ("action round trip: validate the answer (jsonschema)", r"_validate_action_result", None),
        ("action round trip: apply the returned events", r"rasa/core/actions/action\.py", r"rasa/core/actions/forms\.py"),
        ("NLU: GiNZA dependency parse (danger context only)", r"_parsed_doc|parse \(bot/nlu/rasa_speedups\.py", None),
        ("NLU: GiNZA tokenizer + vectors (SpacyNLP)", r"rasa/nlu/utils/spacy_utils\.py", None),
        ("NLU: intent/danger/field models (bot/nlu/text_models)", r"bot/nlu/text_models\.py", None),
        ("NLU: language detection", r"lingua|bot/core/language\.py", None),
        ("NLU: lexicons, danger rules, words (bot/*)", r"bot/nlu/rasa_components\.py", None),
        ("NLU: Rasa tokenizer, fallback, graph", r"_parse_message_with_graph|parse_message", None),
        ("policies: tracker -> states (featurizer)", r"prediction_states|past_states", None),
        ("policies: RulePolicy", r"rule_policy\.py", None),
        ("policies: MemoizationPolicy", r"memoization\.py", None),
        ("policies: ensemble, graph", r"_predict_next_with_tracker|predict_next_with_tracker_if_should", None),
        ("form loop (Rasa side)", r"rasa/core/actions/(forms|loops)\.py", None),
        ("tracker store: load (deserialise events)", r"get_tracker|_retrieve|deserialise_tracker", None),
        ("tracker store: save (serialise)", r"save_tracker", None),
        ("dialogue: processor, events on the tracker", r"rasa/core/processor\.py", None),
        ("HTTP: Sanic, REST channel", r"sanic|rasa/core/channels|httptools|uvloop", None),
    ],
    "actions": [
        ("DB write (sqlite)", r"bot/core/store\.py|sqlite_utils|sqlite3", None),
        ("form validation (rasa_sdk forms + actions/intake)", r"rasa_sdk/forms\.py|actions/intake_actions\.py", None),
        ("our actions (actions/*, bot/*)", r"actions/|bot/", None),
        ("rasa_sdk: parse request, events, executor", r"rasa_sdk/", None),
        ("HTTP: Sanic", r"sanic|httptools|uvloop", None),
    ],
    "web": [
        ("HTTP to Rasa (requests/urllib3, send + receive)", r"RasaClient\.send|rasa_client\.py", None),
        ("request checks (input text, rate limits)", r"parse_chat_request|ratelimit\.py|inputtext\.py", None),
        ("logging", r"logging/", None),
        ("Flask (routing, JSON)", r"flask/|werkzeug/", None),
        ("waitress (HTTP server, threads)", r"waitress/", None),
    ],
}


# -- py-spy ---------------------------------------------------------------------------------------

def ensure_py_spy() -> None:
    if not PY_SPY.exists():
        raise RuntimeError(f"py-spy not found at {PY_SPY}: run `make profile` (it installs py-spy 0.4.x)")


def record(pid: int, out: Path, seconds: float, rate: int, nonblocking: bool) -> subprocess.Popen:
    cmd = [str(PY_SPY), "record", "--pid", str(pid), "--subprocesses", "--rate", str(rate),
           "--duration", str(int(seconds)), "--format", "raw", "--output", str(out)]
    if nonblocking:
        cmd.append("--nonblocking")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def read_collapsed(path: Path) -> List[Tuple[str, int]]:
    rows = []
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            rows.append((stack, int(count)))
    return rows


def stages(process: str, rows: List[Tuple[str, int]]) -> Tuple[Counter, int, int]:
    """(samples per stage, busy samples, idle samples)."""
    compiled = [(label, re.compile(inc), re.compile(exc) if exc else None) for label, inc, exc in RULES[process]]
    out: Counter = Counter()
    busy = idle = 0
    for stack, count in rows:
        leaf = stack.rsplit(";", 1)[-1]
        if IDLE.search(leaf):
            idle += count
            continue
        busy += count
        for label, inc, exc in compiled:
            if inc.search(stack) and not (exc and exc.search(stack)):
                out[label] += count
                break
        else:
            out["other"] += count
    return out, busy, idle


def top_functions(rows: List[Tuple[str, int]], limit: int = 25) -> List[Tuple[str, int]]:
    """Inclusive samples per function (line numbers dropped), idle excluded."""
    incl: Counter = Counter()
    for stack, count in rows:
        frames = stack.split(";")
        if IDLE.search(frames[-1]):
            continue
        for frame in {re.sub(r":\d+\)", ")", f) for f in frames[1:]}:
            incl[frame] += count
    return incl.most_common(limit)


# -- counting relay between Rasa and the action server ---------------------------------------------

class Relay(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str):
        super().__init__(("127.0.0.1", free_port()), RelayHandler)
        self.target = target
        self.calls: List[dict] = []
        self.lock = threading.Lock()
        self.session = requests.Session()


class RelayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _relay(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        started = time.monotonic()
        r = self.server.session.request(method, self.server.target + self.path, data=body or None,
                                        headers={"Content-Type": "application/json"}, timeout=30)
        seconds = time.monotonic() - started
        if method == "POST" and body:
            try:
                payload = json.loads(body)
                with self.server.lock:
                    self.server.calls.append({
                        "sender": payload.get("sender_id"), "action": payload.get("next_action"),
                        "ms": seconds * 1000, "request_bytes": len(body), "answer_bytes": len(r.content),
                        "events": len((payload.get("tracker") or {}).get("events") or []),
                        "domain_sent": "domain" in payload})
            except ValueError:
                pass
        self.send_response(r.status_code)
        self.send_header("Content-Type", r.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(r.content)))
        self.end_headers()
        self.wfile.write(r.content)

    def do_POST(self):
        self._relay("POST")

    def do_GET(self):
        self._relay("GET")


class RelayedStack(Stack):
    """Rasa talks to the action server through ``relay_port``."""
    relay_port: int = 0

    def _endpoints_file(self) -> Path:
        path = super()._endpoints_file()
        if self.relay_port:
            path.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{self.relay_port}/webhook"\n',
                            encoding="utf-8")
        return path


def count_round_trips(worries: List[str], conversations: int, seed: int) -> dict:
    relay_stack, _ = make_stack()
    stack = RelayedStack(**{k: getattr(relay_stack, k) for k in ("web_port", "rasa_port", "action_port", "db_path",
                                                                   "extra_env", "log_dir")})
    relay = Relay(f"http://127.0.0.1:{stack.action_port}")
    stack.relay_port = relay.server_address[1]
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    try:
        stack.start()
        channel = Channel(stack.web_url + "/api/chat")
        rng = random.Random(seed)
        residents = [Resident(channel, worries, rng).run() for _ in range(conversations)]
    finally:
        stack.stop()
        relay.shutdown()
    turns = sum(len(r.turns) for r in residents)
    per_turn: Dict[int, int] = Counter()
    by_sender: Dict[str, int] = Counter(c["sender"] for c in relay.calls)
    for r in residents:
        calls = by_sender.get("web-" + r.sender, 0)
        per_turn[round(calls / max(1, len(r.turns)), 1)] += 1
    by_action = Counter(c["action"] for c in relay.calls)
    ms = [c["ms"] for c in relay.calls]
    return {"conversations": conversations, "turns": turns, "calls": len(relay.calls),
            "calls_per_turn": round(len(relay.calls) / max(1, turns), 2),
            "by_action": dict(by_action.most_common()),
            "relay_ms_median": round(statistics.median(ms), 1) if ms else None,
            "relay_ms_p95": round(percentile(ms, 0.95), 1) if ms else None,
            "request_kb_median": round(statistics.median(c["request_bytes"] for c in relay.calls) / 1024, 1)
            if ms else None,
            "request_kb_max": round(max(c["request_bytes"] for c in relay.calls) / 1024, 1) if ms else None,
            "events_in_tracker_max": max((c["events"] for c in relay.calls), default=0),
            "domain_sent": sum(c["domain_sent"] for c in relay.calls)}


# -- main -------------------------------------------------------------------------------------------

def uptime_load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def profile_step(stack: Stack, n: int, seconds: float, rate: int, nonblocking: bool, worries: List[str],
                 seed: int, raw_dir: Path) -> dict:
    load_before = uptime_load()
    spies = {key: record(service.process.pid, raw_dir / f"{key}-n{n}.txt", seconds + 1, rate, nonblocking)
             for key, service in stack.services.items()}
    time.sleep(1.0)  # py-spy attached
    row = load_step(stack.web_url + "/api/chat", "web", n, seconds, worries, seed, stack)
    for key, spy in spies.items():
        try:
            _, err = spy.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
            err = b"timeout"
        if spy.returncode:
            print(f"   py-spy on {key}: exit {spy.returncode} {err.decode(errors='replace')[-300:]}", file=sys.stderr)
    answers = max(1, row["answers"])
    out = {"n": n, "load": row, "loadavg_before": load_before, "loadavg_after": uptime_load(), "processes": {}}
    for key in stack.services:
        rows = read_collapsed(raw_dir / f"{key}-n{n}.txt")
        per_stage, busy, idle = stages(key, rows)
        # Samples count a thread that is running or ready to run, so on a busy machine they overstate
        # CPU time; the stages are given as shares of the samples and as shares of the CPU time the
        # kernel counted (/proc, per answer), which stays put much better.
        proc_ms = (row.get("cpu_ms_per_answer") or {}).get(key)
        ms = (proc_ms / busy) if proc_ms and busy else 1000.0 / rate / answers
        out["processes"][key] = {
            "cpu_ms_per_answer": proc_ms, "sampled_ms_per_answer": round(busy * 1000.0 / rate / answers, 1),
            "samples_busy": busy, "samples_idle": idle,
            "stages_share": {label: round(c / max(1, busy), 3) for label, c in per_stage.most_common()},
            "stages_ms_per_answer": {label: round(c * ms, 2) for label, c in per_stage.most_common()},
            "top_functions_ms_per_answer": [(f, round(c * ms, 2)) for f, c in top_functions(rows)],
        }
    return out


def print_step(step: dict) -> None:
    row = step["load"]
    print(f"\n== N={step['n']}: {row['answers_per_s']} answers/s, median {row['median_ms']} ms, p95 {row['p95_ms']} ms, "
          f"errors {row['errors']} (load average {step['loadavg_before']} -> {step['loadavg_after']})")
    for key, proc in step["processes"].items():
        print(f"  {key}: {proc['cpu_ms_per_answer']} ms CPU per answer (/proc; py-spy saw "
              f"{proc['sampled_ms_per_answer']} ms of running or ready-to-run samples)")
        for label, ms in proc["stages_ms_per_answer"].items():
            print(f"     {ms:7.2f} ms  {100 * proc['stages_share'][label]:5.1f} %  {label}")


def main() -> int:
    ensure_py_spy()
    ns = env_list("PROFILE_N", "1,20")
    seconds = env_float("PROFILE_SECONDS", 30)
    rate = int(env_float("PROFILE_RATE", 100))
    conversations = int(env_float("PROFILE_CONVERSATIONS", 20))
    nonblocking = os.environ.get("PROFILE_BLOCKING", "0") != "1"
    seed = int(env_float("BENCH_SEED", 8))
    out_path = PROJECT_ROOT / os.environ.get("PROFILE_OUT", "reports/profile.json")
    raw_dir = PROJECT_ROOT / "var" / "profile" / time.strftime("%Y%m%d-%H%M%S")
    raw_dir.mkdir(parents=True, exist_ok=True)
    worries = load_worries()
    report = {"machine": {"cpus": os.cpu_count()}, "config": {"n": ns, "seconds": seconds, "rate": rate,
                                                              "nonblocking": nonblocking},
              "raw": str(raw_dir.relative_to(PROJECT_ROOT)), "steps": []}
    if conversations > 0:
        print(f"Counting action round trips over {conversations} conversations...", flush=True)
        report["round_trips"] = count_round_trips(worries, conversations, seed)
        rt = report["round_trips"]
        print(f"   {rt['calls']} calls for {rt['turns']} turns: {rt['calls_per_turn']} per turn; action server "
              f"answer median {rt['relay_ms_median']} ms (p95 {rt['relay_ms_p95']}); request median "
              f"{rt['request_kb_median']} KB (max {rt['request_kb_max']}); domain sent {rt['domain_sent']} times",
              flush=True)
    stack, work = make_stack()
    print(f"Starting the stack (logs in {work / 'logs'})...", flush=True)
    try:
        stack.start()
        load_step(stack.web_url + "/api/chat", "web", 2, 8, worries, seed + 99)  # warm-up
        for n in ns:
            print(f"Profiling {n} concurrent residents for {seconds:.0f} s...", flush=True)
            step = profile_step(stack, n, seconds, rate, nonblocking, worries, seed, raw_dir)
            report["steps"].append(step)
            print_step(step)
    except RuntimeError as exc:
        print(f"profile failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    write_report(out_path, report)
    print(f"raw stacks in {report['raw']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
