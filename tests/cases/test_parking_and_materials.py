"""挂账 needs the level above (the clock runs until then), 恢复办理 credits the paused time,
销号 closes, the review date reminds once; 补正 pauses the clock in 便民代办 and 民生诉求; the
urgency a reporter chose is confirmed or regraded at 受理 (issue 18 §1)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from case_helpers import act, act_ok, case_events, case_json, case_row, run_job, set_columns

from fengqiao import workcalendar
from fengqiao.cases.jobs import park_reviews
from fengqiao.db import db, utcnow
from fengqiao.models import Case, JobRecord, OrgUnit
from fengqiao.testing.plugin import login, submit_form

SHANGHAI = ZoneInfo("Asia/Shanghai")
COMMUNITY = "339901001001"  # 揽月社区: shenli (staff) and gaojie (leader) work here
INCIDENT = {"summary": "揽月花园北门路面塌陷", "category": "安全隐患", "description": "北门口路面塌陷约一平方米。",
            "location": {"address": "揽月花园北门"}, "urgency": "normal"}
REQUEST = {"request_type": "consult", "summary": "高龄津贴怎么申请", "content": "家中老人今年满八十岁，想了解高龄津贴。",
           "caller_name": "陈德福", "caller_mobile": "13912345678"}
PROXY = {"service_item": "高龄津贴申请", "applicant_name": "王桂英", "applicant_id_card": "339901195203140111",
         "applicant_mobile": "13812345678", "address": "揽月花园5幢"}


def _in_future(days: int = 20) -> str:
    return (utcnow().astimezone(SHANGHAI).date() + timedelta(days=days)).isoformat()


PARK = {"block": "budget", "expected_resolution": "列入明年道路维修预算后施工"}


@pytest.fixture
def incident(app, client, bearer):
    """A community-level incident (揽月社区) being handled by shenli: the level above is 澄湖街道."""
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    with app.app_context():
        community = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == COMMUNITY))
        db.execute(sa.update(Case).where(Case.number == number).values(org_id=community.id))
        db.commit()
    staff = bearer("shenli")
    act_ok(client, staff, number, "accept")
    act_ok(client, staff, number, "start")
    return number


def _request_park(client, bearer, number, review_on=None):
    return act_ok(client, bearer("shenli"), number, "request_park", comment="路面修复需专项资金",
                  fields={**PARK, "review_on": review_on or _in_future()})


# ---- 挂账 -----------------------------------------------------------------------------------


def test_a_park_request_needs_reason_and_review_date_and_does_not_stop_the_clock(app, client, bearer, incident):
    staff = bearer("shenli")
    before = case_row(app, incident)
    assert "park" not in case_json(client, staff, incident)["allowed_actions"]  # no parking at once any more
    no_reason = act(client, staff, incident, "request_park", fields={**PARK, "review_on": _in_future()})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["pointer"] == "/comment"
    no_date = act(client, staff, incident, "request_park", comment="待预算", fields=PARK)
    assert no_date.status_code == 422 and no_date.get_json()["errors"][0]["pointer"] == "/fields/review_on"
    bad_date = act(client, staff, incident, "request_park", comment="待预算", fields={**PARK, "review_on": "明年"})
    assert bad_date.status_code == 422 and bad_date.get_json()["errors"][0]["pointer"] == "/fields/review_on"
    past = act(client, staff, incident, "request_park", comment="待预算",
               fields={**PARK, "review_on": _in_future(-1)})
    assert past.status_code == 422
    assert past.get_json()["errors"][0] == {"pointer": "/fields/review_on", "message": "复核日期应晚于今天",
                                            "code": "review_on_past"}
    asked = _request_park(client, bearer, incident)
    assert asked["state"] == "park_requested"
    case = case_row(app, incident)
    assert case.paused_at is None and case.sla_status == before.sla_status != "paused"
    assert case.deadline == before.deadline and case.review_on is None  # nothing stops before approval


def test_neither_the_requester_nor_the_same_level_may_approve(app, client, bearer, incident):
    _request_park(client, bearer, incident)
    for username, reason in (("shenli", "不能审批本人提交或申请的事项，须由他人办理"),  # four_eyes
                             ("gaojie", "须由事项所属单位的上级单位审批")):  # 揽月社区's own leader: same level
        headers = bearer(username)
        assert "approve_park" not in case_json(client, headers, incident)["allowed_actions"]
        refused = act(client, headers, incident, "approve_park")
        assert refused.status_code == 403, username
        assert refused.get_json()["errors"][0]["message"] == reason
    assert case_row(app, incident).paused_at is None
    assert "approve_park" in case_json(client, bearer("zhoujian"), incident)["allowed_actions"]


@pytest.mark.parametrize("approver", ["zhoujian", "luojia"])  # 澄湖街道's leader, its staff
def test_the_level_above_approves_and_the_clock_stops(app, client, bearer, incident, approver):
    review_on = _in_future(30)
    _request_park(client, bearer, incident, review_on)
    approved = act_ok(client, bearer(approver), incident, "approve_park", comment="同意挂账")
    assert approved["state"] == "parked"
    case = case_row(app, incident)
    assert case.paused_at is not None and case.sla_status == "paused"
    assert case.review_on == date.fromisoformat(review_on)
    assert case_json(client, bearer("shenli"), incident)["review_on"] == review_on
    row = case_events(app, incident, "approve_park")[-1]
    assert row.changes["review_on"] == review_on


def test_rejecting_a_park_request_keeps_the_case_in_work(app, client, bearer, incident):
    _request_park(client, bearer, incident)
    no_reason = act(client, bearer("zhoujian"), incident, "reject_park")
    assert no_reason.status_code == 422
    rejected = act_ok(client, bearer("zhoujian"), incident, "reject_park", comment="可先行临时围挡处置")
    assert rejected["state"] == "in_progress"
    case = case_row(app, incident)
    assert case.paused_at is None and case.sla_status != "paused" and case.review_on is None


def test_resuming_credits_the_paused_time(app, client, bearer, incident):
    _request_park(client, bearer, incident)
    act_ok(client, bearer("zhoujian"), incident, "approve_park")
    # the item stood parked for a week: Monday to Monday, 5 working days in between
    monday = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
    set_columns(app, incident, paused_at=monday - timedelta(days=7))
    with app.app_context():
        from fengqiao.cases import sla

        assert sla.paused_credit(case_row(app, incident), monday) == 5
    resumed = act_ok(client, bearer("shenli"), incident, "resume", comment="预算已下达，恢复办理")
    assert resumed["state"] == "in_progress"
    case = case_row(app, incident)
    assert case.paused_at is None and case.review_on is None and case.sla_credit >= 5
    assert case.paused_seconds >= 7 * 86400 - 60
    with app.app_context():
        assert case.deadline == workcalendar.add_working_days(case.sla_start, 3 + int(case.sla_credit), case.org.path).at
    assert case.sla_status in ("on_track", "due_soon", "overdue")
    actions = [e["action"] for e in case_json(client, bearer("shenli"), incident)["history"]]
    assert actions[-3:] == ["request_park", "approve_park", "resume"]


def test_writing_off_closes_a_parked_item(app, client, bearer, incident):
    _request_park(client, bearer, incident)
    act_ok(client, bearer("zhoujian"), incident, "approve_park")
    closed = act_ok(client, bearer("shenli"), incident, "write_off", comment="道路已修复，销号")
    assert closed["state"] == "closed"
    case = case_row(app, incident)
    assert case.closed_at is not None and case.paused_at is None and case.sla_status == "met"
    assert case.assignee_id is None


def _notifications(app, event: str) -> list[dict]:
    with app.app_context():
        return [j.args for j in db.scalars(sa.select(JobRecord).where(JobRecord.name == "cases.notify"))
                if j.args.get("event") == event]


def test_the_review_date_reminds_once_and_moving_it_rearms_the_reminder(app, client, bearer, incident):
    review_on = date.fromisoformat(_in_future(10))
    _request_park(client, bearer, incident, review_on.isoformat())
    act_ok(client, bearer("zhoujian"), incident, "approve_park")
    eve = datetime.combine(review_on - timedelta(days=1), datetime.min.time(), SHANGHAI).replace(hour=20)
    morning = datetime.combine(review_on, datetime.min.time(), SHANGHAI).replace(hour=8)
    with app.app_context():
        assert run_job(park_reviews, now=eve) == {"reminded": 0}
        assert run_job(park_reviews, now=morning) == {"reminded": 1}
        assert run_job(park_reviews, now=morning + timedelta(hours=5)) == {"reminded": 0}  # once per date
    rows = case_events(app, incident, "park_review")
    assert len(rows) == 1 and rows[0].actor_id is None and rows[0].comment.startswith("挂账复核提醒")
    assert case_row(app, incident).review_reminded_on == review_on
    browser = app.test_client()  # a second client: signing this one in would make token calls need CSRF
    assert login(browser, "shenli").status_code == 302
    page = browser.get(f"/cases/{incident}").get_data(as_text=True)
    assert f'data-review-on="{review_on.isoformat()}"' in page and "已提醒复核" in page
    sent = _notifications(app, "park_review")
    assert len(sent) == 1 and {"shenli", "zhoujian"} <= set(sent[0]["recipients"])
    history = case_json(client, bearer("shenli"), incident)["history"]
    assert history[-1]["action"] == "park_review"
    # moving the review date is for the level above, with a reason; it re-arms the reminder
    later = review_on + timedelta(days=30)
    assert "review" not in case_json(client, bearer("shenli"), incident)["allowed_actions"]
    assert act(client, bearer("zhoujian"), incident, "review", fields={"review_on": later.isoformat()}).status_code == 422
    act_ok(client, bearer("zhoujian"), incident, "review", comment="预算下月批复",
           fields={"review_on": later.isoformat()})
    assert case_row(app, incident).review_on == later and case_row(app, incident).state == "parked"
    with app.app_context():
        assert run_job(park_reviews, now=morning + timedelta(days=1)) == {"reminded": 0}
        assert run_job(park_reviews, now=morning + timedelta(days=30)) == {"reminded": 1}
    assert len(case_events(app, incident, "park_review")) == 2


def test_the_review_job_is_periodic():
    from fengqiao.jobs.registry import CORE_JOBS, PERIODIC

    assert "cases.park_reviews" in CORE_JOBS and "cases.park_reviews" in PERIODIC


# ---- 补正 -----------------------------------------------------------------------------------


def _track(client, sent) -> dict:
    response = client.get(f"/api/v1/track/{sent['case_number']}?code={sent['tracking_code']}")
    assert response.status_code == 200
    return response.get_json()


def _materials_round_trip(app, client, staff, sent, handling_state):
    number = sent["case_number"]
    no_list = act(client, staff, number, "request_materials", comment="缺少材料")
    assert no_list.status_code == 422 and no_list.get_json()["errors"][0]["pointer"] == "/fields/reply"
    waiting = act_ok(client, staff, number, "request_materials", comment="户口簿未上传",
                     fields={"reply": "请补充户口簿首页及本人页照片"})
    assert waiting["state"] == "awaiting_materials"
    case = case_row(app, number)
    assert case.paused_at is not None and case.sla_status == "paused"
    public = _track(client, sent)
    assert public["state_title"] == "待补正"
    assert "请补充户口簿首页及本人页照片" in [r["text"] for r in public["replies"]]
    assert _notifications(app, "request_materials")  # the reporter is told
    # three natural days later the materials arrive: the deadline moves by the working days lost
    set_columns(app, number, paused_at=case.paused_at - timedelta(days=3))
    back = act_ok(client, staff, number, "materials_received")
    assert back["state"] == handling_state
    case = case_row(app, number)
    assert case.paused_at is None and case.sla_status != "paused" and case.paused_seconds >= 3 * 86400 - 60
    with app.app_context():
        assert case.deadline == workcalendar.add_working_days(case.sla_start, case.sla_limit["working_days"]
                                                          + int(case.sla_credit), case.org.path).at


def test_materials_pause_the_clock_in_proxy_service(app, client, bearer):
    sent = submit_form(client, "proxy-service", PROXY, org=COMMUNITY)
    staff = bearer("shenli")
    act_ok(client, staff, sent["case_number"], "accept")
    _materials_round_trip(app, client, staff, sent, "processing")


def test_materials_pause_the_clock_in_livelihood_requests(app, client, bearer):
    sent = submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)
    staff = bearer("shenli")
    act_ok(client, staff, sent["case_number"], "dispatch", fields={"unit": COMMUNITY})
    act_ok(client, staff, sent["case_number"], "acknowledge")
    _materials_round_trip(app, client, staff, sent, "handling")


# ---- urgency confirmed at 受理 ----------------------------------------------------------------


@pytest.fixture
def reported(client, bearer):
    return submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]


def test_regrading_the_urgency_at_acceptance_recomputes_the_deadline(app, client, bearer, reported):
    staff = bearer("shenli")
    before = case_row(app, reported)
    assert before.priority == "normal" and before.sla_limit == {"working_days": 3}
    act_ok(client, staff, reported, "accept", fields={"urgency": "urgent"})
    case = case_row(app, reported)
    assert case.priority == "urgent" and case.sla_limit == {"hours": 24} and case.data["urgency"] == "urgent"
    assert case.sla_start == before.sla_start and case.deadline == case.sla_start + timedelta(hours=24)
    assert case.deadline < before.deadline and case.due_at == case.deadline
    assert case.sla_status in ("on_track", "due_soon")
    row = case_events(app, reported, "accept")[-1]
    assert row.changes["urgency"]["from"] == "normal" and row.changes["urgency"]["to"] == "urgent"
    assert row.changes["urgency"]["from_title"] == "一般" and row.changes["urgency"]["to_title"] == "紧急"


def test_the_case_page_offers_the_reported_urgency_and_shows_the_regrade(app, client, bearer, login_as, reported):
    staff = bearer("shenli")  # before signing in: a session cookie makes the token call need CSRF
    web = login_as("shenli")
    html = web.get(f"/cases/{reported}").get_data(as_text=True)
    form = html[html.index('data-action="accept"'):]
    form = form[:form.index("</form>")]
    assert '<option value="normal" selected>一般</option>' in form
    act_ok(client, staff, reported, "accept", fields={"urgency": "difficult"})
    html = web.get(f"/cases/{reported}").get_data(as_text=True)
    history = html[html.index('class="timeline"'):]  # the 流转记录 tab
    assert "一般 → 疑难" in history and "difficult" not in history


def test_confirming_the_reported_urgency_changes_nothing_but_is_recorded(app, client, bearer, login_as, reported):
    before = case_row(app, reported)
    act_ok(client, bearer("shenli"), reported, "accept")  # no field: the reported value stands
    html = login_as("shenli").get(f"/cases/{reported}").get_data(as_text=True)
    history = html[html.index('class="timeline"'):]  # the 流转记录 tab
    assert "一般（确认无误）" in history and "一般 → 一般" not in history
    case = case_row(app, reported)
    assert (case.priority, case.sla_limit, case.deadline, case.sla_status) == \
        (before.priority, before.sla_limit, before.deadline, before.sla_status)
    row = case_events(app, reported, "accept")[-1]
    assert row.changes["urgency"]["from"] == row.changes["urgency"]["to"] == "normal"


def test_a_12345_request_type_is_confirmed_at_dispatch(app, client, bearer):
    number = submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)["case_number"]
    before = case_row(app, number)
    assert before.sla_limit == {"working_days": 1}
    wrong = act(client, bearer("shenli"), number, "dispatch", fields={"unit": COMMUNITY, "request_type": "urgent"})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["pointer"] == "/fields/request_type"
    act_ok(client, bearer("shenli"), number, "dispatch", fields={"unit": COMMUNITY, "request_type": "complaint"})
    case = case_row(app, number)
    assert case.priority == "complaint" and case.sla_limit == {"working_days": 5}
    with app.app_context():
        assert case.deadline == workcalendar.add_working_days(case.sla_start, 5, case.org.path).at
    assert case_events(app, number, "dispatch")[-1].changes["request_type"]["to_title"] == "投诉"


def test_a_12345_urgency_raised_to_critical_at_dispatch_gives_the_critical_clock(app, client, bearer):
    """特急 is an override of the request type's limit: confirming it at 派单 recomputes the case
    deadline (24 h) and the 签收 step is due within 30 minutes, both from the confirmed value."""
    number = submit_form(client, "livelihood-request", {**REQUEST, "request_type": "complaint"},
                         org=COMMUNITY)["case_number"]
    assert case_row(app, number).sla_limit == {"working_days": 5}
    act_ok(client, bearer("shenli"), number, "dispatch",
           fields={"unit": COMMUNITY, "request_type": "complaint", "urgency": "critical"})
    case = case_row(app, number)
    assert case.sla_limit == {"hours": 24} and case.priority == "critical"
    assert abs((case.deadline - case.sla_start).total_seconds() - 24 * 3600) < 1
    assert case.step_name == "签收" and (case.step_due - case_events(app, number, "dispatch")[-1].at).total_seconds() == 1800
    assert case_events(app, number, "dispatch")[-1].changes["urgency"]["to_title"] == "特急"


def test_regrading_an_overdue_case_does_not_rescue_it(app, client, bearer):
    """Black-box finding: a 咨询 past its 1-day limit, regraded to 举报 (15 days) at 派单, became
    on time again and left 按期办结率. The classification changes; the clock does not."""
    number = submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)["case_number"]
    late = utcnow() - timedelta(hours=1)
    set_columns(app, number, deadline=late, due_at=late, sla_status="overdue")
    act_ok(client, bearer("shenli"), number, "dispatch", fields={"unit": COMMUNITY, "request_type": "report"})
    case = case_row(app, number)
    assert case.priority == "report"
    assert case.deadline == late and case.due_at == late and case.sla_status == "overdue"
