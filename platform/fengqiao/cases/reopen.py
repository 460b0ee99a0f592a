"""Reopen a closed case (重办): by the resident once, or by staff as often as needed.

One transaction: a conditional ``UPDATE … WHERE version = N AND <still closed>`` (so a
double click or two people at once reopen it only once, on SQLite and PostgreSQL alike),
then an append-only history row that keeps the old rating; the ``case_transitioned`` signal
with action ``reopen`` goes out once the caller commits.

Who may reopen as staff is the caller's check (the staff action 重办 checks scope and role);
this module enforces the resident's limits: once per case, within a window after closure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from fengqiao import signals
from fengqiao.cases import sla
from fengqiao.cases.case_types import case_type
from fengqiao.cases.jobs import notify_handlers
from fengqiao.cases.workflow import CaseType
from fengqiao.db import db, utcnow
from fengqiao.exceptions import Conflict, Invalid, NotFound
from fengqiao.models import Case, CaseEvent

REOPEN_WINDOW_DAYS = 15  # natural days after closure; settings may override (reopen_window_days)
RESIDENT_REOPEN_LIMIT = 1
MAX_REASON = 2000

LIMIT_MESSAGE = "每件事项仅可申请重办一次"
STALE_MESSAGE = "该事项已被他人修改，请刷新后重试"


def window_days() -> int:
    return int(current_app.extensions["fengqiao.settings"].extra.get("reopen_window_days",
                                                                       REOPEN_WINDOW_DAYS))


def closed_time(case: Case) -> datetime | None:
    """When the case was closed: ``closed_at``, or (for cases closed before that column was
    kept) the time of the last history row that entered a final state."""
    ctype = case_type(case.type, case.workflow_version)
    if not ctype.is_final(case.state):
        return None
    if case.closed_at is not None:
        return case.closed_at
    finals = [k for k, s in ctype.states.items() if s.final]
    return db.scalar(
        sa.select(sa.func.max(CaseEvent.at))
        .where(CaseEvent.case_id == case.id, CaseEvent.to_state.in_(finals))
    )


def resident_may_reopen(case: Case, now: datetime | None = None) -> bool:
    """Whether the resident still has their one reopen (shown as a button on /track)."""
    closed = closed_time(case)
    return (closed is not None and case.merged_into_id is None
            and case.reopen_count < RESIDENT_REOPEN_LIMIT
            and (now or utcnow()) <= closed + timedelta(days=window_days()))


def clean_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid([("/reason", "请填写申请重办的理由", "required")])
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise Invalid([("/reason", f"理由最多填写 {MAX_REASON} 个字", "maxLength")])
    return reason


def _target_state(ctype: CaseType) -> str:
    target = ctype.reopen_to
    if target and target in ctype.states and not ctype.is_final(target):
        return target
    return ctype.initial_state


def _fresh_clock(ctype: CaseType, case: Case, now: datetime) -> dict:
    """A reopened case gets a new clock from now under its limit, and a fresh ladder; the
    first clock (``due_at``, ``first_closed_at``) stays, so a late case stays late (按期办结率)."""
    limit = case.sla_limit or ctype.limit_for(case.data or {})
    return {**sla.restart(case, limit, now, ctype.due_soon), "paused_at": None,
            "escalation_level": 0, "escalated_to_id": None}


def _refuse_resident(case: Case, now: datetime) -> None:
    """The resident's limits, checked before the write (and again by its WHERE clause)."""
    if case.reopen_count >= RESIDENT_REOPEN_LIMIT:
        raise Conflict(LIMIT_MESSAGE, code="reopen_limit")
    closed = closed_time(case)
    if closed is not None and now > closed + timedelta(days=window_days()):
        raise Conflict(f"事项办结已超过 {window_days()} 天，不能再申请重办；如问题仍未解决，请重新提交诉求",
                       code="reopen_window")


def reopen(case_id: int, *, reason: str, actor=None, by_resident: bool,
           version: int | None = None) -> None:
    """Reopen closed case ``case_id``. ``version``, when given, must be the current one
    (the staff form's optimistic lock); residents never need it."""
    reason = clean_reason(reason)
    case = db.get(Case, case_id)
    if case is None:
        raise NotFound()
    db.refresh(case)
    ctype = case_type(case.type, case.workflow_version)
    if not ctype.is_final(case.state):
        raise Conflict("事项尚未办结，无需申请重办", code="not_closed")
    if case.merged_into_id is not None:
        raise Conflict("该事项已并入其他事项办理，不能单独重办", code="merged")
    if version is not None and version != case.version:
        raise Conflict(STALE_MESSAGE, code="stale", pointer="/version")
    now = utcnow()
    if by_resident:
        _refuse_resident(case, now)
    from_state, previous_rating, target = case.state, case.rating, _target_state(ctype)
    finals = [k for k, s in ctype.states.items() if s.final]
    stmt = sa.update(Case).where(Case.id == case.id, Case.version == case.version,
                                 Case.state.in_(finals))
    if by_resident:
        stmt = stmt.where(Case.reopen_count < RESIDENT_REOPEN_LIMIT)
    values = dict(state=target, closed_at=None, rating=None, rated_at=None,
                  reopen_count=Case.reopen_count + 1, version=Case.version + 1,
                  **_fresh_clock(ctype, case, now))
    if db.execute(stmt.values(**values).execution_options(synchronize_session=False)).rowcount != 1:
        db.refresh(case)
        if by_resident and case.reopen_count >= RESIDENT_REOPEN_LIMIT:
            raise Conflict(LIMIT_MESSAGE, code="reopen_limit")
        raise Conflict(STALE_MESSAGE, code="stale", pointer="/version")
    event_id = db.execute(sa.insert(CaseEvent).values(
        case_id=case.id, at=now, actor_id=getattr(actor, "id", None), action="reopen",
        from_state=from_state, to_state=target, comment=reason, internal=False,
        changes={"by": "resident" if by_resident else "staff", "previous_state": from_state,
                 "previous_rating": previous_rating},
    ).returning(CaseEvent.id)).scalar_one()
    db.expire(case)
    notify_handlers(case, event_id, "reopen",
                    f"事项 {case.number} 已{'由居民申请' if by_resident else ''}重办，请重新办理")
    signals.send(signals.case_transitioned, case_number=case.number, action="reopen",
                 from_state=from_state, to_state=target, actor=getattr(actor, "username", None))
