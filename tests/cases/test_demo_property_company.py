"""The demo county's property company (揽月花园物业服务中心 under 揽月社区, liaison ``wuye``):
issue 20's e-bike matter is dispatched there out of the box. A department inside a community
must not pass for a community (sdk ``org_units(kind=…)``), nor draw other communities' cases
in synthetic data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from case_helpers import act, case_json

from fengqiao.cases.synthetic import generate_cases
from fengqiao.db import db
from fengqiao.demo_data import STAFF, UNITS
from fengqiao.models import Case, CaseParticipant, OrgUnit
from fengqiao.sdk.errors import ValidationFailed
from fengqiao.sdk.orgs import org_units
from fengqiao.testing.plugin import submit_form

LANYUE, QIAODONG, PROPERTY = "339901001001", "339901001002", "339901001001901"
REQUEST = {"request_type": "help", "summary": "楼道电动车充电", "content": "揽月花园5幢楼道里有人给电动车充电。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_demo_county_has_the_property_company_and_its_liaison():
    assert (PROPERTY, "揽月花园物业服务中心", "community", LANYUE, "department") in UNITS
    assert ("wuye", "department", PROPERTY) in {(u, role, org) for u, _n, role, org, _d in STAFF}


@sqlite_only
def test_the_community_dispatches_to_it_and_only_its_liaison_sees_just_that(app, client, demo, bearer):
    sent = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    kept = submit_form(client, "livelihood-request", {**REQUEST, "summary": "另一件"}, org=LANYUE)["case_number"]
    community, neighbour, liaison = bearer("shenli"), bearer("hanzhiming"), bearer("wuye")
    other = submit_form(client, "livelihood-request", REQUEST, org=QIAODONG)["case_number"]
    refused = act(client, neighbour, other, "dispatch", fields={"unit": PROPERTY})  # 桥东社区: not its subtree
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["code"] == "out_of_jurisdiction"
    ok = act(client, community, sent, "dispatch", fields={"unit": PROPERTY}, comment="请物业整改")
    assert ok.status_code == 200, ok.get_data(as_text=True)
    listed = {c["number"] for c in client.get("/api/v1/cases", headers=liaison).get_json()["items"]}
    assert listed == {sent}  # what was sent to it, nothing else of 揽月社区's
    assert case_json(client, liaison, sent)["number"] == sent
    assert client.get(f"/api/v1/cases/{kept}", headers=liaison).status_code == 404


def test_sdk_lists_communities_without_the_departments_at_community_level(app, demo):
    with app.app_context():
        assert [u.code for u in org_units(level="community", under=LANYUE, kind="territorial")] == [LANYUE]
        assert [u.code for u in org_units(under=LANYUE, kind="department")] == [PROPERTY]
        assert PROPERTY in {u.code for u in org_units(level="community")}  # the default: every kind
        with pytest.raises(ValidationFailed) as err:  # 422 when it reaches a view
            org_units(kind="bureau")
        assert err.value.problems[0][0] == "/kind"


@pytest.mark.plugins("vanguard")
@sqlite_only
def test_the_honour_board_offers_communities_only(client, demo):
    html = client.get("/p/vanguard/honour").get_data(as_text=True)
    assert "揽月社区" in html and "揽月花园物业服务中心" not in html


@pytest.mark.plugins("points")
@sqlite_only
def test_the_points_account_picker_offers_communities_only(client, demo, login_as):
    html = login_as("shenli").get("/p/points/accounts/new").get_data(as_text=True)
    assert "揽月社区" in html and "揽月花园物业服务中心" not in html


def test_synthetic_cases_go_only_to_departments_their_own_units_can_reach(demo):
    """A case is dispatched to a department hanging off its unit or a unit above it: never to
    another community's property company (whose liaison would then see a stranger's case)."""
    with demo.app_context():
        generate_cases(500, seed=2)
        rows = db.execute(
            sa.select(OrgUnit.path.label("owner"), CaseParticipant.org_id)
            .select_from(CaseParticipant).join(Case, Case.id == CaseParticipant.case_id)
            .join(OrgUnit, Case.org_id == OrgUnit.id)).all()
        departments = {u.id: u for u in db.scalars(sa.select(OrgUnit).where(OrgUnit.kind == "department"))}
        assert rows
        for owner, org_id in rows:
            department = departments[org_id]
            assert owner.startswith(department.parent.path), (owner, department.code)
        sent_to_property = {owner for owner, org_id in rows if departments[org_id].code == PROPERTY}
        assert all(owner.startswith(f"/339901/339901001/{LANYUE}/") for owner in sent_to_property)
