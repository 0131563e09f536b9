"""The accounts and retention commands, as the city's administrator runs them."""
from __future__ import annotations

import io
import os
import subprocess
import sys

from bot import PROJECT_ROOT
from bot.web.staff import accounts, auth
from tests.staff.conftest import audit_rows


def run_accounts(monkeypatch, *args, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return accounts.main(list(args))


def test_create_list_disable(monkeypatch, db, capsys):
    assert run_accounts(monkeypatch, "create", "--username", "sato", "--role", "admin", stdin="Goryokaku-Star-88\n") == 0
    assert "created sato (admin" in capsys.readouterr().out
    user = auth.get_user(db, "sato")
    assert user.role == "admin"
    stored = next(iter(db.query("SELECT password_hash FROM staff_users WHERE username = 'sato'")))["password_hash"]
    assert stored.startswith("scrypt:") and "Goryokaku" not in stored
    assert run_accounts(monkeypatch, "create", "--username", "sato", stdin="Another-Long-Pass-1\n") == 1
    assert "すでにあります" in capsys.readouterr().err
    assert run_accounts(monkeypatch, "list") == 0
    assert "sato\tadmin\tactive" in capsys.readouterr().out
    assert run_accounts(monkeypatch, "disable", "--username", "sato") == 0
    assert auth.get_user(db, "sato").disabled
    assert run_accounts(monkeypatch, "enable", "--username", "sato") == 0
    assert not auth.get_user(db, "sato").disabled
    assert run_accounts(monkeypatch, "disable", "--username", "ghost") == 1
    assert [r["action"] for r in audit_rows(db)] == ["account_create", "account_disable", "account_enable"]
    assert all(r["username"] == "cli" for r in audit_rows(db))


def test_weak_passwords_are_refused(monkeypatch, db, capsys):
    for weak in ("short-pass", "", "aaaaaaaaaaaaaaaa", "suzuki-password-x", "password1234", " padded-pass-word "):
        assert run_accounts(monkeypatch, "create", "--username", "suzuki", stdin=weak + "\n") == 1, weak
    assert auth.get_user(db, "suzuki") is None
    assert "12文字以上" in capsys.readouterr().err
    assert run_accounts(monkeypatch, "create", "--username", "x", stdin="Long-Enough-Pass-1\n") == 1
    assert run_accounts(monkeypatch, "create", "--username", "bad name", stdin="Long-Enough-Pass-1\n") == 1


def test_password_change_and_unlock(monkeypatch, db):
    run_accounts(monkeypatch, "create", "--username", "ito", stdin="Kamiiso-Station-1\n")
    for _ in range(5):
        auth.authenticate(db, "ito", "wrong-wrong-wrong")
    assert auth.authenticate(db, "ito", "Kamiiso-Station-1")[1] == "locked"
    assert run_accounts(monkeypatch, "unlock", "--username", "ito") == 0
    assert auth.authenticate(db, "ito", "Kamiiso-Station-1")[1] == "ok"
    assert run_accounts(monkeypatch, "password", "--username", "ito", stdin="Ono-River-Bridge-2\n") == 0
    assert auth.authenticate(db, "ito", "Kamiiso-Station-1")[1] == "bad_password"
    assert auth.authenticate(db, "ito", "Ono-River-Bridge-2")[1] == "ok"


def test_commands_run_as_modules(db_file):
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    created = subprocess.run([sys.executable, "-m", "bot.web.staff.accounts", "create", "--username", "mori",
                              "--role", "staff"], input="Shiriuchi-Road-55\n", capture_output=True, text=True,
                             env=env, cwd=PROJECT_ROOT, timeout=60)
    assert created.returncode == 0, created.stderr
    assert created.stderr == ""  # no warnings, no traceback
    purged = subprocess.run([sys.executable, "-m", "bot.web.staff.retention", "--days", "30"], capture_output=True,
                            text=True, env=env, cwd=PROJECT_ROOT, timeout=60)
    assert purged.returncode == 0 and "removed residents' words from 0 handoff(s)" in purged.stdout, purged.stderr
    bad = subprocess.run([sys.executable, "-m", "bot.web.staff.retention", "--days", "0"], capture_output=True,
                         text=True, env=env, cwd=PROJECT_ROOT, timeout=60)
    assert bad.returncode == 2
