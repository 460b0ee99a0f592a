"""Issue 20: a transition is offered only to whom the table names, in the right unit — the
community that filed a 12345 request does not see the department's 签收/退单 (case page, API
``allowed_actions``, the queue's bulk bar) — and 派单 lists only units the actor may route to."""

from __future__ import annotations

import re

import sqlalchemy as sa
from case_helpers import act, act_ok, case_json, publish_version

from fengqiao.cases.routing import routable_units
from fengqiao.db import db
from fengqiao.models import User
from fengqiao.testing.plugin import login, submit_form

LANYUE, WATER = "339901001001", "339901906"
SHIXI_VILLAGE = "339901100201"  # 石溪镇石溪村: another town's village, never routable from 澄湖街道
REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": "揽月花园3幢陈德福家停水一天。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}
DEPARTMENT_ACTS = ("acknowledge", "send_back")  # 签收, 退单


def _dispatched(client, bearer) -> str:
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    act_ok(client, bearer("luojia"), number, "dispatch", fields={"unit": WATER})
    return number


def _page(app, username: str, path: str) -> str:
    browser = app.test_client()
    login(browser, username)
    return browser.get(path).get_data(as_text=True)


def test_the_filing_community_does_not_see_the_departments_sign_in_or_send_back(app, client, bearer):
    """Regression: 揽月社区's staff (沈丽) held ``staff``, which 退单 names without a unit guard,
    so the API and the case page offered her the department's 退单, and the queue's bulk bar
    offered 签收 too (its hint ignored ``dispatched_unit``)."""
    number = _dispatched(client, bearer)
    community, water = bearer("shenli"), bearer("shuiwu")
    seen = case_json(client, community, number)["allowed_actions"]
    assert not set(DEPARTMENT_ACTS) & set(seen), seen
    assert set(DEPARTMENT_ACTS) <= set(case_json(client, water, number)["allowed_actions"])
    page = _page(app, "shenli", f"/cases/{number}")
    for name in DEPARTMENT_ACTS:
        assert f'id="act-{name}"' not in page and f'href="#act-{name}"' not in page  # no form, no header link
    # taking it anyway is refused (the reason is told to whoever tries)
    refused = act(client, community, number, "send_back", comment="不是我们的事")
    assert refused.status_code == 403 and "须由承办单位" in refused.get_json()["errors"][0]["message"]
    assert act(client, community, number, "acknowledge").status_code == 403
    # once the department signed for it, its assignee may still send it back; the community may not
    act_ok(client, water, number, "acknowledge")
    assert "send_back" in case_json(client, water, number)["allowed_actions"]
    assert "send_back" not in case_json(client, community, number)["allowed_actions"]
    back = act_ok(client, water, number, "send_back", comment="非本单位职责，请改派")
    assert back["state"] == "received"


def test_the_queues_bulk_bar_offers_the_sign_in_only_to_the_handling_unit(app, client, bearer):
    """Regression: the bulk bar's hint matched roles anywhere, so 签收 (``staff`` is named for
    a case dispatched to a community) was offered to the filing community for the department's case."""
    number = _dispatched(client, bearer)
    queue = _page(app, "shenli", "/queues")
    assert number in queue
    for name in DEPARTMENT_ACTS:
        assert f'<option value="{name}"' not in queue
    assert '<option value="acknowledge"' in _page(app, "shuiwu", "/queues")


def test_a_department_may_send_back_before_signing_for_it(client, bearer):
    number = _dispatched(client, bearer)
    assert act_ok(client, bearer("shuiwu"), number, "send_back", comment="非本单位职责")["state"] == "received"


def test_a_person_blocked_by_four_eyes_still_hears_why(client, bearer):
    """Person-bound guards keep their reason for someone holding the role (the unit-bound ones
    hide the transition): 吹哨 approval by the leader who raised it."""
    raised = submit_form(client, "whistle-request", {
        "summary": "湖滨路沿街商铺违规外摆", "address": "湖滨路88号", "category": "enforcement",
        "description": "沿街商铺长期占道经营，社区劝导无效，需要执法、市场监管联合处置。"}, headers=bearer("zhoujian"))
    leader = bearer("zhoujian")
    assert "approve" not in case_json(client, leader, raised["case_number"])["allowed_actions"]
    refused = act(client, leader, raised["case_number"], "approve", fields={"units": ["339901902"]})
    assert refused.status_code == 403 and refused.get_json()["errors"][0]["message"].startswith("不能审批本人")


def _unit_options(page: str, action: str) -> set[str]:
    form = page[page.index(f'data-action="{action}"'):]
    select = form[form.index('name="field_unit"'):]
    select = select[:select.index("</select>")]
    return set(re.findall(r'<option value="([^"]+)"', select))


def test_the_dispatch_select_lists_exactly_the_routable_units(app, client, bearer):
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    listed = _unit_options(_page(app, "luojia", f"/cases/{number}"), "dispatch")
    with app.app_context():
        luojia = db.scalar(sa.select(User).where(User.username == "luojia"))
        routable = {u.code for u in routable_units(luojia)}
    assert listed == routable and WATER in listed and SHIXI_VILLAGE not in listed


def test_a_unit_field_listing_other_units_still_offers_only_routable_ones(app, client, bearer):
    """Regression: a type whose 派单 field lists its units (``oneOf``) showed them all, also
    those the dispatcher may not route to (the server refused them only after the choice)."""
    def listed_units(definition):
        dispatch = next(t for t in definition["workflow"]["transitions"] if t["name"] == "dispatch")
        dispatch["fields"]["properties"]["unit"]["oneOf"] = [
            {"const": WATER, "title": "水务集团"}, {"const": SHIXI_VILLAGE, "title": "石溪村"}]
    publish_version(app, "livelihood_request", listed_units)
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    assert _unit_options(_page(app, "luojia", f"/cases/{number}"), "dispatch") == {WATER}
    refused = act(client, bearer("luojia"), number, "dispatch", fields={"unit": SHIXI_VILLAGE})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["code"] == "out_of_jurisdiction"


def test_the_filing_community_does_not_reply_for_the_department_that_signed(client, bearer):
    """Regression: 联系诉求人, 办结反馈 and 告知补正 named ``staff`` with no unit guard, so once
    水务集团 signed for the case, 揽月社区's staff were offered the department's reply too."""
    number = _dispatched(client, bearer)
    community, water = bearer("shenli"), bearer("shuiwu")
    act_ok(client, water, number, "acknowledge")
    handling = {"contact", "reply", "request_materials"}
    assert handling <= set(case_json(client, water, number)["allowed_actions"])  # the assignee who signed
    assert not handling & set(case_json(client, community, number)["allowed_actions"])
    assert act(client, community, number, "reply", comment="已处理", fields={"reply": "已处理"}).status_code == 403
