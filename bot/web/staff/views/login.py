"""Login and logout (``/staff/login``, ``/staff/logout``): the lockout rules live in ``staff.auth``."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for

from bot.web.staff import auth
from bot.web.staff.forms import LoginForm
from bot.web.staff.views.common import _audit, _db, _ip, _safe_next, bp

LOCKED_MESSAGE = (f"ログインの失敗が続いたため、ロックされています。{auth.LOCK_MINUTES}分ほどおいてから、"
                  "もう一度お試しください。急ぐときは管理者に連絡してください。")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.staff_user is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")) or url_for("staff.queue"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        username = form.username.data.strip()
        user, outcome = auth.authenticate(_db(), username, form.password.data, _ip())
        if outcome == "ok":
            session.clear()  # no session fixation: nothing from before the login survives
            session["sid"] = auth.start_session(_db(), user)
            g.staff_user = user
            _audit("login_ok")
            return redirect(_safe_next(request.args.get("next")) or url_for("staff.queue"), code=303)
        # Known and unknown usernames get the same words and the same lock (auth counts both), so
        # the page never tells whether a name exists; a lock of the name or of the address reads
        # the same too. The audit log (admins only) keeps the reason.
        if outcome in auth.LOCKED_OUTCOMES:
            action = {"locked_now": "account_locked", "address_locked_now": "address_locked"}.get(outcome,
                                                                                              "login_locked")
            _audit(action, username=username[:64],
                   detail={"by": "address"} if outcome.startswith("address") else None)
            error = LOCKED_MESSAGE
        else:
            _audit("login_failed", username=username[:64], detail={"reason": outcome})
            error = "ユーザー名またはパスワードが違います。"
    elif request.method == "POST":
        error = "ユーザー名とパスワードを入力してください。"
    return render_template("staff/login.html", form=form, error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    token = session.get("sid")
    auth.end_session(_db(), token)
    _audit("logout")
    session.clear()
    flash("ログアウトしました。", "info")
    return redirect(url_for("staff.login"), code=303)
