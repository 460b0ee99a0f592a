"""Agenda items: kept from the intake form, listed by unit, decided by the community's staff.

Like the core's services these functions never commit (the request commits when it answers
with success) and raise domain errors (``Invalid``, ``Conflict``), never HTTP statuses. The
exception is ``record_proposal``: a signal receiver runs after the request's commit, so it
commits its own row.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.errors import Conflict, Invalid
from fengqiao.sdk.forms import submission_data
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import get_in_scope, org_scope_clause
from fengqiao.sdk.privacy import audit
from fengqiao.sdk.workdays import today_local
from sqlalchemy.exc import IntegrityError

from fengqiao_agenda.models import STATUSES, AgendaItem

FORM_KEY = "agenda-proposal"
MANAGE = "agenda.manage"
DECISIONS = {"accept": "scheduled", "decline": "declined"}


def record_proposal(sender, **kwargs) -> None:
    """``submission_received``: keep each proposal once, for the unit that accepted it."""
    if kwargs.get("form_key") != FORM_KEY:
        return
    submission_id = kwargs["submission_id"]
    if db.scalar(sa.select(AgendaItem.id).where(AgendaItem.submission_id == submission_id)):
        return  # signals may be delivered more than once
    data = submission_data(submission_id) or {}
    db.add(AgendaItem(submission_id=submission_id, org_code=kwargs["org"], topic=data.get("topic", "")[:100],
                      details=data.get("details", ""), proposer=data.get("name", "")[:50],
                      mobile=data.get("mobile", "")))
    try:
        db.commit()
    except IntegrityError:  # a concurrent delivery stored it first
        db.rollback()


def items_in(permission: str = MANAGE, status: str | None = None) -> sa.Select:
    """Items of the units where the signed-in user holds ``permission`` (page it by id)."""
    stmt = sa.select(AgendaItem).where(org_scope_clause(AgendaItem.org_code, permission))
    return stmt.where(AgendaItem.status == status) if status in STATUSES else stmt


def item_in_scope(item_id: int, permission: str = MANAGE) -> AgendaItem:
    """The item when the signed-in user holds ``permission`` over its unit, else the uniform 404."""
    return get_in_scope(AgendaItem, item_id, permission, org="org_code")


def decide(item: AgendaItem, decision: str, *, reply: str = "", meeting_on: str = "", actor: str) -> AgendaItem:
    """Put the item on the agenda of the meeting on ``meeting_on`` (accept) or decline it with a
    ``reply`` to the resident; recorded in the audit log as the item's history."""
    reply = (reply or "").strip()
    problems = []
    if decision not in DECISIONS:
        problems.append(("/decision", "请选择采纳或不予采纳", "enum"))
    day = None
    if decision == "accept":
        try:
            day = date.fromisoformat((meeting_on or "").strip())
        except ValueError:
            problems.append(("/meeting_on", "请填写议事会日期（如 2026-06-18）", "format"))
        else:
            if day < today_local():
                problems.append(("/meeting_on", "议事会日期不能早于今天", "minimum"))
    if decision == "decline" and not reply:
        problems.append(("/reply", "不予采纳时请写明理由", "required"))
    if len(reply) > 1000:
        problems.append(("/reply", "答复不能超过 1000 个字", "maxLength"))
    if problems:
        raise Invalid(problems)
    if item.status != "proposed":
        raise Conflict(f"该议题已{STATUSES[item.status]}，不能重复处理", code="decided")
    item.status, item.meeting_on, item.reply, item.decided_by = DECISIONS[decision], day, reply, actor
    audit("agenda.decide", record=f"agenda:{item.id}", org=item.org_code, actor=actor,
          detail={"decision": decision, "meeting_on": day.isoformat() if day else None})
    db.flush()
    return item
