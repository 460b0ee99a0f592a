"""A step's own time limit beside the case deadline, and clocks that end before the case does.

12345 practice (docs/domain.md) times each step, not only the whole case: 签收 within 2
working hours (紧急 1 h, 特急 30 min), first contact with the caller within 1 working day, 回访
within 3 working days of 审核. A transition declares the limit of the step it leads to::

    "step_limit": {"title": "签收", "default": {"working_hours": 2},
                   "field": "urgency", "tiers": {"urgent": {"hours": 1}, "critical": {"hours": 0.5}}}

(``hours`` and ``days`` are natural time, ``working_hours`` office hours and ``working_days``
working days on the case unit's calendar). Taking it sets ``cases.step_name`` /
``step_due`` and records ``step_name`` / ``step_due`` in the history row. The next
transition that changes the case's state, starts another step or declares ``"ends_step":
true`` (联系诉求人 during 办理) completes the step: its history row records ``step_done`` (the
step's title) and ``step_late`` (true when done after ``step_due``, else false) — the rows
响应率 is counted from. Other transitions that keep the state (记录调解会, 回访未联系上) leave
the step in force.

``"sla": "stop"`` on a transition ends the case's clock there — ``sla_status`` becomes met or
missed — while the case goes on without a running clock (a dispute's clock ends at the
agreement; 司法确认 and 回访 follow); the final state keeps that status.

``start_field`` in a type's ``sla`` names a date-time form field (12345 受理时间) that starts
the clock instead of the submission, when given; a time in the future is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fengqiao.cases import sla
from fengqiao.exceptions import Invalid
from fengqiao.labels import short_when
from fengqiao.orgs.service import get_by_code
from fengqiao.workcalendar import load_calendar, to_local

STOPPED = (sla.MET, sla.MISSED)


def span_end(start: datetime, span: dict, org_path: str | None) -> datetime:
    """When a step (or a 吹哨 check-in) that starts at ``start`` is due: natural ``minutes``,
    ``hours`` or ``days``, or ``working_hours`` / ``working_days`` on the unit's calendar."""
    if "minutes" in span:
        return start + timedelta(minutes=float(span["minutes"]))
    if "hours" in span:
        return start + timedelta(hours=float(span["hours"]))
    if "days" in span:
        return start + timedelta(days=int(span["days"]))
    calendar = load_calendar(org_path)
    if "working_hours" in span:
        return calendar.add_working_hours(start, float(span["working_hours"])).at
    return calendar.add_working_days(start, int(span["working_days"])).at


def span_for(step_limit: dict, data: dict) -> dict:
    """The step's limit for a case: its tier's (by the field's value) or the default."""
    value = data.get(step_limit["field"]) if step_limit.get("field") else None
    return step_limit.get("tiers", {}).get(str(value)) or step_limit["default"]


def apply(s, t, fields: dict, out, now: datetime) -> None:
    """Complete the step in force and start the transition's own, into ``out`` (values and
    history changes; ``out.changes`` is replaced, not mutated, so the case data's copy of the
    transition's fields stays as entered)."""
    case, changes = s.case, {}
    final = s.ctype.is_final(t.target)
    if case.step_due is not None and (t.target != case.state or t.step_limit or t.ends_step or final):
        changes.update(step_done=case.step_name, step_late=now > case.step_due)
        out.values.update(step_name=None, step_due=None)
    if t.step_limit and not final:
        data = {**out.values.get("data", case.data or {}), **fields}
        span = span_for(t.step_limit, data)
        due = span_end(now, span, case.org.path)
        out.values.update(step_name=t.step_limit["title"], step_due=due)
        # the history row says 「整改时限：3 个工作日，截止 12月10日 17:00」 (labels.change_rows)
        changes.update(step_name=t.step_limit["title"], step_due=due.isoformat(), step_span=span)
    if t.sla == "stop" and case.sla_status not in STOPPED and not final:
        stopped = stop(case, now)
        out.values.update(stopped)
        if "sla_status" in stopped:
            changes["sla_stopped"] = stopped["sla_status"]
    if final and case.sla_status in STOPPED:
        out.values["sla_status"] = case.sla_status  # the clock ended earlier (at the agreement)
    if changes:
        out.changes = {**out.changes, **changes}


def stop(case, now: datetime) -> dict:
    """The clock ends now (met or missed, as at a closure) but the case stays open."""
    if case.deadline is None and case.due_at is None:
        return {}
    values = sla.close(case, now)
    values.pop("closed_at", None)
    values.pop("first_closed_at", None)
    return values


