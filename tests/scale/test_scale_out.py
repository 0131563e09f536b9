"""Scale-out on Rasa's own stores (issue 16): real redis-server and PostgreSQL, two Rasa servers
with two action servers, one web side, laid out as the two machines of docs/deployment.md (on
this machine's loopback). The web side sends each conversation's consecutive messages to the two
Rasa servers in turn (RASA_ROUTING=message); action server 1 writes the SQLite file, action
server 2 saves through the web side's internal handoff store. 50 conversations, 5 at a time:
every one must go through the whole intake as if it had one server (each answer follows from
the one before, which the other server gave), and every 受付番号 shown must be stored once.
"""
from __future__ import annotations

import os
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import List

import pytest
import requests

from bot import PROJECT_ROOT
from bot.tools.runner import RASA_VENV, free_port
from bot.tools.scale import ScaleStack
from bot.core.store import get_handoff, open_store
from tests.cases import case_summary
from tests.conftest import FIXED_NOW, REF, all_text, new_sender
from tests.scale.services import Postgres, Redis

CONVERSATIONS = 50
AT_ONCE = 5
WORRIES = ["ひきこもりの兄と認知症の父のことで困っています",
           "認知症の母の介護で仕事を辞めて、借金の返済もできません"]
AGES = ["10代以下", "20〜30代", "40〜50代", "60〜70代", "80代以上"]
LIVING = ["一人暮らし", "家族と同居", "施設・病院"]
URGENCY = ["急がない", "数日のうち"]
LATE_DANGER = "やっぱり死にたい"


SECRET = "scale-store-secret-0123456789"


@dataclass
class TwoMachines:
    """Machine A (SOUDAN_ROLE=all: web side, Rasa 1, action server 1 writing the SQLite file,
    the internal store) and machine B (SOUDAN_ROLE=rasa: Rasa 2 and action server 2 saving
    through A's internal store), as in docs/deployment.md, both on this machine's loopback."""
    a: ScaleStack
    b: ScaleStack
    store_url: str
    postgres: Postgres
    redis: Redis

    @property
    def web_url(self) -> str:
        return self.a.web_url

    @property
    def db_path(self):
        return self.a.db_path


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    redis, postgres = Redis().start(), None
    started: list = []
    try:
        postgres = Postgres().start()
        work = tmp_path_factory.mktemp("scale")
        shared = {"SOUDAN_NOW": FIXED_NOW, "TRACKER_STORE_URL": postgres.url, "LOCK_STORE_URL": redis.url,
                  "HANDOFF_STORE_SECRET": SECRET}
        store_port, b_rasa = free_port(), free_port()
        b = ScaleStack(role="rasa", rasa_port=b_rasa, action_port=free_port(), log_dir=work / "logs-b",
                       db_path=work / "never-on-b.db",  # B saves through A; this file must not appear
                       extra_env=dict(shared, HANDOFF_STORE_URL=f"http://127.0.0.1:{store_port}"))
        a = ScaleStack(role="all", web_port=free_port(), rasa_port=free_port(), action_port=free_port(),
                       routing="message", db_path=work / "soudan.db", log_dir=work / "logs-a",
                       extra_env=dict(shared, SECRET_KEY="scale-secret-key", RATE_LIMIT_PER_SESSION="1000",
                                      RATE_LIMIT_PER_IP="100000", RASA_URLS=f"http://127.0.0.1:{b_rasa}",
                                      HANDOFF_STORE_LISTEN=f"127.0.0.1:{store_port}"))
        started += [b, a]
        with ThreadPoolExecutor(max_workers=2) as pool:  # both machines boot at once
            for future in [pool.submit(machine.start, 400) for machine in (b, a)]:
                future.result()
        yield TwoMachines(a, b, f"http://127.0.0.1:{store_port}", postgres, redis)
    finally:
        for machine in reversed(started):
            machine.stop()
        if postgres is not None:
            postgres.stop()
        redis.stop()


