"""Moving open cases to another workflow version recomputes their clocks (issue 20, 安全变更):
the new version's limit and tiers from each case's own start, credit kept, a passed deadline
kept passed, and the old and new deadline in each case's history row."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from case_helpers import case_events, case_row, set_columns

from fengqiao.cases import case_types, sla
from fengqiao.cases.workflow import parse_case_type
from fengqiao.db import db, utcnow
from fengqiao.forms.core import CORE_DEFINITIONS
from fengqiao.labels import change_rows
from fengqiao.models import User
from fengqiao.testing.plugin import csrf_token, submit_form

INCIDENT = {"summary": "揽月花园5幢路灯不亮", "category": "安全隐患", "description": "5幢门口路灯坏了一周。",
            "location": {"address": "揽月花园5幢"}}
MIGRATE = "/admin/workflows/grid_incident/migrate"
FIVE_DAYS = {"field": "urgency", "default": {"working_days": 5}}
TWO_DAYS_AND_A_TIER = {"field": "urgency", "tiers": {"urgent": {"hours": 24}}, "default": {"working_days": 2}}


def _definition(sla_rules: dict) -> dict:
    data = json.loads((CORE_DEFINITIONS / "grid_incident.casetype.json").read_text(encoding="utf-8"))
    data["sla"] = sla_rules
    return data


def _save(app, sla_rules: dict) -> int:
    with app.app_context():
        admin = db.scalar(sa.select(User).where(User.username == "admin"))
        row = case_types.save_version("grid_incident", json.dumps(_definition(sla_rules)), "时限调整", admin)
        db.commit()
        return row.number


def _deadline(app, number: str, limit: dict, credit: float = 0):
    """What ``limit`` (+ ``credit``) gives from the case's own clock start."""
    case = case_row(app, number)
    with app.app_context():
        return sla.deadline_for(case.sla_start, limit, credit, case.org.path).at


@pytest.fixture
def moved(client, bearer, login_as, demo):
    """Four cases under a 5-working-day version (normal, urgent, overdue, paused), then a
    version with 2 working days and a 24-hour 紧急 tier; the admin's migration page."""
    old = _save(demo, FIVE_DAYS)
    grid = bearer("zhangmin")
    normal, urgent, overdue, paused = (
        submit_form(client, "grid-incident", {**INCIDENT, **extra}, headers=grid)["case_number"]
        for extra in ({}, {"urgency": "urgent"}, {}, {}))
    past = utcnow() - timedelta(hours=1)
    set_columns(demo, overdue, deadline=past, due_at=past, sla_status=sla.OVERDUE)
    credited = _deadline(demo, paused, {"working_days": 5}, 2)
    set_columns(demo, paused, paused_at=utcnow() - timedelta(hours=2), sla_credit=2, deadline=credited,
                due_at=credited, sla_status=sla.PAUSED)
    before = {n: case_row(demo, n) for n in (normal, urgent, overdue, paused)}
    new = _save(demo, TWO_DAYS_AND_A_TIER)
    login_as("admin")
    return SimpleNamespace(old=old, new=new, normal=normal, urgent=urgent, overdue=overdue, paused=paused,
                           before=before)


def _times(change: dict) -> tuple:
    return tuple(datetime.fromisoformat(change[k]) for k in ("from", "to"))


def _migrate(client, m):
    token = csrf_token(client, MIGRATE)
    return client.post(MIGRATE, data={"csrf_token": token, "from_version": str(m.old), "to_version": str(m.new),
                                      "map-reported": "reported", "note": "时限缩短为2个工作日"})


def test_migrating_recomputes_each_clock_under_the_new_version(client, moved):
    """Regression (issue 20): migrated cases kept the old version's deadlines."""
    app, m = client.application, moved
    assert m.before[m.normal].deadline == _deadline(app, m.normal, {"working_days": 5})
    assert _migrate(client, m).status_code == 302

    normal = case_row(app, m.normal)
    two_days = _deadline(app, m.normal, {"working_days": 2})
    assert normal.workflow_version == m.new and normal.sla_limit == {"working_days": 2}
    assert normal.deadline == two_days and normal.due_at == two_days and normal.sla_start == m.before[m.normal].sla_start
    assert normal.sla_status in (sla.ON_TRACK, sla.DUE_SOON)

    urgent = case_row(app, m.urgent)  # the new tier: 24 natural hours from the start, and its priority
    assert urgent.priority == "urgent" and urgent.sla_limit == {"hours": 24}
    assert urgent.deadline == urgent.sla_start + timedelta(hours=24) == urgent.due_at

    event = case_events(app, m.normal, "migrate_workflow")[-1]
    assert _times(event.changes["deadline"]) == (m.before[m.normal].deadline, two_days)
    assert event.changes["limit"] == {"from": "5 个工作日", "to": "2 个工作日"}
    assert event.changes["from_version"] == m.old and event.changes["to_version"] == m.new
    rows = dict(change_rows(event.changes))
    assert " → " in rows["办理期限"] and rows["办理时限"] == "5 个工作日 → 2 个工作日"
    assert case_events(app, m.urgent, "migrate_workflow")[-1].changes["priority"] == {"from": None, "to": "urgent"}


