"""What staff do: queue, 相談受付票, workflow with append-only history, CSV, audit, retention, stats."""
from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from bot.web.staff.retention import default_days
from tests.staff.conftest import ADMIN, STAFF, audit_rows, csrf_token, login, make_handoff


def status_of(db, ref):
    return next(iter(db.query("SELECT * FROM handoffs WHERE ref = ?", [ref])))


def post(client, url, **data):
    return client.post(url, data=dict(data, csrf_token=csrf_token(client, "/staff/")))


def test_queue_urgent_first_newest_first_and_filters(client, accounts, db, clock):
    old_urgent = make_handoff(db, urgency="high", urgent=True, fields=["dv_abuse"], channel="line")
    clock.advance(days=1)
    older = make_handoff(db, fields=["child"])
    clock.advance(days=1)
    newest = make_handoff(db, fields=["poverty", "elderly"], urgency="medium")
    as_staff = client
    assert login(client, *STAFF).status_code == 303
    page = as_staff.get("/staff/").get_data(as_text=True)
    positions = [page.index(ref) for ref in (old_urgent, newest, older)]
    assert positions == sorted(positions)
    assert "至急" in page
    assert "新規 <b>3</b>件" in page
    assert audit_rows(db, "view_queue")[-1]["username"] == STAFF[0]

    def refs(query):
        text = as_staff.get("/staff/?" + query).get_data(as_text=True)
        return {r for r in (old_urgent, older, newest) if r in text}

    assert refs("urgency=high") == {old_urgent}
    assert refs("channel=line") == {old_urgent}
    assert refs("field=elderly") == {newest}  # any field, not only the main one
    assert refs("field=child") == {older}
    assert refs("date_from=2026-12-01") == {older, newest}
    assert refs("date_to=2026-11-30") == {old_urgent}
    assert refs("status=closed") == set()
    assert refs("status=open") == {old_urgent, older, newest}
    assert refs("field=<script>") == {old_urgent, older, newest}  # unknown values are ignored
    # A closed urgent case is no longer pinned on top.
    as_admin_db = db
    as_admin_db.execute("UPDATE handoffs SET status = 'closed' WHERE ref = ?", [old_urgent])
    as_admin_db.conn.commit()
    page = as_staff.get("/staff/").get_data(as_text=True)
    assert page.index(newest) < page.index(older) < page.index(old_urgent)


def test_detail_is_laid_out_like_the_intake_sheet(as_staff, db):
    ref = make_handoff(db, urgency="high", phrases=["もう限界"], text="母が<script>alert(1)</script>心配です")
    response = as_staff.get(f"/staff/h/{ref}")
    page = response.get_data(as_text=True)
    for heading in ("1. 受付", "2. 相談している人", "3. 困りごとのある方", "4. 世帯", "5. 相談内容", "6. 緊急度",
                    "7. 同意", "8. 連絡の希望", "9. 提案した相談先", "ご本人の言葉"):
        assert heading in page, heading
    assert "家族（子）" in page and "80代以上" in page and "一人暮らし" in page
    assert "◎ 高齢・介護（主な分野）" in page and "ひきこもり" in page
    assert "「もう限界」" in page and "同意あり" in page and "北斗花子" in page and "090-1111-2222" in page
    assert "複数の分野にまたがるため" in page and "北斗市総合相談支援センター" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    row = audit_rows(db, "view_handoff")[-1]
    assert row["target"] == ref and row["username"] == STAFF[0]


def test_detail_without_consent_shows_only_the_minimum(as_staff, db):
    ref = make_handoff(db, consent=False, text="これは保存されない")
    page = as_staff.get(f"/staff/h/{ref}").get_data(as_text=True)
    assert "これは保存されない" not in page and "北斗花子" not in page
    assert "同意がないため、記録していません" in page and "同意なし" in page
    assert as_staff.get("/staff/h/000-0000").status_code == 404
    assert as_staff.get("/staff/h/not-a-ref").status_code == 404


