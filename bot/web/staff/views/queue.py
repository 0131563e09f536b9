"""The queue of cases (``/staff/``) and the search by 受付番号 or phone number (``/staff/search``)."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from bot.core.store import get_handoff
from bot.web.staff.forms import SearchForm
from bot.web.staff.queries import (PAGE_SIZE, SEARCH_MAX_CHARS, Filters, count_without_consent, find_by_phone,
                                   list_handoffs, parse_search, status_counts)
from bot.web.staff.views.common import _agency_name, _audit, _db, _page, bp


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
