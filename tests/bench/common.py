"""Shared pieces of the benchmark and fault runs: a simulated resident, percentiles, RSS of a
process group, starting a Stack on free ports with its own temporary DB. Standard library and
requests only."""
from __future__ import annotations

import json
import os
import random
import re
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import requests

from bot import PROJECT_ROOT
from bot.tools.runner import Stack, free_port

EVAL_DATA = PROJECT_ROOT / "tests" / "data" / "routing_eval.jsonl"
FIXED_NOW = "2026-11-30T10:00:00+09:00"  # Monday, office hours (same as tests/conftest.py)
REF = re.compile(r"受付番号は「(\d{3}-\d{4})」")
NO_REF = "受付番号はお出しできません"

# Second worries from another field, so a one-field case turns complex and the bot asks consent.
FOLLOW_UPS = [
    "それと、家賃も2か月払えていません",
    "あと、借金の返済もできなくて生活が苦しいです",
    "それから、母の物忘れもひどくなってきました",
    "中学生の息子も不登校で、毎日家にいます",
    "仕事を辞めてから、兄がずっと家にひきこもっています",
]
FREE_TEXT_ANSWERS = [("どんな関係", "娘です"), ("電話番号", "090-1234-5678"), ("お名前", "書かない")]


def env_list(name: str, default: str) -> List[int]:
    return [int(x) for x in os.environ.get(name, default).replace(" ", "").split(",") if x]


def env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def load_worries(path: Path = EVAL_DATA) -> List[str]:
    worries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            text = json.loads(line).get("text")
            if isinstance(text, str) and text.strip():
                worries.append(text)
    return worries


