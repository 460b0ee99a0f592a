"""SLA events reach people: the sweep's 临期 and 超期 warn the assignee and the heads of the
handling unit, an automatic escalation tells the unit it climbed to, each once however often
the sweep runs, and a paused (挂账) case warns nobody."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fengqiao.accounts.directory import unit_heads
from fengqiao.cases.jobs import notify, sla_sweep
from fengqiao.db import db, utcnow
from fengqiao.jobs.runner import run_record
from fengqiao.models import Case, JobRecord, Notification, OrgUnit, User
from fengqiao.testing.plugin import submit_form, walk_case

REQUEST = {"request_type": "help", "summary": "独居老人家中停水", "content": "揽月花园3幢陈德福家停水一天。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}
INCIDENT = {"summary": "湖滨路路灯不亮", "category": "安全隐患", "description": "湖滨路东段三盏路灯夜间不亮。",
            "location": {"address": "湖滨路东段"}, "urgency": "normal"}
COMMUNITY = "339901001001"  # 揽月社区: gaojie (leader), shenli (staff), tangmin (mediator)


def _set(app, number, **values) -> None:
    with app.app_context():
        if "assignee" in values:
            name = values.pop("assignee")
            values["assignee_id"] = db.scalar(sa.select(User.id).where(User.username == name))
        db.execute(sa.update(Case).where(Case.number == number).values(**values))
        db.commit()


def _sweep(app) -> dict:
    """Run the sweep as the job runner does: committed at its end (the notify jobs it
    enqueued then run inline, after that commit)."""
    with app.app_context():
        result = sla_sweep()
        db.commit()
        return result


def _jobs(app, number, event) -> list[JobRecord]:
    with app.app_context():
        rows = [j for j in db.scalars(sa.select(JobRecord).where(JobRecord.name == "cases.notify")
                                      .order_by(JobRecord.id))
                if j.args["case_number"] == number and j.args["event"] == event]
        for row in rows:
            db.expunge(row)
        return rows


def _inbox(app, number, kind) -> list[tuple[str, str]]:
    """(username, text) of the inbox rows of ``kind`` about case ``number``."""
    with app.app_context():
        return sorted(db.execute(
            sa.select(User.username, Notification.text).join(User, User.id == Notification.user_id)
            .where(Notification.case_number == number, Notification.kind == kind)).all())


@pytest.fixture
def request_case(client, demo):
    return submit_form(client, "livelihood-request", REQUEST, org=COMMUNITY)["case_number"]


def test_unit_heads_are_leaders_else_staff_else_whoever_acts_for_the_unit(app, demo):
    with app.app_context():
        units = {u.code: u.id for u in db.scalars(sa.select(OrgUnit))}
        assert unit_heads([units[COMMUNITY]]) == ["gaojie"]  # the 书记, not the 社工 or the 调解员
        assert unit_heads([units["339901001002"]]) == ["hanzhiming"]  # 桥东社区: staff only
        assert unit_heads([units["339901906"]]) == ["shuiwu"]  # 水务集团: its liaison officer
        assert unit_heads([]) == []


def test_an_overdue_case_notifies_the_assignee_and_the_unit_head_once(app, request_case):
    _set(app, request_case, assignee="shenli", deadline=utcnow() - timedelta(hours=2))
    first = _sweep(app)
    again = _sweep(app)  # the sweep runs every minute: nothing is sent twice
    assert first["overdue"] == 1 and again["overdue"] == 0
    jobs = _jobs(app, request_case, "overdue")
    assert len(jobs) == 1 and jobs[0].status == "done"
    args = jobs[0].args
    assert args["recipients"] == ["gaojie", "shenli"]  # not the community's mediator
    assert request_case in args["message"] and "办理期限" in args["message"]
    assert "13800138000" not in json.dumps(args, ensure_ascii=False) and "陈德福" not in args["message"]
    rows = _inbox(app, request_case, "overdue")
    assert [name for name, _text in rows] == ["gaojie", "shenli"]
    with app.app_context():  # the outbox job delivered again (a redelivery) adds nothing
        assert run_record(jobs[0].id) == "skipped"
        notify(**args)
        db.commit()
    assert _inbox(app, request_case, "overdue") == rows


def test_a_due_soon_case_is_announced_once_per_deadline(app, request_case):
    deadline = utcnow() + timedelta(hours=1)
    _set(app, request_case, assignee="shenli", deadline=deadline)
    assert _sweep(app)["due_soon"] == 1
    assert _sweep(app)["due_soon"] == 0
    jobs = _jobs(app, request_case, "due_soon")
    assert len(jobs) == 1 and jobs[0].args["recipients"] == ["gaojie", "shenli"]
    assert "即将超期" in jobs[0].args["message"] and jobs[0].args["key"].startswith("sla:")
    with app.app_context():
        keys = set(db.scalars(sa.select(Notification.event_key).where(Notification.case_number == request_case,
                                                                      Notification.kind == "due_soon")))
    assert keys == {f"case-key:{jobs[0].args['key']}"}
    assert [name for name, _text in _inbox(app, request_case, "due_soon")] == ["gaojie", "shenli"]
    # Set back to 正常 (an approved extension) and due soon again for the same deadline: still once
    _set(app, request_case, sla_status="on_track")
    _sweep(app)
    assert len(_jobs(app, request_case, "due_soon")) == 1
    # a new deadline that comes near is announced again
    _set(app, request_case, sla_status="on_track", deadline=deadline + timedelta(minutes=30))
    _sweep(app)
    assert len(_jobs(app, request_case, "due_soon")) == 2


def test_a_dispatched_case_warns_the_department_it_was_sent_to(app, client, bearer, request_case):
    walk_case(client, request_case, [("dispatch", {"fields": {"unit": "339901906"}})], bearer("luojia"))
    _set(app, request_case, deadline=utcnow() - timedelta(hours=2))
    _sweep(app)
    jobs = _jobs(app, request_case, "overdue")
    assert len(jobs) == 1 and jobs[0].args["recipients"] == ["shuiwu"]  # 水务集团, not 揽月社区


def test_an_automatic_escalation_notifies_the_unit_it_climbed_to(app, client, bearer):
    number = submit_form(client, "grid-incident", INCIDENT, headers=bearer("zhangmin"))["case_number"]
    _set(app, number, deadline=utcnow() - timedelta(hours=2))
    assert _sweep(app)["escalated"] == 1
    _sweep(app)
    jobs = _jobs(app, number, "escalate")
    assert len(jobs) == 1
    assert jobs[0].args["recipients"] == ["gaojie", "shenli", "tangmin"]  # who acts for 揽月社区
    assert "自动升级至社区/村" in jobs[0].args["message"]
    assert [name for name, _text in _inbox(app, number, "escalate")] == ["gaojie", "shenli", "tangmin"]
    # the overdue warning itself went to the grid (its grid worker: the grid has no head)
    assert _jobs(app, number, "overdue")[0].args["recipients"] == ["zhangmin"]


def test_a_paused_case_warns_nobody(app, request_case):
    _set(app, request_case, assignee="shenli", deadline=utcnow() - timedelta(hours=2),
         paused_at=utcnow() - timedelta(days=1), sla_status="paused")
    assert _sweep(app) == {"due_soon": 0, "overdue": 0, "escalated": 0, "late_check_ins": 0}
    assert _jobs(app, request_case, "overdue") == [] and _jobs(app, request_case, "due_soon") == []
    assert _inbox(app, request_case, "overdue") == []
