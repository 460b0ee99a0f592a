"""民生诉求/12345 and 矛盾纠纷 closer to practice (issue 18 §4): urgency with step time limits
(签收, 联系诉求人, 回访), a structured 回访 that an unreached caller does not close, the 12345
acceptance time starting the clock, and a dispute walked from 排查 to 结案 whose clock ends
at the agreement."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from case_helpers import act, act_ok, case_json, case_row, last_event, run_job, set_columns

from fengqiao import workcalendar
from fengqiao.cases import sla
from fengqiao.db import db, utcnow
from fengqiao.models import Case
from fengqiao.testing.plugin import csrf_token, login, submit_form

LANYUE = "339901001001"  # 揽月社区 (shenli: staff, tangmin: mediator)
WATER = "339901906"  # 水务集团 (shuiwu)
REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": "揽月花园3幢陈德福家停水一天。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}
DISPUTE = {"dispute_type": "邻里纠纷", "summary": "楼上漏水致楼下吊顶受损", "facts": "楼上卫生间漏水，楼下吊顶受损。",
           "source": "排查发现", "risk_level": "medium", "all_parties_agree": True, "amount": 3000,
           "parties": [{"name": "钱芳", "role": "申请人"}, {"name": "李志刚", "role": "被申请人"}]}
FOLLOW_UP = {"reached": True, "method": "phone", "solved": "solved", "satisfied": "basically_satisfied"}


def _request(client, **extra) -> str:
    return submit_form(client, "livelihood-request", {**REQUEST, **extra}, org=LANYUE)["case_number"]


# ---- 12345: urgency and step limits -------------------------------------------------------


def test_a_critical_request_must_be_signed_for_within_30_minutes_and_a_late_sign_in_is_recorded(
        app, client, bearer):
    number = _request(client, urgency="critical")
    case = case_row(app, number)
    assert case.priority == "critical" and case.sla_limit == {"hours": 24}  # 特急: feedback within 24 h
    before = utcnow()
    act_ok(client, bearer("luojia"), number, "dispatch", fields={"unit": WATER})
    case = case_row(app, number)
    assert case.step_name == "签收"
    assert timedelta(minutes=29) < case.step_due - before < timedelta(minutes=31)
    dispatched = last_event(app, number, "dispatch")
    assert dispatched.changes["step_name"] == "签收"
    assert datetime.fromisoformat(dispatched.changes["step_due"]) == case.step_due
    # the case page shows the step's limit; once it has passed, that it is late
    browser = app.test_client()  # a signed-in page session apart from the API client
    login(browser, "luojia")
    page = browser.get(f"/cases/{number}").get_data(as_text=True)
    assert "签收期限" in page and "已超时" not in page
    set_columns(app, number, step_due=utcnow() - timedelta(minutes=5))
    assert "已超时" in browser.get(f"/cases/{number}").get_data(as_text=True)

    act_ok(client, bearer("shuiwu"), number, "acknowledge")
    signed = last_event(app, number, "acknowledge")
    assert signed.changes["step_done"] == "签收" and signed.changes["step_late"] is True
    history = browser.get(f"/cases/{number}").get_data(as_text=True)  # in words, not keys
    assert "完成环节：签收" in history and "环节是否超时：已超时" in history and "step_late" not in history
    case = case_row(app, number)  # the next step: contact the caller (特急: 2 hours)
    assert case.step_name == "联系诉求人"
    assert timedelta(minutes=119) < case.step_due - signed.at <= timedelta(hours=2)


def test_an_ordinary_request_signed_in_time_is_not_late_and_contact_completes_its_step(app, client, bearer):
    number = _request(client)  # no urgency given: 一般 — two working hours to sign for it
    assert case_row(app, number).sla_limit == {"working_days": 3}  # 求助: the type sets the limit
    act_ok(client, bearer("luojia"), number, "dispatch", fields={"unit": WATER})
    case = case_row(app, number)
    with app.app_context():
        expected = workcalendar.add_working_hours(last_event(app, number, "dispatch").at, 2, case.org.path).at
    assert case.step_due == expected
    water = bearer("shuiwu")
    act_ok(client, water, number, "acknowledge")
    assert last_event(app, number, "acknowledge").changes["step_late"] is False
    assert case_row(app, number).step_name == "联系诉求人"
    # contacting the caller keeps the case in 办理 but completes that step
    missing = act(client, water, number, "contact", fields={"method": "phone"})
    assert missing.status_code == 422
    contacted = act_ok(client, water, number, "contact", fields={"method": "phone", "reached": True})
    assert contacted["state"] == "handling"
    row = last_event(app, number, "contact")
    assert row.changes["step_done"] == "联系诉求人" and row.changes["step_late"] is False
    case = case_row(app, number)
    assert case.step_name is None and case.step_due is None


# ---- 12345: structured 回访 -----------------------------------------------------------------


def _to_follow_up(client, bearer, number):
    water, staff = bearer("shuiwu"), bearer("luojia")
    act_ok(client, staff, number, "dispatch", fields={"unit": WATER})
    act_ok(client, water, number, "acknowledge")
    act_ok(client, water, number, "reply", comment="已抢修", fields={"reply": "管道已修复，恢复供水"})
    act_ok(client, staff, number, "approve")


def test_the_review_is_the_accepting_centres_not_the_handling_units(app, client, bearer):
    """审核 (approve) by the 12345 centre that accepted the order — its dispatcher who keyed in
    the call may — never by the community that did the work, nor by whoever replied."""
    centre, community, secretary = bearer("wangqing"), bearer("shenli"), bearer("gaojie")
    made = client.post("/api/v1/forms/livelihood-request/submissions", json=REQUEST, headers=centre)
    assert made.status_code == 201, made.get_json()
    number = made.get_json()["case_number"]
    assert case_json(client, centre, number)["org"] == "339901901"  # keyed in at the centre
    act_ok(client, centre, number, "dispatch", fields={"unit": LANYUE})
    assert act(client, centre, number, "acknowledge").status_code == 403  # 签收 is the community's
    act_ok(client, community, number, "acknowledge")
    act_ok(client, community, number, "reply", comment="已协调", fields={"reply": "已联系自来水公司恢复供水"})
    for handling in (community, secretary):
        assert "approve" not in case_json(client, handling, number)["allowed_actions"]
        refused = act(client, handling, number, "approve")
        assert refused.status_code == 403 and refused.get_json()["errors"][0]["message"].startswith(("须由受理单位", "不能审核"))
    assert act_ok(client, centre, number, "approve")["state"] == "reviewed"


def test_the_follow_up_asks_reached_solved_satisfied_and_keeps_them(app, client, bearer):
    number = _request(client)
    _to_follow_up(client, bearer, number)
    case = case_row(app, number)
    assert case.state == "reviewed" and case.step_name == "回访"
    with app.app_context():
        expected = workcalendar.add_working_days(last_event(app, number, "approve").at, 3, case.org.path).at
    assert case.step_due == expected
    staff = bearer("luojia")
    for fields in ({}, {**FOLLOW_UP, "solved": "maybe"}, {k: v for k, v in FOLLOW_UP.items() if k != "satisfied"},
                   {**FOLLOW_UP, "reached": False}):
        refused = act(client, staff, number, "follow_up", comment="电话回访", fields=fields)
        assert refused.status_code == 422, fields
        assert all(e["message"] for e in refused.get_json()["errors"])
    closed = act_ok(client, staff, number, "follow_up", comment="电话回访", fields=FOLLOW_UP)
    assert closed["state"] == "closed"
    case = case_row(app, number)
    assert case.data["_follow_up"] == FOLLOW_UP  # what 解决率 / 满意率 count
    assert case.step_name is None and case.closed_at is not None
    row = last_event(app, number, "follow_up")
    assert row.changes["step_done"] == "回访" and row.changes["step_late"] is False
    assert row.changes["solved"] == "solved"
    assert case.rating == "basically_satisfied" and case.rated_at is not None  # 满意率 counts the 回访 answer
    tracked = client.get(f"/track?number={number}&code={case.tracking_code}").get_data(as_text=True)
    assert "基本满意" in tracked and "提交评价" not in tracked  # the resident is not asked again


def test_an_unreached_follow_up_keeps_the_case_waiting_for_follow_up(app, client, bearer):
    number = _request(client)
    _to_follow_up(client, bearer, number)
    staff = bearer("luojia")
    assert act(client, staff, number, "follow_up_failed", fields={"method": "phone"}).status_code == 422  # comment
    attempt = act_ok(client, staff, number, "follow_up_failed", comment="两次拨打无人接听", fields={"method": "phone"})
    assert attempt["state"] == "reviewed"
    case = case_row(app, number)
    assert case.closed_at is None and case.step_name == "回访"  # the 回访 limit still runs
    assert "step_done" not in last_event(app, number, "follow_up_failed").changes
    assert "follow_up" in case_json(client, staff, number)["allowed_actions"]
    assert act_ok(client, staff, number, "follow_up", comment="再次回访", fields=FOLLOW_UP)["state"] == "closed"


# ---- 12345: the acceptance time starts the clock --------------------------------------------


def _keyed_in(client, headers, **extra):
    """An order keyed in by the 12345 centre's dispatcher (staff: its 受理时间 counts)."""
    return client.post(f"/api/v1/forms/livelihood-request/submissions?org={LANYUE}",
                       json={**REQUEST, **extra}, headers=headers)


