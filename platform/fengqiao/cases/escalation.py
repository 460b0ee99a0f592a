"""The escalation ladder 网格 → 社区 → 街道 → 区县: which unit a case climbs to next, who
stands at the case's own level (上报) and who above it (督办), and the cool-down between two
climbs.

A case climbs one level at a time, by hand (上报上级) or by the overdue sweep, and not again
before ``escalation_cooldown_minutes`` (setting, default 60) have passed since the last climb
(``cases.escalated_at``): the level it reached must get the chance to act, so a case cannot
skip from a grid to the county in seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from fengqiao.accounts.roles import permissions_for
from fengqiao.db import LOCAL_TZ, db
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


DEFAULT_COOLDOWN_MINUTES = 60
SUPERVISE_ROLES = ("admin", "supervisor", "staff", "leader")


def holding_unit(case) -> OrgUnit:
    """The unit that answers for the case now: where it was escalated to, else its own."""
    return case.escalated_to or case.org


def cooldown() -> timedelta:
    minutes = current_app.extensions["fengqiao.settings"].extra.get(
        "escalation_cooldown_minutes", DEFAULT_COOLDOWN_MINUTES)
    return timedelta(minutes=max(0, minutes if isinstance(minutes, (int, float)) else DEFAULT_COOLDOWN_MINUTES))


def cooling_until(case, now: datetime) -> datetime | None:
    """When the case may climb again, if its last climb was too recent (else None)."""
    if case.escalated_at is None:
        return None
    until = case.escalated_at + cooldown()
    return until if now < until else None


def cooling_reason(case, until: datetime) -> str:
    unit = holding_unit(case)
    return (f"事项已于 {case.escalated_at.astimezone(LOCAL_TZ):%H:%M} 上报至{unit.name}，"
            f"须由其先行处理；{until.astimezone(LOCAL_TZ):%m月%d日 %H:%M} 后方可再次上报（逐级上报，不能越级）")


def on_own_level(user, case) -> bool:
    """``user`` acts for a unit between the case's own unit and the unit holding it now
    (both included): the level that reports it up (上报)."""
    own, holder = case.org.path, holding_unit(case).path
    return any(m.org.active and "cases.act" in permissions_for(m.role)
               and own.startswith(m.org.path) and m.org.path.startswith(holder)
               for m in user.memberships)


def supervising_unit(user, case) -> OrgUnit | None:
    """The nearest unit strictly above the one holding the case where ``user`` holds a
    supervising role: the unit a 督办 is issued from (None: not above the case)."""
    holder = holding_unit(case).path
    above = [m.org for m in user.memberships
             if m.role in SUPERVISE_ROLES and m.org.active and m.org.kind == "territorial"
             and holder.startswith(m.org.path) and holder != m.org.path]
    return max(above, key=lambda u: u.depth) if above else None
