"""Weekly statistics (``/staff/stats``) and the two CSV downloads: the cases (admins) and the
outcome counts (every member of staff; no personal data)."""
from __future__ import annotations

import csv
import io

from flask import Response, current_app, render_template, request

from bot.core.clock import now
from bot.web.staff import labels, outcome_stats
from bot.web.staff.queries import Filters, list_handoffs, weekly_stats
from bot.web.staff.stats_svg import stacked_bars
from bot.web.staff.views.common import _agency_name, _audit, _db, admin_required, bp



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
