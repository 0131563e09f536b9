"""Weekly statistics of conversation outcomes for the stats page and the city's CSV
(重層的支援体制整備事業の報告用). Reads ``conversation_outcomes`` (written by ``bot.web.outcomes``):
counts only, no words, no sender, no reference number.

A conversation is one sender's talk within one day in Japan (see ``bot.web.outcomes``). One
conversation can have several outcomes (an agency card, then 総合相談支援センター and a handoff):
it counts once in 会話数 and once under each agency or kind of danger it got. Labels come from the
directory data (agency names, ``Directory.crisis_label``), never raw slugs.
"""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, timedelta
from typing import Dict, List, Sequence, Tuple

from bot.core.clock import now
from bot.core.directory import Directory
from bot.web.staff.labels import CHANNEL_LABELS, CHANNELS, format_date
from bot.web.staff.queries import week_start
from bot.web.staff.stats_svg import stacked_bars

MAX_WEEKS = 104
# Handoff of a conversation: keys of the counters and their Japanese labels (a partition).
HANDOFFS = (("consent", "引き継ぎ（同意あり・受付番号）"), ("no_consent", "引き継ぎ（同意なし・匿名の記録）"),
            ("none", "引き継ぎなし"))
CONVERSATIONS = "conversations"
CRISIS_ANY = "crisis_any"
CLARIFIED = "clarified"
CLARIFY_ROUNDS = "clarify_rounds"
UNDECIDED = "undecided"
OUT_OF_SCOPE = "out_of_scope"
OTHER_LANGUAGE = "other_language"
# Summary columns after 会話数 and the handoffs (key, label), for the page's table and the CSV.
SUMMARY = ((CRISIS_ANY, "危険の答えをした会話"), (CLARIFIED, "確認の質問をした会話"),
           (CLARIFY_ROUNDS, "確認の質問の回数"), (UNDECIDED, "決めきれず総合相談支援センターを案内した会話"),
           (OUT_OF_SCOPE, "対象外の質問に答えた会話"), (OTHER_LANGUAGE, "ほかの言語で案内した会話"))


def _agency_key(slug: str) -> str:
    return "agency:" + slug


def _crisis_key(kind: str) -> str:
    return "crisis:" + kind