def test_a_passed_deadline_stays_passed_and_a_pause_keeps_its_credit(client, moved):
    app, m = client.application, moved
    assert _migrate(client, m).status_code == 302

    overdue = case_row(app, m.overdue)
    assert overdue.workflow_version == m.new
    assert (overdue.deadline, overdue.due_at, overdue.sla_status) == (
        m.before[m.overdue].deadline, m.before[m.overdue].due_at, sla.OVERDUE)
    kept = case_events(app, m.overdue, "migrate_workflow")[-1].changes["deadline"]
    assert kept["from"] == kept["to"] and _times(kept) == (m.before[m.overdue].deadline,) * 2

    paused = case_row(app, m.paused)  # 挂账: 2 days credited stay credited, the clock stays paused
    assert paused.sla_credit == 2 and paused.sla_status == sla.PAUSED and paused.paused_at is not None
    assert paused.deadline == _deadline(app, m.paused, {"working_days": 2}, 2) == paused.due_at


def test_the_migration_page_says_how_many_deadlines_move(client, moved):
    m = moved
    page = client.get(f"{MIGRATE}?from_version={m.old}&to_version={m.new}").get_data(as_text=True)
    summary = re.search(r'<p class="wf-clock-summary"[^>]*>(.*?)</p>', page, re.S).group(1)
    # normal, urgent and paused move earlier; the overdue case keeps its deadline
    assert summary == "3 件的办理期限将重新计算：3 件提前，0 件延后"
    assert 'data-state="reported"' in page and 'data-earlier="3" data-later="0"' in page


def test_a_lengthened_limit_moves_deadlines_later_and_a_shortened_one_may_make_a_case_overdue(app):
    now = utcnow()
    org = SimpleNamespace(path="/339901/")
    started = now - timedelta(hours=30)
    case = SimpleNamespace(
        data={}, created_at=started, sla_start=started, sla_limit={"hours": 48}, sla_credit=0, paused_at=None,
        paused_seconds=0, deadline=started + timedelta(hours=48), due_at=started + timedelta(hours=48),
        deadline_provisional=False, first_closed_at=None, sla_status=sla.ON_TRACK, priority="", org=org)
    shorter = parse_case_type({**_definition({"default": {"hours": 24}}), "key": "grid_incident"})
    longer = parse_case_type({**_definition({"default": {"hours": 72}}), "key": "grid_incident"})
    with app.app_context():
        late = sla.reclocked(case, shorter, now)
        assert late["deadline"] == started + timedelta(hours=24) and late["sla_status"] == sla.OVERDUE
        assert sla.reclocked(case, longer, now)["deadline"] == started + timedelta(hours=72)
        stopped = SimpleNamespace(**{**vars(case), "sla_status": sla.MET})
        assert sla.reclocked(stopped, shorter, now)["deadline"] == case.deadline  # a stopped clock stays
        rework = SimpleNamespace(**{**vars(case), "due_at": started + timedelta(hours=10)})
        assert sla.reclocked(rework, longer, now)["deadline"] == case.deadline  # a rework clock stays


def test_a_case_without_a_clock_starts_from_its_12345_acceptance_time(app):
    """A case of a version without a limit gets one from the ``start_field`` time it recorded."""
    now = utcnow()
    accepted = now - timedelta(hours=5)
    case = SimpleNamespace(
        data={"accepted_at": accepted.isoformat()}, created_at=now - timedelta(hours=1), sla_start=None,
        sla_limit=None, sla_credit=0, paused_at=None, paused_seconds=0, deadline=None, due_at=None,
        deadline_provisional=False, first_closed_at=None, sla_status=sla.NONE, priority="",
        org=SimpleNamespace(path="/339901/"))
    timed = parse_case_type(_definition({"default": {"hours": 24}, "start_field": "accepted_at"}))
    with app.app_context():
        values = sla.reclocked(case, timed, now)
    assert values["sla_start"].astimezone() == accepted.astimezone()
    assert values["deadline"] == values["due_at"] == values["sla_start"] + timedelta(hours=24)
