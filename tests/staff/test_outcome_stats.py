"""City-wide statistics of every conversation's outcome (issue 15).

End to end: real conversations through /api/chat and signed LINE webhooks (the real Rasa model and
action server; LINE's API is the local fake), then a member of staff logs in over HTTP and reads
the stats page and the CSV: agency cards, crisis answers, clarifying questions and handoffs are
counted, by channel, also for conversations that never became a handoff; the table holds no words,
no sender and no reference number. Then, without the stack: labels come from the directory and
retention leaves the counts."""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import pytest
import requests

from bot.core.directory import get_directory
from bot.core.store import open_store
from bot.web import outcomes
from bot.web.line.security import pseudonym
from bot.web.staff import accounts as account_store
from bot.web.staff.retention import purge_text
from tests.conftest import REF, Conversation, all_text
from tests.line.helpers import body_of, headers_for, new_user_id, postback_event, reply_messages, text_event
from tests.staff.conftest import make_handoff

USERNAME, PASSWORD = "stats-staff", "Ono-River-Bridge-2026"
WEEK = "2026-11-30"  # the stack's fixed clock is Monday 2026-11-30
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PSEUDONYM_SECRET = "test-secret-key"  # the stack's SECRET_KEY (no PSEUDONYM_SECRET set)

AGENCY_WORRY = "母の物忘れがひどくて心配です"
COMPLEX_WORRY = "ひきこもりの兄と認知症の父のことで困っています"
CRISIS = "もう死にたい"
VAGUE = "相談したいことがあります"
FORM_BUTTONS = ("本人", "40〜50代", "家族と同居", "急がない", "匿名")


class Line:
    def __init__(self, stack, api):
        self.url, self.api = stack.web_url + "/line/webhook", api
        self.user_id = new_user_id()

    def send(self, ev: dict) -> str:
        body = body_of(ev)
        response = requests.post(self.url, data=body, headers=headers_for(body), timeout=10)
        assert response.status_code == 200, response.text
        reply = self.api.reply_for(ev["replyToken"], timeout=30)
        assert reply is not None, "no reply within 30 s"
        return "\n".join(m.get("text") or m.get("altText") or "" for m in reply_messages(reply))

    def say(self, text: str) -> str:
        return self.send(text_event(text, self.user_id))

    def press(self, payload: str) -> str:
        return self.send(postback_event(payload, self.user_id))


def staff_session(stack) -> requests.Session:
    db = open_store(stack.db_path)
    try:
        if not account_store.get_user(db, USERNAME):
            account_store.create_user(db, USERNAME, "staff", PASSWORD)
    finally:
        db.conn.close()
    session = requests.Session()
    page = session.get(stack.web_url + "/staff/login", timeout=10)
    token = CSRF.search(page.text).group(1)
    response = session.post(stack.web_url + "/staff/login", data={"username": USERNAME, "password": PASSWORD,
                                                                  "csrf_token": token},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 303, response.text
    return session


def outcome_csv(session, stack) -> dict:
    """The CSV rows of the fixed week, by channel label."""
    response = session.get(stack.web_url + "/staff/stats/outcomes.csv?weeks=4", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 4 * 2  # every week, every channel
    return {row["経路"]: row for row in rows if row["週（月曜日）"] == WEEK}


def delta(after: dict, before: dict, channel: str, column: str) -> int:
    return int(after[channel][column]) - int(before[channel][column])


def stored_rows(stack, after_id: int):
    conn = sqlite3.connect(str(stack.db_path))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM conversation_outcomes WHERE id > ? ORDER BY id",
                                              [after_id])]
    finally:
        conn.close()


def last_id(stack) -> int:
    conn = sqlite3.connect(str(stack.db_path))
    try:
        return conn.execute("SELECT coalesce(max(id), 0) FROM conversation_outcomes").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.stack
