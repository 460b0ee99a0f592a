"""The audit log: append-only in the database itself, searchable by admins and supervisors,
and every export (of cases, submissions, the log itself) writes a row."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from fengqiao.testing.plugin import login, submit_form

REQUEST = {"request_type": "help",  # 求助: 投诉/举报 hide the caller from the community
           "summary": "烧烤店油烟扰民", "content": "每晚十点后油烟很大。",
           "caller_name": "陈德福", "caller_mobile": "13800138000", "id_card": "339901195203140111"}


def _reveal(client, headers, number, field="/caller_mobile", reason="电话回访"):
    return client.post(f"/api/v1/cases/{number}/reveal", json={"field": field, "reason": reason}, headers=headers)


def test_rows_cannot_be_updated_or_deleted(app):
    from fengqiao import audit
    from fengqiao.db import db
    from fengqiao.models import AuditEntry

    with app.app_context():
        entry = audit.record("case.reveal", case_number="GD-1", field="/id_card", reason="核实")
        db.commit()  # the row joins the caller's transaction
        entry_id = entry.id
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.execute(sa.update(AuditEntry).where(AuditEntry.id == entry_id).values(reason="改掉"))
            db.flush()
        db.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.execute(sa.delete(AuditEntry).where(AuditEntry.id == entry_id))
        db.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.execute(sa.text("UPDATE audit_log SET actor_name = 'x'"))
        db.rollback()
        assert db.scalar(sa.select(AuditEntry.reason).where(AuditEntry.id == entry_id)) == "核实"
        db.add(AuditEntry(action="export.cases", actor_name="x", detail={}))  # inserts still work
        db.commit()
        assert db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 2


def test_exports_are_audited(app, client, bearer):
    submit_form(client, "livelihood-request", REQUEST, org="339901001001")
    assert client.get("/api/v1/cases/export.xlsx?state=accepted", headers=bearer("lingdao")).status_code == 200
    login(client, "shenli")
    assert client.get("/forms/livelihood-request/submissions.xlsx").status_code == 200
    from fengqiao.db import db
    from fengqiao.models import AuditEntry

    with app.app_context():
        rows = [(e.actor_name, e.action, e.record, e.detail) for e in db.scalars(
            sa.select(AuditEntry).where(AuditEntry.action.startswith("export.")).order_by(AuditEntry.id))]
    assert rows == [("lingdao", "export.cases", "cases", {"filters": {"state": "accepted"}, "view": "all"}),
                    ("shenli", "export.submissions", "form:livelihood-request", {"rows": 1})]


def test_admins_and_supervisors_search_the_log_others_may_not(app, client, bearer):
    numbers = [submit_form(client, "livelihood-request", REQUEST, org=org)["case_number"]
               for org in ("339901001001", "339901001002")]
    assert _reveal(client, bearer("shenli"), numbers[0]).status_code == 200
    assert _reveal(client, bearer("hanzhiming"), numbers[1], "/id_card", "低保核查").status_code == 200
    assert _reveal(client, bearer("lingdao"), numbers[0]).status_code == 403

    login(client, "ducha")
    page = client.get("/admin/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-action="case.reveal"') == 3 and "低保核查" in html and 'data-outcome="denied"' in html
    assert "13800138000" not in html and "339901195203140111" not in html  # never the values
    by_user = client.get("/admin/audit?user=hanzhiming").get_data(as_text=True)
    assert by_user.count('data-action="case.reveal"') == 1 and "低保核查" in by_user
    by_case = client.get(f"/admin/audit?case={numbers[0]}").get_data(as_text=True)
    assert by_case.count('data-action="case.reveal"') == 2
    today = client.get("/admin/audit?since=2020-01-01&until=2099-12-31&action=case.reveal").get_data(as_text=True)
    assert today.count("<tr data-action") == 3
    before = client.get("/admin/audit?until=2020-01-01").get_data(as_text=True)
    assert "没有符合条件的记录" in before
    bad = client.get("/admin/audit?since=2026-13-40&until=x")
    assert bad.status_code == 422 and "开始日期格式不正确" in bad.get_data(as_text=True)
    reversed_range = client.get("/admin/audit?since=2026-02-01&until=2026-01-01")
    assert reversed_range.status_code == 422 and "结束日期不能早于开始日期" in reversed_range.get_data(as_text=True)

    for username in ("shenli", "lingdao", "zhangmin"):  # staff, viewer, grid worker: no audit.view
        other = app.test_client()
        login(other, username)
        assert other.get("/admin/audit").status_code == 403
        assert other.get("/admin/audit/export.xlsx").status_code == 403


def test_the_log_paginates(app, client, login_as):
    from fengqiao import audit
    from fengqiao.web import admin_audit

    with app.app_context():
        for i in range(admin_audit.PAGE_SIZE + 3):
            audit.record("export.cases", record_ref=f"batch-{i}")
        from fengqiao.db import db

        db.commit()
    login_as("admin")
    first = client.get("/admin/audit?action=export.cases").get_data(as_text=True)  # not the accounts
    assert first.count("<tr data-action") == admin_audit.PAGE_SIZE and "batch-52" in first
    cursor = first.split("cursor=")[1].split('"')[0].split("&")[0]
    second = client.get(f"/admin/audit?action=export.cases&cursor={cursor}").get_data(as_text=True)
    assert second.count("<tr data-action") == 3 and "batch-0<" in second


def test_exporting_the_log_is_itself_audited(app, client, bearer, login_as):
    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    assert _reveal(client, bearer("shenli"), number).status_code == 200
    login_as("ducha")
    response = client.get(f"/admin/audit/export.xlsx?case={number}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [(r[1], r[2], r[4], r[6], r[7]) for r in rows] == [("shenli", "查看完整个人信息", number, "/caller_mobile", "电话回访")]
    again = client.get("/admin/audit?action=export.audit").get_data(as_text=True)
    assert again.count('data-action="export.audit"') == 1


def test_a_supervisor_of_a_street_sees_only_its_subtree(app, client, bearer):
    """Rows tied to a unit follow the audit scope; rows tied to none (exports) need the top."""
    from fengqiao import audit
    from fengqiao.db import db
    from fengqiao.models import Membership, OrgUnit, User

    numbers = [submit_form(client, "livelihood-request", REQUEST, org=org)["case_number"]
               for org in ("339901001001", "339901100201")]  # 澄湖街道, 石溪镇
    for number in numbers:
        assert _reveal(client, bearer("ducha"), number).status_code == 200
    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == "luojia"))
        street = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == "339901001"))
        db.add(Membership(user_id=user.id, org_id=street.id, role="supervisor"))
        db.commit()
        db.refresh(user)  # the session keeps loaded objects across commits
        audit.record("export.cases", user=user, record_ref="cases")
        seen = [e.case_number for e in db.scalars(audit.visible_entries(user))
                if not e.action.startswith(("account.", "token."))]  # its accounts' rows: test_account_audit
    assert seen == [numbers[0]]


def test_plugins_audit_through_the_sdk(app, client, demo):
    from fengqiao import sdk
    from fengqiao.db import db
    from fengqiao.models import AuditEntry

    number = submit_form(client, "livelihood-request", REQUEST, org="339901001001")["case_number"]
    with app.test_request_context("/p/hello/export", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                                  headers={"User-Agent": "pytest-agent"}):
        sdk.audit("hello.export", actor="shenli", case_number=number, field="/caller_name", reason="回访",
                  detail={"rows": 1})
        entry = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "hello.export"))
        assert (entry.action, entry.actor_name, entry.case_number) == ("hello.export", "shenli", number)
        assert (entry.client_addr, entry.user_agent, entry.field, entry.detail) == (
            "10.1.2.3", "pytest-agent", "/caller_name", {"rows": 1})
        assert entry.org_id is not None  # tied to the case's unit: its auditors see it
