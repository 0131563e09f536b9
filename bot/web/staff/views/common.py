"""The staff review of handoffs (/staff): login, queue, 相談受付票, workflow, CSV, statistics,
audit log, retention and accounts. Japanese pages that work without JavaScript."""
from __future__ import annotations

import csv
import io
import re
from functools import wraps
from typing import Optional
from urllib.parse import urlsplit

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.clock import now
from bot.store import open_store
from bot.web.staff import audit, auth, labels, outcome_stats
from bot.web.staff.forms import (AccountActionForm, AssignForm, LoginForm, LogoutForm, NoteForm, PurgeForm,
                                 SearchForm, StatusForm)
from bot.web.staff.queries import (PAGE_SIZE, SEARCH_MAX_CHARS, Filters, WorkflowError, add_note, change_status,
                                   count_without_consent, events, find_by_phone, get_handoff, list_handoffs,
                                   parse_search, purge_text, set_assignee, status_counts, weekly_stats)
from bot.web.staff.retention import default_days
from bot.web.staff.stats_svg import stacked_bars

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates",
               static_folder="static", static_url_path="/static")
csrf = CSRFProtect()

REF_PATTERN = re.compile(r"^\d{3}-\d{4}$")
PUBLIC_ENDPOINTS = {"staff.login", "staff.static"}
LOCKED_MESSAGE = (f"ログインの失敗が続いたため、ロックされています。{auth.LOCK_MINUTES}分ほどおいてから、"
                  "もう一度お試しください。急ぐときは管理者に連絡してください。")
STAFF_MAX_BODY_BYTES = 64 * 1024
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


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
    if "staff_db" not in g:
        g.staff_db = open_store()
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


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: over HTTPS Flask-WTF requires a same-origin Referer on POSTs.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = CSP
    if request.endpoint != "staff.static":
        response.headers["Cache-Control"] = "no-store"
    return response


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


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not g.staff_user.is_admin:
            _audit("denied", target=request.path)
            return render_template("staff/message.html", title="権限がありません",
                                   message="この操作は管理者だけができます。"), 403
        return view(*args, **kwargs)
    return wrapped


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


# ---------------------------------------------------------------- login and logout

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


# ---------------------------------------------------------------- queue and export

def _page() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.get("/")
def queue():
    filters, problems = Filters.from_args(request.args)
    page = _page()
    rows, total = list_handoffs(_db(), filters, page=page)
    counts = status_counts(_db(), filters)
    without_consent = count_without_consent(_db(), filters)
    _audit("view_queue", detail=dict(filters.active(), page=page, rows=len(rows)))
    return render_template("staff/queue.html", rows=rows, total=total, counts=counts, filters=filters,
                           problems=problems, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                           query=filters.active(), agency_name=_agency_name, without_consent=without_consent)


@bp.route("/search", methods=["GET", "POST"])
def search():
    """Find cases by 受付番号 or phone number. POST, so a resident's phone number never sits in a
    URL (browser history, proxy logs, Referer). The audit log keeps what was found (reference
    numbers), never the text typed."""
    form = SearchForm()
    if request.method == "GET":
        return render_template("staff/search.html", form=form, rows=None, problem=None)
    if not form.validate():
        return render_template("staff/search.html", form=form, rows=None,
                               problem=f"受付番号か電話番号を入れてください（{SEARCH_MAX_CHARS}文字以内）。"), 400
    query = parse_search(form.q.data)
    if query.kind == "ref":
        found = get_handoff(_db(), query.value)
        _audit("search", target=found["ref"] if found else None,
               detail={"by": "ref", "found": 1 if found else 0})
        if found:
            return redirect(url_for("staff.detail", ref=found["ref"]), code=303)
        return render_template("staff/search.html", form=form, rows=[], searched="受付番号",
                               problem=None), 404
    if query.kind == "phone":
        rows = find_by_phone(_db(), query.value)
        refs = [r["ref"] for r in rows]
        _audit("search", target=refs[0] if len(refs) == 1 else None,
               detail={"by": "phone", "found": len(refs), **({"refs": refs} if len(refs) > 1 else {})})
        return render_template("staff/search.html", form=form, rows=rows, searched="電話番号", problem=None,
                               agency_name=_agency_name)
    _audit("search", detail={"by": "invalid", "found": 0})
    return render_template("staff/search.html", form=form, rows=None, problem=query.problem), 400


CSV_COLUMNS = ("受付番号", "受付日時", "経路", "同意", "緊急度", "至急", "分野", "主な分野", "状態", "担当",
               "つないだ先", "提案した相談先", "状態を変えた日時", "本人の言葉の削除日時")


