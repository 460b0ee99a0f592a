"""Routing and jurisdiction (issue 18 §2): where a resident's case lands, who may send a case
to which unit, one-level-at-a-time escalation with a cool-down, and 督办 from above."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from case_helpers import act, case_json, case_row, run_job, set_columns

from fengqiao.cases import routing
from fengqiao.cases.jobs import sla_sweep
from fengqiao.db import db, utcnow
from fengqiao.models import Case, CaseEvent, CaseParticipant, JobRecord, OrgUnit
from fengqiao.testing.plugin import csrf_token, login, submit_form

REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": "石溪村陈德福家停水一天。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}
INCIDENT = {"summary": "揽月花园垃圾清运不及时", "category": "市容环境", "description": "5幢旁垃圾桶已满两天无人清运。",
            "location": {"address": "揽月花园5幢"}}
PROXY = {"service_item": "居住证办理", "applicant_name": "林秀英", "applicant_id_card": "339901195203140111",
         "applicant_mobile": "13800138000", "address": "揽月花园3幢"}
CENTRE, LANYUE, QIAODONG, SHIXI_VILLAGE, ZHUWU = "339901901", "339901001001", "339901001002", "339901100201", \
    "339901100202"
WATER, SHIXI_JUSTICE, CHENGHU_POLICE = "339901906", "339901100901", "339901001901"


def _participants(app, number) -> list[str]:
    with app.app_context():
        return list(db.scalars(sa.select(OrgUnit.code).join(CaseParticipant, CaseParticipant.org_id == OrgUnit.id)
                               .join(Case, Case.id == CaseParticipant.case_id).where(Case.number == number)))


# ---- landing ------------------------------------------------------------------------------


def test_a_resident_without_org_picks_a_community_unless_the_form_names_an_accepting_unit(app, client, demo,
                                                                                            bearer):
    refused = client.post("/api/v1/forms/proxy-service/submissions", json=PROXY)
    problems = refused.get_json()["errors"]
    assert refused.status_code == 422 and problems == [
        {"pointer": "/org", "code": "org_required", "message": "请选择您所在的社区（村），以便由属地受理"}]
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(Case)) == 0  # nothing landed at the root
    chosen = client.post(f"/api/v1/forms/proxy-service/submissions?org={LANYUE}", json=PROXY)
    assert chosen.status_code == 201
    assert case_json(client, bearer("shenli"), chosen.get_json()["case_number"])["org"] == LANYUE
    # staff keep their own unit
    staff = client.post("/api/v1/forms/proxy-service/submissions", json=PROXY, headers=bearer("shenli"))
    assert staff.status_code == 201 and case_json(client, bearer("shenli"), staff.get_json()["case_number"])["org"] == LANYUE


def test_the_12345_form_lands_at_its_centre_which_dispatches_it(app, client, demo, bearer):
    from fengqiao.accounts.service import create_user
    from fengqiao.demo_data import DEMO_PASSWORD

    with app.app_context():
        create_user("centre1", DEMO_PASSWORD, "staff", CENTRE, "12345受理员")
        db.commit()
    number = submit_form(client, "livelihood-request", REQUEST)["case_number"]
    centre = bearer("centre1")
    case = case_json(client, centre, number)
    assert case["org"] == CENTRE and "dispatch" in case["allowed_actions"]
    assert client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).status_code == 404  # not a community's yet
    # the centre dispatches anywhere in the county (it stands for the county), here to a village
    sent = act(client, centre, number, "dispatch", fields={"unit": SHIXI_VILLAGE}, comment="请石溪村办理")
    assert sent.status_code == 200, sent.get_json()
    assert _participants(app, number) == [SHIXI_VILLAGE]
    assert client.get(f"/api/v1/cases/{number}", headers=bearer("fengguoping")).status_code == 200


def test_the_fill_page_says_who_accepts_or_asks_for_the_community(app, client, demo):
    assert "提交后由 <strong>县指挥中心（12345）</strong> 受理" in client.get("/forms/livelihood-request").get_data(
        as_text=True)
    page = client.get("/forms/proxy-service").get_data(as_text=True)
    assert "请选择您所在的社区（村）" in page and f'<option value="{LANYUE}">揽月社区</option>' in page
    assert "提交后由 <strong>揽月社区</strong> 受理" in client.get(f"/forms/proxy-service?org={LANYUE}").get_data(
        as_text=True)
    narrowed = client.get("/forms/proxy-service?q=石溪").get_data(as_text=True)
    assert f'value="{SHIXI_VILLAGE}"' in narrowed and f'value="{LANYUE}"' not in narrowed
    # a post without a community comes back with the question answered in Chinese, nothing stored
    token = csrf_token(client, "/forms/proxy-service")
    response = client.post("/forms/proxy-service", data={"csrf_token": token, "fq_version": "1"})
    assert response.status_code == 422
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_community_search_finds_by_name_pages_and_is_a_get(app, client, demo, monkeypatch):
    found = client.get("/api/v1/communities?q=揽月").get_json()
    assert found["items"] == [{"code": LANYUE, "name": "揽月社区", "street": "澄湖街道"}] and found["next_page"] is None
    by_street = {i["code"] for i in client.get("/api/v1/communities?q=澄湖").get_json()["items"]}
    assert by_street == {LANYUE, QIAODONG}
    assert client.get("/api/v1/communities?q=不存在的村").get_json()["items"] == []
    monkeypatch.setattr(routing, "SEARCH_PAGE", 3)
    first = client.get("/api/v1/communities").get_json()
    second = client.get("/api/v1/communities?page=2").get_json()
    assert len(first["items"]) == 3 and first["next_page"] == 2 and len(second["items"]) == 1
    assert second["next_page"] is None
    assert {i["code"] for i in first["items"] + second["items"]} == {LANYUE, QIAODONG, SHIXI_VILLAGE, ZHUWU}
    bad = client.get("/api/v1/communities?page=x")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["pointer"] == "/page"
    assert client.post("/api/v1/communities").status_code == 405  # a read only: no state-changing verb


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("app_config", [{"rate_limits": {"public_read": "3/minute"}}])
def test_community_search_is_rate_limited_for_anonymous_callers(client, demo):
    assert [client.get("/api/v1/communities?q=村").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert "操作过于频繁" in client.get("/api/v1/communities?q=村").get_json()["errors"][0]["message"]


# ---- routing ------------------------------------------------------------------------------


def test_a_street_dispatcher_routes_only_within_its_town(app, client, demo, bearer):
    number = submit_form(client, "livelihood-request", REQUEST, org=SHIXI_VILLAGE)["case_number"]
    town = bearer("yuantao")  # 石溪镇调度员
    before = case_json(client, town, number)
    for action, fields in (("dispatch", {"unit": LANYUE}), ("assign", {"unit": QIAODONG}),
                           ("dispatch", {"unit": CHENGHU_POLICE})):
        refused = act(client, town, number, action, fields=fields, comment="转派")
        assert refused.status_code == 422, (action, fields)
        problem = refused.get_json()["errors"][0]
        assert problem["pointer"] == "/fields/unit" and problem["code"] == "out_of_jurisdiction"
        assert "无权派至" in problem["message"]
    after = case_json(client, town, number)
    assert (after["version"], after["state"], after["history"]) == (before["version"], before["state"], before["history"])
    assert _participants(app, number) == []
    ok = act(client, town, number, "dispatch", fields={"unit": ZHUWU}, comment="请竹坞村协办")
    assert ok.status_code == 200 and _participants(app, number) == [ZHUWU]
    moved = act(client, town, number, "assign", fields={"unit": WATER})  # a county department: routable
    assert moved.status_code == 200 and sorted(_participants(app, number)) == sorted([ZHUWU, WATER])


def test_whistle_summons_only_routable_units(app, client, demo, bearer):
    raised = {"summary": "揽月花园地下车库反复渗水", "address": "揽月花园地下车库", "category": "livelihood",
              "description": "车库顶板渗水半年，物业、施工方互相推诿，需要住建和执法部门到场。"}
    number = submit_form(client, "whistle-request", raised, headers=bearer("shenli"))["case_number"]
    approver = next((u for u in ("zhoujian", "luojia") if "approve" in case_json(client, bearer(u), number)["allowed_actions"]),
                    None)
    if approver is None:
        pytest.skip("nobody of 澄湖街道 may approve a whistle in this checkout")
    street = bearer(approver)
    for units, index in (([SHIXI_VILLAGE], 0), (["339901902", SHIXI_JUSTICE], 1)):
        refused = act(client, street, number, "approve", fields={"units": units})
        assert refused.status_code == 422
        assert refused.get_json()["errors"][0]["pointer"] == f"/fields/units/{index}"
    assert _participants(app, number) == [] and case_row(app, number).state == "raised"
    ok = act(client, street, number, "approve", fields={"units": ["339901902", CHENGHU_POLICE]})
    assert ok.status_code == 200 and sorted(_participants(app, number)) == sorted(["339901902", CHENGHU_POLICE])


def _options(html: str) -> set[str]:
    import re

    select = re.search(r'<select id="f-dispatch-unit".*?</select>', html, re.S)
    return set(re.findall(r'<option value="([^"]+)"', select.group(0))) if select else set()


def test_the_case_page_lists_only_routable_units(app, client, demo):
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    login(client, "luojia")  # 澄湖街道
    street = _options(client.get(f"/cases/{number}").get_data(as_text=True))
    assert {LANYUE, QIAODONG, WATER, CHENGHU_POLICE} <= street
    assert not street & {SHIXI_VILLAGE, ZHUWU, SHIXI_JUSTICE, "339901100", "339901"}
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "shenli")  # 揽月社区: its own subtree, no county departments by default
    community = _options(client.get(f"/cases/{number}").get_data(as_text=True))
    # The property company 揽月花园物业服务中心 is a department *inside* the community's subtree, so
    # the community may route to it without any routable_departments setting; 水务集团 may not.
    assert community == {LANYUE, f"{LANYUE}901"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("app_config", [{"routable_departments": {"community": [WATER]}}])
def test_routable_departments_are_a_setting(app, client, demo, bearer):
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    community = bearer("shenli")
    assert act(client, community, number, "assign", fields={"unit": "339901903"}).status_code == 422  # 住建局
    assert act(client, community, number, "dispatch", fields={"unit": WATER}).status_code == 200
    with app.app_context():
        from fengqiao.models import User

        street = db.scalar(sa.select(User).where(User.username == "luojia"))
        codes = {u.code for u in routing.routable_units(street)}
    assert WATER not in codes and LANYUE in codes  # the street's list is empty under this setting


# ---- escalation and 督办 ------------------------------------------------------------------


@pytest.fixture
def incident(client, bearer, demo):
    return submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]


def test_escalation_climbs_one_level_then_waits_the_cool_down(app, client, bearer, incident):
    grid = bearer("zhangmin")
    first = act(client, grid, incident, "escalate", comment="超出网格处置能力")
    assert first.status_code == 200
    case = case_row(app, incident)
    with app.app_context():
        assert db.get(OrgUnit, case.escalated_to_id).code == LANYUE and case.escalated_at is not None
    listed = client.get("/api/v1/cases?view=escalated", headers=bearer("shenli")).get_json()["items"]
    assert [c["number"] for c in listed] == [incident]  # in the community's 上报 queue
    assert "escalate" not in case_json(client, grid, incident)["allowed_actions"]
    again = act(client, grid, incident, "escalate", comment="再报街道")
    assert again.status_code == 403 and "后方可再次上报" in again.get_json()["errors"][0]["message"]
    assert case_row(app, incident).escalated_to_id == case.escalated_to_id
    set_columns(app, incident, escalated_at=utcnow() - timedelta(minutes=61))
    later = act(client, bearer("shenli"), incident, "escalate", comment="社区协调不了，报街道")
    assert later.status_code == 200
    escalated_to = case_row(app, incident).escalated_to_id  # (not nested in an app context: its session would leak)
    with app.app_context():
        assert db.get(OrgUnit, escalated_to).code == "339901001"
    assert [c["number"] for c in client.get("/api/v1/cases?view=escalated", headers=bearer("luojia"))
            .get_json()["items"]] == [incident]


def test_the_overdue_sweep_climbs_one_level_at_a_time(app, client, bearer, incident):
    # the ladder's next rung is the street: the case at its grid climbs to the community first
    set_columns(app, incident, deadline=utcnow() - timedelta(days=20), escalation_level=1)
    with app.app_context():
        assert run_job(sla_sweep)["escalated"] == 1
        assert run_job(sla_sweep)["escalated"] == 0  # the cool-down
    case = case_row(app, incident)
    with app.app_context():
        assert db.get(OrgUnit, case.escalated_to_id).code == LANYUE
    assert case.escalation_level == 1  # the street rung is not reached yet
    set_columns(app, incident, escalated_at=utcnow() - timedelta(hours=2))
    with app.app_context():
        assert run_job(sla_sweep)["escalated"] == 1
    case = case_row(app, incident)
    with app.app_context():
        assert db.get(OrgUnit, case.escalated_to_id).code == "339901001"
    assert case.escalation_level == 2


def test_supervise_is_issued_from_above_and_recorded(app, client, bearer, incident):
    grid, community = bearer("zhangmin"), bearer("shenli")
    mine = case_json(client, grid, incident)["allowed_actions"]
    assert "escalate" in mine and "supervise" not in mine  # the own level reports up, it does not supervise
    assert "supervise" in case_json(client, community, incident)["allowed_actions"]
    no_reason = client.post(f"/api/v1/cases/{incident}/actions/supervise", json={}, headers=community)
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["pointer"] == "/comment"
    version = case_row(app, incident).version
    ordered = client.post(f"/api/v1/cases/{incident}/actions/supervise", json={"comment": "请今日内清运"},
                          headers=community)
    assert ordered.status_code == 200
    case = case_row(app, incident)
    assert (case.version, case.escalated_to_id, case.urge_count) == (version, None, 0)  # moves nothing
    last = case_json(client, community, incident)["history"][-1]
    assert (last["action"], last["actor"]) == ("supervise", "shenli")
    with app.app_context():
        event = db.scalar(sa.select(CaseEvent).where(CaseEvent.action == "supervise"))
        assert event.changes == {"unit": LANYUE, "unit_name": "揽月社区"} and event.comment == "请今日内清运"
        jobs = [j.args for j in db.scalars(sa.select(JobRecord).where(JobRecord.name == "cases.notify"))
                if j.args["event"] == "supervise"]
    assert jobs and jobs[0]["recipients"] == ["zhangmin"]
    # after 上报 to the community, the community is the own level: it reports, the street supervises
    assert act(client, grid, incident, "escalate", comment="超出网格处置能力").status_code == 200
    assert "supervise" not in case_json(client, community, incident)["allowed_actions"]
    assert "supervise" in case_json(client, bearer("luojia"), incident)["allowed_actions"]
    login(client, "zhangmin")
    page = client.get(f"/cases/{incident}").get_data(as_text=True)
    assert 'class="badge badge-supervise">督办</span>' in page and "揽月社区督办 1 次" in page


def test_supervise_from_the_case_page_needs_csrf(app, client, bearer, incident):
    login(client, "shenli")
    page = f"/cases/{incident}"
    html = client.get(page).get_data(as_text=True)
    assert ">督办</button>" in html and ">上报上级</button>" not in html
    forged = client.post(page, data={"action": "supervise", "version": "1", "comment": "请尽快"})
    assert forged.status_code == 400
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.action == "supervise")) == 0
    ok = client.post(page, data={"csrf_token": csrf_token(client, page), "action": "supervise", "version": "1",
                                 "comment": "请尽快"})
    assert ok.status_code == 302


@pytest.mark.parametrize("org", ["339901", "339901001"])
def test_a_resident_cannot_file_at_the_county_or_a_street(app, client, demo, org):
    """Black-box finding: ``?org=339901`` let a resident's case land at the county root."""
    response = client.post(f"/api/v1/forms/proxy-service/submissions?org={org}", json=PROXY)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["errors"][0]["pointer"] == "/org"
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
