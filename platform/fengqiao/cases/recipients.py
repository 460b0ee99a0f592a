"""Who a transition's declared ``notify`` reaches (issue 21: notifications per transition).

The codes (``fengqiao.cases.workflow.NOTIFY_RECIPIENTS``) are resolved after the step's
values are known — the assignee it leaves, the unit it dispatches to — so a 派单 tells the
unit it was sent to, not the one before. The actor is never told of their own step.
"""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.accounts.directory import unit_heads, unit_staff
from fengqiao.db import db
from fengqiao.models import Case, CaseEvent, CaseParticipant, User


def handling_unit_id(case: Case, dispatched_to: int | None = None) -> int | None:
    """The unit handling the case: the one this step dispatches to, else the one it was last
    dispatched (or transferred) to; None when it never left its own unit."""
    if dispatched_to is not None:
        return dispatched_to
    return db.scalar(sa.select(CaseParticipant.org_id).where(
        CaseParticipant.case_id == case.id, CaseParticipant.role == "handler")
        .order_by(CaseParticipant.id.desc()).limit(1))


def submitter(case: Case) -> str | None:
    """The active staff account that submitted the case (residents submit without one)."""
    return db.scalar(sa.select(User.username).join(CaseEvent, CaseEvent.actor_id == User.id).where(
        CaseEvent.case_id == case.id, CaseEvent.action == "submit", User.active).limit(1))


def resolve(case: Case, codes: tuple[str, ...] | list[str], *, actor: User | None, assignee_id: int | None,
            dispatched_to: int | None = None, escalated_to: int | None = None) -> list[str]:
    """Usernames (and the pseudo-recipient ``reporter``) the codes name, the actor left out
    (None: the system's sweep); ``escalated_unit`` (a type's sla.notify) names the staff of
    ``escalated_to``."""
    names: list[str] = []
    handling = handling_unit_id(case, dispatched_to) if {"handling_unit", "unit_heads"} & set(codes) else None
    for code in codes:
        if code == "assignee" and assignee_id is not None:
            names += db.scalars(sa.select(User.username).where(User.id == assignee_id, User.active)).all()
        elif code == "handling_unit" and handling is not None:
            names += unit_staff([handling])
        elif code == "case_unit":
            names += unit_staff([case.org_id])
        elif code == "unit_heads":
            names += unit_heads([handling if handling is not None else case.org_id])
        elif code == "submitter":
            names += [name for name in (submitter(case),) if name]
        elif code == "reporter":
            names.append("reporter")  # the SMS channel's, later; the inbox skips it
        elif code == "escalated_unit" and escalated_to is not None:
            names += unit_staff([escalated_to])
    return [name for name in dict.fromkeys(names) if actor is None or name != actor.username]


def recipient_units(case: Case, codes: tuple[str, ...] | list[str], *, dispatched_to: int | None = None,
                    escalated_to: int | None = None) -> list[int]:
    """The units the codes name as groups (their robots hear of the step): the handling unit
    for ``handling_unit`` and ``unit_heads``, the case's own unit for ``case_unit``, the unit
    escalated to for ``escalated_unit``."""
    units = []
    if "escalated_unit" in codes and escalated_to is not None:
        units.append(escalated_to)
    if {"handling_unit", "unit_heads"} & set(codes):
        units.append(handling_unit_id(case, dispatched_to) or case.org_id)
    if "case_unit" in codes:
        units.append(case.org_id)
    return sorted(set(units))