def weekly_outcomes(db, weeks: int) -> dict:
    """Counters per week (Monday to Sunday, JST) and channel for the last ``weeks`` weeks
    including this one: ``{"weeks": [monday, ...], "cells": {(week index, channel): Counter}}``."""
    weeks = max(1, min(weeks, MAX_WEEKS))
    last = week_start(now().date())
    starts = [last - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    index = {s: i for i, s in enumerate(starts)}
    cells: Dict[Tuple[int, str], Counter] = {(i, c): Counter() for i in range(weeks) for c in CHANNELS}
    rows = db.execute("SELECT day, channel, agencies, crisis_kinds, clarify_rounds, undecided, out_of_scope, "
                      "other_language, handoff FROM conversation_outcomes WHERE day >= ?", [starts[0].isoformat()]).fetchall()
    for day, channel, agencies, kinds, rounds, undecided, out_of_scope, other_language, handoff in rows:
        try:
            i = index.get(week_start(date.fromisoformat(day)))
        except (TypeError, ValueError):
            continue
        if i is None or channel not in CHANNELS:
            continue
        cell = cells[(i, channel)]
        cell[CONVERSATIONS] += 1
        cell[handoff or "none"] += 1
        for slug in set(json.loads(agencies or "[]")):
            cell[_agency_key(slug)] += 1
        kinds = set(json.loads(kinds or "[]"))
        cell[CRISIS_ANY] += 1 if kinds else 0
        for kind in kinds:
            cell[_crisis_key(kind)] += 1
        cell[CLARIFIED] += 1 if rounds else 0
        cell[CLARIFY_ROUNDS] += rounds or 0
        cell[UNDECIDED] += 1 if undecided else 0
        cell[OUT_OF_SCOPE] += 1 if out_of_scope else 0
        cell[OTHER_LANGUAGE] += 1 if other_language else 0
    return {"weeks": starts, "cells": cells}


def week_totals(data: dict) -> List[Counter]:
    """Each week's counters summed over the channels."""
    totals = [Counter() for _ in data["weeks"]]
    for (i, _channel), cell in data["cells"].items():
        totals[i].update(cell)
    return totals


def agency_columns(directory: Directory, short: bool = False) -> List[Tuple[str, str]]:
    """(counter key, label) for every agency in the directory's order: the full name (the CSV), or
    the short one (the page's chart legend and table, where long names would overlap)."""
    return [(_agency_key(slug), agency.short_name if short else agency.name)
            for slug, agency in directory.agencies.items()]


def crisis_columns(directory: Directory) -> List[Tuple[str, str]]:
    """(counter key, label) for every kind of danger in the directory's order."""
    return [(_crisis_key(kind), directory.crisis_label(kind)) for kind in directory.kind_order]


def _series(totals: Sequence[Counter], columns, keep_empty: bool = True):
    series = [(label, [t[key] for t in totals]) for key, label in columns]
    return series if keep_empty else [(label, values) for label, values in series if any(values)]


def page_sections(data: dict, directory: Directory, period: str) -> dict:
    """What the stats page shows: a summary table and, for each view, a chart with its table."""
    totals = week_totals(data)
    categories = [f"{d.month}/{d.day}" for d in data["weeks"]]
    conversations = sum(t[CONVERSATIONS] for t in totals)
    channel_series = [(CHANNEL_LABELS[c], [data["cells"][(i, c)][CONVERSATIONS] for i in range(len(totals))])
                      for c in CHANNELS]
    handoff_series = _series(totals, HANDOFFS)
    agency_series = _series(totals, agency_columns(directory, short=True))
    crisis_series = _series(totals, crisis_columns(directory), keep_empty=False)

    def section(key, heading, note, chart_title, series, what, unit, total_label):
        """One view: a stacked bar chart, described in words, and the same numbers as a table."""
        parts = "、".join(f"{label} {sum(v)}{unit}" for label, v in series if sum(v))
        description = f"{period}の{what}を週ごとに積み上げた棒グラフ。内訳：{parts or 'なし'}。"
        return {"id": f"outcome-{key}", "heading": heading, "note": note,
                "chart": stacked_bars(f"chart-outcome-{key}", chart_title, description, categories, series),
                "series": series, "total_label": total_label}

    sections = [
        section("channel", "会話の数（経路別）", "1つの会話は1回だけ数えます。", "週ごとの会話の数（経路別）",
                channel_series, f"会話の数（合計{conversations}件）", "件", "会話の数"),
        section("handoff", "引き継ぎの有無",
                "同意ありは受付番号を伝えた会話、同意なしは内容を記録せず件数だけを残した会話です。",
                "週ごとの会話の数（引き継ぎの有無）", handoff_series, "会話の数", "件", "会話の数"),
        section("agency", "案内した相談先",
                "相談先のカードを見せた会話の数です。1つの会話で2つの相談先を案内したときは、それぞれに数えます。",
                "週ごとの相談先の案内（相談先別）", agency_series, "相談先の案内", "回", "案内の合計"),
        section("crisis", "危険のときの答え（種類別）",
                "緊急の連絡先を最初に示した会話の数です。1つの会話で2つの種類に答えたときは、それぞれに数えます。",
                "週ごとの危険のときの答え（種類別）", crisis_series, "危険のときの答え", "回", "答えの合計"),
    ]
    summary_columns = [("会話の数", CONVERSATIONS)] + [(label, key) for key, label in HANDOFFS] + \
        [(label, key) for key, label in SUMMARY]
    summary_rows = [(format_date(d.isoformat()), [t[key] for _, key in summary_columns])
                    for d, t in zip(data["weeks"], totals)]
    summary_total = [sum(row[1][n] for row in summary_rows) for n in range(len(summary_columns))]
    return {"conversations": conversations, "sections": sections, "categories": categories,
            "week_labels": [format_date(d.isoformat()) for d in data["weeks"]],
            "summary_columns": [label for label, _ in summary_columns], "summary_rows": summary_rows,
            "summary_total": summary_total}


def csv_header(directory: Directory) -> List[str]:
    return (["週（月曜日）", "週（日曜日）", "経路", "会話の数"] + [label for _, label in HANDOFFS]
            + [label for _, label in SUMMARY] + [f"案内：{label}" for _, label in agency_columns(directory)]
            + [f"危険：{label}" for _, label in crisis_columns(directory)])


def csv_bytes(data: dict, directory: Directory) -> bytes:
    """One row per week and channel (every week, every channel, zeros included), Japanese
    headers, UTF-8 with BOM so Excel reads it."""
    keys = ([CONVERSATIONS] + [key for key, _ in HANDOFFS] + [key for key, _ in SUMMARY]
            + [key for key, _ in agency_columns(directory)] + [key for key, _ in crisis_columns(directory)])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_header(directory))
    for i, monday in enumerate(data["weeks"]):
        for channel in CHANNELS:
            cell = data["cells"][(i, channel)]
            writer.writerow([monday.isoformat(), (monday + timedelta(days=6)).isoformat(),
                             CHANNEL_LABELS[channel]] + [cell[key] for key in keys])
    return buffer.getvalue().encode("utf-8-sig")
