"""Transitions taken by the system rather than a person (a plugin's rule, a timer).

A certificate request on the must-not-issue list is refused the moment it arrives; a points
claim is credited when its notice period ends. Such steps go through the same workflow
transition (its effects, SLA clock, history row with no actor, signals), never around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from fengqiao.cases import sla
from fengqiao.cases.actions import Situation, TransitionAction
from fengqiao.cases.case_types import case_type
from fengqiao.cases.engine import write_outcome
from fengqiao.db import db, utcnow
from fengqiao.exceptions import Conflict, NotFound
from fengqiao.models import Case, CaseParticipant


@dataclass
class SystemActor:
    """Stands in for a user where the engine expects one: no id, no roles, no scope."""

    id: None = None
    username: None = None
    memberships: list = field(default_factory=list)
    is_authenticated: bool = False


SYSTEM = SystemActor()


def perform_as_system(number: str, action: str, comment: str = "", fields: dict | None = None,
                      deadline_days: int | None = None) -> Case:
    """Take the workflow transition ``action`` on case ``number`` as the system.

    ``deadline_days`` restarts the case's clock with that many working days (a certificate
    item's own time limit). Raises ``NotFound`` for an unknown case and ``Conflict``
    ``forbidden_transition`` when the case is not in a state the transition leaves from. The
    caller commits.
    """
    case = db.scalar(sa.select(Case).where(Case.number == number))
    if case is None:
        raise NotFound()
    ctype = case_type(case.type, case.workflow_version)
    transition = ctype.transitions.get(action)
    if transition is None or ctype.is_final(case.state) or case.state not in transition.sources:
        raise Conflict(f"事项当前状态不能执行「{action}」", code="forbidden_transition")
    participants = list(db.scalars(sa.select(CaseParticipant).where(CaseParticipant.case_id == case.id)))
    situation = Situation(case, ctype, SYSTEM, participants)  # type: ignore[arg-type]
    now = utcnow()
    outcome = TransitionAction(transition).apply(situation, dict(fields or {}), comment, now)
    if "assign_actor" in transition.effects:  # nobody to assign: the system acted
        outcome.values.pop("assignee_id", None)
        outcome.assigned = None
    if deadline_days is not None and not ctype.is_final(transition.target):
        outcome.values.update(sla.restart(case, {"working_days": int(deadline_days)}, now, ctype.due_soon,
                                          first_clock=True))  # the item's own limit is the one counted
        outcome.changes["deadline_limit"] = {"working_days": int(deadline_days)}
    return write_outcome(case, ctype, action, SYSTEM, outcome, case.version, comment, now)  # type: ignore[arg-type]
