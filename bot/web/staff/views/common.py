"""What every staff page shares: the ``staff`` blueprint (``/staff``), its guard (login, CSRF,
body size), error pages, template filters and small helpers. The pages themselves are the
other modules of this package. Japanese pages that work without JavaScript; the security
headers of these pages are set with everyone else's in ``bot.web.security``."""
from __future__ import annotations

from functools import wraps
from typing import Optional
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.core.store import connect
from bot.web.staff import audit, auth, labels
from bot.web.staff.forms import LogoutForm

# Named after the package, so templates/ and static/ are found next to it.
bp = Blueprint("staff", "bot.web.staff", url_prefix="/staff", template_folder="templates",
               static_folder="static", static_url_path="/static")
csrf = CSRFProtect()

PUBLIC_ENDPOINTS = {"staff.login", "staff.static"}
STAFF_MAX_BODY_BYTES = 64 * 1024


@bp.record_once
def _configure(state) -> None:
    """App-wide settings the staff pages need; CSRF is checked only for this blueprint
    (the JSON API and the LINE webhook have their own protections)."""
    app = state.app
    settings = app.config["SETTINGS"]
    app.config.update(
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (idle-limited) session
        SESSION_COOKIE_NAME="soudan_staff",
        SESSION_COOKIE_PATH="/staff",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.https),
    )
    csrf.init_app(app)


# ---------------------------------------------------------------- request guard and helpers

def _db():
    """This request's connection (the schema was migrated when the web side started)."""
    if "staff_db" not in g:
        g.staff_db = connect()
    return g.staff_db


def _ip() -> str:
    return request.remote_addr or "-"


def _audit(action: str, target: Optional[str] = None, detail: Optional[dict] = None,
           username: Optional[str] = None) -> None:
    user = getattr(g, "staff_user", None)
    audit.record(_db(), action, username or (user.username if user else None), target=target, detail=detail,
                 ip=_ip())


def _safe_next(target: Optional[str]) -> Optional[str]:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or not parts.path.startswith("/staff/"):
        return None
    if parts.path.startswith(("/staff/login", "/staff/logout")):
        return None
    return target


@bp.before_request
def _guard():
    # A 2000-character Japanese note is about 18 KB form-encoded: more than the JSON API's limit.
    request.max_content_length = STAFF_MAX_BODY_BYTES
    g.staff_user = None
    if request.endpoint == "staff.static":
        return None
    settings = current_app.config["SETTINGS"]
    token = session.get("sid")
    if token:
        user, outcome = auth.resume_session(_db(), token, settings.session_idle_minutes)
        if outcome == "ok":
            g.staff_user = user
        else:
            session.clear()
            if outcome == "expired":
                _audit("session_expired", username=user.username if user else None)
                flash(f"{settings.session_idle_minutes}分間操作がなかったため、ログアウトしました。", "info")
    if request.endpoint in PUBLIC_ENDPOINTS:
        if request.method == "POST":
            csrf.protect()
        return None
    if g.staff_user is None:
        if request.method == "GET":
            next_url = request.full_path.rstrip("?")
            return redirect(url_for("staff.login", next=next_url))
        return redirect(url_for("staff.login"), code=303)
    if request.method == "POST":
        csrf.protect()
    return None


@bp.teardown_request
def _close(exc) -> None:
    db = g.pop("staff_db", None)
    if db is not None:
        db.conn.close()


@bp.errorhandler(CSRFError)
def _csrf_error(exc):
    return render_template("staff/message.html", title="送信できませんでした",
                           message="フォームの有効期限が切れたか、正しくない送信です。画面を読み込み直して、もう一度操作してください。"), 400


@bp.errorhandler(404)
def _not_found(exc):
    return render_template("staff/message.html", title="見つかりません",
                           message="お探しのページまたは受付番号は見つかりませんでした。"), 404


def roles_required(roles, message: str):
    """Only accounts with one of ``roles`` may use the view; others get 403 with ``message``,
    and the attempt goes to the audit log."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.staff_user.role not in roles:
                _audit("denied", target=request.path)
                return render_template("staff/message.html", title="権限がありません", message=message), 403
            return view(*args, **kwargs)
        return wrapped
    return decorate


admin_required = roles_required(("admin",), "この操作は管理者だけができます。")


@bp.app_template_filter("jdt")
def _jdt(value):
    return labels.format_datetime(value)


@bp.app_template_filter("jdate")
def _jdate(value):
    return labels.format_date(value)


@bp.context_processor
def _context():
    return {"L": labels, "current_user": getattr(g, "staff_user", None), "logout_form": LogoutForm(),
            "directory": current_app.config["DIRECTORY"]}


def _agency_name(slug: Optional[str]) -> str:
    if not slug:
        return ""
    agency = current_app.config["DIRECTORY"].agencies.get(slug)
    return agency.name if agency else slug


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1
