"""Deadline integrity (issue 18 §1): 延期 is limited in number and total and a later one is
decided a level higher; the first clock metrics count (``due_at``, ``first_closed_at``) is
moved neither by a rework deadline nor by 重办; 临期 follows the limit; paused time adds up;
the case page and the API show what a deadline is made of."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import test_sla_clock
from case_helpers import act, case_events, case_json, case_row, run_job, set_columns
from test_sla_clock import INCIDENT

from fengqiao import workcalendar
from fengqiao.cases import sla
from fengqiao.cases.jobs import sla_sweep
from fengqiao.db import utcnow
from fengqiao.testing.plugin import submit_form

SHANGHAI = ZoneInfo("Asia/Shanghai")
LANYUE = "339901001001"
REQUEST = {"request_type": "report", "summary": "湖滨路烧烤店夜间油烟扰民", "content": "每晚十点后油烟很大。",
           "caller_name": "王先生", "caller_mobile": "13800138000"}


incident = test_sla_clock.incident  # a 网格事件 (一般: 3 working days) of 揽月花园's grid: a grid's case


@pytest.fixture
def request_case(client):
    """A 12345 举报 (15 working days) of 揽月社区."""
    return submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]


def _setting(app, **values):
    app.extensions["fengqiao.settings"].extra.update(values)


def _ask(client, headers, number, amount):
    return act(client, headers, number, "request_extension", comment="需协调供电公司", fields={"amount": amount})


def _message(response) -> str:
    return response.get_json()["errors"][0]["message"]


# ---- 延期: how many, how much, decided by whom -------------------------------------------


def test_a_second_extension_is_refused_by_default(app, client, bearer, incident):
    grid, community = bearer("zhangmin"), bearer("shenli")
    assert _ask(client, grid, incident, 1).status_code == 200
    assert act(client, community, incident, "approve_extension").status_code == 200
    case = case_row(app, incident)
    assert (case.extension_count, case.extended_total) == (1, 1)
    with app.app_context():
        assert case.deadline == workcalendar.add_working_days(case.sla_start, 4, case.org.path).at
    assert case.due_at == case.deadline  # the first clock moved with the approved extension
    assert "request_extension" not in case_json(client, grid, incident)["allowed_actions"]
    again = _ask(client, grid, incident, 1)
    assert again.status_code == 403 and "已达上限" in _message(again) and "1 次" in _message(again)
    assert case_row(app, incident).pending_extension is None


def test_a_second_extension_is_decided_a_level_higher(app, client, bearer, incident):
    """Grid case: the community may decide the first, only the street (two levels up) or
    above the second; the requester never decides their own."""
    _setting(app, max_extensions=2)
    grid, community, street = bearer("zhangmin"), bearer("shenli"), bearer("luojia")
    assert _ask(client, grid, incident, 1).status_code == 200
    assert "approve_extension" not in case_json(client, grid, incident)["allowed_actions"]
    assert act(client, community, incident, "approve_extension").status_code == 200
    assert _ask(client, grid, incident, 1).status_code == 200
    allowed = case_json(client, community, incident)["allowed_actions"]
    assert "approve_extension" not in allowed and "reject_extension" not in allowed
    refused = act(client, community, incident, "approve_extension")
    assert refused.status_code == 403 and "更高一级" in _message(refused)
    assert case_row(app, incident).extension_count == 1
    assert "approve_extension" in case_json(client, street, incident)["allowed_actions"]
    assert act(client, street, incident, "approve_extension").status_code == 200
    case = case_row(app, incident)
    assert (case.extension_count, case.extended_total, case.pending_extension) == (2, 2, None)
    with app.app_context():
        assert case.deadline == workcalendar.add_working_days(case.sla_start, 5, case.org.path).at
    assert case.due_at == case.deadline
    history = case_events(app, incident, "approve_extension")
    assert [e.changes["extension_count"] for e in history] == [1, 2]


def test_the_requester_never_decides_even_when_senior_enough(app, client, bearer, incident):
    _setting(app, max_extensions=2)
    street = bearer("luojia")
    assert _ask(client, street, incident, 1).status_code == 200
    mine = act(client, street, incident, "approve_extension")
    assert mine.status_code == 403 and "本人" in _message(mine)


def test_extensions_together_stay_within_the_original_limit(app, client, bearer, incident):
    _setting(app, max_extensions=3)
    grid, street = bearer("zhangmin"), bearer("luojia")
    too_much = _ask(client, grid, incident, 4)  # the limit is 3 working days
    assert too_much.status_code == 422
    [error] = too_much.get_json()["errors"]
    assert error["pointer"] == "/fields/amount" and "不得超过 3 个工作日" in error["message"]
    assert _ask(client, grid, incident, 2).status_code == 200
    assert act(client, street, incident, "approve_extension").status_code == 200
    over_cap = _ask(client, grid, incident, 2)
    assert over_cap.status_code == 422 and "最多还可延长 1 个工作日" in _message(over_cap)
    assert _ask(client, grid, incident, 1).status_code == 200
    assert act(client, bearer("ducha"), incident, "approve_extension").status_code == 200
    case = case_row(app, incident)
    assert (case.extension_count, case.extended_total) == (2, 3)
    assert "request_extension" not in case_json(client, grid, incident)["allowed_actions"]
    full = _ask(client, grid, incident, 1)
    assert full.status_code == 403 and "已无可延长的时间" in _message(full)


def test_a_smaller_cap_is_a_setting(app, client, bearer, incident):
    _setting(app, max_extension_ratio=0.5)  # 1.5 working days: whole days only, so 1
    refused = _ask(client, bearer("zhangmin"), incident, 2)
    assert refused.status_code == 422 and "最多还可延长 1 个工作日" in _message(refused)


def test_an_overdue_case_cannot_be_extended(app, client, bearer, incident):
    set_columns(app, incident, deadline=utcnow() - timedelta(minutes=1))
    refused = _ask(client, bearer("zhangmin"), incident, 1)
    assert refused.status_code == 403 and "期限已过" in _message(refused)
    assert case_row(app, incident).extension_count == 0


# ---- the first clock: 重办 and rework keep it ---------------------------------------------


def test_a_late_first_closure_stays_late_after_reopening(app, client, bearer, request_case):
    staff, number = bearer("shenli"), request_case
    late = utcnow() - timedelta(hours=2)
    set_columns(app, number, deadline=late, due_at=late)
    assert act(client, staff, number, "answer", comment="已电话答复").status_code == 200
    first = case_row(app, number)
    assert first.sla_status == "missed" and first.first_closed_at == first.closed_at is not None
    assert act(client, staff, number, "reopen", comment="居民反映问题仍未解决").status_code == 200
    reopened = case_row(app, number)
    assert reopened.deadline > utcnow() and reopened.sla_status in ("on_track", "due_soon")  # a fresh step clock
    assert reopened.due_at == late and reopened.first_closed_at == first.first_closed_at  # the counted one stays
    # the rework ends well within its new deadline: still 超期办结 for 按期办结率
    assert act(client, staff, number, "answer", comment="已上门处理完毕").status_code == 200
    closed = case_row(app, number)
    assert closed.closed_at > first.closed_at and closed.first_closed_at == first.first_closed_at
    assert closed.sla_status == "missed" and closed.due_at == late
    clock = case_json(client, staff, number)["clock"]
    assert clock["met_first_clock"] is False and clock["due_at_differs"] is True


def test_an_on_time_first_closure_stays_on_time(app, client, bearer, request_case):
    staff, number = bearer("shenli"), request_case
    assert act(client, staff, number, "answer", comment="已电话答复").status_code == 200
    assert case_row(app, number).sla_status == "met"
    assert act(client, staff, number, "reopen", comment="补充答复").status_code == 200
    assert act(client, staff, number, "answer", comment="已补充答复").status_code == 200
    case = case_row(app, number)
    assert case.sla_status == "met" and sla.met_first_clock(case) is True


def test_a_rework_deadline_does_not_move_the_first_clock(app, client, bearer, request_case):
    staff, number = bearer("shenli"), request_case
    steps = [("dispatch", {"fields": {"unit": LANYUE}}), ("acknowledge", {}),
             ("reply", {"comment": "已约谈店主", "fields": {"reply": "已要求加装油烟净化器"}})]
    for action, body in steps:
        assert act(client, staff, number, action, **body).status_code == 200, action
    first = case_row(app, number)
    assert first.due_at == first.deadline and first.sla_limit == {"working_days": 15}
    assert act(client, staff, number, "redo", comment="居民反映仍有油烟").status_code == 200
    rework = case_row(app, number)
    assert rework.sla_limit == {"working_days": 3} and rework.deadline != first.deadline
    assert rework.due_at == first.due_at  # the 审核退回重办 step deadline is not the counted one
    # an extension granted during the rework moves both clocks by the same working day
    assert _ask(client, staff, number, 1).status_code == 200
    assert act(client, bearer("luojia"), number, "approve_extension").status_code == 200
    extended = case_row(app, number)
    with app.app_context():
        assert extended.due_at == workcalendar.add_working_days(first.due_at, 1, extended.org.path).at
        assert extended.deadline == workcalendar.add_working_days(rework.sla_start, 4, extended.org.path).at


def test_an_extension_does_not_rescue_a_passed_first_deadline(app, client, bearer, request_case):
    """Reworking after the counted deadline passed: the step may be extended, the case stays late."""
    staff, number = bearer("shenli"), request_case
    steps = [("dispatch", {"fields": {"unit": LANYUE}}), ("acknowledge", {}),
             ("reply", {"comment": "已约谈店主", "fields": {"reply": "已要求加装油烟净化器"}}),
             ("redo", {"comment": "居民反映仍有油烟"})]
    for action, body in steps:
        assert act(client, staff, number, action, **body).status_code == 200, action
    passed = utcnow() - timedelta(hours=1)
    set_columns(app, number, due_at=passed)
    assert _ask(client, staff, number, 1).status_code == 200
    assert act(client, bearer("luojia"), number, "approve_extension").status_code == 200
    case = case_row(app, number)
    assert case.extension_count == 1 and case.due_at == passed


# ---- 临期 follows the limit ---------------------------------------------------------------


def test_a_24_hour_case_is_due_soon_only_in_its_last_two_hours(app, client, bearer):
    number = submit_form(client, "grid-incident", {**INCIDENT, "urgency": "urgent"},
                         headers=bearer("zhangmin"))["case_number"]
    case = case_row(app, number)
    assert case.sla_limit == {"hours": 24} and case.sla_status == "on_track"  # not 临期 when reported
    assert number not in [c["number"] for c in client.get(
        "/api/v1/cases?view=due_soon", headers=bearer("shenli")).get_json()["items"]]
    with app.app_context():
        def status(after: timedelta) -> str:
            return sla.status_at(case.deadline, case.sla_start + after, None, case.org.path, case.sla_limit)

        assert status(timedelta(hours=18)) == "on_track"  # 75 % elapsed is not enough for hour limits
        assert status(timedelta(hours=21, minutes=59)) == "on_track"
        assert status(timedelta(hours=22, minutes=1)) == "due_soon"
        assert status(timedelta(hours=24, minutes=1)) == "overdue"
    # the sweep applies the same rule: 22 h 30 min after it was reported
    set_columns(app, number, sla_start=case.sla_start - timedelta(hours=22, minutes=30),
                deadline=case.deadline - timedelta(hours=22, minutes=30))
    with app.app_context():
        assert run_job(sla_sweep)["due_soon"] == 1
    assert case_row(app, number).sla_status == "due_soon"
    listed = client.get("/api/v1/cases?view=due_soon", headers=bearer("shenli")).get_json()["items"]
    assert number in [c["number"] for c in listed]


def test_due_soon_for_short_and_working_day_limits(app):
    path = "/339901/339901001/339901001001/"
    monday = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
    with app.app_context():
        hour = monday + timedelta(hours=1)  # 特急 1 h: 75 % elapsed
        assert sla.status_at(hour, monday + timedelta(minutes=44), None, path, {"hours": 1}) == "on_track"
        assert sla.status_at(hour, monday + timedelta(minutes=46), None, path, {"hours": 1}) == "due_soon"
        three = workcalendar.add_working_days(monday, 3, path).at  # Thu 19 Nov 17:30
        assert three == datetime(2026, 11, 19, 17, 30, tzinfo=SHANGHAI)
        limit = {"working_days": 3}  # less than one working day left
        assert sla.status_at(three, datetime(2026, 11, 18, 17, 0, tzinfo=SHANGHAI), None, path, limit) == "on_track"
        assert sla.status_at(three, datetime(2026, 11, 18, 18, 0, tzinfo=SHANGHAI), None, path, limit) == "due_soon"
        fifteen = workcalendar.add_working_days(monday, 15, path).at  # Mon 7 Dec: 3.75 days left on Wed 2 Dec 10:45
        assert fifteen == datetime(2026, 12, 7, 17, 30, tzinfo=SHANGHAI)
        limit = {"working_days": 15}
        assert sla.due_soon_from(fifteen, None, path, limit) == datetime(2026, 12, 2, 10, 45, tzinfo=SHANGHAI)
        assert sla.status_at(fifteen, datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI), None, path, limit) == "on_track"
        month = monday + timedelta(hours=720)  # a dispute's 30 days in natural hours: 7.5 days' notice
        assert sla.due_soon_from(month, None, path, {"hours": 720}) == month - timedelta(hours=180)
        two_days = monday + timedelta(hours=48)  # at least a day's notice, not 2 hours
        assert sla.due_soon_from(two_days, None, path, {"hours": 48}) == two_days - timedelta(hours=24)
        # an explicit due_soon of the case type still wins
        assert sla.due_soon_from(fifteen, {"hours": 4}, path, limit) == fifteen - timedelta(hours=4)


# ---- paused time ---------------------------------------------------------------------------


def test_paused_time_adds_up(app, client, bearer, request_case):
    """民生诉求 补正 pauses the clock; each pause's natural time adds to paused_seconds."""
    staff, number = bearer("shenli"), request_case
    for action, body in [("dispatch", {"fields": {"unit": LANYUE}}), ("acknowledge", {})]:
        assert act(client, staff, number, action, **body).status_code == 200, action
    for hours in (2, 1):
        asked = act(client, staff, number, "request_materials", comment="请补充现场照片",
                    fields={"reply": "请补充油烟排放的现场照片"})
        assert asked.status_code == 200, asked.get_json()
        set_columns(app, number, paused_at=utcnow() - timedelta(hours=hours))
        assert case_json(client, staff, number)["clock"]["paused_since"] is not None
        assert act(client, staff, number, "materials_received").status_code == 200
    case = case_row(app, number)
    assert case.paused_at is None and abs(case.paused_seconds - 3 * 3600) < 120
    clock = case_json(client, staff, number)["clock"]
    assert clock["paused_text"].startswith("3 小时") and clock["paused_since"] is None


