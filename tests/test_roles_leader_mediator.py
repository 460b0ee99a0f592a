"""The built-in roles ``leader`` (领导/书记) and ``mediator`` (调解员): they exist with labels and
permissions, admins grant them (page, API, CLI), the street's leader approves 吹哨 and 延期
but never their own request, and a mediator works disputes without closing another
mediator's case or touching other case types."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from fengqiao.accounts.roles import ROLE_LABELS, ROLE_PERMISSIONS, TYPE_BOUND_ROLES, permissions_for
from fengqiao.cases.workflow import ROLE_NAMES, check_case_type
from fengqiao.db import db
from fengqiao.models import Membership, User
from fengqiao.testing.plugin import csrf_token, login, submit_form

LANYUE = "339901001001"  # 揽月社区: leader gaojie, mediator tangmin, staff shenli
CHENGHU = "339901001"  # 澄湖街道: leader zhoujian, mediator qianli, dispatcher luojia
WHISTLE = {"summary": "澄湖老街违章搭建阻塞消防通道", "address": "澄湖老街12号", "category": "enforcement",
           "description": "商户在消防通道搭建雨棚，社区多次劝说无效，需执法与住建部门联合处置。"}
DISPUTE = {"dispute_type": "邻里纠纷", "summary": "楼上漏水致楼下吊顶受损", "facts": "楼上卫生间漏水，楼下吊顶受损。",
           "source": "当事人申请", "risk_level": "low", "all_parties_agree": True,
           "parties": [{"name": "钱芳", "role": "申请人"}, {"name": "李志刚", "role": "被申请人"}]}
INCIDENT = {"summary": "揽月花园3幢楼道堆物堵塞消防通道", "category": "安全隐患",
            "description": "3幢2单元楼道堆放纸箱和旧家具。", "location": {"address": "揽月花园3幢2单元"}}
ENFORCEMENT = "339901902"


def _case(client, headers, number):
    response = client.get(f"/api/v1/cases/{number}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _act(client, headers, number, action, **body):
    body.setdefault("version", client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["version"])
    return client.post(f"/api/v1/cases/{number}/actions/{action}", json=body, headers=headers)


def _ready_for_mediation(client, bearer, number):
    """排查 by the community's mediator, 受理分流 by its staff: the case awaits 开始调解."""
    screened = _act(client, bearer("tangmin"), number, "screen",
                    fields={"screening": "application", "risk_level": "low", "mediable": True})
    assert screened.status_code == 200, screened.get_data(as_text=True)
    accepted = _act(client, bearer("shenli"), number, "accept", fields={"mediation_body": "village"})
    assert accepted.status_code == 200, accepted.get_data(as_text=True)


def _memberships(app, username):
    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == username))
        return {(m.role, m.org.code) for m in db.scalars(sa.select(Membership).where(Membership.user_id == user.id))}


# ---- the roles themselves ------------------------------------------------------------------


def test_the_roles_exist_with_labels_and_permissions():
    assert ROLE_LABELS["leader"] == "领导/书记" and ROLE_LABELS["mediator"] == "调解员"
    assert {"leader", "mediator"} <= set(ROLE_NAMES)
    # the leader works like staff (and answers to residents: may reveal, audited) …
    assert ROLE_PERMISSIONS["leader"] == ROLE_PERMISSIONS["staff"]
    assert {"cases.view", "cases.act", "metrics.view", "cases.reveal"} <= permissions_for("leader")
    # … the mediator handles disputes with masked data and configures nothing
    assert permissions_for("mediator") == {"orgs.view", "cases.view", "cases.act"}
    assert TYPE_BOUND_ROLES == {"mediator"}
    # case types may name them; unknown roles stay refused
    flow = {"key": "x_type", "title": "测试", "prefix": "XT", "workflow": {
        "initial": "a", "states": [{"key": "a", "title": "甲"}, {"key": "b", "title": "乙", "final": True}],
        "transitions": [{"name": "go", "title": "办结", "from": ["a"], "to": "b", "roles": ["leader", "mediator"]}]}}
    assert check_case_type(flow) == []
    flow["workflow"]["transitions"][0]["roles"] = ["secretary"]
    assert [code for _, _, code in check_case_type(flow)] == ["enum"]


def test_demo_has_leaders_and_mediators(app, demo):
    assert _memberships(app, "zhoujian") == {("leader", CHENGHU)}
    assert _memberships(app, "gaojie") == {("leader", LANYUE)}
    assert _memberships(app, "tangmin") == {("mediator", LANYUE)}
    assert _memberships(app, "qianli") == {("mediator", CHENGHU)}


