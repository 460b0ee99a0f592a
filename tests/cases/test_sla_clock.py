"""The SLA clock: pause (挂账) credits time back, extensions need a higher level's approval,
the sweep marks 临期/超期 and climbs the escalation ladder, and entering a year's 放假/调休
arrangement recomputes the open cases' provisional deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from case_helpers import act, case_events, case_json, case_row, run_job, set_columns

from fengqiao import signals, workcalendar
from fengqiao.cases.jobs import sla_sweep
from fengqiao.db import db, utcnow
from fengqiao.models import JobRecord
from fengqiao.testing.plugin import self_handle_photos, submit_form
from fengqiao.workcalendar.arrangement import import_arrangement

SHANGHAI = ZoneInfo("Asia/Shanghai")
INCIDENT = {"summary": "湖滨路路灯不亮", "category": "安全隐患", "description": "湖滨路东段三盏路灯夜间不亮。",
            "location": {"address": "湖滨路东段"}, "urgency": "normal"}


@pytest.fixture
def incident(client, bearer):
    return submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]


def test_a_new_case_records_what_its_deadline_is_made_of(app, client, bearer, incident):
    case = case_row(app, incident)
    assert case.sla_limit == {"working_days": 3} and case.priority == "normal" and case.sla_credit == 0
    with app.app_context():
        expected = workcalendar.add_working_days(case.sla_start, 3, case.org.path)
    assert case.deadline == expected.at


def test_parking_stops_the_clock_and_resuming_credits_the_working_days(app, client, bearer, incident):
    staff = bearer("shenli")
    assert act(client, staff, incident, "accept").status_code == 200
    assert act(client, staff, incident, "start").status_code == 200
    review_on = (utcnow() + timedelta(days=30)).date().isoformat()
    asked = act(client, staff, incident, "request_park", comment="等待专项资金",
                fields={"block": "budget", "review_on": review_on, "expected_resolution": "下月预算批复后更换"})
    assert asked.status_code == 200 and case_row(app, incident).paused_at is None  # the request alone stops nothing
    parked = act(client, bearer("luojia"), incident, "approve_park")  # 澄湖街道: above the reporting grid
    assert parked.status_code == 200
    case = case_row(app, incident)
    assert case.paused_at is not None and case.sla_status == "paused"
    # Pretend the case waited a week: from one Monday to the next (5 working days in between)
    monday = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
    set_columns(app, incident, paused_at=monday - timedelta(days=7))
    with app.app_context():
        from fengqiao.cases import sla

        credit = sla.paused_credit(case_row(app, incident), monday)
    assert credit == 5
    resumed = act(client, staff, incident, "resume", comment="资金已到位，恢复办理")
    assert resumed.status_code == 200
    case = case_row(app, incident)
    assert case.paused_at is None and case.sla_credit >= 5
    with app.app_context():
        expected = workcalendar.add_working_days(case.sla_start, 3 + int(case.sla_credit))
    assert case.deadline == expected.at and case.sla_status in ("on_track", "due_soon", "overdue")
    history = [e["action"] for e in case_json(client, staff, incident)["history"]]
    assert history[-2:] == ["approve_park", "resume"]


def test_an_extension_is_requested_by_the_handler_and_approved_above(app, client, bearer, incident):
    staff, supervisor = bearer("shenli"), bearer("ducha")
    before = case_row(app, incident).deadline
    no_reason = act(client, staff, incident, "request_extension", fields={"amount": 2})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["pointer"] == "/comment"
    too_long = act(client, staff, incident, "request_extension", comment="需协调物业", fields={"amount": 99})
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["pointer"] == "/fields/amount"
    asked = act(client, staff, incident, "request_extension", comment="需协调供电公司", fields={"amount": 2})
    assert asked.status_code == 200
    body = case_json(client, staff, incident)
    assert body["pending_extension"]["amount"] == 2
    assert "approve_extension" not in body["allowed_actions"]  # not by the one who asked
    assert "approve_extension" in case_json(client, supervisor, incident)["allowed_actions"]
    approved = act(client, supervisor, incident, "approve_extension")
    assert approved.status_code == 200
    case = case_row(app, incident)
    assert case.pending_extension is None and case.sla_credit == 2
    with app.app_context():
        assert case.deadline == workcalendar.add_working_days(case.sla_start, 5).at
    assert case.deadline > before


def test_the_sweep_marks_overdue_once_and_climbs_the_ladder(app, client, bearer, incident):
    escalations = []
    signals.case_escalated.connect(lambda sender, **kw: escalations.append(kw), sender=app, weak=False)
    set_columns(app, incident, deadline=utcnow() - timedelta(hours=2))
    with app.app_context():
        first = run_job(sla_sweep)
        again = run_job(sla_sweep)  # idempotent: nothing more happens on a second run
    assert first["overdue"] == 1 and first["escalated"] == 1
    assert again["overdue"] == 0 and again["escalated"] == 0
    case = case_row(app, incident)
    assert case.sla_status == "overdue" and case.escalation_level == 1
    with app.app_context():
        community = db.get(type(case.org), case.escalated_to_id)
        assert community.level == "community" and case.org.path.startswith(community.path)
    assert len(case_events(app, incident, "sla_overdue")) == 1 and len(case_events(app, incident, "escalate")) == 1
    assert escalations == [{"case_number": incident, "org": community.code, "automatic": True}]
    # the next rung (street) waits one more working day past the deadline, and the cool-down
    # since the last climb (one level at a time)
    set_columns(app, incident, deadline=utcnow() - timedelta(days=10))
    with app.app_context():
        assert run_job(sla_sweep)["escalated"] == 0
    set_columns(app, incident, escalated_at=utcnow() - timedelta(hours=2))
    with app.app_context():
        assert run_job(sla_sweep)["escalated"] == 1
    assert case_row(app, incident).escalation_level == 2


def test_a_case_near_its_deadline_is_due_soon(app, client, bearer, incident):
    set_columns(app, incident, deadline=utcnow() + timedelta(hours=1))
    with app.app_context():
        assert run_job(sla_sweep)["due_soon"] == 1
    assert case_row(app, incident).sla_status == "due_soon"
    listed = client.get("/api/v1/cases?view=due_soon", headers=bearer("shenli")).get_json()
    assert incident in [c["number"] for c in listed["items"]]


def test_closing_records_whether_the_deadline_was_met(app, client, bearer, incident):
    grid = bearer("zhangmin")
    assert act(client, grid, incident, "self_handle", comment="已联系供电所修复",
               fields=self_handle_photos(client, incident, grid)).status_code == 200
    case = case_row(app, incident)
    assert case.closed_at is not None and case.sla_status == "met"


def test_importing_next_years_arrangement_recomputes_provisional_deadlines(app, client, bearer, incident):
    """Opened on 2026-12-24 with 15 working days: provisional (2027 unknown) until entered."""
    christmas_eve = datetime(2026, 12, 24, 9, 0, tzinfo=SHANGHAI)
    with app.app_context():
        guessed = workcalendar.add_working_days(christmas_eve, 15)
    assert guessed.provisional and guessed.at.date().isoformat() == "2027-01-15"
    set_columns(app, incident, sla_start=christmas_eve, sla_limit={"working_days": 15}, deadline=guessed.at,
                deadline_provisional=True)
    with app.app_context():
        result = import_arrangement(
            "日期,类型,名称\n2027-01-01,放假,元旦\n2027-01-04,放假,元旦\n".encode(), "2027.csv")
        db.commit()
        workcalendar.announce_calendar_changed(result.years)  # → a job, run after that commit
        jobs = list(db.scalars(sa.select(JobRecord).where(JobRecord.name == "cases.recompute_deadlines")))
        assert jobs and {j.status for j in jobs} == {"done"}  # the seeding at start had one too
    case = case_row(app, incident)
    assert not case.deadline_provisional
    assert case.deadline.astimezone(SHANGHAI) == datetime(2027, 1, 18, 17, 30, tzinfo=SHANGHAI)
    [event] = case_events(app, incident, "deadline_recomputed")
    assert event.changes["to"].startswith("2027-01-18")


def test_sending_back_for_redo_restarts_the_clock(app, client, bearer):
    """民生诉求 审核退回重办 sets a fresh 3-working-day deadline from the moment of return."""
    request = {"request_type": "report", "summary": "湖滨路烧烤店夜间油烟扰民", "content": "每晚十点后油烟很大。",
               "caller_name": "王先生", "caller_mobile": "13800138000"}
    number = submit_form(client, "livelihood-request", request, org="339901001001")["case_number"]
    staff = bearer("shenli")
    steps = [("dispatch", {"fields": {"unit": "339901001001"}}), ("acknowledge", {}),
             ("reply", {"comment": "已约谈店主", "fields": {"reply": "已要求加装油烟净化器"}})]
    for action, body in steps:
        assert act(client, staff, number, action, **body).status_code == 200, action
    first = case_row(app, number)
    assert first.sla_limit == {"working_days": 15}
    redo = act(client, staff, number, "redo", comment="居民反映仍有油烟")
    assert redo.status_code == 200
    case = case_row(app, number)
    assert case.sla_limit == {"working_days": 3} and case.sla_start > first.sla_start
    with app.app_context():
        assert case.deadline == workcalendar.add_working_days(case.sla_start, 3, case.org.path).at


def _deadline(app, number, when=None):
    """The case's deadline, after setting it to ``when`` when given."""
    if when is not None:
        set_columns(app, number, deadline=when)
    return case_row(app, number).deadline


