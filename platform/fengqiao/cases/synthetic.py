"""Synthetic cases for benchmarks and load tests: a year of realistic rows, inserted fast.

Queues, reports and indexes have to be measured at real volume, and submitting a million
forms through the API would take hours. The generator writes the rows a submission writes
(the case and its ``submit`` event; a dispatched case also its department — one hanging off
the case's unit or a unit above it (a county bureau, its street's police station, its own
community's property company), so a department's liaison never gets a stranger's case) in one
transaction per batch, straight to the driver (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) with the values already in their stored form.

Numbers come from the same per-(prefix, day) counters as real submissions: each batch
reserves its serials by advancing ``case_counters`` inside its own transaction, so a case
submitted later (or a second run) never gets a number already used. Cases are spread over
the active grids and communities in the order they were "created" (ids follow
``created_at``); states, assignees, deadlines, SLA status, closures and ratings fit each
case's age. The output depends only on ``seed`` and ``now`` — tracking codes included, so
never run this against a production database.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter

import sqlalchemy as sa
from flask import current_app

from fengqiao.cases.case_types import case_type
from fengqiao.cases.numbering import (
    TRACKING_ALPHABET,
    TRACKING_LENGTH,
    reserve_serials,
    take_case_ids,
)
from fengqiao.cases.synthetic_content import BUILDERS, generic
from fengqiao.cases.workflow import CaseType
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.models import (
    Case,
    CaseEvent,
    CaseParticipant,
    Form,
    FormVersion,
    Membership,
    OrgUnit,
)
from fengqiao.workcalendar import WorkCalendar, load_calendar

# How often each core type occurs; other registered types share the rest thinly.
TYPE_WEIGHTS = {"grid_incident": 45, "livelihood_request": 30, "dispute_mediation": 10,
                "proxy_service": 10, "whistle": 5}
OTHER_TYPE_WEIGHT = 1
GRID_SHARE = 0.85  # the rest belongs to communities (residents' forms without a grid)
POOL_SIZE = 2048  # distinct form contents per type, serialised once
HANDLER_ROLES = ("staff", "grid_worker")
RATINGS, RATING_WEIGHTS = ("satisfied", "basically_satisfied", "dissatisfied"), (70, 22, 8)
DUE_SOON = timedelta(hours=24)
PAUSED_STATES = ("parked",)  # 挂账: the SLA clock stands still

CASE_COLUMNS = (
    "id", "number", "tracking_code", "type", "title", "phone_tail", "state", "org_id", "assignee_id",
    "form_key", "form_version", "data", "workflow_version", "priority", "deadline",
    "deadline_provisional", "sla_status", "sla_start", "sla_limit", "sla_credit", "paused_at",
    "escalation_level", "escalated_to_id", "urge_count", "reopen_count", "on_board", "version",
    "rating", "rated_at", "created_at", "responded_at", "closed_at", "due_at", "first_closed_at",
)
EVENT_COLUMNS = ("case_id", "at", "actor_id", "action", "from_state", "to_state", "comment", "changes",
                 "internal")
PARTICIPANT_COLUMNS = ("case_id", "org_id", "role", "added_at")


class NoUnits(ValueError):
    """There is nowhere to put cases: no active grid or community (or no case type)."""


@dataclass(frozen=True)
class _Unit:
    id: int
    parent_id: int | None
    path: str
    calendar: WorkCalendar
    handlers: tuple[int, ...]  # staff and grid workers of the unit and the units above it
    reporters: tuple[int, ...]  # the unit's grid workers
    departments: tuple[int, ...]  # departments hanging off the unit or a unit above it (routing.py)


@dataclass(frozen=True)
class _Content:
    title: str
    data: str  # JSON, as stored
    phone_tail: str
    priority: str
    limit: dict | None
    limit_json: str  # JSON, as stored ("null" without a limit, like a submission)


@dataclass
class _Type:
    ctype: CaseType
    form_key: str | None
    form_version: int | None
    pool: list[_Content]
    finals: list[str]  # the usual ending first
    open_states: list[str]  # the initial state first
    dispatches: bool  # the workflow can send the case to a department
    reported_by_grid_worker: bool


@dataclass
class _Plan:
    units: list[_Unit]
    unit_weights: list[float]
    types: list[_Type]
    type_weights: list[int]
    deadlines: dict = field(default_factory=dict)  # (path, local day, working days) → (at, provisional)


@dataclass
class Generated:
    cases: int
    events: int
    participants: int
    seconds: float

    @property
    def rows(self) -> int:
        return self.cases + self.events + self.participants


def _pool(ctype: CaseType, build: Callable, rng: random.Random) -> list[_Content]:
    pool = []
    for _ in range(POOL_SIZE):
        title, data, phone = build(rng)
        limit = ctype.limit_for(data)
        pool.append(_Content(title[:200], json.dumps(data), phone[-4:], ctype.tier_for(data), limit,
                             json.dumps(limit)))
    return pool


def _types(rng: random.Random) -> tuple[list[_Type], list[int]]:
    """Every registered case type but the generic fallback, with its published form."""
    forms: dict[str, tuple[str, int]] = {}
    rows = db.execute(
        sa.select(Form.key, Form.latest_version, FormVersion.definition)
        .join(FormVersion, sa.and_(FormVersion.form_id == Form.id, FormVersion.number == Form.latest_version))
        .where(Form.status == "active")
    )
    for key, number, definition in rows:
        if key in BUILDERS and definition.get("case_type"):
            forms.setdefault(definition["case_type"], (key, number))
    types, weights = [], []
    for key in sorted(current_app.extensions["fengqiao.case_types"].types):
        if key == "general":
            continue
        ctype = case_type(key)  # the latest version, as new submissions follow
        finals = [s for s, st in ctype.states.items() if st.final]
        if not finals:
            continue
        form_key, number = forms.get(key, (None, None))
        open_states = [ctype.initial_state] + [s for s, st in ctype.states.items()
                                               if not st.final and s != ctype.initial_state]
        types.append(_Type(ctype, form_key, number, _pool(ctype, BUILDERS.get(form_key, generic), rng),
                           finals, open_states,
                           any("dispatch" in t.effects for t in ctype.transitions.values()),
                           form_key == "grid-incident"))
        weights.append(TYPE_WEIGHTS.get(key, OTHER_TYPE_WEIGHT))
    return types, weights


def _self_and_ancestors(path: str) -> list[str]:
    """``/a/b/c/`` → ``/a/``, ``/a/b/``, ``/a/b/c/``."""
    codes = path.strip("/").split("/")
    return ["/" + "/".join(codes[:i]) + "/" for i in range(1, len(codes) + 1)]


def _plan(rng: random.Random) -> _Plan:
    units = db.execute(
        sa.select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.path, OrgUnit.level, OrgUnit.kind)
        .where(OrgUnit.active).order_by(OrgUnit.path)
    ).all()
    places = [u for u in units if u.kind == "territorial" and u.level in ("grid", "community")]
    if not places:
        raise NoUnits("没有可用的网格或社区：请先加载演示数据（fengqiao demo-data load）或建立组织机构")
    members = db.execute(
        sa.select(Membership.user_id, Membership.role, OrgUnit.path).join(OrgUnit, Membership.org_id == OrgUnit.id)
    ).all()
    departments_under: dict[str, list[int]] = {}  # parent's path → its departments
    for d in units:
        if d.kind == "department":
            departments_under.setdefault(d.path[:d.path.rstrip("/").rfind("/") + 1], []).append(d.id)
    grids = sum(1 for u in places if u.level == "grid")
    communities = len(places) - grids
    plan_units, weights = [], []
    for u in places:
        handlers = tuple(m.user_id for m in members if u.path.startswith(m.path) and m.role in HANDLER_ROLES)
        reporters = tuple(m.user_id for m in members if m.path == u.path and m.role == "grid_worker")
        # A case goes only to a department its own chain of units could send it to: a county
        # bureau or the street's police station, never another community's property company.
        departments = tuple(d for p in _self_and_ancestors(u.path) for d in departments_under.get(p, ()))
        plan_units.append(_Unit(u.id, u.parent_id, u.path, load_calendar(u.path), handlers, reporters,
                                departments))
        if not grids or not communities:
            weights.append(1.0)
        else:
            weights.append(GRID_SHARE / grids if u.level == "grid" else (1 - GRID_SHARE) / communities)
    types, type_weights = _types(rng)
    if not types:
        raise NoUnits("没有可用的事项类型")
    return _Plan(plan_units, weights, types, type_weights)


def _deadline(plan: _Plan, unit: _Unit, limit: dict | None, created: datetime):
    """(deadline, provisional) as a submission computes it; working days cached per day."""
    if limit is None:
        return None, False
    if "hours" in limit:
        return created + timedelta(hours=float(limit["hours"])), False
    n = int(limit["working_days"])
    local = created.astimezone(LOCAL_TZ)
    key = (unit.path, local.date(), n, n == 0 and local.hour >= 17)
    found = plan.deadlines.get(key)
    if found is None:
        d = unit.calendar.add_working_days(local, n)
        found = plan.deadlines[key] = (d.at.astimezone(UTC), d.provisional)
    return found


def _state(rng: random.Random, kind: _Type, age_days: float) -> str:
    """Older cases are mostly finished, with the usual ending far ahead of the others."""
    if rng.random() < min(0.97, 0.05 + age_days / 15):
        finals = kind.finals
        return finals[0] if len(finals) == 1 or rng.random() < 0.88 else rng.choice(finals[1:])
    states = kind.open_states
    return states[0] if len(states) == 1 or rng.random() < 0.35 else rng.choice(states[1:])


def _sla_status(deadline, closed, paused, now) -> str:
    if deadline is None:
        return "none"
    if closed is not None:
        return "met" if closed <= deadline else "missed"
    if paused is not None:
        return "paused"
    if deadline < now:
        return "overdue"
    return "due_soon" if deadline - now < DUE_SOON else "on_track"


def _case_row(rng: random.Random, plan: _Plan, unit: _Unit, kind: _Type, created: datetime,
              number: str, now: datetime, when: Callable) -> tuple[dict, tuple]:
    """The case's column values (times in their stored form, through ``when``) and
    (reporter, dispatched department) for its other rows."""
    content = kind.pool[rng.randrange(len(kind.pool))]
    deadline, provisional = _deadline(plan, unit, content.limit, created)
    state = _state(rng, kind, (now - created).total_seconds() / 86400)
    initial = state == kind.ctype.initial_state
    final = kind.ctype.is_final(state)
    responded = closed = rated_at = rating = paused = escalated_to = None
    if not initial:
        responded = min(created + timedelta(minutes=rng.randint(5, 480)), now)
    if final:
        closed = max(responded or created, min(created + timedelta(hours=rng.uniform(2, 24 * 12)), now))
        rated = closed + timedelta(hours=rng.uniform(1, 72))
        if state == kind.finals[0] and rated < now and rng.random() < 0.45:
            rating, rated_at = rng.choices(RATINGS, RATING_WEIGHTS)[0], rated
    elif state in PAUSED_STATES and content.limit is not None:
        paused = responded
    status = _sla_status(deadline, closed, paused, now)
    if status == "overdue" and unit.parent_id is not None and rng.random() < 0.5:
        escalated_to = unit.parent_id
    assignee = rng.choice(unit.handlers) if not initial and unit.handlers and rng.random() < 0.75 else None
    row = dict(
        number=number, tracking_code="".join(rng.choices(TRACKING_ALPHABET, k=TRACKING_LENGTH)),
        type=kind.ctype.key, title=content.title, phone_tail=content.phone_tail, state=state,
        org_id=unit.id, assignee_id=assignee, form_key=kind.form_key, form_version=kind.form_version,
        data=content.data, workflow_version=kind.ctype.version, priority=content.priority,
        deadline=when(deadline), deadline_provisional=provisional, sla_status=status,
        sla_start=when(created) if content.limit else None, sla_limit=content.limit_json, sla_credit=0.0,
        paused_at=when(paused), escalation_level=1 if escalated_to else 0, escalated_to_id=escalated_to,
        urge_count=0, reopen_count=0, on_board=False,
        version=1 if initial else rng.randint(2, 6) + (2 if final else 0),
        rating=rating, rated_at=when(rated_at), created_at=when(created), responded_at=when(responded),
        closed_at=when(closed), due_at=when(deadline), first_closed_at=when(closed),  # the first clock (sla.py)
    )
    reporter = rng.choice(unit.reporters) if kind.reported_by_grid_worker and unit.reporters else None
    dispatched = kind.dispatches and not initial and unit.departments and rng.random() < 0.3
    return row, (reporter, rng.choice(unit.departments) if dispatched else None)


class _Writer:
    """Bulk inserts straight to the driver with values already in their stored form (the
    SQLAlchemy types would cost more per row than the rest of the generator): ``COPY`` on
    PostgreSQL, ``executemany`` on SQLite."""

    def __init__(self, conn: sa.Connection):
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.quote = conn.dialect.identifier_preparer.quote

    def when(self, value: datetime | None):
        """UTCDateTime's stored form of a UTC datetime: naive text on SQLite, else itself."""
        if value is None or not self.sqlite:
            return value
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")

    def insert(self, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        target = f"{self.quote(table.name)} ({', '.join(self.quote(c) for c in columns)})"
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            self.conn.exec_driver_sql(f"INSERT INTO {target} VALUES ({marks})", rows)  # noqa: S608 (constant names)
            return
        with self.conn.connection.driver_connection.cursor() as cursor, \
                cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _batch(conn: sa.Connection, plan: _Plan, rng: random.Random, first: int, count: int, n: int,
           start: datetime, span: float, now: datetime) -> tuple[int, int]:
    """Insert cases ``first … first+count-1`` of ``n`` with their events; (events, participants)."""
    created = [start + timedelta(seconds=(i + rng.random()) * span / n) for i in range(first, first + count)]
    units = rng.choices(plan.units, plan.unit_weights, k=count)
    kinds = rng.choices(plan.types, plan.type_weights, k=count)
    days = [c.astimezone(LOCAL_TZ).strftime("%Y%m%d") for c in created]
    groups = Counter((k.ctype.prefix, d) for k, d in zip(kinds, days, strict=True))
    serial = {key: reserve_serials(conn, *key, size) for key, size in groups.items()}
    ids = take_case_ids(conn, count)
    write = _Writer(conn)
    cases, events, participants = [], [], []
    for case_id, c, unit, kind, day in zip(ids, created, units, kinds, days, strict=True):
        key = (kind.ctype.prefix, day)
        number, serial[key] = f"{key[0]}-{day}-{serial[key]:06d}", serial[key] + 1
        row, (reporter, department) = _case_row(rng, plan, unit, kind, c, number, now, write.when)
        row["id"] = case_id
        cases.append(row)
        events.append((case_id, row["created_at"], reporter, "submit", None, kind.ctype.initial_state, "", "{}",
                       False))
        if department:
            participants.append((case_id, department, "handler", row["responded_at"]))
    write.insert(Case.__table__, CASE_COLUMNS, list(map(itemgetter(*CASE_COLUMNS), cases)))
    write.insert(CaseEvent.__table__, EVENT_COLUMNS, events)
    write.insert(CaseParticipant.__table__, PARTICIPANT_COLUMNS, participants)
    return len(events), len(participants)


def generate_cases(n: int, *, seed: int = 2026, batch: int = 10_000,
                   progress: Callable[[int, int], None] | None = None,
                   now: datetime | None = None, days: int = 365) -> Generated:
    """Insert ``n`` synthetic cases created over the ``days`` before ``now``.

    One transaction per ``batch`` (its numbers reserved inside it); ``progress(done, n)``
    is called after each commit. Raises :class:`NoUnits` when there is no grid or community.
    """
    if n < 0 or batch < 1 or days < 1:
        raise ValueError("n must be ≥ 0, batch and days ≥ 1")
    began = time.perf_counter()
    now = (now or utcnow()).astimezone(UTC)
    rng = random.Random(seed)
    plan = _plan(rng)
    db.rollback()  # release the session's read before the batches write
    engine = db.get_bind()
    span = days * 86400.0
    start = now - timedelta(seconds=span)
    events = participants = 0
    for first in range(0, n, batch):
        count = min(batch, n - first)
        with engine.begin() as conn:
            e, p = _batch(conn, plan, rng, first, count, n, start, span, now)
        events, participants = events + e, participants + p
        if progress:
            progress(first + count, n)
    return Generated(n, events, participants, time.perf_counter() - began)
