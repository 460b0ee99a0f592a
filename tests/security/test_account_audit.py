"""Security round 2, account auditing: creating accounts (web, API, CLI), changing roles and
memberships, issuing and revoking API tokens, password and second-factor changes and the
administrator's levers all append a row to the audit log, so an admin cannot create a staff
account and reveal personal data through it unseen."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fengqiao.demo_data import DEMO_PASSWORD
from fengqiao.testing.plugin import api_token, csrf_token, login, submit_form

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NEW_PASSWORD = "Qiaodong#Lamp47"
REQUEST = {"request_type": "help", "summary": "烧烤店油烟扰民", "content": "每晚十点后油烟很大。",
           "caller_name": "陈德福", "caller_mobile": "13800138000", "id_card": "339901195203140111"}


def _rows(app, *prefixes: str):
    """(actor, action, record, org code, detail) of the audit rows whose action starts with a prefix."""
    from fengqiao.db import db
    from fengqiao.models import AuditEntry, OrgUnit

    with app.app_context():
        stmt = (sa.select(AuditEntry, OrgUnit.code).outerjoin(OrgUnit, AuditEntry.org_id == OrgUnit.id)
                .where(sa.or_(*(AuditEntry.action.startswith(p) for p in prefixes))).order_by(AuditEntry.id))
        return [(e.actor_name, e.action, e.record, code, e.detail) for e, code in db.execute(stmt)]


def test_creating_accounts_is_audited_on_the_web_and_the_api(app, client, login_as):
    login_as("admin")
    page = client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client, "/admin/users/new"), "username": "xinyuan", "display_name": "新员",
        "password": NEW_PASSWORD, "role": "staff", "org": "339901001001"})
    assert page.status_code == 302
    api = app.test_client().post("/api/v1/users", headers={"Authorization": f"Bearer {api_token(app.test_client(), 'admin')}"},
                                 json={"username": "xinyuan2", "password": NEW_PASSWORD, "role": "supervisor",
                                       "org": "339901001"})
    assert api.status_code == 201
    created = [r for r in _rows(app, "account.create") if r[0] != "system"]  # demo accounts: "system"
    assert created == [
        ("admin", "account.create", "user:xinyuan", "339901001001", {"roles": [{"role": "staff", "org": "339901001001"}]}),
        ("admin", "account.create", "user:xinyuan2", "339901001", {"roles": [{"role": "supervisor", "org": "339901001"}]}),
    ]
    demo = [r for r in _rows(app, "account.create") if r[0] == "system"]
    assert ("system", "account.create", "user:shenli", "339901001001",
            {"roles": [{"role": "staff", "org": "339901001001"}]}) in demo
    refused = app.test_client().post("/api/v1/users", headers={"Authorization": f"Bearer {api_token(app.test_client(), 'admin')}"},
                                     json={"username": "xinyuan", "password": NEW_PASSWORD, "role": "staff",
                                           "org": "339901001001"})
    assert refused.status_code == 422 and len(_rows(app, "account.create")) == len(created) + len(demo)


@SQLITE
def test_the_cli_users_create_is_audited(app, demo, tmp_path):
    from click.testing import CliRunner

    from fengqiao.cli import main

    env = {"FENGQIAO_DATABASE_URL": app.extensions["fengqiao.settings"].database_url, "FENGQIAO_MODE": "testing",
           "FENGQIAO_INSTANCE_PATH": str(tmp_path / "cli"), "FENGQIAO_PLUGINS": ""}
    result = CliRunner().invoke(main, ["users", "create", "--username", "wangwu", "--password", NEW_PASSWORD,
                                       "--role", "grid_worker", "--org", "339901001001001"], env=env)
    assert result.exit_code == 0, result.output
    [row] = [r for r in _rows(app, "account.create") if r[2] == "user:wangwu"]
    assert row[:4] == ("system", "account.create", "user:wangwu", "339901001001001")
    assert row[4]["roles"] == [{"role": "grid_worker", "org": "339901001001001"}]
    assert (row[4]["via"], row[4]["command"]) == ("cli", "users create") and "os_user" in row[4]


@SQLITE
def test_role_and_membership_changes_are_audited_whatever_the_code_path(app, demo):
    from fengqiao.db import db
    from fengqiao.models import Membership, OrgUnit, User

    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == "zhangmin"))
        community = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == "339901001001"))
        user.memberships.append(Membership(org=community, role="staff"))
        db.commit()
        granted = next(m for m in user.memberships if m.role == "staff")
        granted.role = "supervisor"
        db.commit()
        user.memberships.remove(granted)
        db.commit()
        user.active = False
        db.commit()
    assert _rows(app, "account.role", "account.disable") == [
        ("system", "account.role_grant", "user:zhangmin", "339901001001", {"role": "staff", "org": "339901001001"}),
        ("system", "account.role_change", "user:zhangmin", "339901001001",
         {"role": "supervisor", "org": "339901001001", "before": {"role": "staff", "org": "339901001001"}}),
        ("system", "account.role_revoke", "user:zhangmin", "339901001001", {"role": "supervisor", "org": "339901001001"}),
        ("system", "account.disable", "user:zhangmin", "339901001001001", {}),
    ]


@SQLITE
def test_tokens_issued_and_revoked_and_password_changes_are_audited(app, client, login_as):
    token = api_token(app.test_client(), "shenli")
    assert app.test_client().post("/api/v1/auth/revoke", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    api_token(app.test_client(), "shenli")
    login_as("shenli")
    changed = client.post("/account/password", data={
        "csrf_token": csrf_token(client, "/account/password"), "current_password": DEMO_PASSWORD,
        "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert changed.status_code == 302
    rows = [(actor, action, record, org) for actor, action, record, org, _ in _rows(app, "token.", "account.password")]
    assert [r[:2] for r in rows] == [("shenli", "token.issue"), ("shenli", "token.revoke"), ("shenli", "token.issue"),
                                     ("shenli", "account.password"), ("shenli", "token.revoke")]
    assert all(r[2].startswith(("token:", "user:shenli")) and r[3] == "339901001001" for r in rows)


@SQLITE
def test_an_admins_levers_are_audited(app, client, login_as):
    api_token(app.test_client(), "shenli")
    login_as("admin")
    for action in ("revoke_all", "end_sessions", "unlock"):
        done = client.post("/admin/users/shenli/security", data={
            "action": action, "csrf_token": csrf_token(client, "/admin/users/shenli")})
        assert done.status_code == 302
    actions = [(actor, action) for actor, action, *_ in _rows(app, "token.revoke", "account.sessions_end", "account.unlock")]
    assert actions == [("admin", "token.revoke"), ("admin", "account.sessions_end"), ("admin", "account.unlock")]


@SQLITE
def test_an_account_created_to_reveal_through_is_seen(app, client, login_as):
    """The admin creates a staff account and reveals through it: the county supervisor's audit
    page shows both the creation (by admin) and the reveal (by the new account)."""
    number = submit_form(app.test_client(), "livelihood-request", REQUEST, org="339901001001")["case_number"]
    login_as("admin")
    created = client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client, "/admin/users/new"), "username": "tmp-staff", "password": NEW_PASSWORD,
        "role": "staff", "org": "339901001001"})
    assert created.status_code == 302
    headers = {"Authorization": f"Bearer {api_token(app.test_client(), 'tmp-staff', NEW_PASSWORD)}"}
    revealed = app.test_client().post(f"/api/v1/cases/{number}/reveal", headers=headers,
                                      json={"field": "/caller_mobile", "reason": "回访"})
    assert revealed.status_code == 200, revealed.get_json()
    supervisor = app.test_client()
    assert login(supervisor, "ducha").status_code == 302
    html = supervisor.get("/admin/audit?user=admin&action=account.create").get_data(as_text=True)
    assert html.count('data-action="account.create"') == 1 and "user:tmp-staff" in html and "创建账户" in html
    own = supervisor.get("/admin/audit?user=tmp-staff").get_data(as_text=True)
    assert 'data-action="token.issue"' in own and 'data-action="case.reveal"' in own