def clock_stopped(case) -> bool:
    """An open case whose clock already ended (no extension or pause applies any more)."""
    return case.closed_at is None and case.sla_status in STOPPED


START_LOOKBACK_DAYS = 30  # an order taken by the 12345 platform reaches us within days, not months


def start_of_clock(ctype, data: dict, now: datetime, trusted: bool = True) -> datetime:
    """When a new case's clock starts: the ``start_field`` time when given by staff (the 12345
    centre keying in an order), else ``now`` — a resident's own form cannot backdate the clock
    that judges the handling unit. The time must lie within the last 30 days."""
    name = (ctype.sla or {}).get("start_field")
    raw = data.get(name) if name and trusted else None
    if not isinstance(raw, str) or not raw:
        return now
    try:
        start = to_local(datetime.fromisoformat(raw))
    except (ValueError, OverflowError):
        raise Invalid([(f"/{name}", "请输入有效的日期时间", "format")]) from None
    if start > now:
        raise Invalid([(f"/{name}", "受理时间不能晚于当前时间", "future")])
    if start < now - timedelta(days=START_LOOKBACK_DAYS):
        raise Invalid([(f"/{name}", f"受理时间不能早于 {START_LOOKBACK_DAYS} 天前", "too_old")])
    return start


def new_clock(ctype, data: dict, now: datetime, org_path: str, trusted: bool = True) -> dict:
    """A new case's clock columns, started at :func:`start_of_clock`; its status is as of now.
    ``trusted``: the submitter is staff (their ``start_field`` counts)."""
    start = start_of_clock(ctype, data, now, trusted)
    values = sla.start(ctype.limit_for(data), start, org_path, ctype.due_soon)
    if start != now and values.get("deadline") is not None:
        values["sla_status"] = sla.status_at(values["deadline"], now, ctype.due_soon, org_path,
                                             values.get("sla_limit"))
    return values


def step_view(case, now: datetime) -> dict | None:
    """The step in force on an open case, for the case page (「整改 截止 12月10日 17:00」, red
    once late) and the API's ``step``: title, due time, late or not."""
    if case.closed_at is not None or case.step_due is None:
        return None
    return {"title": case.step_name or "当前环节", "due": case.step_due, "late": now > case.step_due,
            "due_text": short_when(case.step_due)}


def step_json(case, now: datetime) -> dict | None:
    """The step in force for ``GET /api/v1/cases/<number>``: ``{title, due_at, late}`` or None."""
    view = step_view(case, now)
    return {"title": view["title"], "due_at": view["due"].isoformat(), "late": view["late"]} if view else None


def _option_title(schema: dict, value) -> str:
    """A recorded value in words: an option's title, 是/否, or the value itself."""
    if isinstance(value, dict) and "to" in value:  # confirmed/regraded at 派单 (set_tier): the value now in force
        return value.get("to_title") or _option_title(schema, value.get("to"))
    for option in schema.get("oneOf", []) or []:
        if isinstance(option, dict) and option.get("const") == value:
            return option.get("title", str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 协议金额 3000, not 3000.0
    if isinstance(value, list):
        return "、".join(_option_title(schema.get("items", {}), v) for v in value)
    return str(value)


def _unit_name(code) -> str:
    """A routed-to unit (派单 ``unit``) by its name, never its code."""
    unit = get_by_code(str(code))
    return unit.name if unit is not None else str(code)


def _value_text(key: str, prop: dict, value) -> str:
    """A recorded field in words; uploaded files by their count (the history shows them),
    never their ids."""
    items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
    if "attachment" in (prop.get("format"), items.get("format")):
        return f"{len(value) if isinstance(value, list) else 1} 个附件"
    return _unit_name(value) if key == "unit" else _option_title(prop, value)


def _recorded(value) -> bool:
    """Something was recorded: not empty, and not a confirmation of a value nobody gave."""
    if isinstance(value, dict) and "to" in value:
        return value.get("to") not in (None, "")
    return value not in (None, "", [])


def records(ctype, case) -> list[tuple[str, list[tuple[str, str]]]]:
    """What the workflow's steps recorded on the case (协议, 司法确认, 回访 …) with labels:
    ``[(transition title, [(field title, value in words)])]`` in the workflow's order."""
    found = []
    for t in ctype.transitions.values():
        kept = (case.data or {}).get(f"_{t.name}")
        props = (t.fields or {}).get("properties", {})
        if not isinstance(kept, dict) or not props:
            continue
        rows = [(props[k].get("title", k), _value_text(k, props[k], kept[k]))
                for k in props if k in kept and _recorded(kept[k])]
        if rows:
            found.append((t.title, rows))
    return found
