"""Follow-up of a LINE resident by the centre's staff (issue 15), against the real stack (action
server, Rasa, web side with LINE_CONTACT_KEY) and the local fake of LINE's API: signed webhook
conversations in, the staff's replies out as pushes to the right user, the resident's replies in
the case history, 「連絡をやめる」, closing and retention deleting the stored id, and the raw
user id never in the database file, its WAL or the logs."""
from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from bot.core.directory import get_directory
from bot.core.store import open_store
from bot.web.line import contact
from bot.web.staff import accounts as account_store
from tests.conftest import REF, Conversation, all_text
from tests.line.helpers import (TEST_CONTACT_KEY, Line, event, new_user_id, postback_event, quick_reply_items,
                                reply_messages, text_event)
from tests.line.test_line_stack import texts

pytestmark = pytest.mark.stack

COMPLEX = "ひきこもりの兄と認知症の父のことで困っています"
LINE_CHOICE = "このLINEで連絡してほしい"
PUSH_PATH = "/v2/bot/message/push"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SEND_KEY_FIELD = re.compile(r'name="send_key" value="([^"]+)"')
STAFF = ("line-shokuin", "Kamiiso-Coast-2026")
ADMIN = ("line-kanri", "Ono-Plains-Admin-26")


@pytest.fixture(scope="module")
def staff_accounts(stack):
    db = open_store(stack.db_path)
    try:
        for (name, password), role in ((STAFF, "staff"), (ADMIN, "admin")):
            if account_store.get_user(db, name) is None:
                account_store.create_user(db, name, role, password)
    finally:
        db.conn.close()
    return {"staff": STAFF, "admin": ADMIN}


