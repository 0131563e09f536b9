"""Japanese labels for the staff pages (one place, so the queue, detail, CSV and stats agree)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from bot.core.directory import get_directory
from bot.core.fields import (ALL_FIELDS, CONSENT_LABELS, FIELD_LABELS, URGENCY_LABELS,  # noqa: F401 (used by templates)
                        URGENCY_LEVELS, WEEKDAY_LABELS, WEEKDAYS)

LATE_DANGER_LABEL = "受付後に危険のサイン"
UNKNOWN_FIELD_LABEL = "その他の分野"


def crisis_label(kind: Optional[str]) -> str:
    """Kinds of danger in Japanese, from directory/hotlines.yml (never the raw word)."""
    return get_directory().crisis_label(kind or "general")


STATUSES = ("new", "in_progress", "connected", "closed")
STATUS_LABELS = {"new": "新規", "in_progress": "対応中", "connected": "つないだ", "closed": "終結"}
# Allowed moves: 新規 -> 対応中 -> つないだ (to an agency) -> 終結; a case can be taken up again.
TRANSITIONS = {
    "new": ("in_progress",),
    "in_progress": ("connected", "closed"),
    "connected": ("closed", "in_progress"),
    "closed": ("in_progress",),
}
URGENCIES = tuple(reversed(URGENCY_LEVELS))  # the most urgent first
CHANNELS = ("web", "line")
CHANNEL_LABELS = {"web": "ウェブ", "line": "LINE"}
ROLE_LABELS = {"staff": "職員", "admin": "管理者"}
FIELDS = ALL_FIELDS
NO_FIELD = "none"
NO_FIELD_LABEL = "分野なし"
EVENT_LABELS = {"status": "状態の変更", "note": "メモ", "assign": "担当の変更", "purge": "保存期間による削除",
                "danger": "危険のサイン（相談者の書き込み）", "case": "相談内容の更新（チャット）",
                "line_out": "LINEで送信（職員から）", "line_in": "LINEで返事（相談者から）",
                "line_contact": "LINEの連絡先"}
AUDIT_ACTION_LABELS = {
    "login_ok": "ログイン",
    "login_failed": "ログイン失敗",
    "login_locked": "ロック中のログイン",
    "account_locked": "アカウントをロック",
    "address_locked": "接続元をロック",
    "logout": "ログアウト",
    "session_expired": "時間切れでログアウト",
    "view_queue": "一覧を表示",
    "view_handoff": "受付票を表示",
    "search": "受付番号・電話番号で検索",
    "view_stats": "統計を表示",
    "view_audit": "操作記録を表示",
    "view_accounts": "アカウント一覧を表示",
    "view_purge": "保存期間の画面を表示",
    "export_csv": "CSVを出力",
    "export_outcomes_csv": "会話の結果のCSVを出力",
    "status_change": "状態を変更",
    "note_add": "メモを追加",
    "assign": "担当を変更",
    "purge": "保存期間を過ぎた記録を削除",
    "account_create": "アカウントを作成",
    "account_disable": "アカウントを停止",
    "account_enable": "アカウントを再開",
    "account_unlock": "ロックを解除",
    "address_unlock": "接続元のロックを解除",
    "account_password": "パスワードを変更",
    "denied": "権限のない操作",
    "line_reply": "LINEで相談者に送信",
}
CONSENT_VIEWS = ("no", "all")  # the working queue (no value) leaves out 同意なし
FILTER_LABELS = {"status": "状態", "consent": "同意", "urgency": "緊急度", "field": "分野", "channel": "経路",
                 "date_from": "受付日（から）", "date_to": "受付日（まで）"}


def field_label(code: Optional[str]) -> str:
    if not code or code == NO_FIELD:
        return NO_FIELD_LABEL
    return FIELD_LABELS.get(code, UNKNOWN_FIELD_LABEL)


def _format(value: Optional[str], with_time: bool) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    day = f"{moment.year}年{moment.month}月{moment.day}日"
    return f"{day}（{WEEKDAY_LABELS[WEEKDAYS[moment.weekday()]]}）{moment:%H:%M}" if with_time else day


def format_datetime(value: Optional[str]) -> str:
    """``2026-11-30T10:00:00+09:00`` -> ``2026年11月30日（月）10:00``; unreadable values as they are."""
    return _format(value, with_time=True)


def format_date(value: Optional[str]) -> str:
    return _format(value, with_time=False)
