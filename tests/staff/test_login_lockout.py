"""Login lockout by account and by client address; unknown and known usernames look the same."""
from __future__ import annotations

import re

from bot.web.staff import auth
from bot.web.staff import accounts as account_store
from tests.staff.conftest import ADMIN, CSRF_FIELD, STAFF, audit_rows

WRONG = "wrong-password-1234"


def login_from(client, address: str, username: str, password: str):
    """A login POST from one client address (REMOTE_ADDR), with a fresh CSRF token."""
    environ = {"REMOTE_ADDR": address}
    page = client.get("/staff/login", environ_base=environ).get_data(as_text=True)
    token = CSRF_FIELD.search(page).group(1)
    return client.post("/staff/login", environ_base=environ,
                       data={"username": username, "password": password, "csrf_token": token})


def message(response) -> str:
    found = re.search(r'<p class="flash flash--error" role="alert">([^<]*)</p>', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1)


def comparable(response, username: str) -> str:
    """The page without what always differs: the CSRF token and the username typed back."""
    body = CSRF_FIELD.sub('name="csrf_token" value=""', response.get_data(as_text=True))
    return body.replace(f'value="{username}"', 'value=""')


def test_many_failures_from_one_address_lock_it_for_every_username(app, db, accounts):
    client = app.test_client()
    attacker = "203.0.113.7"
    names = [ADMIN[0], "nobody", "tanaka", "sato", "yamada", "suzuki"]
    # Never more than LOCK_AFTER - 1 tries per name: only the address count can lock.
    tries = [names[i % len(names)] for i in range(auth.ADDRESS_LOCK_AFTER)]
    assert max(tries.count(n) for n in names) < auth.LOCK_AFTER
    for i, name in enumerate(tries):
        response = login_from(client, attacker, name, WRONG)
        assert response.status_code == 401
        if i < len(tries) - 1:
            assert message(response) == "ユーザー名またはパスワードが違います。", i
    assert "ロックされています" in message(response)  # the last try locked the address
    # Now even a right password for an untouched account is refused from that address...
    response = login_from(client, attacker, *STAFF)
    assert response.status_code == 401 and "ロックされています" in message(response)
    assert account_store.get_user(db, STAFF[0]).locked_until is None  # the account itself is not locked
    # ...while the same account logs in from another address.
    assert login_from(app.test_client(), "198.51.100.20", *STAFF).status_code == 303
    assert len(audit_rows(db, "address_locked")) == 1
    assert audit_rows(db, "address_locked")[0]["ip"] == attacker
    assert audit_rows(db, "login_locked")[-1]["ip"] == attacker


def test_address_lock_ends_after_the_lock_time(app, db, accounts, clock):
    client = app.test_client()
    for i in range(auth.ADDRESS_LOCK_AFTER):
        login_from(client, "203.0.113.8", f"guess{i:03d}", WRONG)
    assert login_from(client, "203.0.113.8", *ADMIN).status_code == 401
    clock.advance(minutes=auth.LOCK_MINUTES + 1)
    assert login_from(client, "203.0.113.8", *ADMIN).status_code == 303


def test_failures_from_many_addresses_lock_the_account(app, db, accounts):
    client = app.test_client()
    for i in range(auth.LOCK_AFTER):
        response = login_from(client, f"192.0.2.{i + 1}", ADMIN[0], WRONG)
    assert "ロックされています" in message(response)
    response = login_from(client, "192.0.2.99", *ADMIN)
    assert response.status_code == 401 and "ロックされています" in message(response)
    assert account_store.get_user(db, ADMIN[0]).locked_until
    # Another account from the same addresses is not affected.
    assert login_from(client, "192.0.2.1", *STAFF).status_code == 303


def test_unknown_and_known_usernames_get_the_same_answers(app, db, accounts):
    known, unknown = app.test_client(), app.test_client()
    for i in range(auth.LOCK_AFTER + 2):  # before, at and after the lock
        a = login_from(known, "192.0.2.50", ADMIN[0], WRONG)
        b = login_from(unknown, "192.0.2.51", "no-such-user", WRONG)
        assert a.status_code == b.status_code == 401, i
        assert message(a) == message(b), i
        assert comparable(a, ADMIN[0]) == comparable(b, "no-such-user"), i
        assert ("ロックされています" in message(a)) == (i >= auth.LOCK_AFTER - 1), i
    # The unknown name is locked like the account (so a lock does not reveal that a name exists).
    rows = list(db.query("SELECT * FROM login_throttle WHERE key = 'user:no-such-user'"))
    assert rows and rows[0]["locked_until"]
    # The audit log (admins only) keeps the real reason.
    reasons = [r["detail"] for r in audit_rows(db, "login_failed")]
    assert '{"reason": "unknown"}' in reasons and '{"reason": "bad_password"}' in reasons


def test_admin_unlock_clears_the_lock(app, db, accounts):
    client = app.test_client()
    for i in range(auth.LOCK_AFTER):
        login_from(client, "192.0.2.60", STAFF[0], WRONG)
    assert login_from(client, "192.0.2.60", *STAFF).status_code == 401
    account_store.unlock(db, STAFF[0])
    assert login_from(client, "192.0.2.60", *STAFF).status_code == 303


def test_cli_unlocks_an_address(app, db, accounts):
    client = app.test_client()
    for i in range(auth.ADDRESS_LOCK_AFTER):
        login_from(client, "203.0.113.9", f"guess{i:03d}", WRONG)
    assert login_from(client, "203.0.113.9", *STAFF).status_code == 401
    assert app.test_cli_runner().invoke(args=["staff", "unlock-address", "--address", "203.0.113.9"]).exit_code == 0
    assert login_from(client, "203.0.113.9", *STAFF).status_code == 303
    assert audit_rows(db, "address_unlock")[0]["target"] == "203.0.113.9"
