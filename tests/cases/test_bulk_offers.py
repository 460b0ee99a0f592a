"""The queue's bulk bar offers transitions per case type (issue 22 §2): two types may name
different steps alike (``accept`` is 受理 for a grid incident, 材料齐全，开始办理 for 便民代办),
so an offer carries its type and the page groups the 流转 choices by type."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fengqiao.cases import bulk
from fengqiao.db import db
from fengqiao.models import Case, User
from fengqiao.testing.plugin import login, submit_form

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LANYUE = "339901001001"  # 揽月社区: shenli (staff)
INCIDENT = {"summary": "揽月花园3幢楼道堆物", "category": "安全隐患", "description": "楼道堆放纸箱。",
            "location": {"address": "揽月花园3幢"}}
PROXY = {"service_item": "高龄津贴申请", "applicant_name": "王桂英", "applicant_id_card": "339901195203140111",
         "applicant_mobile": "13812345678", "address": "揽月花园5幢"}
REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": "揽月花园3幢陈德福家停水一天。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


@pytest.fixture
def three_types(client, bearer):
    """Cases of three types for 揽月社区, the last a grid incident already accepted (so it
    offers steps its type's first case does not)."""
    cases = {
        "incident": submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"],
        "proxy": submit_form(client, "proxy-service", PROXY, org=LANYUE)["case_number"],
        "request": submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"],
        "accepted": submit_form(client, "grid-incident", {**INCIDENT, "summary": "楼道堆物2"},
                                headers=bearer("zhangmin"))["case_number"],
    }
    accepted = client.post(f"/api/v1/cases/{cases['accepted']}/actions/accept", json={"version": 1},
                           headers=bearer("shenli"))
    assert accepted.status_code == 200, accepted.get_json()
    return cases


def _offers(app, numbers, username="shenli"):
    """``offered_actions`` for the cases in the order given (as a page lists them)."""
    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == username))
        found = {c.number: c for c in db.scalars(sa.select(Case).where(Case.number.in_(numbers)))}
        return bulk.offered_actions([found[n] for n in numbers], user)


def test_an_offer_per_type_and_transition(app, three_types):
    c = three_types
    per_case, offers = _offers(app, list(c.values()))
    accepts = {(o.type, o.type_title, o.title) for o in offers if o.name == "accept"}
    assert accepts == {("grid_incident", "网格事件", "受理"), ("proxy_service", "便民代办", "材料齐全，开始办理")}
    assert not any(" / " in o.title for o in offers)  # no longer one merged title for both types
    types = [o.type for o in offers]
    assert types == sorted(types, key=types.index), types  # each type's offers together, though
    assert "start" in per_case[c["accepted"]]  # the page lists an incident last with steps of its own
    assert ("grid_incident", "start") in {(o.type, o.name) for o in offers}
    assert set(types) == {"grid_incident", "proxy_service", "livelihood_request"}
    assert ("livelihood_request", "dispatch") in {(o.type, o.name) for o in offers}
    assert "accept" in per_case[c["incident"]] and "dispatch" not in per_case[c["incident"]]  # 分派 once accepted
    assert "dispatch" in per_case[c["request"]] and "accept" not in per_case[c["request"]]
    # two cases of one type and version: one offer each, not one per case
    assert [o.name for o in offers if o.type == "grid_incident"].count("accept") == 1


def test_a_type_only_on_the_page_is_offered(app, three_types):
    _, offers = _offers(app, [three_types["request"]])
    assert {o.type for o in offers} == {"livelihood_request"}
    _, none = _offers(app, list(three_types.values()), username="lingdao")  # a viewer: no bulk bar
    assert none == []


def test_the_page_groups_the_choices_by_type(client, demo, three_types):
    c = three_types
    login(client, "shenli")
    page = client.get("/queues").get_data(as_text=True)
    select = page[page.index('id="bulk-transition"'):]
    select = select[:select.index("</select>")]
    groups = re.findall(r'<optgroup label="([^"]+)" data-type="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert {(label, key) for label, key, _ in groups} == {
        ("网格事件", "grid_incident"), ("便民代办", "proxy_service"), ("民生诉求", "livelihood_request")}
    by_type = {key: re.findall(r'<option value="([^"]+)" data-type="([^"]+)"', body) for _, key, body in groups}
    assert ("accept", "grid_incident") in by_type["grid_incident"]
    assert ("accept", "proxy_service") in by_type["proxy_service"]
    assert all(t == key for key, options in by_type.items() for _, t in options)
    assert 'data-title="受理"' in select and 'data-title="材料齐全，开始办理"' in select
    assert f'<tr data-number="{c["proxy"]}" data-type="proxy_service"' in page
    bar = page[page.index('class="card queue-bulk"'):]
    assert 'style="' not in bar[:bar.index("</section>")]  # CSP: no inline style attributes
