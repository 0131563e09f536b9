"""The reply box on the 受付票 of a case whose resident chose 「このLINEで連絡してほしい」
(issue 15): ``POST /staff/h/<ref>/line`` sends the text to the resident through LINE's push API
(bot.web.line.followup), adds it to the append-only history with LINE's answer, writes the audit
log and says plainly whether LINE accepted it. Registered on the staff blueprint (CSRF and
login are checked by its guard; the roles that may write to residents are ``REPLY_ROLES``)."""
from __future__ import annotations

import uuid
from typing import Optional

from flask import current_app, flash, g, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from bot.web.line import contact
from bot.web.line.followup import REPLY_MAX_CHARS, FollowUp
from bot.core.store import get_handoff
from bot.web.staff.views.case import _detail, _load
from bot.web.staff.views.common import _audit, _db, bp, roles_required

REPLY_ROLES = ("staff", "admin")  # every role that works on cases; a new read-only role would not write
LINE_EXTENSION = "soudan_line"


class LineReplyForm(FlaskForm):
    text = TextAreaField("相談者へのメッセージ", validators=[DataRequired(), Length(max=REPLY_MAX_CHARS)])
    send_key = HiddenField()


def _followup() -> Optional[FollowUp]:
    channel = current_app.extensions.get(LINE_EXTENSION)
    return getattr(channel, "followup", None)


def _send_key(value: Optional[str]) -> str:
    """LINE's retry key (a UUID): the same one when the same form is sent again."""
    try:
        return str(uuid.UUID(value or ""))
    except ValueError:
        return str(uuid.uuid4())


def reply_box(handoff: dict) -> Optional[dict]:
    """What the 受付票 shows about LINE for this case, or None when LINE contact never applied."""
    wish = (handoff.get("summary") or {}).get("wish") or {}
    if handoff.get("channel") != "line" or not (wish.get("contact_method") == "LINE" or handoff.get("line_contact_at")):
        return None
    followup = _followup()
    reason = ""
    if handoff.get("status") == "closed":
        reason = "終結した相談です。LINEの連絡先は削除しました。"
    elif not handoff.get("line_contact"):
        reason = ("LINEの連絡先はありません（相談者が連絡をやめた、保存できなかった、または保存期間で削除しました）。"
                  "対応の記録を確かめてください。")
    elif followup is None:
        reason = ("この画面からは送れません。サーバーに LINE_CONTACT_KEY と LINE の設定"
                  "（LINE_CHANNEL_SECRET・LINE_CHANNEL_ACCESS_TOKEN）が必要です。")
    elif followup.user_of(handoff) is None:
        reason = "LINEの連絡先を読めません（保存したときと LINE_CONTACT_KEY が違います）。"
    posted = request.method == "POST" and request.endpoint == "staff.line_reply"
    return {
        "ready": not reason,
        "reason": reason,
        "texts": contact.message_texts(_db(), handoff["id"]),
        "send_key": _send_key(request.form.get("send_key")) if posted else str(uuid.uuid4()),
        "text": request.form.get("text", "") if posted else "",
        "head": followup.push_text(handoff["ref"], "").strip() if followup else "",
        "max_chars": REPLY_MAX_CHARS,
    }


@bp.context_processor
def _line_context():
    return {"line_box": reply_box, "LINE_EVENT_KINDS": (contact.LINE_OUT, contact.LINE_IN)}


@bp.post("/h/<ref>/line")
@roles_required(REPLY_ROLES, "この操作はできません。")
def line_reply(ref: str):
    handoff = _load(ref)
    form = LineReplyForm()
    if not form.validate():
        return _detail(handoff, error=f"送る文を書いてください（{REPLY_MAX_CHARS}文字以内）。", code=400)
    box = reply_box(handoff)
    followup = _followup()
    if not box or not box["ready"] or followup is None:
        _audit("line_reply", target=ref, detail={"accepted": False, "status": None, "refused": "no_contact"})
        return _detail(handoff, error="LINEでは送れません。" + (box["reason"] if box else "LINEで連絡する相談ではありません。"),
                       code=409)
    text = form.text.data.replace("\r\n", "\n").strip()
    result = followup.push(_db(), handoff, text, g.staff_user.username, _send_key(form.send_key.data))
    _audit("line_reply", target=ref, detail=result.as_detail())
    if not result.accepted:
        return _detail(get_handoff(_db(), ref), error=f"送れませんでした。{result.reason}。相談者には届いていません"
                                                      "（書いた文は下に残っています）。", code=502)
    flash(f"LINEで送りました。{result.reason}（相談者が読んだかどうかは分かりません）。", "info")
    return redirect(url_for("staff.detail", ref=ref) + "#line", code=303)
