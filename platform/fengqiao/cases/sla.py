"""The SLA clock of a case: its deadline, pauses (挂账), extensions (延期) and status.

A case keeps what its deadline is made of — ``sla_start``, ``sla_limit`` (``{"working_days":
n}`` or ``{"hours": h}``) and ``sla_credit`` (paused time and approved extensions, in the
limit's unit) — so the deadline can be computed again whenever the calendar changes:
``deadline = start + limit + credit`` on the case unit's calendar. Natural hours are used
for hour limits (紧急 24 h means 24 h), working days for day limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fengqiao.cases.workdays import Deadline, load_calendar, to_local

NONE, ON_TRACK, DUE_SOON, OVERDUE, PAUSED, MET, MISSED = (
    "none", "on_track", "due_soon", "overdue", "paused", "met", "missed")
OPEN_STATUSES = (ON_TRACK, DUE_SOON, OVERDUE)
STATUS_TITLES = {NONE: "无期限", ON_TRACK: "正常", DUE_SOON: "临期", OVERDUE: "已超期",
                 PAUSED: "挂账暂停", MET: "按期办结", MISSED: "超期办结"}
DEFAULT_DUE_SOON = {"working_days": 1}
ESCALATION_LEVELS = ("grid", "community", "street", "county")  # 网格 → 社区 → 街道 → 区县


@dataclass(frozen=True)
class Clock:
    """The column values of a case's SLA clock."""

    deadline: datetime | None
    provisional: bool
    status: str

    def values(self) -> dict:
        return {"deadline": self.deadline, "deadline_provisional": self.provisional,
                "sla_status": self.status}


def unit_of(limit: dict) -> str:
    return "hours" if "hours" in limit else "working_days"


def deadline_for(start: datetime, limit: dict, credit: float, org_path: str | None) -> Deadline:
    """``start`` + ``limit`` + ``credit`` (in the limit's unit) on the unit's calendar."""
    if unit_of(limit) == "hours":
        return Deadline(start + timedelta(hours=float(limit["hours"]) + credit))
    return load_calendar(org_path).add_working_days(start, int(limit["working_days"]) + int(credit))


def due_soon_from(deadline: datetime, due_soon: dict | None, org_path: str | None) -> datetime:
    """The moment a case becomes 临期: ``due_soon`` (default one working day) before it ends."""
    due_soon = due_soon or DEFAULT_DUE_SOON
    if "hours" in due_soon:
        return deadline - timedelta(hours=float(due_soon["hours"]))
    calendar = load_calendar(org_path)
    day = to_local(deadline).date()
    for _ in range(int(due_soon["working_days"])):
        day -= timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
    return datetime.combine(day, to_local(deadline).timetz())


def status_at(deadline: datetime | None, now: datetime, due_soon: dict | None,
              org_path: str | None) -> str:
    if deadline is None:
        return NONE
    if now > deadline:
        return OVERDUE
    return DUE_SOON if now >= due_soon_from(deadline, due_soon, org_path) else ON_TRACK


def start(limit: dict | None, now: datetime, org_path: str, due_soon: dict | None = None) -> dict:
    """Column values for a new case with ``limit`` (None: no deadline)."""
    if limit is None:
        return {"sla_start": None, "sla_limit": None, "sla_credit": 0, **Clock(None, False, NONE).values()}
    ends = deadline_for(now, limit, 0, org_path)
    status = status_at(ends.at, now, due_soon, org_path)
    return {"sla_start": now, "sla_limit": dict(limit), "sla_credit": 0,
            **Clock(ends.at, ends.provisional, status).values()}


def recomputed(case, now: datetime, due_soon: dict | None, credit: float | None = None) -> dict:
    """The clock values of an open case after its credit or the calendar changed."""
    credit = case.sla_credit if credit is None else credit
    ends = deadline_for(case.sla_start, case.sla_limit, credit, case.org.path)
    status = PAUSED if case.paused_at else status_at(ends.at, now, due_soon, case.org.path)
    return {"sla_credit": credit, **Clock(ends.at, ends.provisional, status).values()}


def paused_credit(case, now: datetime) -> float:
    """What a pause from ``case.paused_at`` to ``now`` gives back, in the limit's unit:
    natural hours, or the working days after the day it was paused up to today."""
    if unit_of(case.sla_limit) == "hours":
        return (now - case.paused_at).total_seconds() / 3600
    calendar = load_calendar(case.org.path)
    day, last, count = to_local(case.paused_at).date(), to_local(now).date(), 0
    while day < last:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
    return count


def pause(case, now: datetime) -> dict:
    if case.sla_limit is None or case.paused_at is not None:
        return {}
    return {"paused_at": now, "sla_status": PAUSED}


def resume(case, now: datetime, due_soon: dict | None) -> dict:
    if case.sla_limit is None or case.paused_at is None:
        return {}
    credit = case.sla_credit + paused_credit(case, now)
    case_view = _Snapshot(case, paused_at=None)
    return {"paused_at": None, **recomputed(case_view, now, due_soon, credit)}


def extend(case, amount: float, now: datetime, due_soon: dict | None) -> dict:
    """An approved extension: ``amount`` more of the limit's unit."""
    return recomputed(case, now, due_soon, case.sla_credit + amount)


def close(case, now: datetime) -> dict:
    """Values when a case reaches a final state: met or missed its deadline."""
    values: dict = {"closed_at": now, "paused_at": None}
    if case.deadline is None:
        values["sla_status"] = NONE
    else:
        values["sla_status"] = MET if now <= case.deadline else MISSED
    return values


class _Snapshot:
    """A case as seen with some attributes replaced (for computing before writing)."""

    def __init__(self, case, **changed):
        self._case, self._changed = case, changed

    def __getattr__(self, name):
        return self._changed[name] if name in self._changed else getattr(self._case, name)
