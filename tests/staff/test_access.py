"""Access control: login required everywhere, CSRF, lockout, sessions, roles, cookies."""
from __future__ import annotations


import pytest

from bot.web.staff import auth
from bot.web.staff import accounts as account_store
from tests.staff.conftest import ADMIN, CSRF_FIELD, STAFF, audit_rows, csrf_token, login, make_handoff


def staff_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff") and rule.endpoint not in ("staff.login", "staff.static"):
            yield rule


def test_every_staff_route_needs_login(app, client, db, accounts):
    ref = make_handoff(db, text="秘密の相談内容")
    rules = list(staff_routes(app))
    assert len(rules) >= 12
    walked = set()
    for rule in rules:
        url = rule.rule.replace("<ref>", ref).replace("<username>", STAFF[0])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"note": "x", "to_status": "closed"})
            assert response.status_code in (302, 303, 401), (method, url, response.status_code)
            if response.status_code != 401:
                assert response.headers["Location"].startswith("/staff/login"), (method, url)
            body = response.get_data(as_text=True)
            assert "秘密" not in body and "北斗花子" not in body and "受付票" not in body
            walked.add((method, rule.endpoint))
    assert ("GET", "staff.export_csv") in walked and ("POST", "staff.update_status") in walked
    # Nothing was changed by the unauthenticated POSTs.
    assert next(iter(db.query("SELECT status FROM handoffs WHERE ref = ?", [ref])))["status"] == "new"
    assert not list(db.query("SELECT * FROM handoff_events"))


def test_static_is_only_the_stylesheet(client):
    response = client.get("/staff/static/staff.css")
    assert response.status_code == 200 and response.mimetype == "text/css"


def test_login_redirects_back_but_never_off_site(client, accounts):
    response = login(client, *ADMIN, next_url="/staff/stats")
    assert response.status_code == 303 and response.headers["Location"] == "/staff/stats"
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    for evil in ("//evil.example/", "https://evil.example/staff/", "/\\evil.example", "/api/chat"):
        response = login(client, *ADMIN, next_url=evil)
        assert response.headers["Location"] == "/staff/", evil
        client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})


def test_posts_without_csrf_token_are_rejected(app, client, db, accounts):
    ref = make_handoff(db)
    # Login itself needs the token.
    response = client.post("/staff/login", data={"username": ADMIN[0], "password": ADMIN[1]})
    assert response.status_code == 400
    assert "送信できませんでした" in response.get_data(as_text=True)
    assert login(client, *ADMIN).status_code == 303
    posts = {
        f"/staff/h/{ref}/status": {"to_status": "in_progress", "expected_status": "new"},
        f"/staff/h/{ref}/note": {"note": "CSRFなし"},
        f"/staff/h/{ref}/assign": {"assignee": ADMIN[0]},
        "/staff/purge": {"days": "1", "confirm": "y"},
        f"/staff/accounts/{STAFF[0]}": {"action": "disable"},
        "/staff/logout": {},
    }
    for url, data in posts.items():
        for token in (None, "forged-token"):
            payload = dict(data, **({"csrf_token": token} if token else {}))
            response = client.post(url, data=payload)
            assert response.status_code == 400, (url, token, response.status_code)
    row = next(iter(db.query("SELECT status, assignee FROM handoffs WHERE ref = ?", [ref])))
    assert row["status"] == "new" and row["assignee"] is None
    assert not list(db.query("SELECT * FROM handoff_events"))
    assert not account_store.get_user(db, STAFF[0]).disabled
    assert client.get("/staff/").status_code == 200  # still logged in: logout without token failed


def test_json_api_is_not_csrf_protected(app, client):
    assert app.config["WTF_CSRF_CHECK_DEFAULT"] is False
    response = client.post("/api/chat", json={"sender": "test-sender-0001", "message": "こんにちは"})
    # Rasa is not running here: the API answers 503 with a phone number, not a CSRF error.
    assert response.status_code == 503 and response.is_json
    if any(r.rule == "/line/webhook" for r in app.url_map.iter_rules()):
        response = client.post("/line/webhook", data=b"{}", headers={"Content-Type": "application/json"})
        assert "送信できませんでした" not in response.get_data(as_text=True)


def test_lockout_after_five_failures(client, db, accounts, clock):
    for i in range(4):
        response = login(client, ADMIN[0], "wrong-password-1234")
        assert response.status_code == 401 and "違います" in response.get_data(as_text=True)
    response = login(client, ADMIN[0], "wrong-password-1234")
    assert "ロックされています" in response.get_data(as_text=True)
    # Even the right password is refused while locked.
    response = login(client, *ADMIN)
    assert response.status_code == 401 and "ロックされています" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    assert len(audit_rows(db, "login_failed")) == 4
    assert len(audit_rows(db, "account_locked")) == 1 and len(audit_rows(db, "login_locked")) == 1
    # Another account is not affected.
    assert login(client, *STAFF).status_code == 303
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    clock.advance(minutes=14)
    assert login(client, *ADMIN).status_code == 401
    clock.advance(minutes=2)
    assert login(client, *ADMIN).status_code == 303
    assert account_store.get_user(db, ADMIN[0]).failed_logins == 0


def test_unknown_user_and_disabled_account(client, db, accounts):
    assert login(client, "nobody", "whatever-password").status_code == 401
    account_store.set_disabled(db, STAFF[0], True)
    response = login(client, *STAFF)
    assert response.status_code == 401
    assert [r["detail"] for r in audit_rows(db, "login_failed")] == ['{"reason": "unknown"}', '{"reason": "disabled"}']


def session_cookie(client):
    cookie = client.get_cookie("soudan_staff", path="/staff")
    return cookie.value if cookie else None


