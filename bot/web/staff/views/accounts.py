"""Staff accounts from the browser (``/staff/accounts``, admins only): disable, enable, unlock.
Accounts are created with ``flask --app bot.web staff create`` (bot/web/staff/cli.py)."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for

from bot.core.clock import now
from bot.web.staff import accounts as account_store
from bot.web.staff.forms import AccountActionForm
from bot.web.staff.views.common import _audit, _db, admin_required, bp


@bp.get("/accounts")
@admin_required
def accounts():
    _audit("view_accounts")
    return render_template("staff/accounts.html", users=account_store.list_users(_db()), moment=now(),
                           form=AccountActionForm(formdata=None))


@bp.post("/accounts/<username>")
@admin_required
def account_action(username: str):
    form = AccountActionForm()
    action = form.action.data if form.validate() else ""
    if action not in ("disable", "enable", "unlock"):
        flash("操作を選んでください。", "error")
        return redirect(url_for("staff.accounts"), code=303)
    if action == "disable" and username == g.staff_user.username:
        flash("自分のアカウントは停止できません。", "error")
        return redirect(url_for("staff.accounts"), code=303)
    try:
        if action == "unlock":
            account_store.unlock(_db(), username)
        else:
            account_store.set_disabled(_db(), username, action == "disable")
    except account_store.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.accounts"), code=303)
    _audit(f"account_{action}", target=username)
    flash({"disable": "停止しました。", "enable": "再開しました。", "unlock": "ロックを解除しました。"}[action], "info")
    return redirect(url_for("staff.accounts"), code=303)