def _csv_cell(value) -> str:
    """Text for a CSV cell; a leading = + - @ is neutralised so spreadsheets do not run it."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/export.csv")
@admin_required
def export_csv():
    filters, _ = Filters.from_args(request.args)
    rows, total = list_handoffs(_db(), filters, page_size=None)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        suggested = (r["summary"].get("suggested_agency") or {}).get("name")
        writer.writerow([_csv_cell(v) for v in (
            r["ref"], r["created_at"], labels.CHANNEL_LABELS.get(r["channel"], r["channel"]),
            labels.CONSENT_LABELS.get(r["consent"], r["consent"]), labels.URGENCY_LABELS.get(r["urgency"], r["urgency"]),
            "至急" if r["urgent"] else "", "、".join(labels.field_label(f) for f in r["fields"]),
            labels.field_label(r["main_field"]) if r["main_field"] else "",
            labels.STATUS_LABELS.get(r["status"], r["status"]), r["assignee"], _agency_name(r["connected_agency"]),
            suggested, r["status_changed_at"], r["text_purged_at"])])
    _audit("export_csv", detail=dict(filters.active(), rows=total))
    body = buffer.getvalue().encode("utf-8-sig")  # BOM: Excel then reads the Japanese correctly
    filename = f"handoffs-{now():%Y%m%d-%H%M}.csv"
    return Response(body, headers={"Content-Type": "text/csv; charset=utf-8",
                                   "Content-Disposition": f'attachment; filename="{filename}"'})


# ---------------------------------------------------------------- one case and its workflow

def _load(ref: str) -> dict:
    handoff = get_handoff(_db(), ref) if REF_PATTERN.match(ref) else None
    if handoff is None:
        abort(404)
    return handoff


def _active_usernames():
    return [u.username for u in auth.list_users(_db()) if not u.disabled]


def _detail(handoff: dict, *, status_form=None, note_form=None, assign_form=None, error=None, code=200):
    status = handoff["status"]
    directory = current_app.config["DIRECTORY"]
    status_form = status_form or StatusForm(formdata=None, expected_status=status)
    status_form.expected_status.data = status
    status_form.to_status.choices = [(s, labels.STATUS_LABELS[s]) for s in labels.TRANSITIONS[status]]
    status_form.agency.choices = [("", "（選んでください）")] + [(a.slug, a.name) for a in directory.agencies.values()]
    assign_form = assign_form or AssignForm(formdata=None, assignee=handoff.get("assignee") or "")
    assign_form.assignee.choices = [("", "（なし）")] + [(u, u) for u in _active_usernames()]
    return render_template("staff/detail.html", h=handoff, s=handoff["summary"], events=events(_db(), handoff["id"]),
                           status_form=status_form, note_form=note_form or NoteForm(formdata=None),
                           assign_form=assign_form, error=error, agency_name=_agency_name), code


@bp.get("/h/<ref>")
def detail(ref: str):
    handoff = _load(ref)
    _audit("view_handoff", target=ref)
    return _detail(handoff)


@bp.post("/h/<ref>/status")
def update_status(ref: str):
    handoff = _load(ref)
    form = StatusForm()
    if not form.validate():
        return _detail(handoff, status_form=form, error="新しい状態を選んでください。", code=400)
    directory = current_app.config["DIRECTORY"]
    try:
        change_status(_db(), handoff, form.to_status.data, g.staff_user.username,
                      expected_status=form.expected_status.data or None, agency=form.agency.data or None,
                      note=form.note.data, agencies=directory.agencies.keys())
    except WorkflowError as exc:
        conflict = "ほかの職員" in str(exc)
        return _detail(get_handoff(_db(), ref), status_form=form, error=str(exc), code=409 if conflict else 400)
    _audit("status_change", target=ref, detail={"from": handoff["status"], "to": form.to_status.data,
                                                "agency": form.agency.data or None if form.to_status.data == "connected" else None})
    flash(f"状態を「{labels.STATUS_LABELS[form.to_status.data]}」にしました。", "info")
    return redirect(url_for("staff.detail", ref=ref) + "#history", code=303)


@bp.post("/h/<ref>/note")
def note(ref: str):
    handoff = _load(ref)
    form = NoteForm()
    if not form.validate():
        return _detail(handoff, note_form=form, error="メモを書いてください（2000文字以内）。", code=400)
    try:
        add_note(_db(), handoff, g.staff_user.username, form.note.data)
    except WorkflowError as exc:
        return _detail(handoff, note_form=form, error=str(exc), code=400)
    _audit("note_add", target=ref)
    flash("メモを追加しました。", "info")
    return redirect(url_for("staff.detail", ref=ref) + "#history", code=303)


@bp.post("/h/<ref>/assign")
def assign(ref: str):
    handoff = _load(ref)
    form = AssignForm()
    try:
        set_assignee(_db(), handoff, g.staff_user.username, form.assignee.data or "", _active_usernames())
    except WorkflowError as exc:
        return _detail(handoff, error=str(exc), code=400)
    _audit("assign", target=ref, detail={"assignee": form.assignee.data or None})
    flash("担当者を変更しました。", "info")
    return redirect(url_for("staff.detail", ref=ref) + "#history", code=303)


# ---------------------------------------------------------------- statistics

@bp.get("/stats")
def stats():
    try:
        weeks = min(104, max(1, int(request.args.get("weeks", "12"))))
    except ValueError:
        weeks = 12
    data = weekly_stats(_db(), weeks)
    categories = [f"{d.month}/{d.day}" for d in data["weeks"]]
    period = f"{labels.format_date(data['weeks'][0].isoformat())}の週から{weeks}週間"
    total = sum(data["totals"])
    field_series = [(labels.field_label(f), v) for f, v in data["by_field"].items()]
    channel_series = [(labels.CHANNEL_LABELS.get(c, c), v) for c, v in data["by_channel"].items()]

    def describe(series, what):
        parts = "、".join(f"{label} {sum(v)}件" for label, v in series if sum(v))
        return f"{period}の受付 合計{total}件を、週ごとに{what}別に積み上げた棒グラフ。内訳：{parts or 'なし'}。"

    field_chart = stacked_bars("chart-field", f"週ごとの受付件数（主な分野別）", describe(field_series, "主な分野"),
                               categories, field_series)
    channel_chart = stacked_bars("chart-channel", f"週ごとの受付件数（経路別）", describe(channel_series, "経路"),
                                 categories, channel_series)
    outcomes = outcome_stats.page_sections(outcome_stats.weekly_outcomes(_db(), weeks),
                                           current_app.config["DIRECTORY"], period)
    _audit("view_stats", detail={"weeks": weeks})
    return render_template("staff/stats.html", data=data, weeks=weeks, categories=categories, total=total,
                           field_series=field_series, channel_series=channel_series, field_chart=field_chart,
                           channel_chart=channel_chart, period=period, outcomes=outcomes)


@bp.get("/stats/outcomes.csv")
def outcomes_csv():
    """Counts of every conversation's outcome per week and channel (no personal data, so every
    staff member may download it): the city's 重層的支援体制整備事業 reporting."""
    try:
        weeks = min(outcome_stats.MAX_WEEKS, max(1, int(request.args.get("weeks", "12"))))
    except ValueError:
        weeks = 12
    body = outcome_stats.csv_bytes(outcome_stats.weekly_outcomes(_db(), weeks), current_app.config["DIRECTORY"])
    _audit("export_outcomes_csv", detail={"weeks": weeks})
    return Response(body, headers={"Content-Type": "text/csv; charset=utf-8",
                                   "Content-Disposition": f'attachment; filename="outcomes-{now():%Y%m%d}.csv"'})