# ---- the parts of a deadline, shown ------------------------------------------------------------


def test_the_case_page_and_api_show_the_parts_of_the_deadline(app, client, bearer, login_as, incident):
    _setting(app, max_extensions=2)
    assert _ask(client, bearer("zhangmin"), incident, 2).status_code == 200
    assert act(client, bearer("shenli"), incident, "approve_extension").status_code == 200
    clock = case_json(client, bearer("shenli"), incident)["clock"]
    assert clock["limit"] == {"working_days": 3} and clock["limit_text"] == "3 个工作日"
    assert (clock["extension_count"], clock["extended_total"], clock["extended_text"]) == (1, 2, "2 个工作日")
    assert clock["started_at"] and clock["due_at"] == clock["deadline"] and clock["due_at_differs"] is False
    login_as("shenli")
    page = client.get(f"/cases/{incident}").get_data(as_text=True)
    assert "期限构成" in page and "时限 3 个工作日" in page and "已延期 1 次，共 2 个工作日" in page
    assert "考核期限" not in page  # the shown deadline is the counted one


def test_the_case_page_shows_the_counted_deadline_when_a_rework_differs(app, client, bearer, login_as, request_case):
    staff, number = bearer("shenli"), request_case
    late = utcnow() - timedelta(hours=2)
    set_columns(app, number, deadline=late, due_at=late)
    assert act(client, staff, number, "answer", comment="已电话答复").status_code == 200
    assert act(client, staff, number, "reopen", comment="居民反映问题仍未解决").status_code == 200
    login_as("shenli")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "考核期限" in page and "首次办结于" in page and "已超期" in page
    assert "时限 15 个工作日" in page


def test_a_limit_of_whole_days_in_hours_reads_in_days():
    """A dispute's month (720 natural hours) reads 30 天 on the case page; 24 小时 stays hours."""
    from fengqiao.cases.sla import limit_text

    assert limit_text({"hours": 720}) == "30 天"
    assert limit_text({"hours": 24}) == "24 小时" and limit_text({"hours": 0.5}) == "0.5 小时"
    assert limit_text({"working_days": 5}) == "5 个工作日"