@dataclass
class Walk:
    """One resident's conversation, with what the bot should ask after each answer."""
    number: int
    sender: str = field(default_factory=new_sender)
    problems: List[str] = field(default_factory=list)
    refs: List[str] = field(default_factory=list)
    messages: int = 0

    def __post_init__(self):
        rng = random.Random(self.number)
        self.worry, self.age = rng.choice(WORRIES), rng.choice(AGES)
        self.living, self.urgency = rng.choice(LIVING), rng.choice(URGENCY)
        self.late_danger = self.number % 5 == 0

    def say(self, url: str, text: str) -> str:
        self.messages += 1
        response = requests.post(url + "/api/chat", json={"sender": self.sender, "message": text}, timeout=60)
        if response.status_code != 200:
            self.problems.append(f"{text!r}: HTTP {response.status_code}")
            return ""
        return all_text(response.json())

    def run(self, url: str) -> "Walk":
        button = '/inform{"form_answer": "%s"}'
        steps = [(self.worry, "伝えてもよいですか"), ("はい", "相談しているのはどなたですか"),
                 (button % "本人", "年代"), (button % self.age, "暮らしていますか"),
                 (button % self.living, "急いでいますか"), (button % self.urgency, "連絡は"),
                 (button % "匿名", "この内容で送ってよいですか")]
        for said, cue in steps:
            text = self.say(url, said)
            if cue not in text:
                self.problems.append(f"after {said!r} expected {cue!r}, got {text[:120]!r}")
                return self
        if self.age not in text or self.living not in text:
            self.problems.append(f"read-back lost an answer: {text[:200]!r}")
        text = self.say(url, "はい")
        self.refs = REF.findall(text)
        if len(self.refs) != 1:
            self.problems.append(f"expected one 受付番号, got {text[:200]!r}")
            return self
        if self.late_danger:
            text = self.say(url, LATE_DANGER)
            if f"受付番号「{self.refs[0]}」の相談に「急ぎ」として書き加え" not in text:
                self.problems.append(f"late danger not added to the case: {text[:200]!r}")
        return self


def test_fifty_conversations_over_two_rasa_servers_stay_coherent_and_store_each_number_once(scaled):
    stack, postgres, redis = scaled, scaled.postgres, scaled.redis
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        walks = list(pool.map(lambda n: Walk(n).run(stack.web_url), range(1, CONVERSATIONS + 1)))

    problems = [f"conversation {w.number}: {p}" for w in walks for p in w.problems]
    assert not problems, "\n".join(problems[:10])

    # Every number shown is stored once, with what this conversation answered.
    shown = [w.refs[0] for w in walks]
    assert len(set(shown)) == CONVERSATIONS
    db = open_store(stack.db_path)
    try:
        assert db["handoffs"].count == CONVERSATIONS
        stored = [r["ref"] for r in db["handoffs"].rows]
        assert sorted(stored) == sorted(shown)
        for walk in walks:
            row = get_handoff(db, walk.refs[0])
            assert row["consent"] == "yes" and row["channel"] == "web"
            assert row["summary"]["subject"] == {"age_band": walk.age, "living": walk.living}, walk.number
            assert walk.worry[:6] in (row["resident_text"] or "")
            assert bool(row["urgent"]) == walk.late_danger, walk.number
        # Each number was committed with its request key; machine B never wrote a file of its own.
        keyed = {r[0] for r in db.execute("SELECT DISTINCT ref FROM handoff_requests").fetchall()}
        assert keyed == set(shown)
        assert not stack.b.db_path.exists()
    finally:
        db.conn.close()

    # Both Rasa servers answered; per-message routing alternates every conversation's messages.
    stats = requests.get(stack.store_url + "/internal/stats", headers={"X-Handoff-Store-Secret": SECRET},
                         timeout=5).json()
    total = sum(w.messages for w in walks)
    assert sum(stats["rasa_answered"]) == total
    assert min(stats["rasa_answered"]) >= total * 0.4, stats

    # The conversations live in PostgreSQL (Rasa's SQL tracker store), and no lock is left in redis.
    senders = postgres.sql("SELECT count(DISTINCT sender_id) FROM events WHERE sender_id LIKE 'web-test-%'")
    assert int(senders) == CONVERSATIONS
    calls = dict(line.split(":", 1) for line in redis.command("INFO", "commandstats").splitlines() if ":" in line)
    assert "cmdstat_set" in calls or "cmdstat_setex" in calls, "the lock store never wrote to redis"
    assert redis.command("DBSIZE", db=1) == ":0"