def test_status_workflow_and_append_only_history(as_staff, db):
    ref = make_handoff(db)
    url = f"/staff/h/{ref}/status"
    # 新規 cannot jump to つないだ.
    response = post(as_staff, url, to_status="connected", agency="kakehashi", expected_status="new")
    assert response.status_code == 400 and status_of(db, ref)["status"] == "new"
    assert post(as_staff, url, to_status="in_progress", expected_status="new", note="本人に電話。").status_code == 303
    # つないだ needs an agency from the directory.
    response = post(as_staff, url, to_status="connected", agency="", expected_status="in_progress")
    assert response.status_code == 400 and "つないだ先" in response.get_data(as_text=True)
    response = post(as_staff, url, to_status="connected", agency="nowhere", expected_status="in_progress")
    assert response.status_code == 400
    assert post(as_staff, url, to_status="connected", agency="kakehashi", expected_status="in_progress").status_code == 303
    # Someone else's change meanwhile: refused, nothing written.
    response = post(as_staff, url, to_status="in_progress", expected_status="in_progress")
    assert response.status_code == 409 and "ほかの職員" in response.get_data(as_text=True)
    assert post(as_staff, url, to_status="closed", expected_status="connected").status_code == 303
    assert post(as_staff, f"/staff/h/{ref}/note", note="終結の報告を受けた").status_code == 303
    assert post(as_staff, f"/staff/h/{ref}/assign", assignee=STAFF[0]).status_code == 303
    assert post(as_staff, f"/staff/h/{ref}/assign", assignee="nobody").status_code == 400
    assert post(as_staff, f"/staff/h/{ref}/note", note="").status_code == 400
    assert post(as_staff, f"/staff/h/{ref}/note", note="あ" * 2001).status_code == 400
    assert post(as_staff, f"/staff/h/{ref}/note", note="い" * 2000).status_code == 303

    row = status_of(db, ref)
    assert (row["status"], row["connected_agency"], row["assignee"]) == ("closed", "kakehashi", STAFF[0])
    history = [dict(e) for e in db.query("SELECT * FROM handoff_events ORDER BY id")]
    assert [(e["kind"], e["from_status"], e["to_status"]) for e in history] == [
        ("status", "new", "in_progress"), ("status", "in_progress", "connected"),
        ("status", "connected", "closed"), ("note", None, None), ("assign", None, None), ("note", None, None)]
    assert history[0]["note"] == "本人に電話。" and history[1]["agency"] == "kakehashi"
    assert all(e["username"] == STAFF[0] and e["at"] for e in history)
    page = as_staff.get(f"/staff/h/{ref}").get_data(as_text=True)
    assert "本人に電話。" in page and "地域包括支援センターかけはし" in page and "終結の報告を受けた" in page
    assert [r["detail"] for r in audit_rows(db, "status_change")][0] == json.dumps(
        {"agency": None, "from": "new", "to": "in_progress"}, sort_keys=True)
    # The history cannot be rewritten, even directly in the database.
    with pytest.raises(sqlite3.DatabaseError):
        db.execute("UPDATE handoff_events SET note = 'changed' WHERE id = ?", [history[0]["id"]])
    with pytest.raises(sqlite3.DatabaseError):
        db.execute("DELETE FROM handoff_events")
    with pytest.raises(sqlite3.DatabaseError):
        db.execute("DELETE FROM audit_log")
    db.conn.rollback()
    assert len(list(db.query("SELECT * FROM handoff_events"))) == 6


def test_export_csv_for_admin(as_admin, db):
    first = make_handoff(db, fields=["elderly"], channel="line", text="=HYPERLINK(\"x\")")
    second = make_handoff(db, fields=["child"])
    response = as_admin.get("/staff/export.csv?channel=line")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["受付番号", "受付日時", "経路"]
    assert [r[0] for r in rows[1:]] == [first]
    assert rows[1][2] == "LINE" and rows[1][6] == "高齢・介護"
    assert second not in raw.decode("utf-8-sig")
    assert "HYPERLINK" not in raw.decode("utf-8-sig") and "北斗花子" not in raw.decode("utf-8-sig")
    export = audit_rows(db, "export_csv")
    assert len(export) == 1 and export[0]["username"] == ADMIN[0]
    assert json.loads(export[0]["detail"]) == {"channel": "line", "rows": 1}


def test_audit_log_records_views_and_is_readable_by_admins(as_admin, db):
    ref = make_handoff(db)
    as_admin.get("/staff/")
    as_admin.get(f"/staff/h/{ref}")
    as_admin.get("/staff/stats")
    as_admin.get("/staff/export.csv")
    actions = [r["action"] for r in audit_rows(db)]
    assert actions[:1] == ["login_ok"]
    for action in ("view_queue", "view_handoff", "view_stats", "export_csv"):
        assert action in actions
    assert all(r["at"] and r["ip"] for r in audit_rows(db))
    page = as_admin.get(f"/staff/audit?target={ref}").get_data(as_text=True)
    assert "受付票を表示" in page and ADMIN[0] in page
    assert "一覧を表示" not in page.split("<tbody>")[1]


def purge(app, *args):
    """``flask --app bot.web staff purge`` through the app's CLI runner."""
    return app.test_cli_runner().invoke(args=["staff", "purge", *args])