# ---------------------------------------------------------------- admin: audit, retention, accounts

@bp.get("/audit")
@admin_required
def audit_log():
    page = _page()
    wanted = {k: (request.args.get(k) or "").strip()[:64] for k in ("username", "action", "target")}
    rows, total = audit.entries(_db(), page=page, **wanted)
    _audit("view_audit", detail=dict({k: v for k, v in wanted.items() if v}, page=page))
    return render_template("staff/audit.html", rows=rows, total=total, page=page, wanted=wanted,
                           pages=max(1, -(-total // audit.PAGE_SIZE)),
                           query={k: v for k, v in wanted.items() if v})


@bp.route("/purge", methods=["GET", "POST"])
@admin_required
def purge():
    form = PurgeForm(days=default_days()) if request.method == "GET" else PurgeForm()
    result = None
    if request.method == "POST":
        if form.validate():
            result = purge_text(_db(), form.days.data, username=g.staff_user.username)
            _audit("purge", detail={"days": form.days.data, "purged": result["purged"], "cutoff": result["cutoff"]})
            flash(f"{result['purged']}件の相談から、ご本人の言葉と連絡先を削除しました。件数の記録は残っています。", "info")
            return redirect(url_for("staff.purge"), code=303)
    days = form.days.data if isinstance(form.days.data, int) and form.days.data >= 1 else default_days()
    preview = purge_text(_db(), days, dry_run=True)
    if request.method == "GET":
        _audit("view_purge", detail={"days": days, "would_purge": preview["purged"]})
    code = 400 if request.method == "POST" else 200
    return render_template("staff/purge.html", form=form, preview=preview, days=days, result=result), code


@bp.get("/accounts")
@admin_required
def accounts():
    _audit("view_accounts")
    return render_template("staff/accounts.html", users=auth.list_users(_db()), moment=now(),
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
            auth.unlock(_db(), username)
        else:
            auth.set_disabled(_db(), username, action == "disable")
    except auth.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.accounts"), code=303)
    _audit(f"account_{action}", target=username)
    flash({"disable": "停止しました。", "enable": "再開しました。", "unlock": "ロックを解除しました。"}[action], "info")
    return redirect(url_for("staff.accounts"), code=303)
