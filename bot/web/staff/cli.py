"""Staff accounts and retention from the command line, as Flask commands of the web app (there is
no default account and no default password). The database is SOUDAN_DB (default var/soudan.db).

    flask --app bot.web staff create --username tanaka --role staff    # asks the password
    echo "$PASSWORD" | flask --app bot.web staff create --username sato --role admin
    flask --app bot.web staff list
    flask --app bot.web staff disable|enable|unlock|password --username tanaka
    flask --app bot.web staff unlock-address --address 192.0.2.10        # a locked client address
    flask --app bot.web staff purge [--days 365] [--dry-run]             # retention (RETENTION_DAYS)

A password is read with a hidden prompt (twice) on a terminal, else as one line from standard
input; it must have at least 12 characters. Each change is written to the audit log as ``cli``
(retention as ``system:retention``); ``make staff-user`` and ``make purge`` call these."""
from __future__ import annotations

import sys
from contextlib import contextmanager

import click
from flask.cli import AppGroup

from bot.core.clock import now
from bot.core.store import StoreError, db_path, open_store
from bot.web.staff import accounts, audit, auth
from bot.web.staff.labels import ROLE_LABELS
from bot.web.staff.retention import SYSTEM_RETENTION, default_days, purge_text

CLI_ACTOR = "cli"

staff_cli = AppGroup("staff", help="Staff accounts and retention (SOUDAN_DB).")


def read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("パスワード（12文字以上）", hide_input=True, confirmation_prompt="もう一度",
                            prompt_suffix=": ")
    return sys.stdin.readline().rstrip("\r\n")


@contextmanager
def _store():
    """The database, migrated (a command is a process start); bad input exits 1, no store 2."""
    try:
        db = open_store()
    except StoreError as exc:
        click.echo(f"staff: {exc}", err=True)
        sys.exit(2)
    try:
        yield db
    except accounts.AccountError as exc:
        click.echo(f"エラー: {exc}", err=True)
        sys.exit(1)
    finally:
        db.conn.close()


_username = click.option("--username", required=True)


@staff_cli.command("create")
@_username
@click.option("--role", type=click.Choice(accounts.ROLES), default="staff", show_default=True)
def create(username: str, role: str) -> None:
    """Create an account (password from a prompt or standard input)."""
    with _store() as db:
        user = accounts.create_user(db, username, role, read_password())
        audit.record(db, "account_create", CLI_ACTOR, target=user.username, detail={"role": user.role})
        click.echo(f"created {user.username} ({user.role} / {ROLE_LABELS[user.role]}) in {db_path()}")


@staff_cli.command("list")
def list_accounts() -> None:
    """List accounts."""
    with _store() as db:
        users = accounts.list_users(db)
        if not users:
            click.echo(f"no accounts in {db_path()}")
        for u in users:
            state = "disabled" if u.disabled else ("locked" if u.locked_at(now()) else "active")
            click.echo(f"{u.username}\t{u.role}\t{state}\tcreated {u.created_at}\tlast login {u.last_login_at or '-'}")


def _switch(name: str, disabled: bool, help_text: str) -> None:
    @staff_cli.command(name, help=help_text)
    @_username
    def command(username: str) -> None:
        with _store() as db:
            user = accounts.set_disabled(db, username, disabled)
            audit.record(db, f"account_{name}", CLI_ACTOR, target=user.username)
            click.echo(f"{name}d {user.username}")


_switch("disable", True, "Disable an account and end its sessions.")
_switch("enable", False, "Enable an account.")


@staff_cli.command("unlock")
@_username
def unlock(username: str) -> None:
    """Clear the login lockout of an account."""
    with _store() as db:
        user = accounts.unlock(db, username)
        audit.record(db, "account_unlock", CLI_ACTOR, target=user.username)
        click.echo(f"unlocked {user.username}")


@staff_cli.command("unlock-address")
@click.option("--address", required=True)
def unlock_address(address: str) -> None:
    """Clear the login lockout of one client address."""
    with _store() as db:
        cleared = auth.unlock_address(db, address)
        audit.record(db, "address_unlock", CLI_ACTOR, target=address)
        click.echo(f"unlocked address {address}" if cleared else f"no failures recorded for {address}")


@staff_cli.command("password")
@_username
def password(username: str) -> None:
    """Set a new password (ends the account's sessions)."""
    with _store() as db:
        user = accounts.set_password(db, username, read_password())
        audit.record(db, "account_password", CLI_ACTOR, target=user.username)
        click.echo(f"password changed for {user.username}; its sessions were ended")


@staff_cli.command("purge")
@click.option("--days", type=click.IntRange(min=1), default=default_days,
              help="keep residents' words this many days (default: RETENTION_DAYS or 365)")
@click.option("--dry-run", is_flag=True, help="only count what would be removed")
def purge(days: int, dry_run: bool) -> None:
    """Retention: remove residents' words and contact details older than DAYS days; the handoff
    rows stay, so counts and statistics do not change. Meant for a daily cron job (README)."""
    with _store() as db:
        result = purge_text(db, days, username=SYSTEM_RETENTION, dry_run=dry_run)
        if not dry_run:
            audit.record(db, "purge", SYSTEM_RETENTION, detail={"days": days, "purged": result["purged"],
                                                                "cutoff": result["cutoff"]})
    verb = "would remove" if dry_run else "removed"
    click.echo(f"retention ({db_path()}): {verb} residents' words from {result['purged']} handoff(s) received "
               f"before {result['cutoff']}; {result['kept_rows']} handoff row(s) kept for counts")