class Staff:
    """A member of staff in a real HTTP session (cookies, CSRF tokens from the pages)."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        self.http = requests.Session()
        page = self.http.get(base + "/staff/login", timeout=10).text
        response = self.http.post(base + "/staff/login", data={
            "username": username, "password": password, "csrf_token": CSRF_FIELD.search(page).group(1)},
            allow_redirects=False, timeout=10)
        assert response.status_code == 303, response.text

    def detail(self, ref: str) -> str:
        response = self.http.get(f"{self.base}/staff/h/{ref}", timeout=10)
        assert response.status_code == 200
        return response.text

    def form(self, ref: str) -> dict:
        page = self.detail(ref)
        key = SEND_KEY_FIELD.search(page)
        return {"csrf_token": CSRF_FIELD.search(page).group(1), "send_key": key.group(1) if key else ""}

    def send(self, ref: str, text: str, form: dict = None) -> requests.Response:
        data = dict(form or self.form(ref), text=text)
        return self.http.post(f"{self.base}/staff/h/{ref}/line", data=data, allow_redirects=False, timeout=30)

    def set_status(self, ref: str, to_status: str) -> None:
        page = self.detail(ref)
        status = re.search(r'name="expected_status" value="([^"]+)"', page).group(1)
        response = self.http.post(f"{self.base}/staff/h/{ref}/status", data={
            "csrf_token": CSRF_FIELD.search(page).group(1), "expected_status": status, "to_status": to_status},
            allow_redirects=False, timeout=10)
        assert response.status_code == 303, response.text


def labels(reply: dict) -> list:
    return [i["action"]["label"] for i in quick_reply_items(reply)]


def walk_to_handoff(line: Line, user: str, method: str = LINE_CHOICE):
    """A complex worry on LINE, consent, the form answered by quick replies, sent. Returns the
    reference number, the last reply and the labels offered for the contact method."""
    reply = line.send(text_event(COMPLEX, user))
    if "/affirm" not in [i["action"]["data"] for i in quick_reply_items(reply)]:
        reply = line.send(postback_event("/dont_know", user))
    reply = line.send(postback_event("/affirm", user))
    answers = ["本人", "40〜50代", "家族と同居", "急がない", method, "書かない", "はい、送ります"]
    method_labels = None
    for _ in range(12):
        offered = labels(reply)
        if "匿名のまま情報だけ" in offered:
            method_labels = offered
        pick = next((a for a in answers if a in offered), None)
        assert pick, texts(reply)
        answers.remove(pick)
        item = next(i for i in quick_reply_items(reply) if i["action"]["label"] == pick)
        reply = line.send(postback_event(item["action"]["data"], user))
        if pick == "はい、送ります":
            break
    match = REF.search(texts(reply))
    assert match, texts(reply)
    return match.group(1), reply, method_labels


def rows(db_path: Path, sql: str, params: list) -> list:
    """Rows read straight from the file, as dicts."""
    conn = sqlite3.connect(str(db_path))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def case(db_path: Path, ref: str) -> dict:
    return rows(db_path, "SELECT * FROM handoffs WHERE ref = ?", [ref])[0]


def history(db_path: Path, ref: str) -> list:
    return rows(db_path, "SELECT e.*, m.text AS line_text, m.accepted FROM handoff_events e "
                         "LEFT JOIN line_messages m ON m.event_id = e.id "
                         "WHERE e.handoff_id = (SELECT id FROM handoffs WHERE ref = ?) ORDER BY e.id", [ref])


def audit_rows(db_path: Path, ref: str) -> list:
    return rows(db_path, "SELECT * FROM audit_log WHERE target = ? AND action = 'line_reply' ORDER BY id", [ref])


def database_bytes(db_path: Path) -> bytes:
    """The database file and its WAL (and shared-memory index), as they are on disk."""
    return b"".join(p.read_bytes() for p in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")) if p.exists())


def test_staff_reply_reaches_the_resident_and_the_resident_reply_reaches_the_history(
        line, line_api, stack, db_path, staff_accounts):
    user = new_user_id()
    ref, reply, method_labels = walk_to_handoff(line, user)
    assert LINE_CHOICE in method_labels
    assert "このLINEで連絡するよう調整します" in texts(reply) and "連絡をやめる" in texts(reply)

    row = case(db_path, ref)
    assert row["channel"] == "line" and json.loads(row["summary"])["wish"]["contact_method"] == "LINE"
    assert Fernet(TEST_CONTACT_KEY.encode()).decrypt(row["line_contact"].encode()).decode() == user
    assert row["line_contact_hash"] and user not in json.dumps(row, ensure_ascii=False)

    # Staff write from the 受付票: a push to this user, prefixed with the centre and the number.
    staff = Staff(stack.web_url, *STAFF)
    page = staff.detail(ref)
    assert "LINEで相談者に送る" in page
    form = staff.form(ref)
    sent = staff.send(ref, "明日の午前にお電話してもよいですか。", form)
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/staff/h/{ref}#line")
    assert "LINEで送りました。LINEが受け付けました" in staff.detail(ref)
    pushes = line_api.pushes(to=user)
    assert len(pushes) == 1
    push = pushes[0]
    sogo = get_directory().agency("sogo")
    assert push["body"]["messages"][0]["text"] == f"{sogo.name}です（受付番号 {ref}）。\n明日の午前にお電話してもよいですか。"
    assert push["headers"]["Authorization"] == "Bearer test-line-access-token"
    assert push["headers"]["X-Line-Retry-Key"] == form["send_key"]
    assert "連絡をやめる" in [i["action"]["label"] for i in push["body"]["messages"][0]["quickReply"]["items"]]

    # The same form sent again (a double click, the back button): delivered once.
    assert staff.send(ref, "明日の午前にお電話してもよいですか。", form).status_code == 303
    assert len(line_api.pushes(to=user)) == 1

    out = [e for e in history(db_path, ref) if e["kind"] == "line_out"]
    assert len(out) == 1 and out[0]["username"] == STAFF[0] and out[0]["accepted"] == 1
    assert out[0]["line_text"] == "明日の午前にお電話してもよいですか。" and "LINEが受け付けました" in out[0]["note"]
    audit = audit_rows(db_path, ref)
    assert audit and json.loads(audit[0]["detail"]) == {"accepted": True, "status": 200}
    assert audit[0]["username"] == STAFF[0]

    # The resident answers in the same chat: it reaches the history, the resident is told so.
    answer = line.send(text_event("明日の午後なら電話に出られます", user))
    assert "センターの職員に伝えます" in texts(answer) and ref in texts(answer)
    incoming = [e for e in history(db_path, ref) if e["kind"] == "line_in"]
    assert [e["line_text"] for e in incoming] == ["明日の午後なら電話に出られます"]
    assert "明日の午後なら電話に出られます" in staff.detail(ref)

    # Danger in a reply: the crisis answer first, the case raised, the words in the history too.
    danger = line.send(text_event("もう死にたい", user))
    messages = reply_messages(danger)
    assert messages[0]["type"] == "flex" and "センターの職員に伝えます" in texts(danger)
    assert texts(danger).index(messages[0]["altText"]) < texts(danger).index("センターの職員に伝えます")
    raised = case(db_path, ref)
    assert raised["urgency"] == "high" and raised["urgent"] == 1
    events = history(db_path, ref)
    assert any(e["kind"] == "danger" for e in events)
    assert [e["line_text"] for e in events if e["kind"] == "line_in"][-1] == "もう死にたい"

    # Logs (web, Rasa, action server) never carry the raw id.
    for service in stack.services.values():
        assert user not in service.log_path.read_text(encoding="utf-8", errors="replace"), service.name


def test_stop_deletes_the_id_at_once_and_it_is_nowhere_in_the_file_or_wal(
        line, line_api, stack, db_path, staff_accounts):
    user = new_user_id()
    ref, _, _ = walk_to_handoff(line, user)
    token = case(db_path, ref)["line_contact"]
    assert token
    staff = Staff(stack.web_url, *STAFF)
    assert staff.send(ref, "センターの北斗です。ご都合を教えてください。").status_code == 303

    stopped = line.send(text_event("連絡をやめる", user))
    assert "LINEでの連絡をやめます" in texts(stopped) and ref in texts(stopped)
    row = case(db_path, ref)
    assert row["line_contact"] is None and row["line_contact_hash"] is None
    assert any(e["kind"] == "line_contact" and "連絡をやめる" in e["note"] for e in history(db_path, ref))

    # Staff cannot write any more; nothing goes to LINE; the page says why.
    before = len(line_api.pushes(to=user))
    refused = staff.send(ref, "もう一度お知らせします。")
    assert refused.status_code == 409 and "LINEの連絡先はありません" in refused.text
    assert len(line_api.pushes(to=user)) == before

    # What the resident writes now is a new conversation with the bot, not a reply to staff.
    after = line.send(text_event("母の物忘れがひどくて心配です", user))
    assert "センターの職員に伝えます" not in texts(after)

    stored = database_bytes(db_path)
    assert user.encode() not in stored and user.encode("utf-16-le") not in stored
    assert token.encode() not in stored  # the ciphertext too: secure_delete and a checkpoint


def test_no_id_is_kept_without_the_choice_and_the_widget_never_offers_it(line, stack, db_path, web_url):
    user = new_user_id()
    ref, _, method_labels = walk_to_handoff(line, user, method="匿名のまま情報だけ")
    assert LINE_CHOICE in method_labels  # offered on LINE, not chosen
    row = case(db_path, ref)
    assert row["line_contact"] is None and row["line_contact_hash"] is None and row["line_contact_at"] is None
    assert not [e for e in history(db_path, ref) if e["kind"].startswith("line_")]
    assert user.encode() not in database_bytes(db_path)

    widget = Conversation(web_url)
    widget.say(COMPLEX)
    widget.say("はい")
    offered = []
    for answer in ("本人", "40〜50代", "家族と同居", "急がない"):
        messages = widget.say('/inform{"form_answer": "%s"}' % answer)
        offered = [b["title"] for m in messages for b in m.get("buttons") or []]
    assert "匿名のまま情報だけ" in offered and LINE_CHOICE not in offered
    # Typed on the widget, 「LINEで」 is not a contact method there.
    assert "うまく受け取れませんでした" in all_text(widget.say("このLINEで連絡してほしい"))


def test_closing_the_case_deletes_the_id(line, stack, db_path, staff_accounts):
    user = new_user_id()
    ref, _, _ = walk_to_handoff(line, user)
    assert case(db_path, ref)["line_contact"]
    staff = Staff(stack.web_url, *STAFF)
    staff.set_status(ref, "in_progress")
    assert case(db_path, ref)["line_contact"]
    staff.set_status(ref, "closed")
    row = case(db_path, ref)
    assert row["line_contact"] is None and row["line_contact_hash"] is None
    assert any(e["kind"] == "line_contact" and "終結" in e["note"] for e in history(db_path, ref))
    assert "終結した相談です" in staff.detail(ref)


def test_blocking_the_account_deletes_the_id(line, stack, db_path):
    user = new_user_id()
    ref, _, _ = walk_to_handoff(line, user)
    assert line.post(event("unfollow", user)).status_code == 200
    for _ in range(100):  # the webhook answers at once; the worker deletes right after
        if case(db_path, ref)["line_contact"] is None:
            break
        time.sleep(0.1)
    assert case(db_path, ref)["line_contact"] is None
    assert any("ブロック" in (e["note"] or "") for e in history(db_path, ref))


def test_reply_route_checks_login_csrf_and_role(line, line_api, stack, db_path, staff_accounts):
    user = new_user_id()
    ref, _, _ = walk_to_handoff(line, user)
    url = f"{stack.web_url}/staff/h/{ref}/line"
    staff = Staff(stack.web_url, *STAFF)
    form = staff.form(ref)

    # Not logged in: sent to the login page, nothing pushed.
    anonymous = requests.post(url, data=dict(form, text="こんにちは"), allow_redirects=False, timeout=10)
    assert anonymous.status_code == 303 and "/staff/login" in anonymous.headers["Location"]
    # Logged in, but no CSRF token, or another session's token: refused.
    assert staff.http.post(url, data={"text": "こんにちは", "send_key": form["send_key"]},
                           allow_redirects=False, timeout=10).status_code == 400
    other = Staff(stack.web_url, *ADMIN).form(ref)
    assert staff.http.post(url, data=dict(other, text="こんにちは"), allow_redirects=False,
                           timeout=10).status_code == 400
    # Empty or too long: refused before LINE.
    assert staff.send(ref, "   ").status_code == 400
    assert staff.send(ref, "あ" * 1001).status_code == 400
    assert line_api.pushes(to=user) == []

    # A disabled account's session stops at once.
    disabled = ("line-teishi", "Nanae-Hills-2026x")
    db = open_store(db_path)
    try:
        if account_store.get_user(db, disabled[0]) is None:
            account_store.create_user(db, disabled[0], "staff", disabled[1])
        account_store.set_disabled(db, disabled[0], False)
        member = Staff(stack.web_url, *disabled)
        member_form = member.form(ref)
        account_store.set_disabled(db, disabled[0], True)
    finally:
        db.conn.close()
    gone = member.http.post(url, data=dict(member_form, text="こんにちは"), allow_redirects=False, timeout=10)
    assert gone.status_code == 303 and "/staff/login" in gone.headers["Location"]
    assert line_api.pushes(to=user) == []

    # Both roles that work on cases may write (staff above, admin here).
    admin = Staff(stack.web_url, *ADMIN)
    assert admin.send(ref, "管理者から送ります。").status_code == 303
    assert len(line_api.pushes(to=user)) == 1
    assert json.loads(audit_rows(db_path, ref)[-1]["detail"])["accepted"] is True


def test_line_refusing_the_push_is_said_plainly_and_kept_in_the_history(line, line_api, stack, db_path,
                                                                       staff_accounts):
    user = new_user_id()
    ref, _, _ = walk_to_handoff(line, user)
    staff = Staff(stack.web_url, *STAFF)
    form = staff.form(ref)
    line_api.status = 429
    try:
        refused = staff.send(ref, "お返事をお待ちしています。", form)
    finally:
        line_api.status = 200
    assert refused.status_code == 502
    assert "送れませんでした" in refused.text and "HTTP 429" in refused.text and "お返事をお待ちしています。" in refused.text
    assert line_api.pushes(to=user) == []
    out = [e for e in history(db_path, ref) if e["kind"] == "line_out"]
    assert len(out) == 1 and out[0]["accepted"] == 0 and "届いていません" in out[0]["note"]
    assert json.loads(audit_rows(db_path, ref)[-1]["detail"]) == {"accepted": False, "status": 429}
    # Sent again from the same form (same retry key) once LINE is back: delivered once.
    again = re.search(r'name="send_key" value="([^"]+)"', refused.text).group(1)
    assert again == form["send_key"]
    assert staff.send(ref, "お返事をお待ちしています。", dict(form, csrf_token=form["csrf_token"])).status_code == 303
    assert len(line_api.pushes(to=user)) == 1


def test_retention_deletes_the_id_and_the_words_of_the_exchange(tmp_path, monkeypatch):
    """Retention on a real SQLite file (the stack's clock is fixed, so its cases are not old)."""
    from bot.web.staff.retention import purge_text
    from tests.staff.conftest import make_handoff

    monkeypatch.setenv("SOUDAN_DB", str(tmp_path / "soudan.db"))
    monkeypatch.setenv("SOUDAN_NOW", "2026-11-30T10:00:00+09:00")
    db = open_store()
    try:
        ref = make_handoff(db, channel="line")
        db.execute("UPDATE handoffs SET summary = json_set(summary, '$.wish.contact_method', 'LINE') WHERE ref = ?",
                   [ref])
        db.conn.commit()
        vault = contact.Vault(contact.parse_key(TEST_CONTACT_KEY))
        user = new_user_id()
        assert contact.remember(db, vault, ref, user)
        handoff_id = case(tmp_path / "soudan.db", ref)["id"]
        contact.add_message(db, handoff_id, direction="out", username="shokuin", text="お電話します。",
                            note="職員がLINEで送りました。", accepted=True, retry_key=str(uuid.uuid4()))
        contact.add_message(db, handoff_id, direction="in", username=contact.RESIDENT, text="お願いします",
                            note="相談者からLINEで返事がありました。")
        monkeypatch.setenv("SOUDAN_NOW", "2027-12-31T10:00:00+09:00")
        assert purge_text(db, 365)["purged"] == 1
        row = case(tmp_path / "soudan.db", ref)
        assert row["line_contact"] is None and row["line_contact_hash"] is None
        assert list(db.query("SELECT * FROM line_messages")) == []
        kinds = [e["kind"] for e in history(tmp_path / "soudan.db", ref)]
        assert kinds.count("line_out") == 1 and kinds.count("line_in") == 1  # the facts stay
        assert any("保存期間" in (e["note"] or "") and e["kind"] == "line_contact"
                   for e in history(tmp_path / "soudan.db", ref))
    finally:
        db.conn.close()
