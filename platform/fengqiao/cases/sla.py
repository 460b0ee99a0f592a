"""The SLA clock of a case: its deadline, pauses (挂账), extensions (延期) and status.

A case keeps what its deadline is made of — ``sla_start``, ``sla_limit`` (``{"working_days":
n}`` or ``{"hours": h}``) and ``sla_credit`` (paused time and approved extensions, in the
limit's unit) — so the deadline can be computed again whenever the calendar changes:
``deadline = start + limit + credit`` on the case unit's calendar. Natural hours are used
for hour limits (紧急 24 h means 24 h), working days for day limits.

Beside the clock shown (which a rework step may restart), a case keeps the *first clock*
that 按期办结率 counts (docs/domain.md): ``due_at`` is set by a new case's clock and then
moves only with approved extensions, credited pauses and calendar changes, and never once
the case first closed (``first_closed_at``); ``paused_seconds`` adds up the natural time
the clock stood still. A case late at its first closure therefore stays late after 重办.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fengqiao.db import utcnow
from fengqiao.workcalendar import Deadline, load_calendar, to_local

NONE, ON_TRACK, DUE_SOON, OVERDUE, PAUSED, MET, MISSED = (
    "none", "on_track", "due_soon", "overdue", "paused", "met", "missed")
OPEN_STATUSES = (ON_TRACK, DUE_SOON, OVERDUE)
STATUS_TITLES = {NONE: "无期限", ON_TRACK: "正常", DUE_SOON: "临期", OVERDUE: "已超期",
                 PAUSED: "挂账暂停", MET: "按期办结", MISSED: "超期办结"}
DEFAULT_DUE_SOON = {"working_days": 1}  # when neither the type nor the limit says otherwise
DUE_SOON_FRACTION = 0.75  # 临期 once this share of the limit has elapsed …
DUE_SOON_HOURS_LEFT = 2.0  # … or, for hour limits, with this many hours left
SHORT_HOURS = 4.0  # hour limits up to this long use the share only (特急 1 h is not 临期 at once)
WORKDAY_SPAN = timedelta(hours=9)  # 08:30–17:30: how a fraction of a working day is placed
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


def _working_days_before(deadline: datetime, days: float, org_path: str | None) -> datetime:
    """``days`` working days before ``deadline`` (same time of day; a fraction of a day is
    taken from the 08:30–17:30 working day before the whole days)."""
    calendar = load_calendar(org_path)
    whole, fraction = int(days), days - int(days)
    day = to_local(deadline).date()
    for _ in range(whole):
        day -= timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
    return datetime.combine(day, to_local(deadline).timetz()) - WORKDAY_SPAN * fraction


def due_soon_from(deadline: datetime, due_soon: dict | None, org_path: str | None,
                  limit: dict | None = None) -> datetime:
    """The moment a case becomes 临期 (即将超期).

    An explicit ``due_soon`` of the case type (that long before the deadline) wins. Else the
    limit decides: 75 % of it elapsed or less than one working day left for working-day
    limits (whichever comes first), two hours left for hour limits — but only the 75 % for
    limits of four hours or less, so a 1-hour 特急 case is not 临期 the moment it arrives, and
    for natural-day limits of 48 hours or more (a dispute's 720 h) 75 % or one day left.
    """
    if not due_soon and limit:
        if unit_of(limit) == "hours":
            hours = float(limit["hours"])
            if hours <= SHORT_HOURS:
                left = hours * (1 - DUE_SOON_FRACTION)
            elif hours < 48:
                left = DUE_SOON_HOURS_LEFT
            else:  # natural days written in hours (a dispute's 720 h): like a day limit, a day's notice at least
                left = max(24.0, hours * (1 - DUE_SOON_FRACTION))
            return deadline - timedelta(hours=left)
        left = max(1.0, int(limit["working_days"]) * (1 - DUE_SOON_FRACTION))
        return _working_days_before(deadline, left, org_path)
    due_soon = due_soon or DEFAULT_DUE_SOON
    if "hours" in due_soon:
        return deadline - timedelta(hours=float(due_soon["hours"]))
    return _working_days_before(deadline, int(due_soon["working_days"]), org_path)


def status_at(deadline: datetime | None, now: datetime, due_soon: dict | None,
              org_path: str | None, limit: dict | None = None) -> str:
    """正常 / 临期 / 已超期 of an open, running clock at ``now`` (``limit``: the case's)."""
    if deadline is None:
        return NONE
    if now > deadline:
        return OVERDUE
    return DUE_SOON if now >= due_soon_from(deadline, due_soon, org_path, limit) else ON_TRACK


def start(limit: dict | None, now: datetime, org_path: str, due_soon: dict | None = None) -> dict:
    """Column values for a new case with ``limit`` (None: no deadline); its deadline is also
    the first clock (``due_at``) metrics count."""
    if limit is None:
        return {"sla_start": None, "sla_limit": None, "sla_credit": 0, "due_at": None,
                **Clock(None, False, NONE).values()}
    ends = deadline_for(now, limit, 0, org_path)
    status = status_at(ends.at, now, due_soon, org_path, limit)
    return {"sla_start": now, "sla_limit": dict(limit), "sla_credit": 0, "due_at": ends.at,
            **Clock(ends.at, ends.provisional, status).values()}


def restart(case, limit: dict | None, now: datetime, due_soon: dict | None,
            first_clock: bool = False) -> dict:
    """A new clock for a step of an existing case (a rework's ``deadline``, a reopening).

    The first clock stays where it is — a rework deadline or 重办 never rescues a late case —
    unless ``first_clock`` (the case's own limit set at acceptance, e.g. a certificate
    item's) or the case never had one; either only while it was never closed."""
    values = start(limit, now, case.org.path, due_soon)
    never_closed = case.first_closed_at is None
    if not (never_closed and (first_clock or case.due_at is None)):
        values.pop("due_at")
    return values


def recomputed(case, now: datetime, due_soon: dict | None, credit: float | None = None) -> dict:
    """The clock values of an open case after its credit or the calendar changed."""
    credit = case.sla_credit if credit is None else credit
    ends = deadline_for(case.sla_start, case.sla_limit, credit, case.org.path)
    status = PAUSED if case.paused_at else status_at(ends.at, now, due_soon, case.org.path, case.sla_limit)
    return {"sla_credit": credit, **Clock(ends.at, ends.provisional, status).values()}


CLOCK_COLUMNS = ("priority", "sla_start", "sla_limit", "sla_credit", "deadline", "deadline_provisional",
                 "sla_status", "due_at", "paused_at", "paused_seconds")  # what :func:`reclocked` may write


def _field_start(ctype, data: dict, created_at: datetime) -> datetime | None:
    """The ``start_field`` time (12345 受理时间) recorded in a case's data, when it is a valid
    time no later than the case itself (a case that had no clock kept no ``sla_start``)."""
    name = (getattr(ctype, "sla", None) or {}).get("start_field")
    raw = data.get(name) if name else None
    if not isinstance(raw, str) or not raw:
        return None
    try:
        start = to_local(datetime.fromisoformat(raw))
    except (ValueError, OverflowError):
        return None
    return start if start <= created_at else None


def clock_frozen(case, now: datetime) -> bool:
    """Whether a moved case keeps its clock as it is: the clock stopped (met/missed), the
    case was closed once (a reopening clock), the deadline shown is a rework's (``due_at``
    differs), or the deadline had passed — by now, or by the start of a running pause —
    since a deadline that has passed stays passed."""
    if case.sla_status in (MET, MISSED) or case.first_closed_at is not None:
        return True
    if case.due_at is not None and case.deadline is not None and case.due_at != case.deadline:
        return True
    return case.deadline is not None and (case.paused_at or now) > case.deadline


def reclocked(case, ctype, now: datetime) -> dict:
    """The clock columns (:data:`CLOCK_COLUMNS`) of an open case moved to another version
    ``ctype`` of its type, as if that version had been in force since the clock started:
    its tier and limit for the case data, from ``sla_start`` (the 12345 受理时间 when given),
    keeping the credit earned so far (pauses, extensions) while the unit stays the same.

    A migration may shorten a deadline into the past (the case becomes overdue) or lengthen
    it, but never un-miss one: a frozen clock (:func:`clock_frozen`) is returned unchanged.
    ``case`` needs the clock columns, ``data``, ``created_at`` and ``org.path``."""
    kept = {name: getattr(case, name) for name in CLOCK_COLUMNS}
    if clock_frozen(case, now):
        return kept
    data = case.data or {}
    limit = ctype.limit_for(data)
    values = {**kept, "priority": ctype.tier_for(data)}
    if limit is None:  # the new version sets no deadline: the clock (and any pause) ends
        return {**values, **paused_for(case, now), "sla_limit": None, "sla_credit": 0, "deadline": None,
                "deadline_provisional": False, "sla_status": NONE, "due_at": None, "paused_at": None}
    start = case.sla_start or _field_start(ctype, data, case.created_at) or case.created_at
    same_unit = case.sla_limit is not None and unit_of(case.sla_limit) == unit_of(limit)
    credit = case.sla_credit if same_unit else 0  # credit in another unit (hours vs days) does not carry
    ends = deadline_for(start, limit, credit, case.org.path)
    status = PAUSED if case.paused_at else status_at(ends.at, now, ctype.due_soon, case.org.path, limit)
    return {**values, "sla_start": start, "sla_limit": dict(limit), "sla_credit": credit, "due_at": ends.at,
            **Clock(ends.at, ends.provisional, status).values()}


def first_clock_moved(case, new_deadline: datetime, amount: float, since: datetime | None = None) -> dict:
    """``due_at`` after the shown deadline moved by ``amount`` (of the limit's unit) — an
    approved extension or pause credit — or ``{}`` when the first clock must stay: the case
    closed once already, or its first deadline had passed (by ``since``, the moment the
    extension or pause began: an overdue case stays overdue)."""
    due = case.due_at
    if due is None or case.first_closed_at is not None or (since is not None and since > due) or not amount:
        return {}
    if case.deadline is not None and due == case.deadline:
        return {"due_at": new_deadline}  # the first clock is the one shown: follow it exactly
    if unit_of(case.sla_limit) == "hours":
        return {"due_at": due + timedelta(hours=float(amount))}
    return {"due_at": load_calendar(case.org.path).add_working_days(due, int(amount)).at}


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


def paused_for(case, now: datetime) -> dict:
    """``paused_seconds`` with the running pause (if any) added: when a pause ends."""
    if case.paused_at is None:
        return {}
    seconds = max(0.0, (now - case.paused_at).total_seconds())
    return {"paused_seconds": (case.paused_seconds or 0) + seconds}


def resume(case, now: datetime, due_soon: dict | None) -> dict:
    """The pause ends: its time is credited to the shown deadline and (if the pause began
    before the first deadline) to ``due_at``; ``paused_seconds`` grows by its natural time."""
    if case.sla_limit is None or case.paused_at is None:
        return {}
    gained = paused_credit(case, now)
    case_view = _Snapshot(case, paused_at=None)
    values = recomputed(case_view, now, due_soon, case.sla_credit + gained)
    return {"paused_at": None, **values, **paused_for(case, now),
            **first_clock_moved(case, values["deadline"], gained, since=case.paused_at)}


def extend(case, amount: float, now: datetime, due_soon: dict | None) -> dict:
    """An approved extension: ``amount`` more of the limit's unit, counted per case."""
    values = recomputed(case, now, due_soon, case.sla_credit + amount)
    return {**values, "extension_count": (case.extension_count or 0) + 1,
            "extended_total": (case.extended_total or 0) + amount,
            **first_clock_moved(case, values["deadline"], amount, since=now)}


def close(case, now: datetime) -> dict:
    """Values when a case reaches a final state: met or missed its deadline.

    按期办结 needs both the shown deadline and the first clock met: a case late at its first
    closure stays 超期办结 however fast its rework ends."""
    values: dict = {"closed_at": now, "paused_at": None, **paused_for(case, now)}
    if case.paused_at is not None and case.sla_limit is not None:  # closed while paused (销号)
        credited = resume(case, now, None)
        values.update({k: v for k, v in credited.items() if k in ("sla_credit", "deadline", "due_at")})
    deadline, due_at = values.get("deadline", case.deadline), values.get("due_at", case.due_at)
    if case.first_closed_at is None:
        values["first_closed_at"] = now
    first_closed = case.first_closed_at or now
    if deadline is None and due_at is None:
        values["sla_status"] = NONE
    else:
        late = (deadline is not None and now > deadline) or (due_at is not None and first_closed > due_at)
        values["sla_status"] = MISSED if late else MET
    return values


def met_first_clock(case) -> bool | None:
    """Whether the first closure came by the first deadline (None: not closed or no limit)."""
    if case.first_closed_at is None or case.due_at is None:
        return None
    return case.first_closed_at <= case.due_at


def _number(value: float) -> str:
    return f"{float(value):g}"


def limit_text(limit: dict | None) -> str:
    """A limit in words: "3 个工作日", "24 小时"."""
    if not limit:
        return ""
    if unit_of(limit) == "hours":
        hours = float(limit["hours"])
        if hours >= 48 and hours % 24 == 0:  # a dispute's month reads 30 天, not 720 小时
            return f"{_number(hours / 24)} 天"
        return f"{_number(hours)} 小时"
    return f"{int(limit['working_days'])} 个工作日"


def amount_text(amount: float, limit: dict | None) -> str:
    """An amount of the limit's unit in words (延期 2 个工作日)."""
    return limit_text({unit_of(limit or {}): amount}) if limit else _number(amount)


def duration_text(seconds: float) -> str:
    """Natural time in words: "2 天 3 小时", "45 分钟"."""
    minutes = int(round((seconds or 0) / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n} {word}" for n, word in ((days, "天"), (hours, "小时"), (minutes, "分钟")) if n]
    return " ".join(parts) if parts else "0 分钟"


def clock_parts(case, now: datetime | None = None) -> dict:
    """What a case's deadline is made of, for the case page and the API: start, limit,
    pauses (total, and the running one), extensions, a step's own deadline, and the first
    deadline leaders count when it differs from the one shown."""
    paused = (case.paused_seconds or 0) + (
        max(0.0, ((now or utcnow()) - case.paused_at).total_seconds())
        if case.paused_at else 0)
    limit = case.sla_limit
    return {
        "started_at": case.sla_start,
        "limit": limit,
        "limit_text": limit_text(limit),
        "deadline": case.deadline,
        "paused_seconds": paused,
        "paused_text": duration_text(paused) if paused else "",
        "paused_since": case.paused_at,
        "extension_count": case.extension_count or 0,
        "extended_total": case.extended_total or 0,
        "extended_text": amount_text(case.extended_total, limit) if case.extended_total else "",
        "step_name": case.step_name,
        "step_due": case.step_due,
        "due_at": case.due_at,
        "due_at_differs": case.due_at is not None and case.due_at != case.deadline,
        "first_closed_at": case.first_closed_at,
        "met_first_clock": met_first_clock(case),
    }


def clock_json(case, now: datetime | None = None) -> dict:
    """:func:`clock_parts` with times as ISO 8601 text (the API's ``clock`` object)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in clock_parts(case, now).items()}


class _Snapshot:
    """A case as seen with some attributes replaced (for computing before writing)."""

    def __init__(self, case, **changed):
        self._case, self._changed = case, changed

    def __getattr__(self, name):
        return self._changed[name] if name in self._changed else getattr(self._case, name)