def test_session_fixation_and_logout(app, client, accounts):
    client.get("/staff/login")
    before = session_cookie(client)
    assert before  # the login page set a session (CSRF token)
    assert login(client, *ADMIN).status_code == 303
    after = session_cookie(client)
    assert after and after != before
    # A cookie planted before login is worth nothing.
    other = app.test_client()
    other.set_cookie("soudan_staff", before, path="/staff")
    assert other.get("/staff/").status_code == 302
    # After logout, a copy of the logged-in cookie is worth nothing either.
    thief = app.test_client()
    thief.set_cookie("soudan_staff", after, path="/staff")
    assert thief.get("/staff/").status_code == 200
    response = client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    assert response.status_code == 303
    assert client.get("/staff/").status_code == 302
    assert thief.get("/staff/").status_code == 302


def test_idle_session_expires(client, db, accounts, clock):
    assert login(client, *ADMIN).status_code == 303
    clock.advance(minutes=29)
    assert client.get("/staff/").status_code == 200
    clock.advance(minutes=29)  # activity reset the idle timer
    assert client.get("/staff/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "操作がなかったため、ログアウトしました" in page
    assert audit_rows(db, "session_expired")[0]["username"] == ADMIN[0]


def test_disabling_an_account_ends_its_sessions(client, db, accounts):
    assert login(client, *STAFF).status_code == 303
    account_store.set_disabled(db, STAFF[0], True)
    assert client.get("/staff/").status_code == 302


def test_cookie_flags(app, client, accounts, db, settings):
    client.get("/staff/login")
    token = csrf_token(client)
    response = client.post("/staff/login", data={"username": ADMIN[0], "password": ADMIN[1], "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie
    from dataclasses import replace
    from bot.web import create_app
    secure_app = create_app(replace(settings, https=True))
    secure = secure_app.test_client()
    response = secure.get("/staff/login", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_security_headers(as_admin, db):
    ref = make_handoff(db)
    response = as_admin.get(f"/staff/h/{ref}")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("method,url,data", [
    ("GET", "/staff/export.csv", None),
    ("GET", "/staff/purge", None),
    ("POST", "/staff/purge", {"days": "1", "confirm": "y"}),
    ("GET", "/staff/audit", None),
    ("GET", "/staff/accounts", None),
    ("POST", f"/staff/accounts/{ADMIN[0]}", {"action": "disable"}),
])
def test_staff_role_cannot_use_admin_functions(client, accounts, db, clock, method, url, data):
    ref = make_handoff(db, text="古い相談")
    clock.advance(days=400)
    as_staff = client
    assert login(client, *STAFF).status_code == 303
    if data is not None:
        data = dict(data, csrf_token=csrf_token(as_staff, "/staff/"))
    response = as_staff.open(url, method=method, data=data)
    assert response.status_code == 403
    assert "管理者だけ" in response.get_data(as_text=True)
    assert "text/csv" not in response.headers["Content-Type"]
    denied = audit_rows(db, "denied")
    assert denied and denied[-1]["username"] == STAFF[0] and denied[-1]["target"] == url
    assert not audit_rows(db, "export_csv") and not audit_rows(db, "purge")
    assert next(iter(db.query("SELECT resident_text FROM handoffs WHERE ref = ?", [ref])))["resident_text"] == "古い相談"
    assert not account_store.get_user(db, ADMIN[0]).disabled


def test_staff_menu_hides_admin_links(as_staff):
    page = as_staff.get("/staff/").get_data(as_text=True)
    assert "CSVに出力" not in page and "/staff/audit" not in page and "/staff/purge" not in page


def test_admin_account_page_unlocks_and_disables(as_admin, db, client):
    for _ in range(5):
        auth.authenticate(db, STAFF[0], "wrong-password-99")
    assert "ロック中" in as_admin.get("/staff/accounts").get_data(as_text=True)
    token = csrf_token(as_admin, "/staff/accounts")
    assert as_admin.post(f"/staff/accounts/{STAFF[0]}", data={"action": "unlock", "csrf_token": token}).status_code == 303
    assert account_store.get_user(db, STAFF[0]).locked_until is None
    as_admin.post(f"/staff/accounts/{STAFF[0]}", data={"action": "disable", "csrf_token": token})
    assert account_store.get_user(db, STAFF[0]).disabled
    as_admin.post(f"/staff/accounts/{ADMIN[0]}", data={"action": "disable", "csrf_token": token})
    assert not account_store.get_user(db, ADMIN[0]).disabled  # not yourself
    assert [r["target"] for r in audit_rows(db) if r["action"].startswith("account_")] == [STAFF[0], STAFF[0]]


def test_https_login_and_post_with_same_origin_referer(db, accounts, settings):
    """Over HTTPS Flask-WTF also checks that the Referer is this site (the browser sends it,
    as the pages use Referrer-Policy: same-origin)."""
    from dataclasses import replace
    from bot.web import create_app
    app = create_app(replace(settings, https=True))
    client = app.test_client()
    base = "https://staff.example"
    page = client.get("/staff/login", base_url=base)
    assert page.headers["Referrer-Policy"] == "same-origin"
    token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
    form = {"username": ADMIN[0], "password": ADMIN[1], "csrf_token": token}
    assert client.post("/staff/login", data=form, base_url=base).status_code == 400  # no Referer
    response = client.post("/staff/login", data=form, base_url=base, headers={"Referer": "https://evil.example/"})
    assert response.status_code == 400
    response = client.post("/staff/login", data=form, base_url=base, headers={"Referer": base + "/staff/login"})
    assert response.status_code == 303
