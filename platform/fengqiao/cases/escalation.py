"""The escalation ladder 网格 → 社区 → 街道 → 区县: which unit a case climbs to next."""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.models import OrgUnit

LADDER = ("grid", "community", "street", "county")
LEVEL_TITLES = {"grid": "网格", "community": "社区/村", "street": "街道/乡镇", "county": "区县"}


def ancestors(unit: OrgUnit) -> list[OrgUnit]:
    """The regular units above ``unit`` (nearest first), from its materialized path."""
    codes = [c for c in unit.path.strip("/").split("/") if c and c != unit.code]
    if not codes:
        return []
    found = {u.code: u for u in db.scalars(sa.select(OrgUnit).where(OrgUnit.code.in_(codes)))}
    return [found[c] for c in reversed(codes) if c in found]


def _rank(level: str) -> int:
    return LADDER.index(level) if level in LADDER else -1


def next_unit(case, level: str | None = None) -> OrgUnit | None:
    """The unit the case escalates to: the ancestor at ``level``, or one rung above where it
    stands now (its escalation unit, else its own unit). None at the top of the ladder."""
    current = case.escalated_to or case.org
    for unit in ancestors(case.org):
        if level is not None:
            if unit.level == level and _rank(level) > _rank(current.level):
                return unit
        elif _rank(unit.level) > _rank(current.level):
            return unit
    return None
