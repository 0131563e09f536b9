"""Search by 受付番号 or phone number; danger told after the handoff first; 同意なし kept out of
the working queue but counted; crisis kinds and fields always in Japanese."""
from __future__ import annotations

import json
import re

import pytest

from bot.core.store import raise_danger
from tests.cases import SLOTS
from tests.staff.conftest import STAFF, audit_rows, csrf_token, login, make_handoff

PHONE = "090-3333-4444"


def handoff_with_phone(db, phone: str, *, fields=("poverty",)) -> str:
    return make_handoff(db, channel="line", fields=fields, text="相談です。", slots=dict(SLOTS, contact_phone=phone))


def search(client, text: str):
    return client.post("/staff/search", data={"q": text, "csrf_token": csrf_token(client, "/staff/")})


def refs_in(page: str, *refs: str) -> set:
    return {r for r in refs if r in page}


def test_search_by_reference_number_opens_the_sheet(as_staff, db):
    ref = make_handoff(db)
    other = make_handoff(db)
    full_width = ref.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    for typed in (ref, ref.replace("-", ""), full_width, f" {ref} "):
        response = search(as_staff, typed)
        assert response.status_code == 303, typed
        assert response.headers["Location"] == f"/staff/h/{ref}"
    page = as_staff.get(f"/staff/h/{ref}").get_data(as_text=True)
    assert f"受付番号 {ref}" in page and other not in page
    rows = audit_rows(db, "search")
    assert [(r["target"], json.loads(r["detail"])) for r in rows] == [(ref, {"by": "ref", "found": 1})] * 4
    assert all(r["username"] == STAFF[0] for r in rows)


def test_search_for_a_missing_or_mistyped_reference(as_staff, db):
    make_handoff(db)
    # A well-formed number (check digit right) that no case has.
    from bot.core.store import _check_digit
    missing = "000000" + _check_digit("000000")
    response = search(as_staff, missing)
    assert response.status_code == 404 and "見つかりませんでした" in response.get_data(as_text=True)
    # A misheard digit fails the check digit and says so.
    wrong = "000000" + str((int(_check_digit("000000")) + 1) % 10)
    response = search(as_staff, wrong)
    assert response.status_code == 400 and "受付番号の数字が合いません" in response.get_data(as_text=True)
    response = search(as_staff, "田中")
    assert response.status_code == 400 and "数字とハイフン" in response.get_data(as_text=True)
    # The text typed is never in the audit log.
    assert all("田中" not in (r["detail"] or "") and "田中" not in (r["target"] or "")
               for r in audit_rows(db, "search"))


def test_search_by_phone_in_any_spelling(client, accounts, db, clock):
    first = handoff_with_phone(db, PHONE)
    clock.advance(days=1)
    second = handoff_with_phone(db, "０９０（３３３３）４４４４", fields=["child"])  # stored as typed
    other = handoff_with_phone(db, "090-3333-4445")
    no_consent = make_handoff(db, consent=False)
    as_staff = client
    assert login(client, *STAFF).status_code == 303
    for typed in ("09033334444", "０９０－３３３３－４４４４", "090-3333-4444", "+81 90 3333 4444"):
        response = search(as_staff, typed)
        assert response.status_code == 200, typed
        page = response.get_data(as_text=True)
        assert refs_in(page, first, second, other, no_consent) == {first, second}, typed
        assert "2件" in page
        assert page.index(second) < page.index(first)  # newest first
    entry = audit_rows(db, "search")[-1]
    assert json.loads(entry["detail"]) == {"by": "phone", "found": 2, "refs": [second, first]}
    for row in audit_rows(db, "search"):  # no phone number in the log, whatever the spelling
        assert "3333" not in (row["detail"] or "") + (row["target"] or "")
    response = search(as_staff, "0120-000-000")
    assert response.status_code == 200 and "見つかりませんでした" in response.get_data(as_text=True)
    # One match: the reference number becomes the audit target.
    search(as_staff, "090-3333-4445")
    assert audit_rows(db, "search")[-1]["target"] == other


