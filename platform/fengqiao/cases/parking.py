"""The workflow vocabulary that needs more than a line in ``TransitionAction``: the
``from_above`` guard (挂账 is approved by the level above), the ``set_review`` effect (the
parked item's review date) and the ``set_tier`` effect (受理 confirms or regrades the
reporter's provisional urgency). See ``fengqiao.cases.workflow`` for the declarations and
docs/domain.md ("Grid incident", "Working days and SLAs") for the practice.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from types import SimpleNamespace

from fengqiao.accounts.roles import permissions_for
from fengqiao.cases import sla
from fengqiao.cases.queries import entering_event
from fengqiao.db import LOCAL_TZ
from fengqiao.exceptions import Invalid

REVIEW_FIELD = "review_on"


# ---- from_above -------------------------------------------------------------------------


def from_above(s, t) -> bool:
    """The user holds one of ``t``'s roles (acting ones) in a unit strictly above the case's own
    unit: a colleague of the same unit — or of a unit below — cannot approve."""
    own = s.case.org.path
    return any(
        m.role in t.roles and m.org.active and own.startswith(m.org.path) and own != m.org.path
        and (not t.levels or m.org.level in t.levels) and "cases.act" in permissions_for(m.role)
        for m in s.user.memberships)


# ---- set_review ---------------------------------------------------------------------------


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL_TZ).date()


def parse_review_on(value, pointer: str = f"/fields/{REVIEW_FIELD}") -> date:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        raise Invalid([(pointer, "请填写有效的日期（年-月-日）", "format")]) from None


def check_review_on(fields: dict, now: datetime) -> None:
    """A review date typed now lies in the future: a parked item is reviewed later, not before."""
    if fields.get(REVIEW_FIELD) is None:
        return
    if parse_review_on(fields[REVIEW_FIELD]) <= local_today(now):
        raise Invalid([(f"/fields/{REVIEW_FIELD}", "复核日期应晚于今天", "review_on_past")])


def requested_review_on(case) -> date | None:
    """The review date asked for by the step that led into the current state (the 挂账 request)."""
    entered = entering_event(case)
    value = (entered.changes or {}).get(REVIEW_FIELD) if entered is not None else None
    return parse_review_on(value) if value else None


def review_values(case, fields: dict) -> dict:
    """``set_review``: this transition's own ``review_on`` (moving the date), else the request's."""
    chosen = parse_review_on(fields[REVIEW_FIELD]) if fields.get(REVIEW_FIELD) else requested_review_on(case)
    if chosen is None:
        raise Invalid([(f"/fields/{REVIEW_FIELD}", "请填写复核日期", "required")])
    return {"review_on": chosen}


# ---- set_tier -----------------------------------------------------------------------------


def tier_keys(ctype, t, case) -> list[str]:
    """The transition's fields that confirm what the reporter chose: the SLA field, and any
    other field the case's data already carries under the same key (e.g. ``urgency``)."""
    clock_fields = _clock_fields(ctype)
    data = case.data or {}
    return [key for key in (t.fields or {}).get("properties", {})
            if key in clock_fields or (key in data and not key.startswith("_"))]


def _clock_fields(ctype) -> set[str]:
    """The fields whose value picks the limit: the SLA field and its ``override`` (12345 特急)."""
    declared = ctype.sla or {}
    return {f for f in (declared.get("field"), (declared.get("override") or {}).get("field")) if f}


def with_reported_defaults(ctype, t, case) -> dict | None:
    """``t.fields`` with the reported values as defaults (the form preselects them)."""
    keys = tier_keys(ctype, t, case)
    if not keys:
        return t.fields
    fields = copy.deepcopy(t.fields)
    for key in keys:
        if (case.data or {}).get(key) is not None:
            fields["properties"][key]["default"] = case.data[key]
    return fields


def value_title(prop: dict, value) -> str | None:
    """The Chinese title of an enum value (``oneOf`` const/title), else the value itself."""
    if value is None:
        return None
    for option in prop.get("oneOf", []):
        if option.get("const") == value:
            return option.get("title", str(value))
    return str(value)


def regrade(s, t, fields: dict, now: datetime) -> tuple[dict, dict, dict]:
    """``set_tier``: (case column values, history changes, case data) after confirming the
    reported values; a changed SLA field recomputes the clock from its start."""
    ctype, case = s.ctype, s.case
    props = (t.fields or {}).get("properties", {})
    data = dict(case.data or {})
    values: dict = {}
    changes: dict = {}
    changed_sla = False
    clock_fields = _clock_fields(ctype)
    for key in tier_keys(ctype, t, case):
        old = data.get(key)
        new = fields.get(key, old)
        changes[key] = {"from": old, "to": new, "from_title": value_title(props[key], old),
                        "to_title": value_title(props[key], new), "title": props[key].get("title", key)}
        if new != old:
            data[key] = new
            changed_sla = changed_sla or key in clock_fields
    if changed_sla:
        values.update(_retiered(ctype, case, data, now))
    return values, changes, data


def _retiered(ctype, case, data: dict, now: datetime) -> dict:
    limit = ctype.limit_for(data)
    values: dict = {"priority": ctype.tier_for(data)}
    if limit is None or case.sla_start is None:
        return values
    if case.deadline is not None and now > case.deadline:
        return values  # an overdue case stays overdue: a later regrade cannot move its clock
    same_unit = case.sla_limit is not None and sla.unit_of(case.sla_limit) == sla.unit_of(limit)
    credit = case.sla_credit if same_unit else 0  # credit of another unit (hours vs days) does not carry
    view = SimpleNamespace(sla_start=case.sla_start, sla_limit=dict(limit), sla_credit=credit, org=case.org,
                           paused_at=case.paused_at, due_at=case.due_at, deadline=case.deadline,
                           paused_seconds=case.paused_seconds, extension_count=case.extension_count,
                           extended_total=case.extended_total)
    clock = sla.recomputed(view, now, ctype.due_soon, credit)
    values.update(clock)
    values["sla_limit"] = dict(limit)
    if "due_at" not in clock and (case.due_at is None or case.due_at == case.deadline):
        values["due_at"] = clock["deadline"]  # the first clock moves with the confirmed tier
    return values


class Overlay:
    """A case as it will be after ``values`` are written (closing right after a resume sees
    the resumed deadline and no running pause)."""

    def __init__(self, case, values: dict):
        self._case, self._values = case, values

    def __getattr__(self, name):
        return self._values[name] if name in self._values else getattr(self._case, name)