def test_admin_grants_the_roles_on_the_page_and_through_the_api(app, client, demo, bearer):
    browser = app.test_client()  # signed in with a cookie; the API calls below carry a token
    login(browser, "admin")
    page = browser.get("/admin/users/new").get_data(as_text=True)
    assert 'value="leader"' in page and "领导/书记" in page and 'value="mediator"' in page and "调解员" in page
    created = browser.post("/admin/users/new", data={
        "csrf_token": csrf_token(browser, "/admin/users/new"), "username": "liuzhuren", "display_name": "刘主任",
        "password": "Qiaodong-Leader-2026", "role": "leader", "org": "339901001002"})
    assert created.status_code == 302, created.get_data(as_text=True)
    assert _memberships(app, "liuzhuren") == {("leader", "339901001002")}
    assert "领导/书记" in browser.get("/admin/users/liuzhuren").get_data(as_text=True)

    api = client.post("/api/v1/users", headers=bearer("admin"), json={
        "username": "sunmediator", "password": "Qiaodong-Mediator-2026", "role": "mediator", "org": "339901001002"})
    assert api.status_code == 201, api.get_data(as_text=True)
    shown = client.get("/api/v1/users/sunmediator", headers=bearer("admin")).get_json()
    assert shown["memberships"] == [{"org": "339901001002", "org_name": "桥东社区", "role": "mediator",
                               "role_label": "调解员"}]
    bad = client.post("/api/v1/users", headers=bearer("admin"), json={
        "username": "zhaoshuji", "password": "Qiaodong-Leader-2026", "role": "secretary", "org": "339901001002"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["pointer"] == "/role"


def test_the_cli_creates_a_leader(app, demo, database_url, tmp_path, monkeypatch):
    from fengqiao.cli import main

    for name in [k for k in os.environ if k.startswith("FENGQIAO_")]:
        monkeypatch.delenv(name)
    env = {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_MODE": "testing", "FENGQIAO_PLUGINS": "",
           "FENGQIAO_INSTANCE_PATH": str(tmp_path / "cli")}
    result = CliRunner().invoke(main, ["users", "create", "--username", "xushuji", "--password", "-", "--role",
                                       "leader", "--org", "339901100", "--name", "许书记"],
                                input="Shixi-Leader-2026\n", env=env)
    assert result.exit_code == 0, result.output
    assert "已创建用户 xushuji（leader @ 339901100）" in result.output
    assert _memberships(app, "xushuji") == {("leader", "339901100")}
    unknown = CliRunner().invoke(main, ["users", "create", "--username", "xushuji2", "--password", "-",
                                        "--role", "chief", "--org", "339901100"], input="Shixi-Leader-2026\n", env=env)
    assert unknown.exit_code == 1 and "leader" in unknown.output and "mediator" in unknown.output


# ---- the leader approves, never their own request ---------------------------------------------


def test_the_street_leader_approves_a_whistle_raised_by_its_staff_but_never_their_own(client, bearer):
    staff, leader, community_leader = bearer("luojia"), bearer("zhoujian"), bearer("gaojie")
    number = submit_form(client, "whistle-request", WHISTLE, headers=staff)["case_number"]
    assert "approve" not in _case(client, staff, number)["allowed_actions"]  # the dispatcher raises it
    assert _act(client, staff, number, "approve", fields={"units": [ENFORCEMENT]}).status_code == 403
    assert "approve" in _case(client, leader, number)["allowed_actions"]
    approved = _act(client, leader, number, "approve", fields={"units": [ENFORCEMENT]})
    assert approved.status_code == 200 and approved.get_json()["state"] == "approved"
    assert _case(client, staff, number)["history"][-1]["actor"] == "zhoujian"

    own = submit_form(client, "whistle-request", WHISTLE, headers=leader)["case_number"]
    assert "approve" not in _case(client, leader, own)["allowed_actions"]  # four eyes
    refused = _act(client, leader, own, "approve", fields={"units": [ENFORCEMENT]})
    assert refused.status_code == 403
    assert _case(client, leader, own)["state"] == "raised"

    # a community's secretary does not approve 吹哨 (the street's leader does)
    raised_below = submit_form(client, "whistle-request", WHISTLE, headers=bearer("shenli"))["case_number"]
    assert "approve" not in _case(client, community_leader, raised_below)["allowed_actions"]
    assert "approve" in _case(client, leader, raised_below)["allowed_actions"]


def test_a_leader_approves_an_extension_asked_below_but_not_their_own(client, bearer):
    staff, leader = bearer("shenli"), bearer("zhoujian")
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    asked = _act(client, staff, number, "request_extension", comment="需协调物业", fields={"amount": 2})
    assert asked.status_code == 200, asked.get_data(as_text=True)
    assert "approve_extension" in _case(client, leader, number)["allowed_actions"]
    approved = _act(client, leader, number, "approve_extension")
    assert approved.status_code == 200
    assert _case(client, staff, number)["history"][-1]["actor"] == "zhoujian"

    other = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    own = _act(client, leader, other, "request_extension", comment="需协调供电公司", fields={"amount": 1})
    assert own.status_code == 200
    assert "approve_extension" not in _case(client, leader, other)["allowed_actions"]
    assert _act(client, leader, other, "approve_extension").status_code == 403


# ---- the mediator ----------------------------------------------------------------------------


def test_a_mediator_works_a_dispute_but_cannot_close_another_mediators_case(client, bearer):
    mine, other = bearer("tangmin"), bearer("qianli")
    number = submit_form(client, "dispute-registration", DISPUTE, headers=bearer("shenli"))["case_number"]
    _ready_for_mediation(client, bearer, number)
    started = _act(client, mine, number, "start")
    assert started.status_code == 200, started.get_data(as_text=True)
    assert started.get_json()["assignee"] == "tangmin"
    # a second mediator may record a session of the mediation …
    assert _act(client, other, number, "record_meeting", comment="联合调解：双方到场").status_code == 200
    # … but never concludes a case assigned to another mediator
    allowed = set(_case(client, other, number)["allowed_actions"])
    assert not allowed & {"agree", "fail", "close", "refer"}
    agreement = {"form": "written", "parties": ["钱芳", "李志刚"], "terms": "李志刚赔偿钱芳2000元", "amount": 2000}
    for action, fields in (("agree", agreement), ("fail", {"reason": "no_consensus"})):
        assert _act(client, other, number, action, comment="调解", fields=fields).status_code == 403
    agreed = _act(client, mine, number, "agree", comment="双方签字", fields=agreement)
    assert agreed.status_code == 200, agreed.get_data(as_text=True)
    skipped = _act(client, mine, number, "skip_confirmation", fields={"reason": "performed"})
    assert skipped.status_code == 200, skipped.get_data(as_text=True)
    performed = {"performance": "performed"}
    assert _act(client, other, number, "close", comment="已履行", fields=performed).status_code == 403
    closed = _act(client, mine, number, "close", comment="回访：已履行", fields=performed)
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"


def test_a_mediator_has_no_hand_in_other_case_types(client, bearer):
    mediator, staff = bearer("tangmin"), bearer("shenli")
    incident = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    assert _case(client, mediator, incident)["allowed_actions"] == []  # sees it (masked), acts on nothing
    assert _act(client, mediator, incident, "claim").status_code == 403
    # once reported up to the community, the community's mediator still cannot 上报 it (black-box finding)
    assert _act(client, bearer("zhangmin"), incident, "escalate", comment="超出网格处置能力").status_code == 200
    assert "escalate" not in _case(client, mediator, incident)["allowed_actions"]
    assert _act(client, mediator, incident, "escalate", comment="报街道").status_code == 403
    assigned = _act(client, staff, incident, "assign", fields={"assignee": "tangmin"})
    assert assigned.status_code == 422 and assigned.get_json()["errors"][0]["pointer"] == "/fields/assignee"
    # on a dispute the community assigns its mediator
    dispute = submit_form(client, "dispute-registration", DISPUTE, headers=staff)["case_number"]
    assert {"claim", "screen"} <= set(_case(client, mediator, dispute)["allowed_actions"])
    handed = _act(client, staff, dispute, "assign", fields={"assignee": "tangmin"})
    assert handed.status_code == 200 and handed.get_json()["assignee"] == "tangmin"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_core_case_type_lets_a_mediator_conclude_a_case(app):
    """Transitions that close a case (a final state) or conclude mediation never list ``mediator``:
    the assignee (the mediator handling it), staff or the leader take them."""
    with app.app_context():
        registry = app.extensions["fengqiao.case_types"]
        for key, ctype in registry.types.items():
            for t in ctype.transitions.values():
                if ctype.is_final(t.target) or t.name == "agree":
                    assert "mediator" not in t.roles, (key, t.name)
        dispute = registry.get("dispute_mediation")
        assert "mediator" in dispute.named_roles
        assert all({"assignee", "leader"} <= set(t.roles) for t in dispute.transitions.values()
                   if t.target in ("closed", "failed", "agreed"))
        whistle = registry.get("whistle").transitions["approve"]
        assert whistle.roles == ("leader",) and "four_eyes" in whistle.guards
