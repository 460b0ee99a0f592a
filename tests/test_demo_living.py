"""The living demo county (issue 22 §5): after the first start every queue tab and every
dashboard tile of the demo accounts shows something, the history is the engine's own, and
loading again adds nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fengqiao.cases import ledgers, metrics, queries
from fengqiao.cases.case_types import case_type
from fengqiao.db import db, utcnow
from fengqiao.demo_living import CORE_TYPES, load_living_demo
from fengqiao.models import Case, CaseEvent, OrgUnit, User
from fengqiao.orgs.scope import scope_for
from fengqiao.testing.plugin import login
from fengqiao.workcalendar import today_local

ALL_VIEWS = set(queries.VIEWS)
# The tabs a role can fill at all: a grid is the ladder's bottom rung and a department is not
# on it (nothing is escalated to them); a read-only viewer neither holds nor claims cases.
EXPECTED = {
    "shenli": ALL_VIEWS,
    "zhangmin": ALL_VIEWS - {"escalated"},
    "zhifa": ALL_VIEWS - {"escalated"},
    "ducha": ALL_VIEWS,
    "lingdao": ALL_VIEWS - {"mine", "unclaimed"},
}


def _counts():
    by_state = db.execute(sa.select(Case.type, Case.state, sa.func.count()).group_by(Case.type, Case.state)).all()
    return {(t, s): n for t, s, n in by_state}, db.scalar(sa.select(sa.func.count()).select_from(CaseEvent))


def _user(username: str) -> User:
    return db.scalar(sa.select(User).where(User.username == username))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_first_start_fills_every_queue_tab_and_tile_and_a_second_load_adds_nothing(app, demo, client, login_as):
    with app.app_context():
        added = load_living_demo()["cases"]
        states, events = _counts()
        assert 250 <= added == sum(n for (t, _s), n in states.items() if t in CORE_TYPES)

        # every state of every core type, reached through the workflow (the history leads there)
        for key in CORE_TYPES:
            ctype = case_type(key)
            assert {s for (t, s) in states if t == key} == set(ctype.states), key
        last = dict(db.execute(sa.select(Case.id, sa.func.max(CaseEvent.id)).join(CaseEvent)
                               .where(CaseEvent.to_state.is_not(None), CaseEvent.to_state == Case.state)
                               .group_by(Case.id)).all())
        assert db.scalar(sa.select(sa.func.count()).select_from(Case)
                         .where(Case.type.in_(CORE_TYPES), Case.id.not_in(last))) == 0
        now = utcnow()
        assert db.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.created_at > now)) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.at > now)) == 0
        for flag in (Case.reopen_count > 0, Case.rating.is_not(None), Case.paused_at.is_not(None),
                     Case.escalation_level > 0, Case.assignee_id.is_not(None)):
            assert db.scalar(sa.select(sa.func.count()).select_from(Case).where(flag)) > 0
        oldest = db.scalar(sa.select(sa.func.min(Case.created_at)))
        assert (now - oldest).days > 200  # a year of history, not a week
        phones = db.scalars(sa.select(Case.data["reporter_mobile"].as_string()).where(Case.type == "grid_incident"))
        assert all(re.fullmatch(r"1380013\d{4}", p) for p in phones)  # the placeholder numbers only

        for username, views in EXPECTED.items():
            user = _user(username)
            empty = [view for view in sorted(views)
                     if not queries.queue_page(user, queries.Filters(view=view), None, 1).items]
            assert not empty, f"{username}: empty tabs {empty}"

        # the metrics dashboard opens on 本月: each tile has a figure, none is "—"
        filters = metrics.resolve_filters(scope_for(_user("ducha"), metrics.PERMISSION), preset="this_month")
        figures = metrics.compute(scope_for(_user("ducha"), metrics.PERMISSION), filters)
        assert figures["received"] and figures["closed"] and figures["overdue"]["count"]
        assert figures["satisfaction"]["rated"] and figures["handling_days"]["mean"] is not None
        missing = [key for key, rate in figures["rates"].items() if rate["rate"] is None]
        assert not missing and figures["on_time_rate"] is not None, missing
        assert filters.period.start <= today_local()
        for kind in ledgers.KINDS:  # 事项台账, 超期台账, 满意度回访台账 of 本月
            query = ledgers.ledger_query(kind, scope_for(_user("ducha"), metrics.PERMISSION), filters, utcnow())
            assert db.scalar(query.with_only_columns(sa.func.count())), kind

        lanyue = sa.select(OrgUnit.path).where(OrgUnit.code == "339901001001").scalar_subquery()
        numbers = [db.scalar(sa.select(Case.number).join(OrgUnit, Case.org_id == OrgUnit.id).where(
            Case.state == state, Case.type == key, OrgUnit.path.startswith(lanyue)).limit(1))
            for key, state in (("grid_incident", "parked"), ("grid_incident", "closed"), ("whistle", "rated"),
                               ("dispute_mediation", "confirming"), ("proxy_service", "awaiting_materials"))]
        numbers.append(db.scalar(sa.select(Case.number).where(Case.type == "livelihood_request",
                                                              Case.state == "closed").limit(1)))

        assert load_living_demo() == {"cases": 0}  # idempotent
        assert _counts() == (states, events)

    # what a demo visitor sees: the county's dashboard, the community's queue
    page = login_as("lingdao").get("/metrics").get_data(as_text=True)
    assert 'data-kpi="received"' in page and "<b>—</b>" not in page and "暂无超期事项" not in page
    other = app.test_client()
    login(other, "shenli")
    queue = other.get("/queues?view=overdue")
    assert queue.status_code == 200 and "未找到符合条件的事项" not in queue.get_data(as_text=True)
    for number in numbers:  # a case page of every type and of the odd states renders
        assert other.get(f"/cases/{number}").status_code == 200, number


def _showcase_plans():
    import copy
    import random

    from fengqiao.demo_living import SEED, _plans

    plans = _plans(random.Random(SEED), utcnow())
    return plans, copy.deepcopy(plans)


@pytest.mark.plugins("grid")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_with_an_address_book_open_showcase_incidents_name_its_rooms_two_a_room(app, demo):
    from fengqiao.addresses import resolve_address
    from fengqiao.demo_data import load_plugin_demo_data
    from fengqiao.demo_living import PLACES, _at_standard_addresses, _closes

    with app.app_context():
        assert load_plugin_demo_data() == ["grid"]
        plans, bare = _showcase_plans()
        _at_standard_addresses(plans)
        changed = [(p, b) for p, b in zip(plans, bare, strict=True) if p != b]
        assert len(changed) == 8
        labels = []
        for plan, before in changed:
            assert plan.form == "grid-incident" and plan.org == PLACES[0][0] and not _closes(plan.steps)
            label = plan.data["location"]["address"]
            hit = resolve_address(label)  # what the grid plugin's case_created receiver links by
            assert hit is not None and hit.label == label and hit.org_code == PLACES[0][0] and label.endswith("室")
            assert plan.data["summary"].startswith(label) and label in plan.data["description"]
            assert {k: v for k, v in plan.data.items() if k not in ("location", "summary", "description")} == {
                k: v for k, v in before.data.items() if k not in ("location", "summary", "description")}
            labels.append(label)
        assert sorted(labels.count(label) for label in set(labels)) == [2, 2, 2, 2]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_an_address_book_the_demo_plans_are_unchanged(app, demo):
    from fengqiao.demo_living import _at_standard_addresses

    with app.app_context():
        plans, bare = _showcase_plans()
        _at_standard_addresses(plans)
        assert plans == bare
