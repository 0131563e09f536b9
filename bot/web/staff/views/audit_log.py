"""The audit log page (``/staff/audit``, admins only)."""
from __future__ import annotations

from flask import render_template, request

from bot.web.staff import audit
from bot.web.staff.views.common import _audit, _db, _page, admin_required, bp


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
