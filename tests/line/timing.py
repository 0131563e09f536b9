"""Time from webhook receipt to the reply arriving at LINE's API, over the real stack.

    .venv-web/bin/python -m tests.line.timing [--events 50] [--burst 10]

Starts the action server, Rasa and the web side (models/soudan.tar.gz is needed) with the
FakeLineApi in this process, sends signed text events one after another (each waits for its
reply), then the same number again as bursts of concurrent residents, and prints the median
and 95th percentile. Not a test: the numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bot.tools.runner import Stack, free_port
from tests.line.helpers import TEST_ACCESS_TOKEN, TEST_CHANNEL_SECRET, body_of, headers_for, new_user_id, text_event
from tests.bench.common import percentile
from tests.line_fake import FakeLineApi

WORRIES = [
    "母の物忘れがひどくて心配です",
    "子どもが学校に行きたがりません",
    "借金の返済で生活が苦しいです",
    "障がいのある息子の将来が不安です",
    "父の介護で仕事を続けられるか心配です",
    "家賃が払えなくなりそうです",
    "発達のことで相談したいです",
    "一人暮らしの祖母が心配です",
]


def one(url: str, api: FakeLineApi, text: str, user: str):
    """(ms from sending the webhook to the reply at the fake API, ms until the webhook's 200)."""
    ev = text_event(text, user)
    body = body_of(ev)
    started = time.monotonic()
    response = requests.post(url, data=body, headers=headers_for(body), timeout=10)
    acked = time.monotonic()
    if response.status_code != 200:
        raise RuntimeError(f"webhook answered {response.status_code}")
    if api.reply_for(ev["replyToken"], timeout=30) is None:
        raise RuntimeError("no reply within 30 s")
    arrived = next(r["received_at"] for r in list(api.requests)
                   if isinstance(r["body"], dict) and r["body"].get("replyToken") == ev["replyToken"])
    return (arrived - started) * 1000, (acked - started) * 1000


def report(name: str, results) -> None:
    total = [r[0] for r in results]
    ack = [r[1] for r in results]
    print(f"{name}: n={len(total)}  receipt->reply median {statistics.median(total):.0f} ms, "
          f"p95 {percentile(total, 0.95):.0f} ms, max {max(total):.0f} ms  |  "
          f"webhook 200 median {statistics.median(ack):.1f} ms, p95 {percentile(ack, 0.95):.1f} ms", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--burst", type=int, default=10, help="concurrent residents in the burst run")
    args = parser.parse_args(argv)
    api = FakeLineApi().start()
    work = Path(tempfile.mkdtemp(prefix="line-timing-"))
    stack = Stack(web_port=free_port(), rasa_port=free_port(), action_port=free_port(), db_path=work / "soudan.db",
                  extra_env={"SOUDAN_NOW": "2026-11-30T10:00:00+09:00", "SECRET_KEY": "timing-secret",
                             "LINE_CHANNEL_SECRET": TEST_CHANNEL_SECRET,
                             "LINE_CHANNEL_ACCESS_TOKEN": TEST_ACCESS_TOKEN, "LINE_API_ENDPOINT": api.url},
                  log_dir=work / "logs")
    print("Starting the stack (Rasa needs about 30 s)...", flush=True)
    try:
        seconds = stack.start()
        print(f"Ready in {seconds:.0f} s; logs in {work / 'logs'}", flush=True)
        url = stack.web_url + "/line/webhook"
        for text in WORRIES[:3]:  # warm-up, not counted
            one(url, api, text, new_user_id())
        sequential = [one(url, api, WORRIES[i % len(WORRIES)], new_user_id()) for i in range(args.events)]
        report("sequential", sequential)
        with ThreadPoolExecutor(max_workers=args.burst) as pool:
            burst = list(pool.map(lambda i: one(url, api, WORRIES[i % len(WORRIES)], new_user_id()),
                                  range(args.events)))
        report(f"{args.burst} concurrent", burst)
    except RuntimeError as exc:
        print(f"timing failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
