"""Staff accounts from the command line (there is no default account and no default password).

    python -m bot.web.staff.accounts create --username tanaka --role staff   # asks the password
    echo "$PASSWORD" | python -m bot.web.staff.accounts create --username sato --role admin
    python -m bot.web.staff.accounts list
    python -m bot.web.staff.accounts disable --username tanaka
    python -m bot.web.staff.accounts enable --username tanaka
    python -m bot.web.staff.accounts unlock --username tanaka
    python -m bot.web.staff.accounts unlock-address --address 192.0.2.10   # a locked client address
    python -m bot.web.staff.accounts password --username tanaka            # asks the new one

The password is read with getpass (twice) on a terminal, else as one line from standard input.
It must have at least 12 characters. The database is SOUDAN_DB (default var/soudan.db)."""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Optional

from bot.store import StoreError, db_path, open_store
from bot.web.staff import audit, auth
from bot.web.staff.labels import ROLE_LABELS

CLI_ACTOR = "cli"


def read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("パスワード（12文字以上）: ")
        second = getpass.getpass("もう一度: ")
        if first != second:
            raise auth.AccountError("2回の入力が一致しません。")
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.web.staff.accounts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create an account (password from getpass or stdin)")
    create.add_argument("--username", required=True)
    create.add_argument("--role", choices=auth.ROLES, default="staff")
    for name, text in (("disable", "disable an account and end its sessions"), ("enable", "enable an account"),
                       ("unlock", "clear a login lockout"), ("password", "set a new password")):
        sub.add_parser(name, help=text).add_argument("--username", required=True)
    sub.add_parser("unlock-address", help="clear the login lockout of one client address").add_argument(
        "--address", required=True)
    sub.add_parser("list", help="list accounts")
    args = parser.parse_args(argv)
    try:
        db = open_store()
    except StoreError as exc:
        print(f"accounts: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "list":
            users = auth.list_users(db)
            if not users:
                print(f"no accounts in {db_path()}")
            for u in users:
                state = "disabled" if u.disabled else ("locked" if u.locked_until and u.locked_at(auth.now()) else "active")
                print(f"{u.username}\t{u.role}\t{state}\tcreated {u.created_at}\tlast login {u.last_login_at or '-'}")
            return 0
        if args.command == "create":
            user = auth.create_user(db, args.username, args.role, read_password())
            audit.record(db, "account_create", CLI_ACTOR, target=user.username, detail={"role": user.role})
            print(f"created {user.username} ({user.role} / {ROLE_LABELS[user.role]}) in {db_path()}")
        elif args.command in ("disable", "enable"):
            user = auth.set_disabled(db, args.username, args.command == "disable")
            audit.record(db, f"account_{args.command}", CLI_ACTOR, target=user.username)
            print(f"{args.command}d {user.username}")
        elif args.command == "unlock":
            user = auth.unlock(db, args.username)
            audit.record(db, "account_unlock", CLI_ACTOR, target=user.username)
            print(f"unlocked {user.username}")
        elif args.command == "unlock-address":
            cleared = auth.unlock_address(db, args.address)
            audit.record(db, "address_unlock", CLI_ACTOR, target=args.address)
            print(f"unlocked address {args.address}" if cleared else f"no failures recorded for {args.address}")
        elif args.command == "password":
            user = auth.set_password(db, args.username, read_password())
            audit.record(db, "account_password", CLI_ACTOR, target=user.username)
            print(f"password changed for {user.username}; its sessions were ended")
        return 0
    except auth.AccountError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 1
    finally:
        db.conn.close()


if __name__ == "__main__":
    sys.exit(main())
