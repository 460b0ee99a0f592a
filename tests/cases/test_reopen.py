"""Reopening closed cases (重办): the resident once within the window, staff as often as needed."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fengqiao.testing.plugin import csrf_token, submit_form, walk_case

REQUEST = {"request_type": "help", "summary": "揽月花园5幢路灯不亮", "content": "5幢门口路灯坏了一周。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


@pytest.fixture
def closed(client, bearer):
    """A 民生诉求 answered and closed by 沈丽; returns (number, code)."""
    receipt = submit_form(client, "livelihood-request", REQUEST, org="339901001001")
    number = receipt["case_number"]
    walk_case(client, number, [("answer", {"comment": "已联系物业维修"})], bearer("shenli"))
    return number, receipt["tracking_code"]


def _reopen(client, number, code, reason="路灯仍然不亮"):
    return client.post(f"/api/v1/track/{number}/reopen", json={"code": code, "reason": reason})


def _events(app, number):
    from fengqiao.db import db
    from fengqiao.models import Case, CaseEvent

    with app.app_context():
        return [(e.action, e.from_state, e.to_state, e.comment, e.changes, e.internal) for e in db.scalars(
            sa.select(CaseEvent).join(Case, Case.id == CaseEvent.case_id)
            .where(Case.number == number).order_by(CaseEvent.id))]


def _staff_reopen(app, number, username, reason, version=None):
    from fengqiao.cases.reopen import reopen
    from fengqiao.db import db
    from fengqiao.models import Case, User

    with app.test_request_context():
        case = db.scalar(sa.select(Case).where(Case.number == number))
        actor = db.scalar(sa.select(User).where(User.username == username))
        reopen(case.id, reason=reason, actor=actor, by_resident=False, version=version)
        db.commit()  # as the request would


def test_resident_reopens_once_and_a_second_request_is_refused(app, client, bearer, closed):
    number, code = closed
    url = f"/api/v1/track/{number}"
    assert client.post(f"{url}/rating?code={code}", json={"rating": "dissatisfied"}).status_code == 200
    view = client.get(f"{url}?code={code}").get_json()
    assert view["can_reopen"] and view["reopen_until"] and view["reopen_count"] == 0

    reopened = _reopen(client, number, code.lower())
    assert reopened.status_code == 200, reopened.get_json()
    view = reopened.get_json()
    assert view["state"] == "received" and view["state_title"] == "待受理" and not view["closed"]
    assert view["rating"] is None and view["reopen_count"] == 1 and not view["can_reopen"]
    step = view["timeline"][-1]
    assert step["kind"] == "reopen" and step["label"] == "居民申请重办" and step["reason"] == "路灯仍然不亮"

    action, from_state, to_state, comment, changes, internal = _events(app, number)[-1]
    assert (action, from_state, to_state, comment, internal) == ("reopen", "closed", "received", "路灯仍然不亮", False)
    assert changes == {"by": "resident", "previous_state": "closed", "previous_rating": "dissatisfied"}
    case = client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()
    assert case["state"] == "received" and case["sla_status"] in ("on_track", "due_soon")
    assert "answer" in case["allowed_actions"]

    walk_case(client, number, [("answer", {"comment": "已更换灯泡"})], bearer("shenli"))
    again = _reopen(client, number, code, "还是不亮")
    assert again.status_code == 409
    assert again.get_json()["errors"][0] == {"pointer": "", "message": "每件事项仅可申请重办一次",
                                            "code": "reopen_limit"}
    assert client.get(f"{url}?code={code}").get_json()["can_reopen"] is False
    assert [e[0] for e in _events(app, number)].count("reopen") == 1


def test_wrong_code_not_closed_and_missing_reason(client, demo):
    receipt = submit_form(client, "livelihood-request", REQUEST)
    number, code = receipt["case_number"], receipt["tracking_code"]
    wrong = _reopen(client, number, "ZZZZZZZZ")
    unknown = _reopen(client, "GD-20990101-000001", "ZZZZZZZZ")
    assert wrong.status_code == unknown.status_code == 404 and wrong.get_json() == unknown.get_json()
    assert _reopen(client, number, "查询码").status_code == 404  # non-ASCII code: 404, not 500
    early = _reopen(client, number, code)
    assert early.status_code == 409 and early.get_json()["errors"][0]["code"] == "not_closed"
    blank = _reopen(client, number, code, "   ")
    assert blank.status_code == 422
    assert blank.get_json()["errors"][0] == {"pointer": "/reason", "message": "请填写申请重办的理由",
                                            "code": "required"}
    missing = client.post(f"/api/v1/track/{number}/reopen?code={code}", json={})
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["pointer"] == "/reason"
    assert client.post(f"/api/v1/track/{number}/reopen", data="x").status_code == 415


def test_code_in_the_query_string_works_too(client, closed):
    number, code = closed
    response = client.post(f"/api/v1/track/{number}/reopen?code={code}", json={"reason": "没有人来修"})
    assert response.status_code == 200 and response.get_json()["state"] == "received"


def test_resident_window_after_closure(app, client, closed):
    from fengqiao.db import db, utcnow
    from fengqiao.models import Case

    number, code = closed
    with app.app_context():
        db.execute(sa.update(Case).where(Case.number == number)
                   .values(closed_at=utcnow() - timedelta(days=16)))
        db.commit()
    view = client.get(f"/api/v1/track/{number}?code={code}").get_json()
    assert view["closed"] and not view["can_reopen"]
    late = _reopen(client, number, code)
    assert late.status_code == 409
    error = late.get_json()["errors"][0]
    assert error["code"] == "reopen_window" and "15 天" in error["message"]
    assert client.get(f"/api/v1/track/{number}?code={code}").get_json()["state"] == "closed"


def test_staff_reopen_is_not_limited_and_keeps_history(app, client, bearer, closed):
    from fengqiao import signals

    number, code = closed
    heard = []

    def listen(sender, **kw):
        heard.append(kw)

    signals.case_transitioned.connect(listen)
    try:
        _staff_reopen(app, number, "shenli", "回访发现问题未解决")
        walk_case(client, number, [("answer", {"comment": "已再次维修"})], bearer("shenli"))
        _staff_reopen(app, number, "shenli", "居民电话反映仍未修好")
    finally:
        signals.case_transitioned.disconnect(listen)
    reopens = [kw for kw in heard if kw["action"] == "reopen"]
    assert reopens == [
        {"case_number": number, "action": "reopen", "from_state": "closed", "to_state": "received",
         "actor": "shenli"}] * 2
    events = [e for e in _events(app, number) if e[0] == "reopen"]
    assert [(e[3], e[4]["by"]) for e in events] == [("回访发现问题未解决", "staff"), ("居民电话反映仍未修好", "staff")]
    history = client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()["history"]
    assert [h["action"] for h in history] == ["submit", "answer", "reopen", "answer", "reopen"]
    assert history[-1]["actor"] == "shenli"
    # a staff reopen's reason is a working note: the resident sees that it was reopened, not why
    view = client.get(f"/api/v1/track/{number}?code={code}").get_json()
    assert view["timeline"][-1]["label"] == "重新办理" and view["timeline"][-1]["reason"] is None
    assert "居民电话反映" not in str(view) and "shenli" not in str(view)
    # reopening counts against the case: the resident's one request is used up
    walk_case(client, number, [("answer", {"comment": "已修好"})], bearer("shenli"))
    assert _reopen(client, number, code).get_json()["errors"][0]["code"] == "reopen_limit"


def test_staff_reopen_needs_a_closed_case_and_the_current_version(app, client, bearer, closed):
    from fengqiao.exceptions import Conflict

    number, _code = closed
    version = client.get(f"/api/v1/cases/{number}", headers=bearer("shenli")).get_json()["version"]
    with pytest.raises(Conflict) as stale:
        _staff_reopen(app, number, "shenli", "重办", version=version - 1)
    assert stale.value.problems[0][2] == "stale"
    _staff_reopen(app, number, "shenli", "重办", version=version)
    with pytest.raises(Conflict) as open_case:
        _staff_reopen(app, number, "shenli", "再次重办")
    assert open_case.value.problems[0][2] == "not_closed"


def test_two_reopen_requests_at_once_reopen_only_once(app, client, closed):
    number, code = closed
    barrier, results = threading.Barrier(3), []

    def ask(reason):
        local = app.test_client()
        barrier.wait()
        response = _reopen(local, number, code, reason)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=ask, args=(f"理由{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(status for status, _ in results) == [200, 409, 409], results
    codes = {body["errors"][0]["code"] for status, body in results if status == 409}
    assert codes <= {"reopen_limit", "stale", "not_closed"}  # depending on when each one read
    assert [e[0] for e in _events(app, number)].count("reopen") == 1


def test_reopen_to_from_the_case_type(app):
    from fengqiao.cases.reopen import _target_state
    from fengqiao.cases.workflow import parse_case_type

    definition = {"key": "demo", "title": "示例", "prefix": "SL", "reopen_to": "handling", "workflow": {
        "initial": "received",
        "states": [{"key": "received", "title": "已受理"}, {"key": "handling", "title": "办理中"},
                   {"key": "closed", "title": "已办结", "final": True}],
        "transitions": []}}
    assert _target_state(parse_case_type(definition)) == "handling"
    assert _target_state(parse_case_type({**definition, "reopen_to": "closed"})) == "received"
    assert _target_state(parse_case_type({**definition, "reopen_to": "nowhere"})) == "received"
    assert _target_state(parse_case_type({k: v for k, v in definition.items() if k != "reopen_to"})) == "received"


def test_track_page_reopen_form(client, closed):
    number, code = closed
    page = client.get(f"/track?number={number}&code={code}").get_data(as_text=True)
    assert "申请重办" in page and 'name="reason"' in page
    token = csrf_token(client, f"/track?number={number}&code={code}")
    blank = client.post("/track/reopen", data={"csrf_token": token, "number": number, "code": code,
                                               "reason": ""})
    assert blank.status_code == 422 and "请填写申请重办的理由" in blank.get_data(as_text=True)
    assert client.post("/track/reopen", data={"number": number, "code": code, "reason": "x"}).status_code == 400
    wrong = client.post("/track/reopen", data={"csrf_token": token, "number": number, "code": "WRONG123",
                                               "reason": "仍未修好"})
    assert wrong.status_code == 404
    done = client.post("/track/reopen", data={"csrf_token": token, "number": number, "code": code,
                                              "reason": "仍未修好"})
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "已收到您的重办申请" in page and "居民申请重办" in page and "仍未修好" in page
    assert 'name="reason"' not in page  # no second request offered
    again = client.post("/track/reopen", data={"csrf_token": token, "number": number, "code": code,
                                               "reason": "再试一次"})
    assert again.status_code == 409 and "事项尚未办结" in again.get_data(as_text=True)
