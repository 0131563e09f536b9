"""In Chromium (JavaScript off): the LINE reply box on the 受付票 of a case whose resident chose
「このLINEで連絡してほしい」, against the real stack and the local fake of LINE's API. A message
LINE accepts is said so and lands in the history; one LINE refuses is said plainly and the text
stays in the box."""
from __future__ import annotations

import re

import pytest

from bot import PROJECT_ROOT

from bot.core.store import open_store, transaction
from bot.web.line import contact
from bot.web.staff import accounts as account_store
from tests.chromium import staff_page
from tests.line.helpers import TEST_CONTACT_KEY, new_user_id
from tests.staff.conftest import make_handoff

pytestmark = [pytest.mark.browser, pytest.mark.stack]

ACCOUNT = ("line-browser", "Hakodate-Line-Box-26")
REPORTS = PROJECT_ROOT / "reports"


@pytest.fixture
def line_case(stack, line_api, monkeypatch):
    """A LINE case with the contact kept (as the channel keeps it), and a staff account."""
    line_api.clear()
    monkeypatch.setenv("SOUDAN_NOW", "2026-11-30T10:00:00+09:00")
    db = open_store(stack.db_path)
    try:
        if account_store.get_user(db, ACCOUNT[0]) is None:
            account_store.create_user(db, ACCOUNT[0], "staff", ACCOUNT[1])
        ref = make_handoff(db, channel="line")
        with transaction(db):
            db.execute("UPDATE handoffs SET summary = json_set(summary, '$.wish.contact_method', 'LINE') "
                       "WHERE ref = ?", [ref])
        user = new_user_id()
        assert contact.remember(db, contact.Vault(contact.parse_key(TEST_CONTACT_KEY)), ref, user)
    finally:
        db.conn.close()
    return ref, user


def test_reply_box_sends_and_says_whether_line_accepted(stack, line_api, line_case):
    from playwright.sync_api import expect

    ref, user = line_case
    with staff_page(stack.web_url, *ACCOUNT) as page:
        page.goto(f"{stack.web_url}/staff/h/{ref}")
        box = page.locator("form.line-reply")
        expect(box.get_by_role("heading", name="LINEで相談者に送る")).to_be_visible()
        expect(box).to_contain_text(f"受付番号 {ref}")

        box.get_by_label(re.compile("相談者へのメッセージ")).fill("北斗です。明日の10時ごろお電話してもよいですか。")
        box.get_by_role("button", name="LINEで送る").click()
        expect(page).to_have_url(re.compile(rf"/staff/h/{ref}#line$"))
        expect(page.get_by_role("status").first).to_contain_text("LINEが受け付けました")
        history = page.locator("ol.history")
        expect(history).to_contain_text("LINEで送信（職員から）")
        expect(history).to_contain_text("北斗です。明日の10時ごろお電話してもよいですか。")
        pushes = line_api.pushes(to=user)
        assert len(pushes) == 1
        assert pushes[0]["body"]["messages"][0]["text"].endswith("北斗です。明日の10時ごろお電話してもよいですか。")

        # LINE refuses (here: too many messages this month): said plainly, nothing delivered,
        # the text kept in the box to send again.
        line_api.status = 429
        try:
            page.locator("form.line-reply").get_by_label(re.compile("相談者へのメッセージ")).fill("もう一度ご連絡します。")
            page.locator("form.line-reply").get_by_role("button", name="LINEで送る").click()
            alert = page.get_by_role("alert")
            expect(alert).to_contain_text("送れませんでした")
            expect(alert).to_contain_text("HTTP 429")
        finally:
            line_api.status = 200
        expect(page.locator("form.line-reply textarea")).to_have_value("もう一度ご連絡します。")
        expect(page.locator("ol.history")).to_contain_text("届いていません")
        assert len(line_api.pushes(to=user)) == 1
        REPORTS.mkdir(exist_ok=True)
        page.screenshot(path=str(REPORTS / "staff-line-reply.png"), full_page=True)
