"""吹哨报到: the street summons departments, each must check in within the time limit, they
handle it jointly, and the initiating side rates each department before archiving."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from case_helpers import run_job

from fengqiao.cases.jobs import sla_sweep
from fengqiao.db import db, utcnow
from fengqiao.models import Case, CaseEvent, CaseParticipant
from fengqiao.testing.plugin import submit_form

RAISE = {"summary": "揽月花园地下车库反复渗水", "address": "揽月花园地下车库", "category": "livelihood",
         "description": "车库顶板渗水半年，物业、施工方互相推诿，社区多次协调无果，需要住建和执法部门到场。",
         "departments_wanted": "住建局、综合行政执法局"}
ENFORCEMENT, HOUSING = "339901902", "339901903"


def _case(client, headers, number):
    return client.get(f"/api/v1/cases/{number}", headers=headers).get_json()


def _act(client, headers, number, action, **body):
    body.setdefault("version", _case(client, headers, number)["version"])
    return client.post(f"/api/v1/cases/{number}/actions/{action}", json=body, headers=headers)


def test_the_whole_whistle_with_check_ins_and_ratings(app, client, bearer):
    community, street, leader = bearer("shenli"), bearer("luojia"), bearer("zhoujian")
    number = submit_form(client, "whistle-request", RAISE, headers=community)["case_number"]
    assert number.startswith("CS-")
    assert "approve" not in _case(client, community, number)["allowed_actions"]  # the street's leader decides
    assert "approve" not in _case(client, street, number)["allowed_actions"]
    no_units = _act(client, leader, number, "approve", fields={"units": []})
    assert no_units.status_code == 422 and no_units.get_json()["errors"][0]["pointer"] == "/fields/units"
    approved = _act(client, leader, number, "approve", fields={"units": [ENFORCEMENT, HOUSING]})
    assert approved.status_code == 200 and approved.get_json()["state"] == "approved"
    units = _case(client, street, number)["units"]
    assert {u["org"] for u in units} == {ENFORCEMENT, HOUSING} and all(u["checkin_due"] for u in units)

    early = _act(client, street, number, "begin_joint")
    assert early.status_code == 422 and "尚有部门未报到" in early.get_json()["errors"][0]["message"]
    enforcement, housing = bearer("zhifa"), bearer("zhujian")
    assert set(_case(client, enforcement, number)["allowed_actions"]) == {"report_in", "comment"}
    assert _act(client, enforcement, number, "report_in", comment="执法中队已到场").status_code == 200
    assert "report_in" not in _case(client, enforcement, number)["allowed_actions"]  # once per unit
    with app.app_context():  # the housing bureau is late
        db.execute(sa.update(CaseParticipant).where(CaseParticipant.org.has(code=HOUSING))
                   .values(checkin_due=utcnow() - timedelta(minutes=5)))
        db.commit()
        assert run_job(sla_sweep)["late_check_ins"] == 1
        assert run_job(sla_sweep)["late_check_ins"] == 0  # recorded once
    late = _act(client, housing, number, "report_in")
    assert late.status_code == 200
    assert _case(client, street, number)["history"][-1]["action"] == "report_in"
    assert _act(client, street, number, "begin_joint").status_code == 200
    assert _act(client, street, number, "complete", comment="已明确施工方整改责任").status_code == 200

    premature = _act(client, community, number, "archive")
    assert premature.status_code == 422 and "请先逐一评价" in premature.get_json()["errors"][0]["message"]
    for code, rating in ((ENFORCEMENT, "满意"), (HOUSING, "基本满意")):
        assert _act(client, community, number, "rate_unit", fields={"unit": code, "rating": rating}).status_code == 200
    done = _act(client, community, number, "archive")
    assert done.status_code == 200 and done.get_json()["state"] == "rated"
    final = _case(client, street, number)
    assert {u["org"]: u["rating"] for u in final["units"]} == {ENFORCEMENT: "满意", HOUSING: "基本满意"}
    with app.app_context():
        case_id = db.scalar(sa.select(Case.id).where(Case.number == number))
        late_rows = db.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                          CaseEvent.action.in_(("report_in", "checkin_overdue"))))
        by_action = {(e.action, tuple(e.changes.get("late", ())) or e.changes.get("unit")) for e in late_rows}
    assert ("checkin_overdue", HOUSING) in by_action and ("report_in", ("住建局",)) in by_action


def test_the_summoning_street_cannot_check_in_for_its_own_police_station(client, bearer):
    """Black-box finding: the street's leader, above 澄湖派出所 in the tree, checked it in himself;
    报到 belongs to the summoned unit's own members."""
    community, street, leader = bearer("shenli"), bearer("luojia"), bearer("zhoujian")
    number = submit_form(client, "whistle-request", RAISE, headers=community)["case_number"]
    police = "339901001901"  # 澄湖派出所, a department of the street
    assert _act(client, leader, number, "approve", fields={"units": [police]}).status_code == 200
    for side in (leader, street):
        assert "report_in" not in _case(client, side, number)["allowed_actions"]
        assert _act(client, side, number, "report_in").status_code == 403
