"""The engine's own actions on every case type: assign/transfer, urge, escalate, merge,
comments (internal or a public reply), reopen — each one transaction and one history row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fengqiao import signals
from fengqiao.db import db
from fengqiao.models import Case, CaseEvent, JobRecord
from fengqiao.testing.plugin import self_handle_photos, submit_form

INCIDENT = {"summary": "揽月花园垃圾清运不及时", "category": "市容环境", "description": "5幢旁垃圾桶已满两天无人清运。",
            "location": {"address": "揽月花园5幢"}}


@pytest.fixture
def incident(client, bearer):
    return submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))


def _case(client, headers, number):
    return client.get(f"/api/v1/cases/{number}", headers=headers).get_json()


def _act(client, headers, number, action, **body):
    body.setdefault("version", _case(client, headers, number)["version"])
    if body["version"] is None:  # versionless actions (comments) need none
        del body["version"]
    return client.post(f"/api/v1/cases/{number}/actions/{action}", json=body, headers=headers)


def _notifications(app, event):
    with app.app_context():
        return [j.args for j in db.scalars(sa.select(JobRecord).where(JobRecord.name == "cases.notify"))
                if j.args["event"] == event]


def test_assign_to_a_person_in_the_case_units(app, client, bearer, incident):
    number, staff = incident["case_number"], bearer("shenli")
    assigned = []
    signals.case_assigned.connect(lambda sender, **kw: assigned.append(kw), sender=app, weak=False)
    stranger = _act(client, staff, number, "assign", fields={"assignee": "hanzhiming"})
    assert stranger.status_code == 422 and stranger.get_json()["errors"][0]["pointer"] == "/fields/assignee"
    nobody = _act(client, staff, number, "assign", fields={})
    assert nobody.status_code == 422
    ok = _act(client, staff, number, "assign", fields={"assignee": "zhangmin"}, comment="请网格员先核实")
    assert ok.status_code == 200 and ok.get_json()["assignee"] == "zhangmin"
    assert assigned[-1]["assignee"] == "zhangmin" and assigned[-1]["actor"] == "shenli"
    assert _notifications(app, "assign")[0]["recipients"] == ["zhangmin"]
    last = _case(client, staff, number)["history"][-1]
    assert (last["action"], last["actor"]) == ("assign", "shenli")


def test_transfer_to_a_department_lets_it_see_the_case(app, client, bearer, incident):
    number, staff = incident["case_number"], bearer("luojia")  # the street routes to departments
    department = bearer("shuiwu")
    assert client.get(f"/api/v1/cases/{number}", headers=department).status_code == 404
    code = "339901906"  # 水务集团, where shuiwu works
    moved = _act(client, staff, number, "assign", fields={"unit": code})
    assert moved.status_code == 200 and moved.get_json()["assignee"] is None
    assert client.get(f"/api/v1/cases/{number}", headers=department).status_code == 200
    units = _case(client, staff, number)["units"]
    assert [(u["org"], u["role"]) for u in units] == [(code, "handler")]


def test_urge_is_for_the_levels_above_and_counts(app, client, bearer, incident):
    number = incident["case_number"]
    assert _act(client, bearer("shenli"), number, "claim").status_code == 200
    assert "urge" not in _case(client, bearer("shenli"), number)["allowed_actions"]  # the handler
    supervisor = bearer("ducha")
    no_reason = _act(client, supervisor, number, "urge")
    assert no_reason.status_code == 422
    for _ in range(2):
        assert _act(client, supervisor, number, "urge", comment="群众反映强烈，请尽快处理").status_code == 200
    body = _case(client, supervisor, number)
    assert body["urge_count"] == 2
    assert [n["recipients"] for n in _notifications(app, "urge")] == [["shenli"], ["shenli"]]


def test_escalate_climbs_one_rung_at_a_time(app, client, bearer, incident):
    number, grid = incident["case_number"], bearer("zhangmin")
    levels = []
    for _ in range(3):
        response = _act(client, grid, number, "escalate", comment="超出网格处置能力")
        assert response.status_code == 200
        levels.append(_case(client, grid, number)["escalation"])
        with app.app_context():  # past the cool-down: the level reached had its chance
            db.execute(sa.update(Case).where(Case.number == number).values(escalated_at=None))
            db.commit()
    with app.app_context():
        from fengqiao.models import OrgUnit

        found = [db.scalar(sa.select(OrgUnit.level).where(OrgUnit.code == e["org"])) for e in levels]
    assert found == ["community", "street", "county"] and levels[-1]["level"] == 3
    assert "escalate" not in _case(client, grid, number)["allowed_actions"]  # the top of the ladder


def test_merge_a_duplicate_into_the_open_case(app, client, bearer, incident):
    staff = bearer("shenli")
    duplicate = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    into_itself = _act(client, staff, duplicate, "merge", fields={"into": duplicate}, comment="重复")
    assert into_itself.status_code == 422
    merged = _act(client, staff, duplicate, "merge", fields={"into": incident["case_number"]}, comment="同一问题重复上报")
    assert merged.status_code == 200 and merged.get_json()["state"] == "merged"
    dup = _case(client, staff, duplicate)
    assert dup["links"]["merged_into"] == incident["case_number"] and dup["closed_at"]
    kept = _case(client, staff, incident["case_number"])
    assert kept["links"]["merged"] == [duplicate]
    assert kept["history"][-1]["action"] == "merged_from"
    tracked = client.get(f"/api/v1/track/{duplicate}?code={incident['tracking_code']}")
    assert tracked.status_code == 404  # the other case's code does not open this one


def test_public_replies_reach_the_resident_internal_notes_do_not(app, client, bearer, incident):
    number, staff = incident["case_number"], bearer("shenli")
    note = _act(client, staff, number, "comment", comment="内部：该小区物业多次被投诉", version=None)
    assert note.status_code == 200
    reply = _act(client, staff, number, "comment", comment="已通知环卫所今日清运", fields={"public": True},
                 version=None)
    assert reply.status_code == 200
    tracked = client.get(f"/api/v1/track/{number}?code={incident['tracking_code']}").get_data(as_text=True)
    assert "已通知环卫所今日清运" in tracked and "内部：" not in tracked and "shenli" not in tracked
    assert _notifications(app, "reply")[0]["recipients"] == ["reporter"]


def test_staff_reopen_a_closed_case_with_a_reason(app, client, bearer, incident):
    number, grid = incident["case_number"], bearer("zhangmin")
    assert _act(client, grid, number, "self_handle", comment="已清运",
                fields=self_handle_photos(client, number, grid)).status_code == 200
    staff = bearer("shenli")
    assert set(_case(client, staff, number)["allowed_actions"]) == {"comment", "reopen"}
    reopened = _act(client, staff, number, "reopen", comment="居民反映仍未清运")
    assert reopened.status_code == 200 and reopened.get_json()["state"] == "reported"
    body = _case(client, staff, number)
    assert body["closed_at"] is None and body["history"][-1]["action"] == "reopen"


def test_every_action_appends_exactly_one_history_row(app, client, bearer, incident):
    number, staff = incident["case_number"], bearer("shenli")
    with app.app_context():
        case_id = db.scalar(sa.select(Case.id).where(Case.number == number))

    def count():
        with app.app_context():
            return db.scalar(sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))

    before = count()
    for action, body in [("claim", {}), ("escalate", {"comment": "请社区协调"}),
                         ("request_extension", {"comment": "需协调", "fields": {"amount": 1}})]:
        assert _act(client, staff, number, action, **body).status_code == 200, action
    assert count() == before + 3