def test_the_12345_acceptance_time_starts_the_clock(app, client, bearer):
    accepted = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    made = _keyed_in(client, bearer("wangqing"), external_number="GD-2503-119305", received_at=accepted.isoformat())
    assert made.status_code == 201, made.get_json()
    case = case_row(app, made.get_json()["case_number"])
    assert case.sla_start == accepted and case.created_at > accepted
    with app.app_context():
        expected = workcalendar.add_working_days(accepted, 3, case.org.path).at
    assert case.deadline == expected
    with app.app_context():
        assert case.sla_status == sla.status_at(expected, utcnow(), None, case.org.path, case.sla_limit)

    plain = case_row(app, _request(client))  # without it the submission starts the clock
    assert plain.sla_start == plain.created_at


def test_a_residents_own_acceptance_time_does_not_start_the_clock(app, client, demo):
    """The public form cannot backdate the clock that judges the handling unit (black-box
    finding: a resident's 受理时间 of October made the case overdue at birth)."""
    backdated = (utcnow() - timedelta(days=20)).isoformat()
    number = _request(client, external_number="FAKE1", received_at=backdated)
    case = case_row(app, number)
    assert case.sla_start == case.created_at and case.sla_status == "on_track"


@pytest.mark.parametrize("when", ["future", "too_old", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_an_acceptance_time_out_of_range_is_refused(app, client, bearer, when):
    value = {"future": (utcnow() + timedelta(hours=3)).isoformat(),
             "too_old": (utcnow() - timedelta(days=31)).isoformat()}.get(when, when)
    headers = bearer("wangqing")
    response = _keyed_in(client, headers, external_number="GD-2503-119306", received_at=value)
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["errors"][0]
    assert error["pointer"] == "/received_at"
    if when == "future":
        assert "晚于当前时间" in error["message"]
    with app.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


# ---- 矛盾纠纷 ---------------------------------------------------------------------------------


AGREEMENT = {"form": "written", "parties": ["钱芳", "李志刚"], "terms": "李志刚于十日内赔偿钱芳吊顶修复费用",
             "amount": 2000, "performance_deadline": "2026-12-31"}


def _mediate(client, bearer, number):
    staff, mediator = bearer("shenli"), bearer("tangmin")
    assert act(client, staff, number, "start").status_code == 403  # screening and 受理 come first
    screened = act_ok(client, mediator, number, "screen",
                      fields={"screening": "monthly", "risk_level": "medium", "group_dispute": False, "mediable": True})
    assert screened["state"] == "screened"
    assert act_ok(client, staff, number, "accept", fields={"mediation_body": "village"})["state"] == "accepted"
    assert act_ok(client, mediator, number, "start")["assignee"] == "tangmin"
    act_ok(client, mediator, number, "record_meeting", comment="第一次调解会：双方到场")
    return mediator


def test_a_dispute_from_screening_to_judicial_confirmation_and_follow_up(app, client, bearer):
    number = submit_form(client, "dispute-registration", DISPUTE, headers=bearer("shenli"))["case_number"]
    mediator = _mediate(client, bearer, number)
    for bad in ({**AGREEMENT, "amount": -1}, {**AGREEMENT, "parties": ["钱芳"]},
                {k: v for k, v in AGREEMENT.items() if k != "terms"}):
        assert act(client, mediator, number, "agree", comment="双方签字", fields=bad).status_code == 422
    agreed = act_ok(client, mediator, number, "agree", comment="双方签字", fields=AGREEMENT)
    assert agreed["state"] == "agreed"
    case = case_row(app, number)
    assert case.sla_status == sla.MET and case.closed_at is None  # the clock ended at the agreement
    assert case.data["_agree"] == AGREEMENT
    assert last_event(app, number, "agree").changes["sla_stopped"] == sla.MET
    assert "request_extension" not in case_json(client, mediator, number)["allowed_actions"]
    # no deadline runs any more: even a month later the case is not overdue
    set_columns(app, number, deadline=utcnow() - timedelta(days=3))
    with app.app_context():
        from fengqiao.cases.jobs import sla_sweep

        run_job(sla_sweep)
    assert case_row(app, number).sla_status == sla.MET

    applied = act_ok(client, mediator, number, "apply_confirmation", comment="双方共同申请",
                     fields={"court": "澄湖县人民法院", "applied_on": "2026-11-20", "joint": True})
    assert applied["state"] == "confirming"
    no_number = act(client, mediator, number, "confirmed", comment="法院裁定",
                    fields={"result": "confirmed", "ruled_on": "2026-11-27"})
    assert no_number.status_code == 422  # a confirmation carries the court's case number
    ruling = {"result": "confirmed", "ruled_on": "2026-11-27", "court_case_number": "(2026)浙0101民特123号"}
    confirmed = act_ok(client, mediator, number, "confirmed", comment="法院裁定确认有效", fields=ruling)
    assert confirmed["state"] == "follow_up"
    case = case_row(app, number)
    assert case.data["_confirmed"] == ruling and case.data["_apply_confirmation"]["court"] == "澄湖县人民法院"
    assert case.step_name == "履行回访"
    assert timedelta(days=14, hours=23) < case.step_due - last_event(app, number, "confirmed").at <= timedelta(days=15)

    closed = act_ok(client, mediator, number, "close", comment="回访：已履行",
                    fields={"performance": "performed", "satisfied": "satisfied"})
    assert closed["state"] == "closed"
    case = case_row(app, number)
    assert case.closed_at is not None and case.sla_status == sla.MET  # met at the agreement, not at 结案
    assert case.data["_close"]["performance"] == "performed"
    # the case page shows what was recorded, in words
    browser = app.test_client()
    login(browser, "shenli")
    page = browser.get(f"/cases/{number}").get_data(as_text=True)
    for text in ("书面调解协议书", "李志刚于十日内赔偿", "裁定确认有效", "(2026)浙0101民特123号", "已履行"):
        assert text in page, text
    # dispute records are never public: no 回音壁 panel, publishing refused; /track shows no codes
    assert "board-summary" not in page and "不公开，不能发布到回音壁" in page
    refused = browser.post(f"/cases/{number}/board",
                           data={"summary": "已调解", "csrf_token": csrf_token(browser, f"/cases/{number}")})
    assert refused.status_code == 403 and not case_row(app, number).on_board
    tracked = client.get(f"/track?number={number}&code={case.tracking_code}").get_data(as_text=True)
    assert "confirmed" not in tracked and "performed" not in tracked


def test_a_late_agreement_misses_and_a_failed_mediation_records_why(app, client, bearer):
    number = submit_form(client, "dispute-registration", DISPUTE, headers=bearer("shenli"))["case_number"]
    mediator = _mediate(client, bearer, number)
    set_columns(app, number, deadline=utcnow() - timedelta(hours=1), due_at=utcnow() - timedelta(hours=1))
    act_ok(client, mediator, number, "agree", comment="双方签字", fields=AGREEMENT)
    assert case_row(app, number).sla_status == sla.MISSED
    act_ok(client, mediator, number, "skip_confirmation", fields={"reason": "performed"})
    act_ok(client, mediator, number, "close", comment="回访", fields={"performance": "performed"})
    assert case_row(app, number).sla_status == sla.MISSED  # stays missed at 结案

    failed_case = submit_form(client, "dispute-registration", DISPUTE, headers=bearer("shenli"))["case_number"]
    _mediate(client, bearer, failed_case)
    assert act(client, mediator, failed_case, "fail", comment="多次调解未果", fields={}).status_code == 422
    failed = act_ok(client, mediator, failed_case, "fail", comment="多次调解未果",
                    fields={"reason": "no_consensus", "routes": "已告知可向法院起诉"})
    assert failed["state"] == "failed"
    case = case_row(app, failed_case)
    assert case.closed_at is not None and case.sla_status == sla.MET
    assert case.data["_fail"] == {"reason": "no_consensus", "routes": "已告知可向法院起诉"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_case_types_declare_their_step_limits(app):
    from fengqiao.cases.case_types import case_type

    with app.app_context():
        request = case_type("livelihood_request")
        assert request.transitions["dispatch"].step_limit["tiers"]["critical"] == {"hours": 0.5}
        assert request.transitions["contact"].ends_step
        assert request.limit_for({"request_type": "report", "urgency": "critical"}) == {"hours": 24}
        assert request.limit_for({"request_type": "report", "urgency": "urgent"}) == {"working_days": 15}
        dispute = case_type("dispute_mediation")
        assert dispute.initial_state == "registered" and dispute.transitions["agree"].sla == "stop"
