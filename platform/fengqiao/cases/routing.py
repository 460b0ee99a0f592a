"""Routing and jurisdiction: where a new case lands, and who may send a case to which unit.

**Landing.** A submission names its unit (``org``), else a signed-in staff member's case
lands at their deepest unit, else the form's ``accepting_unit`` (a unit code in the form
definition, e.g. the county 12345 centre, which then sees and dispatches the case), else it
is refused (422 on ``/org``): a resident's case never lands silently at the county root.

**Routing.** 派单 (``dispatch``), 转办 (``assign`` with a unit) and 吹哨 (``summon``) may only
name a unit the actor may route to:

- a unit in the subtree of a unit where the actor holds a ``cases.act`` role (a street
  dispatcher sends to its own communities, never to a village of another town);
- a department (``kind == "department"``) listed as routable for the level of that unit:
  setting ``routable_departments`` maps a level to department codes; without it every active
  county-level department is routable from ``street`` and ``county`` units and none from
  ``community`` and ``grid`` (a community escalates to its street, which dispatches). A
  street's own departments (its 派出所, 司法所) lie in its subtree; another town's do not;
- members of a *dispatch centre* (a department that accepts cases, e.g. the 12345 centre)
  route like the unit above it. Setting ``dispatch_centres`` lists their codes; by default
  it is every department named as a published form's ``accepting_unit``.

The case page's unit select (``engine.dispatch_targets``) lists exactly these units.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from fengqiao import caches
from fengqiao.accounts.roles import permissions_for
from fengqiao.db import current_session, db
from fengqiao.exceptions import Invalid
from fengqiao.models import Form, FormVersion, OrgUnit
from fengqiao.orgs.scope import Scope

ACT = "cases.act"
DEFAULT_DEPARTMENT_LEVELS = ("street", "county")
SEARCH_PAGE = 20
MAX_SEARCH = 50


def _extra(name: str, default=None):
    return current_app.extensions["fengqiao.settings"].extra.get(name, default)


# ---- where a new case lands -----------------------------------------------------------------


def accepting_unit(definition: dict | None) -> OrgUnit | None:
    """The active unit a form's ``accepting_unit`` names (None when unset, unknown or off)."""
    code = (definition or {}).get("accepting_unit")
    if not isinstance(code, str) or not code:
        return None
    unit = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))
    return unit if unit is not None and unit.active else None


def _accepting_codes() -> frozenset[str]:
    """Codes named as ``accepting_unit`` by the latest published version of every form; in the
    ``forms`` cache (:mod:`fengqiao.caches`) until a form or version changes."""
    session = current_session()

    def load() -> frozenset[str]:
        latest = (sa.select(sa.func.max(FormVersion.id)).group_by(FormVersion.form_id)).scalar_subquery()
        rows = session.scalars(sa.select(FormVersion.definition).join(Form, FormVersion.form_id == Form.id)
                               .where(FormVersion.id.in_(latest)))
        return frozenset(d.get("accepting_unit") for d in rows if isinstance(d.get("accepting_unit"), str))

    return caches.cached(session, caches.FORMS, "accepting_units", load)


def dispatch_centres() -> frozenset[str]:
    configured = _extra("dispatch_centres")
    return frozenset(configured) if isinstance(configured, list) else _accepting_codes()


def search_communities(q: str, page: int = 1) -> tuple[list[OrgUnit], bool]:
    """Active communities/villages whose name (or their street's) contains ``q``; one page
    (``SEARCH_PAGE`` rows) and whether there are more. An empty ``q`` lists them all."""
    street = aliased(OrgUnit)
    stmt = (sa.select(OrgUnit).join(street, OrgUnit.parent_id == street.id)
            .where(OrgUnit.active, OrgUnit.kind == "territorial", OrgUnit.level == "community"))
    q = q.strip()[:MAX_SEARCH]
    if q:
        stmt = stmt.where(sa.or_(OrgUnit.name.contains(q, autoescape=True),
                                 street.name.contains(q, autoescape=True)))
    rows = list(db.scalars(stmt.order_by(OrgUnit.path).offset((page - 1) * SEARCH_PAGE).limit(SEARCH_PAGE + 1)))
    return rows[:SEARCH_PAGE], len(rows) > SEARCH_PAGE


# ---- who may route to which unit --------------------------------------------------------------


def _routable_departments(level: str) -> list[str] | None:
    """Department codes routable from a unit of ``level``; None: every county-level department."""
    configured = _extra("routable_departments")
    if isinstance(configured, dict):
        return list(configured.get(level) or [])
    return None if level in DEFAULT_DEPARTMENT_LEVELS else []


def acting_units(user, permission: str = ACT) -> list[OrgUnit]:
    """The active units where ``user`` holds a role with ``permission`` (acting on cases, or
    receiving external orders); a dispatch centre stands for the unit above it."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    centres = dispatch_centres()
    units = []
    for m in user.memberships:
        if not m.org.active or permission not in permissions_for(m.role):
            continue
        unit = m.org
        if unit.kind == "department" and unit.code in centres and unit.parent is not None:
            unit = unit.parent
        units.append(unit)
    return units


def routable_clause(user):
    """SQL condition on ``OrgUnit``: the units ``user`` may dispatch, transfer or summon to."""
    units = acting_units(user)
    clauses = [Scope(tuple(sorted({u.path for u in units}))).clause(OrgUnit.path)]
    every_department = False
    codes: set[str] = set()
    for unit in units:
        if unit.kind != "territorial":
            continue
        listed = _routable_departments(unit.level)
        if listed is None:
            every_department = True
        else:
            codes.update(listed)
    if every_department:
        clauses.append(sa.and_(OrgUnit.kind == "department", OrgUnit.level == "county"))
    elif codes:
        clauses.append(sa.and_(OrgUnit.kind == "department", OrgUnit.code.in_(sorted(codes))))
    return sa.and_(OrgUnit.active, sa.or_(*clauses))


def may_route(user, unit: OrgUnit) -> bool:
    return db.scalar(sa.select(OrgUnit.id).where(OrgUnit.id == unit.id, routable_clause(user))) is not None


def check_routable(user, unit: OrgUnit, pointer: str) -> OrgUnit:
    """``unit``, or 422 on ``pointer`` when it is outside the actor's jurisdiction."""
    if not may_route(user, unit):
        raise Invalid([(pointer, f"无权派至{unit.name}：只能派往本单位辖区内的单位或本级可派的职能部门",
                                 "out_of_jurisdiction")])
    return unit


def routable_units(user, levels=("county", "street", "community")) -> list[OrgUnit]:
    """The units the case page offers: departments first, then the territorial units."""
    order = sa.case((OrgUnit.kind == "department", 0), else_=1)
    return list(db.scalars(sa.select(OrgUnit).where(OrgUnit.level.in_(levels), routable_clause(user))
                           .order_by(order, OrgUnit.path)))