def test_retention_removes_text_but_keeps_counts(app, client, accounts, db, clock):
    old = make_handoff(db, text="一年以上前の相談内容", fields=["poverty"])
    old_no_consent = make_handoff(db, consent=False, fields=["child"])
    clock.advance(days=300)
    recent = make_handoff(db, text="最近の相談内容", fields=["elderly"])
    clock.advance(days=100)
    as_admin = client
    assert login(client, *ADMIN).status_code == 303
    counts_before = as_admin.get("/staff/stats?weeks=104").get_data(as_text=True).split('id="table-field"')[1]
    total_before = next(iter(db.query("SELECT count(*) AS n FROM handoffs")))["n"]

    result = purge(app, "--days", "365", "--dry-run")
    assert result.exit_code == 0 and "would remove residents' words from 1 handoff" in result.stdout
    assert status_of(db, old)["resident_text"] == "一年以上前の相談内容"
    result = purge(app, "--days", "365")
    assert result.exit_code == 0 and "removed residents' words from 1 handoff" in result.stdout

    purged = status_of(db, old)
    assert purged["resident_text"] is None and purged["text_purged_at"]
    summary = json.loads(purged["summary"])
    assert set(summary) <= {"reception", "fields", "urgency", "consent", "consent_label", "suggested_agency"}
    assert "北斗花子" not in purged["summary"] and summary["fields"]["all"] == ["poverty"]
    assert (purged["channel"], purged["urgency"], purged["main_field"], purged["created_at"][:4]) == (
        "web", "low", "poverty", "2026")
    assert status_of(db, recent)["resident_text"] == "最近の相談内容"
    assert status_of(db, old_no_consent)["text_purged_at"] is None
    assert next(iter(db.query("SELECT count(*) AS n FROM handoffs")))["n"] == total_before == 3
    counts_after = as_admin.get("/staff/stats?weeks=104").get_data(as_text=True).split('id="table-field"')[1]
    assert counts_after == counts_before
    assert [e["kind"] for e in db.query("SELECT kind FROM handoff_events")] == ["purge"]
    assert audit_rows(db, "purge")[0]["username"] == "system:retention"
    page = as_admin.get(f"/staff/h/{old}").get_data(as_text=True)
    assert "一年以上前の相談内容" not in page and "保存期間を過ぎたため削除しました" in page
    # Running again changes nothing.
    result = purge(app, "--days", "365")
    assert result.exit_code == 0 and "from 0 handoff" in result.stdout


def test_retention_days_from_environment(app, monkeypatch, db, clock):
    ref = make_handoff(db, text="三十日前")
    clock.advance(days=31)
    monkeypatch.setenv("RETENTION_DAYS", "30")
    assert default_days() == 30
    assert purge(app).exit_code == 0
    assert status_of(db, ref)["resident_text"] is None
    monkeypatch.setenv("RETENTION_DAYS", "soon")
    assert default_days() == 365


def test_purge_from_the_admin_page(client, accounts, db, clock):
    ref = make_handoff(db, text="古い")
    clock.advance(days=10)
    as_admin = client
    assert login(client, *ADMIN).status_code == 303
    page = as_admin.get("/staff/purge").get_data(as_text=True)
    assert "保存期間" in page
    assert post(as_admin, "/staff/purge", days="5").status_code == 400  # confirmation missing
    assert status_of(db, ref)["resident_text"] == "古い"
    assert post(as_admin, "/staff/purge", days="5", confirm="y").status_code == 303
    assert status_of(db, ref)["resident_text"] is None
    row = audit_rows(db, "purge")[-1]
    assert row["username"] == ADMIN[0] and json.loads(row["detail"])["purged"] == 1


def test_statistics_page_has_accessible_svg_and_tables(client, accounts, db, clock):
    make_handoff(db, fields=["elderly"], channel="web")
    make_handoff(db, fields=["elderly", "child"], channel="line")
    clock.advance(days=7)
    make_handoff(db, fields=["child"], channel="line")
    make_handoff(db, fields=[], channel="web")
    as_staff = client
    assert login(client, *STAFF).status_code == 303
    page = as_staff.get("/staff/stats?weeks=4").get_data(as_text=True)
    # 2 charts of handoffs, 3 of conversation outcomes (no crisis answer in these weeks: a sentence, no chart)
    assert page.count('<svg') == 5 and page.count('role="img"') == 5
    assert '<title id="chart-field-title">' in page and '<desc id="chart-channel-desc">' in page
    assert "合計4件" in page
    field_table = page.split('id="table-field"')[1].split("</table>")[0]
    assert "高齢・介護" in field_table and "子ども・子育て・妊娠" in field_table and "分野なし" in field_table
    channel_table = page.split('id="table-channel"')[1].split("</table>")[0]
    assert "<tfoot><tr><th scope=\"row\">合計</th><td>2</td><td>2</td><td>4</td></tr></tfoot>" in channel_table
    assert "<script" not in page