def test_search_needs_login_and_a_csrf_token(app, client, db, accounts):
    ref = handoff_with_phone(db, PHONE)
    for method in ("GET", "POST"):
        response = client.open("/staff/search", method=method, data={"q": PHONE})
        assert response.status_code in (302, 303)
        assert response.headers["Location"].startswith("/staff/login")
        assert ref not in response.get_data(as_text=True)
    assert not audit_rows(db, "search")
    assert login(client, *STAFF).status_code == 303
    assert client.post("/staff/search", data={"q": PHONE}).status_code == 400  # no CSRF token
    assert not audit_rows(db, "search")
    # The queue page carries the search box.
    page = client.get("/staff/").get_data(as_text=True)
    assert 'action="/staff/search"' in page and 'name="q"' in page


def test_danger_after_the_handoff_is_first_and_marked(client, accounts, db, clock):
    raised = make_handoff(db, fields=["elderly"])
    clock.advance(hours=1)
    urgent = make_handoff(db, urgency="high", urgent=True, fields=["dv_abuse"])
    clock.advance(hours=1)
    newest = make_handoff(db, fields=["child"])
    clock.advance(minutes=10)
    assert raise_danger(db, raised, ["general"], ["もう無理"], ["危険のサイン（種類不明）"])
    as_staff = client
    assert login(client, *STAFF).status_code == 303
    page = as_staff.get("/staff/").get_data(as_text=True)
    positions = [page.index(r) for r in (raised, urgent, newest)]
    assert positions == sorted(positions)
    row = page[page.rindex("<tr", 0, page.index(raised)):page.index("</tr>", page.index(raised))]
    assert "受付後に危険のサイン" in row and "late-danger" in row
    assert page.count("受付後に危険のサイン</strong>") == 1
    sheet = as_staff.get(f"/staff/h/{raised}").get_data(as_text=True)
    assert "受付後に危険のサイン：" in sheet and "「もう無理」" in sheet
    # Still first after it was closed, when the danger came after the last change of status.
    db.execute("UPDATE handoffs SET status = 'closed', status_changed_at = '2026-11-30T10:30:00+09:00' "
               "WHERE ref = ?", [raised])
    db.conn.commit()
    page = as_staff.get("/staff/").get_data(as_text=True)
    assert page.index(raised) < page.index(urgent)


def test_without_consent_counted_but_not_in_the_working_queue(as_staff, db):
    working = make_handoff(db)
    hidden = make_handoff(db, consent=False)
    hidden_danger = make_handoff(db, consent=False, fields=["child"])
    raise_danger(db, hidden_danger, ["suicide"], [], ["自殺・死にたい気持ち"])
    page = as_staff.get("/staff/").get_data(as_text=True)
    assert refs_in(page, working, hidden, hidden_danger) == {working}
    assert "同意なしの記録 <b>2</b>件" in page and "受付後に危険のサイン <b>1</b>件" in page
    assert "すべて <b>1</b>件" in page  # the status counts are of the working queue
    assert 'href="/staff/?consent=no"' in page
    shown = as_staff.get("/staff/?consent=no").get_data(as_text=True)
    assert refs_in(shown, working, hidden, hidden_danger) == {hidden, hidden_danger}
    assert shown.index(hidden_danger) < shown.index(hidden)
    everything = as_staff.get("/staff/?consent=all").get_data(as_text=True)
    assert refs_in(everything, working, hidden, hidden_danger) == {working, hidden, hidden_danger}


def test_crisis_kinds_and_fields_are_never_raw_words(as_staff, db):
    ref = make_handoff(db, urgency="high", urgent=True)
    raise_danger(db, ref, ["general", "not_in_the_directory"], ["こわい"], ["危険のサイン（種類不明）"])
    db.execute("UPDATE handoffs SET fields = ? WHERE ref = ?", [json.dumps(["elderly", "unknown_field"]), ref])
    db.conn.commit()
    pages = [as_staff.get(f"/staff/h/{ref}").get_data(as_text=True), as_staff.get("/staff/").get_data(as_text=True)]
    for page in pages:
        text = re.sub(r"<[^>]+>", " ", page)  # what is read, not attribute values
        for raw in ("general", "not_in_the_directory", "unknown_field", "suicide"):
            assert raw not in text, raw
    assert "危険のサイン（種類不明）" in pages[0] and "自殺・死にたい気持ち" in pages[0]
    assert "その他の分野" in pages[0]


@pytest.mark.parametrize("kind", ["general"])
def test_general_has_a_japanese_label(kind):
    from bot.web.staff import labels
    assert labels.crisis_label(kind) == "危険のサイン（種類不明）"
    assert labels.crisis_label("no_such_kind") == "危険のサイン（種類不明）"