def test_every_conversation_is_counted_by_outcome_and_channel(stack, line_api):
    directory = get_directory()
    kakehashi, sogo = directory.agency("kakehashi").name, directory.agency("sogo").name
    suicide = directory.crisis_label("suicide")
    staff = staff_session(stack)
    before, first_id = outcome_csv(staff, stack), last_id(stack)
    line_api.clear()

    # Web: a crisis answer, a clarifying question, and 総合相談支援センター declined (no consent).
    crisis = Conversation(stack.web_url)
    assert directory.crisis_kind("suicide").heading in all_text(crisis.say(CRISIS))
    vague = Conversation(stack.web_url)
    assert "どなたのことで困っていますか" in all_text(vague.say(VAGUE))
    declined = Conversation(stack.web_url)
    assert "伝えてもよいですか" in all_text(declined.say(COMPLEX_WORRY))
    assert "まとめは伝えません" in all_text(declined.say("いいえ"))
    # A worry in English: answered in English, counted as a conversation in another language.
    english = Conversation(stack.web_url)
    assert "Foreign Residents Consultation Center" in all_text(english.say("My husband lost his job and we cannot pay the rent."))

    # LINE: an agency card with nothing more; a handoff with consent and a reference number.
    card = Line(stack, line_api)
    assert kakehashi in card.say(AGENCY_WORRY)
    handoff = Line(stack, line_api)
    assert "伝えてもよいですか" in handoff.say(COMPLEX_WORRY)
    handoff.say("はい")
    for answer in FORM_BUTTONS:
        text = handoff.press('/inform{"form_answer": "%s"}' % answer)
    assert "この内容で送ってよいですか" in text
    ref = REF.search(handoff.press("/affirm")).group(1)

    after = outcome_csv(staff, stack)
    web, line = "ウェブ", "LINE"
    assert delta(after, before, web, "会話の数") == 4 and delta(after, before, line, "会話の数") == 2
    assert delta(after, before, web, f"危険：{suicide}") == 1 and delta(after, before, web, "危険の答えをした会話") == 1
    assert delta(after, before, line, "危険の答えをした会話") == 0
    assert delta(after, before, web, "確認の質問をした会話") == 1 and delta(after, before, web, "確認の質問の回数") == 1
    assert delta(after, before, line, f"案内：{kakehashi}") == 1
    assert delta(after, before, line, f"案内：{sogo}") == 1 and delta(after, before, web, f"案内：{sogo}") == 1
    assert delta(after, before, line, "引き継ぎ（同意あり・受付番号）") == 1
    assert delta(after, before, web, "引き継ぎ（同意なし・匿名の記録）") == 1
    assert delta(after, before, web, "ほかの言語で案内した会話") == 1
    assert delta(after, before, line, "ほかの言語で案内した会話") == 0
    # Conversations that never became a handoff are counted too.
    assert delta(after, before, web, "引き継ぎなし") == 3 and delta(after, before, line, "引き継ぎなし") == 1

    # The page shows the same week's numbers in its tables, with Japanese labels only.
    page = staff.get(stack.web_url + "/staff/stats?weeks=4", timeout=10)
    assert page.status_code == 200
    html = page.text
    for table in ("table-outcome-summary", "table-outcome-channel", "table-outcome-handoff", "table-outcome-agency",
                  "table-outcome-crisis"):
        assert f'id="{table}"' in html
    for chart in ("chart-outcome-channel", "chart-outcome-handoff", "chart-outcome-agency", "chart-outcome-crisis"):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in html and f'id="{chart}"' in html
    assert directory.agency("kakehashi").short_name in html and suicide in html
    assert "kakehashi" not in html and ">suicide<" not in html
    total = int(after["ウェブ"]["会話の数"]) + int(after["LINE"]["会話の数"])
    assert f"会話は合計 <strong>{total}</strong>件" in html

    # The stats table: one row per conversation, nothing that tells who or what was written.
    rows = stored_rows(stack, first_id)
    assert len(rows) == 6
    assert set(rows[0]) == {"id", "day", "channel", "link", "agencies", "crisis_kinds", "clarify_rounds",
                            "undecided", "out_of_scope", "other_language", "handoff"}
    dumped = json.dumps(rows, ensure_ascii=False)
    senders = [crisis.sender, vague.sender, english.sender, declined.sender, card.user_id, handoff.user_id,
               pseudonym(PSEUDONYM_SECRET, card.user_id), pseudonym(PSEUDONYM_SECRET, handoff.user_id)]
    for secret in senders + [ref, ref.replace("-", ""), AGENCY_WORRY, COMPLEX_WORRY, CRISIS, VAGUE, "死にたい", "困って",
                                  "rent", "husband"]:
        assert secret not in dumped, secret
    assert {r["day"] for r in rows} == {WEEK}


# ---------------------------------------------------------------- without the stack

def test_the_csv_and_page_use_the_directory_names_and_zero_weeks(as_staff, db):
    directory = get_directory()
    outcomes.add_facts(db, "line", "x" * 32, outcomes.Facts(agencies=["kodomo"], crisis_kinds=["fire"]))
    response = as_staff.get("/staff/stats/outcomes.csv?weeks=2")
    text = response.get_data().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert f"案内：{directory.agency('kodomo').name}" in header
    assert f"危険：{directory.crisis_label('fire')}" in header
    assert not any(re.search(r"[a-z]{3,}", h) for h in header), header  # no raw slugs
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["週（月曜日）"], r["経路"], r["会話の数"]) for r in rows] == [
        ("2026-11-23", "ウェブ", "0"), ("2026-11-23", "LINE", "0"), ("2026-11-30", "ウェブ", "0"),
        ("2026-11-30", "LINE", "1")]
    page = as_staff.get("/staff/stats?weeks=2").get_data(as_text=True)
    assert directory.agency("kodomo").short_name in page and directory.crisis_label("fire") in page


def test_bad_weeks_fall_back_and_the_download_is_audited(as_staff, db):
    assert as_staff.get("/staff/stats/outcomes.csv?weeks=abc").status_code == 200
    assert as_staff.get("/staff/stats/outcomes.csv?weeks=99999").status_code == 200
    actions = [r["action"] for r in db.query("SELECT action, detail FROM audit_log WHERE action = 'export_outcomes_csv'")]
    assert len(actions) == 2


def test_the_download_needs_a_login(client, db):
    response = client.get("/staff/stats/outcomes.csv")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_retention_leaves_the_counts(db, clock):
    make_handoff(db, text="母のことで相談です。")
    outcomes.add_facts(db, "web", "y" * 32, outcomes.Facts(agencies=["sogo"], handoff="consent"))
    counted = outcomes.table_rows(db)
    clock.advance(days=400)
    assert purge_text(db, 365)["purged"] == 1
    assert [dict(r, link=None) for r in outcomes.table_rows(db)] == [dict(r, link=None) for r in counted]
