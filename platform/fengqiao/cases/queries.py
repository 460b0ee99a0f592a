"""Case queries, always through the one scoping function."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm

from fengqiao.db import db
from fengqiao.models import Case, CaseParticipant, OrgUnit, User
from fengqiao.orgs.scope import Scope


def cases_in(scope: Scope) -> sa.Select:
    """Cases owned by a unit in ``scope``, or dispatched to one (a department sees what it
    was sent, and nothing else of the community's)."""
    participant_unit = sa.orm.aliased(OrgUnit)
    dispatched = (
        sa.select(CaseParticipant.case_id)
        .join(participant_unit, CaseParticipant.org_id == participant_unit.id)
        .where(scope.clause(participant_unit.path))
    )
    return (
        sa.select(Case)
        .join(OrgUnit, Case.org_id == OrgUnit.id)
        .where(sa.or_(scope.clause(OrgUnit.path), Case.id.in_(dispatched)))
    )


def filtered(stmt: sa.Select, *, type_: str | None = None, state: str | None = None,
             org: OrgUnit | None = None, assignee: User | None = None) -> sa.Select:
    if type_:
        stmt = stmt.where(Case.type == type_)
    if state:
        stmt = stmt.where(Case.state == state)
    if org is not None:
        stmt = stmt.where(Scope((org.path,)).clause(OrgUnit.path))
    if assignee is not None:
        stmt = stmt.where(Case.assignee_id == assignee.id)
    return stmt


def visible_case(number: str, scope: Scope) -> Case | None:
    return db.scalar(cases_in(scope).where(Case.number == number))
