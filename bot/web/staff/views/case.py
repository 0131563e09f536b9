"""One case (``/staff/h/<ref>``, the 相談受付票) and its workflow: status, note, assignee."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, url_for

from bot.core.store import get_handoff, is_valid_reference
from bot.web.staff import accounts, labels
from bot.web.staff.forms import AssignForm, NoteForm, StatusForm
from bot.web.staff.queries import events
from bot.web.staff.workflow import NOTE_MAX_CHARS, Conflict, WorkflowError, add_note, change_status, set_assignee
from bot.web.staff.views.common import _agency_name, _audit, _db, bp

def _load(ref: str) -> dict:
    handoff = get_handoff(_db(), ref) if is_valid_reference(ref) else None
    if handoff is None:
        abort(404)
    return handoff


def _active_usernames():
    return [u.username for u in accounts.list_users(_db()) if not u.disabled]


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
    except Conflict as exc:  # someone else moved the case meanwhile
        return _detail(get_handoff(_db(), ref), status_form=form, error=str(exc), code=409)
    except WorkflowError as exc:
        return _detail(get_handoff(_db(), ref), status_form=form, error=str(exc), code=400)
    _audit("status_change", target=ref, detail={"from": handoff["status"], "to": form.to_status.data,
                                                "agency": form.agency.data or None if form.to_status.data == "connected" else None})
    flash(f"状態を「{labels.STATUS_LABELS[form.to_status.data]}」にしました。", "info")
    return redirect(url_for("staff.detail", ref=ref) + "#history", code=303)


@bp.post("/h/<ref>/note")
def note(ref: str):
    handoff = _load(ref)
    form = NoteForm()
    if not form.validate():
        return _detail(handoff, note_form=form, error=f"メモを書いてください（{NOTE_MAX_CHARS}文字以内）。", code=400)
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