# A deadline that has passed stays passed: 延期 is asked for before it, and an approval cannot
# rescue a case that went overdue while the request waited (按期办结率 must not be gameable).


def test_an_overdue_case_cannot_ask_for_an_extension(app, client, bearer, incident):
    staff = bearer("shenli")
    passed = _deadline(app, incident, utcnow() - timedelta(hours=2))
    assert "request_extension" not in case_json(client, staff, incident)["allowed_actions"]
    asked = act(client, staff, incident, "request_extension", comment="需协调供电公司", fields={"amount": 2})
    assert asked.status_code in (403, 422), asked.get_data(as_text=True)
    assert "期限" in asked.get_json()["errors"][0]["message"]
    assert case_json(client, staff, incident).get("pending_extension") is None
    assert _deadline(app, incident) == passed


def test_an_extension_that_waited_past_the_deadline_cannot_be_approved(app, client, bearer, incident):
    staff, supervisor = bearer("shenli"), bearer("ducha")
    asked = act(client, staff, incident, "request_extension", comment="需协调供电公司", fields={"amount": 2})
    assert asked.status_code == 200
    passed = _deadline(app, incident, utcnow() - timedelta(minutes=5))  # nobody decided in time
    allowed = case_json(client, supervisor, incident)["allowed_actions"]
    assert "approve_extension" not in allowed and "reject_extension" in allowed
    approved = act(client, supervisor, incident, "approve_extension")
    assert approved.status_code in (403, 422), approved.get_data(as_text=True)
    assert _deadline(app, incident) == passed
    rejected = act(client, supervisor, incident, "reject_extension", comment="已超期，按超期处理")
    assert rejected.status_code == 200
    assert case_json(client, staff, incident).get("pending_extension") is None
    assert _deadline(app, incident) == passed


def test_an_extension_asked_and_approved_in_time_still_moves_the_deadline(app, client, bearer, incident):
    staff, supervisor = bearer("shenli"), bearer("ducha")
    before = _deadline(app, incident)
    assert act(client, staff, incident, "request_extension", comment="需协调", fields={"amount": 1}).status_code == 200
    assert act(client, supervisor, incident, "approve_extension").status_code == 200
    assert _deadline(app, incident) > before
