"""Plain, detached views of org units for plugins (no ORM objects cross the sdk)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.models import OrgUnit


@dataclass(frozen=True)
class OrgInfo:
    code: str
    name: str
    level: str  # county | street | community | grid | building
    kind: str  # territorial | department
    parent: str | None  # parent's code
    path: str  # materialized path, for Scope.contains and subtree queries
    active: bool

    @classmethod
    def of(cls, unit: OrgUnit) -> OrgInfo:
        return cls(unit.code, unit.name, unit.level, unit.kind, unit.parent.code if unit.parent else None,
                   unit.path, unit.active)


def org_unit(code: str) -> OrgInfo | None:
    unit = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == code)) if isinstance(code, str) else None
    return OrgInfo.of(unit) if unit else None


def org_ancestors(code: str) -> list[OrgInfo]:
    """The unit ``code`` and every unit above it, root first (jurisdiction inheritance)."""
    unit = org_unit(code)
    if unit is None:
        return []
    codes = [c for c in unit.path.split("/") if c]
    units = {u.code: u for u in db.scalars(sa.select(OrgUnit).where(OrgUnit.code.in_(codes)))}
    return [OrgInfo.of(units[c]) for c in codes if c in units]


KINDS = ("territorial", "department")


def org_units(level: str | None = None, under: str | None = None, active_only: bool = True,
              kind: str | None = None) -> list[OrgInfo]:
    """Units by path order, optionally of one ``level``, of one ``kind`` and inside the subtree
    of ``under``.

    ``kind`` defaults to every kind, as before API 1.6: a level is not a kind — departments
    have levels too (a county bureau is ``county``, a community's property company
    ``community``) — so a list of communities asks for ``kind="territorial"``."""
    if kind is not None and kind not in KINDS:
        raise Invalid([("/kind", "单位类别只能是 territorial（属地）或 department（部门）", "enum")])
    stmt = sa.select(OrgUnit).order_by(OrgUnit.path)
    if level:
        stmt = stmt.where(OrgUnit.level == level)
    if kind:
        stmt = stmt.where(OrgUnit.kind == kind)
    if active_only:
        stmt = stmt.where(OrgUnit.active)
    if under:
        root = org_unit(under)
        if root is None:
            return []
        stmt = stmt.where(OrgUnit.path.startswith(root.path))
    return [OrgInfo.of(u) for u in db.scalars(stmt)]