def percentile(values: List[float], q: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def new_sender() -> str:
    return "bench-" + uuid.uuid4().hex[:16]


# -- memory --------------------------------------------------------------------------------------

def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _group_stats(pgid: int) -> List[Tuple[int, List[str]]]:
    """(pid, the /proc/<pid>/stat fields after "(comm)") of every process in group ``pgid``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # pgrp
                found.append((int(entry.name), fields))
        except (OSError, ValueError, IndexError):
            continue
    return found


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in process group ``pgid`` (a service and its children)."""
    return sum(_rss_kb(pid) for pid, _ in _group_stats(pgid)) / 1024


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by the processes of group ``pgid``. CPU time per
    answer moves much less than latency when other work shares the machine, so A/B comparisons
    on a busy machine use it."""
    tick = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[11]) + int(fields[12]) for _, fields in _group_stats(pgid)) / tick  # utime, stime


def write_report(out_path: Path, report: dict) -> None:
    """The report as JSON at ``out_path`` (BENCH_OUT may point outside the project), and where it went."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    shown = out_path.relative_to(PROJECT_ROOT) if out_path.is_relative_to(PROJECT_ROOT) else out_path
    print(f"\nwrote {shown}")


def stack_cpu_seconds(stack: Stack) -> Dict[str, float]:
    return {key: group_cpu_seconds(service.process.pid) for key, service in stack.services.items()
            if service.process is not None and service.process.poll() is None}


def stack_rss_mb(stack: Stack) -> Dict[str, float]:
    out = {}
    for key, service in stack.services.items():
        alive = service.process is not None and service.process.poll() is None
        out[key] = round(group_rss_mb(service.process.pid), 1) if alive else 0.0
    out["total"] = round(sum(out.values()), 1)
    return out


# -- the stack -----------------------------------------------------------------------------------

def make_stack(work: Optional[Path] = None, extra: Optional[Dict[str, str]] = None,
               db_path: Optional[Path] = None) -> Tuple[Stack, Path]:
    """A Stack on free ports with its own DB and logs under a temporary directory (not started)."""
    work = work or Path(tempfile.mkdtemp(prefix="soudan-bench-"))
    env = {"SOUDAN_NOW": FIXED_NOW, "SECRET_KEY": "bench-secret-key",
           "RATE_LIMIT_PER_SESSION": "100000", "RATE_LIMIT_PER_IP": "10000000"}
    env.update(extra or {})
    stack = Stack(web_port=free_port(), rasa_port=free_port(), action_port=free_port(),
                  db_path=db_path or work / "soudan.db", extra_env=env, log_dir=work / "logs")
    return stack, work


def wait_healthy(url: str, timeout: float = 180.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if requests.get(url, timeout=3).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not healthy after {timeout:.0f} s")


# -- a simulated resident ------------------------------------------------------------------------

@dataclass
class Turn:
    said: str
    started: float          # time.monotonic()
    seconds: float
    status: int             # HTTP status, 0 for a connection error
    ok: bool                # 200 with at least one message
    body: str = ""
    messages: list = field(default_factory=list)


def _texts(messages: list) -> str:
    out = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        if m.get("text"):
            out.append(str(m["text"]))
        custom = m.get("custom")
        if isinstance(custom, dict):
            out.append(json.dumps(custom, ensure_ascii=False))
    return "\n".join(out)


def _inform_payloads(messages: list) -> List[str]:
    return [b["payload"] for m in messages if isinstance(m, dict) for b in (m.get("buttons") or [])
            if isinstance(b, dict) and str(b.get("payload", "")).startswith("/inform")]


class Channel:
    """One request/answer over HTTP: the web side's /api/chat, or Rasa's REST channel."""

    def __init__(self, url: str, kind: str = "web", timeout: float = 30.0, keep_alive: bool = True):
        """``keep_alive``: one connection for all messages, like a busy browser tab; False: a new
        connection per message, like a phone that went quiet between messages (or a proxy)."""
        self.url, self.kind, self.timeout = url, kind, timeout
        self.session = requests.Session()
        if not keep_alive:
            self.session.headers["Connection"] = "close"

    def send(self, sender: str, text: str) -> Turn:
        started = time.monotonic()
        try:
            r = self.session.post(self.url, json={"sender": sender, "message": text}, timeout=self.timeout)
            status, body = r.status_code, r.text
        except requests.RequestException as exc:
            return Turn(text, started, time.monotonic() - started, 0, False, type(exc).__name__)
        seconds = time.monotonic() - started
        messages = []
        if status == 200:
            try:
                payload = json.loads(body)
                messages = payload if isinstance(payload, list) else []
            except ValueError:
                pass
        ok = status == 200 and any(isinstance(m, dict) and (m.get("text") or m.get("custom")) for m in messages)
        return Turn(text, started, seconds, status, ok, body, messages)


class Resident:
    """A multi-turn conversation: a worry from routing_eval, a follow-up from another field, the
    consent "はい", form answers by button payloads, "はい" at the read-back. Adapts to what the
    bot asks; ends at a reference number, a refusal to give one, or after ``max_turns``."""

    def __init__(self, channel: Channel, worries: List[str], rng: random.Random, max_turns: int = 18,
                 on_turn: Optional[Callable[[Turn], None]] = None,
                 retry: Optional[Callable[[Turn], bool]] = None,
                 pause: Optional[Callable[[], bool]] = None):
        """``pause``: called between a reply and the next message (a resident reading and typing);
        returns False to stop the conversation there (time is up)."""
        self.channel, self.worries, self.rng = channel, worries, rng
        self.max_turns, self.on_turn, self.retry, self.pause = max_turns, on_turn, retry, pause
        self.sender = new_sender()
        self.turns: List[Turn] = []
        self.refs: List[str] = []
        self.refused = False

    def _say(self, text: str) -> Turn:
        sender = self.sender if self.channel.kind == "web" else "web-" + self.sender
        while True:
            turn = self.channel.send(sender, text)
            self.turns.append(turn)
            if self.on_turn:
                self.on_turn(turn)
            if turn.ok or not self.retry or not self.retry(turn):
                return turn

    def next_message(self, last: Turn, followed_up: bool) -> Optional[str]:
        text = _texts(last.messages)
        if REF.search(text) or NO_REF in text:
            return None
        if "この内容で送ってよいですか" in text:
            return "はい"
        if "伝えてもよいですか" in text:
            return "はい"
        payloads = _inform_payloads(last.messages)
        if payloads:
            # Prefer real answers; "skip" only when nothing else is offered.
            real = [p for p in payloads if '"skip"' not in p] or payloads
            return self.rng.choice(real)
        for cue, answer in FREE_TEXT_ANSWERS:
            if cue in text:
                return answer
        if not followed_up:
            return self.rng.choice(FOLLOW_UPS)
        return None

    def run(self, deadline: Optional[float] = None) -> "Resident":
        turn = self._say(self.rng.choice(self.worries))
        followed_up = False
        while len(self.turns) < self.max_turns and turn.ok:
            if deadline is not None and time.monotonic() >= deadline:
                break
            message = self.next_message(turn, followed_up)
            if message is None:
                break
            if message in FOLLOW_UPS:
                followed_up = True
            if self.pause is not None and not self.pause():
                break
            turn = self._say(message)
            text = _texts(turn.messages)
            self.refs += REF.findall(text)
            self.refused = self.refused or NO_REF in text
        return self
