"""End to end: a real conversation through /api/chat creates a handoff; a member of staff logs
in with Chromium (JavaScript off: the pages must work without it), opens the 相談受付票, moves
it to 対応中 with a note and sees it in the history."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
import sqlite_utils

from bot import PROJECT_ROOT
from tests.chromium import staff_page
from tests.conftest import REF, Conversation, all_text

pytestmark = [pytest.mark.stack, pytest.mark.browser]

USERNAME, PASSWORD = "browser-staff", "Kikonai-Ferry-2026"
NOTE = "本人の娘さんに電話し、来週の訪問を約束しました。"


def inform(answer: str) -> str:
    return "/inform" + json.dumps({"form_answer": answer}, ensure_ascii=False)


# What the form asks, in order, and the button payload sent for each.
FORM = [
    ("consulter", inform("家族")),
    ("consulter_relation", inform("子")),
    ("subject_age", inform("80代以上")),
    ("subject_living", inform("一人暮らし")),
    ("wish_urgency", inform("数日のうち")),
    ("contact_method", inform("電話")),
    ("contact_time", inform("平日の午前")),
    ("contact_name", inform("北斗太郎")),
    ("contact_phone", inform("090-1234-5678")),
]


def make_handoff_by_conversation(web_url: str) -> str:
    conversation = Conversation(web_url)
    transcript = []
    for sent in ["/worry_complex", "/affirm"] + [payload for _, payload in FORM] + ["/affirm"]:
        answer = conversation.say(sent)
        transcript.append((sent, all_text(answer)))
    found = REF.search(transcript[-1][1])
    assert found, "no reference number; conversation was:\n" + "\n".join(f">> {s}\n<< {r}" for s, r in transcript)
    return found.group(1)


def test_staff_moves_a_real_handoff_to_in_progress(stack):
    from playwright.sync_api import expect

    created = subprocess.run(
        [str(PROJECT_ROOT / ".venv-web" / "bin" / "flask"), "--app", "bot.web", "staff", "create", "--username", USERNAME,
         "--role", "staff"],
        input=PASSWORD + "\n", capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60,
        env=dict(os.environ, SOUDAN_DB=str(stack.db_path), PYTHONPATH=str(PROJECT_ROOT)))
    assert created.returncode == 0, created.stderr
    ref = make_handoff_by_conversation(stack.web_url)

    with staff_page(stack.web_url, USERNAME, PASSWORD) as page:
        page.get_by_role("link", name=ref).click()
        expect(page.get_by_role("heading", name=f"相談受付票　受付番号 {ref}")).to_be_visible()
        expect(page.locator("#sec-consulter + dl")).to_contain_text("家族（子）")
        expect(page.locator("section").filter(has=page.locator("#sec-wish"))).to_contain_text("北斗太郎")

        page.get_by_label("対応中").check()
        page.get_by_label("メモ（任意）").fill(NOTE)
        page.get_by_role("button", name="状態を変える").click()

        expect(page.get_by_role("status").first).to_contain_text("状態を「対応中」にしました")
        history = page.locator("ol.history")
        expect(history).to_contain_text("新規 → 対応中")
        expect(history).to_contain_text(NOTE)
        expect(history).to_contain_text(USERNAME)
        expect(page.locator("#sec-reception + dl")).to_contain_text("対応中")

    db = sqlite_utils.Database(str(stack.db_path))
    try:
        row = next(iter(db.query("SELECT id, status FROM handoffs WHERE ref = ?", [ref])))
        assert row["status"] == "in_progress"
        history = list(db.query("SELECT * FROM handoff_events WHERE handoff_id = ?", [row["id"]]))
        assert [(e["kind"], e["to_status"], e["note"], e["username"]) for e in history] == [
            ("status", "in_progress", NOTE, USERNAME)]
        actions = [r["action"] for r in db.query("SELECT action FROM audit_log WHERE username = ?", [USERNAME])]
        for action in ("login_ok", "view_queue", "view_handoff", "status_change"):
            assert action in actions
    finally:
        db.conn.close()
