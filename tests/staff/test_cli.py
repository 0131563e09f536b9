"""The staff commands (``flask --app bot.web staff ...``), as the city's administrator runs them:
through the app's CLI runner, and as real processes through the Makefile targets."""
from __future__ import annotations

import os
import subprocess

from bot import PROJECT_ROOT
from bot.web.staff import auth
from bot.web.staff import accounts as account_store
from tests.staff.conftest import audit_rows, make_handoff


def run_staff(app, *args, stdin=""):
    """The command's exit code; its output is in ``run_staff.last``."""
    result = app.test_cli_runner().invoke(args=["staff", *args], input=stdin)
    run_staff.last = result
    return result.exit_code


def test_create_list_disable(app, db):
    assert run_staff(app, "create", "--username", "sato", "--role", "admin", stdin="Goryokaku-Star-88\n") == 0
    assert "created sato (admin" in run_staff.last.stdout
    user = account_store.get_user(db, "sato")
    assert user.role == "admin"
    stored = next(iter(db.query("SELECT password_hash FROM staff_users WHERE username = 'sato'")))["password_hash"]
    assert stored.startswith("scrypt:") and "Goryokaku" not in stored
    assert run_staff(app, "create", "--username", "sato", stdin="Another-Long-Pass-1\n") == 1
    assert "すでにあります" in run_staff.last.stderr
    assert run_staff(app, "list") == 0
    assert "sato\tadmin\tactive" in run_staff.last.stdout
    assert run_staff(app, "disable", "--username", "sato") == 0
    assert account_store.get_user(db, "sato").disabled
    assert run_staff(app, "enable", "--username", "sato") == 0
    assert not account_store.get_user(db, "sato").disabled
    assert run_staff(app, "disable", "--username", "ghost") == 1
    assert [r["action"] for r in audit_rows(db)] == ["account_create", "account_disable", "account_enable"]
    assert all(r["username"] == "cli" for r in audit_rows(db))


def test_weak_passwords_are_refused(app, db):
    errors = ""
    for weak in ("short-pass", "", "aaaaaaaaaaaaaaaa", "suzuki-password-x", "password1234", " padded-pass-word "):
        assert run_staff(app, "create", "--username", "suzuki", stdin=weak + "\n") == 1, weak
        errors += run_staff.last.stderr
    assert account_store.get_user(db, "suzuki") is None
    assert "12文字以上" in errors and "Traceback" not in errors
    assert run_staff(app, "create", "--username", "x", stdin="Long-Enough-Pass-1\n") == 1
    assert run_staff(app, "create", "--username", "bad name", stdin="Long-Enough-Pass-1\n") == 1


def test_password_change_and_unlock(app, db):
    run_staff(app, "create", "--username", "ito", stdin="Kamiiso-Station-1\n")
    for _ in range(5):
        auth.authenticate(db, "ito", "wrong-wrong-wrong")
    assert auth.authenticate(db, "ito", "Kamiiso-Station-1")[1] == "locked"
    assert run_staff(app, "unlock", "--username", "ito") == 0
    assert auth.authenticate(db, "ito", "Kamiiso-Station-1")[1] == "ok"
    assert run_staff(app, "password", "--username", "ito", stdin="Ono-River-Bridge-2\n") == 0
    assert auth.authenticate(db, "ito", "Kamiiso-Station-1")[1] == "bad_password"
    assert auth.authenticate(db, "ito", "Ono-River-Bridge-2")[1] == "ok"


def test_purge_removes_old_words_and_writes_the_audit_log(app, db, clock):
    ref = make_handoff(db, text="母のことで相談です。")
    clock.advance(days=40)
    assert run_staff(app, "purge", "--days", "30", "--dry-run") == 0
    assert "would remove residents' words from 1 handoff(s)" in run_staff.last.stdout
    assert next(iter(db.query("SELECT resident_text FROM handoffs WHERE ref = ?", [ref])))["resident_text"]
    assert run_staff(app, "purge", "--days", "30") == 0
    assert "removed residents' words from 1 handoff(s)" in run_staff.last.stdout
    assert next(iter(db.query("SELECT resident_text FROM handoffs WHERE ref = ?", [ref])))["resident_text"] is None
    assert audit_rows(db, "purge")[0]["username"] == "system:retention"
    assert run_staff(app, "purge", "--days", "0") == 2  # a clear usage error, nothing removed
    assert "Traceback" not in run_staff.last.stderr


def test_make_targets_call_the_flask_commands(db_file):
    env = dict(os.environ, SOUDAN_DB=str(db_file))
    env.pop("MAKEFLAGS", None)
    created = subprocess.run(["make", "-s", "staff-user", "ACCOUNT=mori", "ROLE=staff"], input="Shiriuchi-Road-55\n",
                             capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=120)
    assert created.returncode == 0, created.stderr
    assert "created mori (staff" in created.stdout and "Traceback" not in created.stderr
    purged = subprocess.run(["make", "-s", "purge", "DAYS=30"], capture_output=True, text=True, env=env,
                            cwd=PROJECT_ROOT, timeout=120)
    assert purged.returncode == 0 and "removed residents' words from 0 handoff(s)" in purged.stdout, purged.stderr
    bad = subprocess.run(["make", "-s", "purge", "DAYS=0"], capture_output=True, text=True, env=env,
                         cwd=PROJECT_ROOT, timeout=120)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    listed = subprocess.run([str(PROJECT_ROOT / ".venv-web" / "bin" / "flask"), "--app", "bot.web", "staff", "list"],
                            capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=60)
    assert listed.returncode == 0 and "mori\tstaff\tactive" in listed.stdout, listed.stderr
