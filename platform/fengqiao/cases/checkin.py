"""吹哨报到 check-in limits: how long a summoned department has to check in (报到).

A case type declares them in its JSON, by the category of the request::

    "checkin": {"field": "category",
                "tiers": {"emergency": {"minutes": 30}},
                "default": {"working_hours": 2}}

A limit is natural ``minutes`` or ``hours`` (应急处置: 30 minutes means 30 minutes, night or
weekend), or ``working_hours`` counted in office hours (08:30–12:00, 14:00–17:30) on the
working days of the case unit's calendar (docs/domain.md, "Working-day calendar"). Types
without ``checkin`` keep the older ``checkin_minutes`` key (default 30 natural minutes).
"""

from __future__ import annotations

from datetime import datetime

from fengqiao.cases.steps import span_end

UNITS = ("minutes", "hours", "working_hours")
UNIT_WORDS = {"minutes": "分钟", "hours": "小时", "working_hours": "个工作小时"}


def limit_for(ctype, data: dict | None) -> dict:
    """The check-in limit of a case of ``ctype`` with form data ``data``."""
    spec = getattr(ctype, "checkin", None)
    if not spec:
        return {"minutes": ctype.checkin_minutes}
    field = spec.get("field")
    value = (data or {}).get(field) if field else None
    tier = spec.get("tiers", {}).get(str(value)) if value is not None else None
    return dict(tier or spec.get("default") or {"minutes": ctype.checkin_minutes})


def due_at(limit: dict, start: datetime, org_path: str | None) -> datetime:
    """When a department summoned at ``start`` must have checked in."""
    return span_end(start, limit, org_path)


def describe(limit: dict) -> str:
    """``30分钟``, ``2个工作小时``: the limit as the notification and history say it."""
    unit = next(u for u in UNITS if u in limit)
    amount = limit[unit]
    text = f"{amount:g}" if isinstance(amount, float) else str(amount)
    return f"{text}{UNIT_WORDS[unit]}"