def test_internal_store_needs_the_secret_and_returns_the_same_number_for_a_repeated_key(scaled):
    stack = scaled
    url = stack.store_url + "/internal/handoffs"
    body = {"key": "scale-test-repeat-key-000001", "resident_text": None,
            "summary": case_summary(consent=False, fields=["elderly"])}
    assert requests.post(url, json=body, timeout=5).status_code == 403
    assert requests.post(url, json=body, headers={"X-Handoff-Store-Secret": "wrong-secret-0123456789"},
                         timeout=5).status_code == 403
    headers = {"X-Handoff-Store-Secret": SECRET}
    first = requests.post(url, json=body, headers=headers, timeout=5)
    again = requests.post(url, json=body, headers=headers, timeout=5)
    assert first.status_code == again.status_code == 201
    assert first.json()["ref"] == again.json()["ref"]
    db = open_store(stack.db_path)
    try:
        assert len(list(db["handoffs"].rows_where("ref = ?", [first.json()["ref"]]))) == 1
    finally:
        db.conn.close()
    bad = requests.post(url, json=dict(body, summary=dict(body["summary"], urgency={"level": "soon"})),
                        headers=headers, timeout=5)
    assert bad.status_code == 400 and "urgency" in bad.json()["error"]["message"]
    # The public port does not serve it.
    assert requests.post(stack.web_url + "/internal/handoffs", json=body, headers=headers,
                         timeout=5).status_code == 404


def test_retention_deletes_old_conversations_from_the_tracker_store_and_keeps_recent_ones(scaled):
    """``make purge`` at scale: bot.tools.tracker_retention deletes whole conversations whose last event
    is older than the days kept (residents' words are in the events), never a recent one."""
    pg = scaled.postgres
    old_sender, recent_sender = new_sender(), new_sender()
    for sender in (old_sender, recent_sender):
        answer = requests.post(scaled.web_url + "/api/chat", json={"sender": sender, "message": "母の物忘れが心配です"},
                               timeout=60)
        assert answer.status_code == 200, answer.text
    old = "web-" + old_sender
    pg.sql(f"UPDATE events SET timestamp = timestamp - 400 * 86400 WHERE sender_id = '{old}'")
    senders = pg.sql("SELECT DISTINCT sender_id FROM events ORDER BY sender_id").splitlines()
    assert {old, "web-" + recent_sender} <= set(senders)
    env = dict(os.environ, TRACKER_STORE_URL=pg.url)
    done = subprocess.run([str(RASA_VENV / "bin" / "python"), "-m", "bot.tools.tracker_retention", "--days", "365"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "deleted 1 conversations" in done.stdout and old not in done.stdout + done.stderr
    remaining = pg.sql("SELECT DISTINCT sender_id FROM events ORDER BY sender_id").splitlines()
    assert remaining == [s for s in senders if s != old]
    refused = subprocess.run([str(RASA_VENV / "bin" / "python"), "-m", "bot.tools.tracker_retention", "--days", "0"],
                             cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "--days" in refused.stderr and "Traceback" not in refused.stderr


def test_with_one_rasa_server_down_conversations_go_on_through_the_other(scaled):
    """Rasa 2 stops (its port refuses): every message goes to Rasa 1, which reads the same
    conversations from PostgreSQL, so a conversation begun on both servers still ends in one
    stored number. Last in this module: it leaves one server down."""
    stack = scaled
    walk = Walk(CONVERSATIONS + 1)
    walk.late_danger = False
    # Begin on both servers, then lose one mid-way.
    first = walk.say(stack.web_url, walk.worry)
    assert "伝えてもよいですか" in first
    assert "相談しているのはどなたですか" in walk.say(stack.web_url, "はい")
    stack.b.services["rasa"].stop()
    button = '/inform{"form_answer": "%s"}'
    for said, cue in [(button % "本人", "年代"), (button % walk.age, "暮らしていますか"),
                      (button % walk.living, "急いでいますか"), (button % walk.urgency, "連絡は"),
                      (button % "匿名", "この内容で送ってよいですか"), ("はい", "受付番号は")]:
        text = walk.say(stack.web_url, said)
        assert cue in text, (said, text[:200])
    ref = REF.search(text).group(1)
    db = open_store(stack.db_path)
    try:
        assert get_handoff(db, ref)["summary"]["subject"] == {"age_band": walk.age, "living": walk.living}
    finally:
        db.conn.close()
    health = requests.get(stack.web_url + "/healthz", timeout=10)
    assert health.status_code == 503 and health.json()["rasa_2"] == "down" and health.json()["rasa_1"] == "ok"
