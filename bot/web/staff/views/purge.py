"""Retention from the browser (``/staff/purge``, admins only); the same rule as ``flask staff purge``."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from bot.web.staff.forms import PurgeForm
from bot.web.staff.retention import default_days, purge_text
from bot.web.staff.views.common import _audit, _db, admin_required, bp


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
