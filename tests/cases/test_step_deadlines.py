"""Issue 20: a step's own deadline (``step_limit``) on the case page — 「整改 截止 12月10日 17:00」,
red once passed — in the history row of the transition that set it (「整改时限：3 个工作日，截止 …」)
and in the API detail (``step``)."""

from __future__ import annotations

from datetime import timedelta

from case_helpers import act_ok, case_json, case_row, last_event, publish_version, set_columns

from fengqiao.db import LOCAL_TZ, utcnow
from fengqiao.labels import change_rows, short_when
from fengqiao.testing.plugin import login, submit_form

LANYUE, WATER = "339901001001", "339901906"
REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": "揽月花园3幢陈德福家停水一天。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


def _rectify_in_three_working_days(definition):
    dispatch = next(t for t in definition["workflow"]["transitions"] if t["name"] == "dispatch")
    dispatch["step_limit"] = {"title": "整改", "default": {"working_days": 3}}


def _when(at) -> str:
    local = at.astimezone(LOCAL_TZ)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def test_the_case_page_shows_the_steps_deadline_and_the_history_records_it(app, client, bearer):
    publish_version(app, "livelihood_request", _rectify_in_three_working_days)
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    act_ok(client, bearer("luojia"), number, "dispatch", fields={"unit": WATER})
    case = case_row(app, number)
    assert case.step_name == "整改"
    due = _when(case.step_due)
    browser = app.test_client()
    login(browser, "luojia")
    page = browser.get(f"/cases/{number}").get_data(as_text=True)
    facts = page[:page.index('id="case-history"')]  # the header and 详情, before the 流转记录 tab
    assert f'<span class="step-due">整改 截止 {due}</span>' in facts
    assert "step-overdue" not in facts and "已超时" not in facts
    history = page[page.index('class="timeline"'):]
    assert f"整改时限：3 个工作日，截止 {due}" in history
    assert "step_due" not in history and "working_days" not in history
    recorded = last_event(app, number, "dispatch").changes
    assert recorded["step_span"] == {"working_days": 3}
    detail = case_json(client, bearer("luojia"), number)
    assert detail["step"] == {"title": "整改", "due_at": case.step_due.isoformat(), "late": False}
    # once passed: red (step-overdue) with 已超时, and the API says late
    set_columns(app, number, step_due=utcnow() - timedelta(minutes=5))
    page = browser.get(f"/cases/{number}").get_data(as_text=True)
    assert 'class="clock-step step-overdue"' in page and "已超时" in page
    assert case_json(client, bearer("luojia"), number)["step"]["late"] is True


def test_the_step_ends_with_the_next_state_and_leaves_the_page(app, client, bearer):
    number = submit_form(client, "livelihood-request", REQUEST, org=LANYUE)["case_number"]
    staff = bearer("luojia")
    assert case_json(client, staff, number)["step"] is None
    act_ok(client, staff, number, "dispatch", fields={"unit": WATER})
    assert case_json(client, staff, number)["step"]["title"] == "签收"
    act_ok(client, bearer("shuiwu"), number, "acknowledge")
    row = last_event(app, number, "acknowledge").changes  # 签收 done, 联系诉求人 starts
    assert row["step_done"] == "签收" and row["step_name"] == "联系诉求人"
    assert case_json(client, staff, number)["step"]["title"] == "联系诉求人"


def test_history_text_of_a_step_limit(app):
    with app.app_context():
        due = utcnow().replace(microsecond=0)
        rows = change_rows({"step_name": "签收", "step_due": due.isoformat(), "step_span": {"working_hours": 2}})
        assert rows == [("签收时限", f"2 个工作小时，截止 {short_when(due)}")]
        # rows written before the span was recorded still read well
        assert change_rows({"step_name": "回访", "step_due": due.isoformat()}) == [("回访时限", f"截止 {short_when(due)}")]
        assert change_rows({"step_done": "签收", "step_late": True}) == [("完成环节", "签收"), ("环节是否超时", "已超时")]
