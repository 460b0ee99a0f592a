"""Cases of the core's engine, as plain values: look one up, list them, act on one.

Nothing here hands out the core's ``Case`` model or a query over it: summaries are frozen
dataclasses and dicts, lists are keyset pages. None of these functions commits: a request
commits when it answers with success, a job when it returns; a signal receiver or a CLI
command commits its own work (``db.commit()``).
"""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.cases.summary import CaseSummary
from fengqiao.db import db
from fengqiao.orgs.scope import Scope
from fengqiao.pagination import Page
from fengqiao.sdk.errors import APIError, DomainError, plugin_errors

__all__ = [
    "CaseSummary", "case_data", "case_info", "case_summaries", "perform_action", "tracking_matches",
]

MAX_NUMBERS = 1000
"""At most this many case numbers in ``case_summaries(numbers=…)`` (more: pass a select)."""


def case_summaries(scope: Scope, *, case_type: str | None = None, state: str | None = None,
                   org: str | None = None, open_only: bool = False, numbers=None,
                   limit: int = 30, cursor: str | None = None) -> Page:
    """The cases ``scope`` may see (``scope_for(user, "cases.view")``: owned by a unit in it or
    dispatched to one — the one scoping rule of the core's own lists), newest first, as a
    keyset ``Page`` of ``CaseSummary``; narrow by ``case_type``, ``state``, the owning unit's
    code ``org`` (1.10) and ``open_only`` (not closed, 1.10) in the query, so a page is full
    of what was asked for. ``numbers`` (1.11) keeps only those case numbers: a collection of
    at most ``MAX_NUMBERS``, or a ``select`` of one column of them over the plugin's own table
    (its cases at an address, say), so a plugin's links list only what the caller may open.
    ``cursor`` is the previous page's ``next_cursor`` (default: the request's ``?cursor=``)."""
    from fengqiao.cases.queries import cases_in
    from fengqiao.models import Case, OrgUnit
    from fengqiao.sdk.web import paginate

    stmt = cases_in(scope)
    if case_type:
        stmt = stmt.where(Case.type == case_type)
    if state:
        stmt = stmt.where(Case.state == state)
    if org:
        stmt = stmt.where(Case.org_id == sa.select(OrgUnit.id).where(OrgUnit.code == org).scalar_subquery())
    if open_only:
        stmt = stmt.where(Case.closed_at.is_(None))
    if numbers is not None:
        if not isinstance(numbers, sa.Select):
            numbers = [n for n in numbers if isinstance(n, str)]
            if len(numbers) > MAX_NUMBERS:
                raise ValueError(f"numbers: at most {MAX_NUMBERS} case numbers (or a select)")
        stmt = stmt.where(Case.number.in_(numbers))
    page = paginate(stmt, Case.id, limit=limit, cursor=cursor)
    return Page([CaseSummary.of(case) for case in page.items], page.next_cursor)


def case_data(case_number: str) -> dict | None:
    """A case's submitted data (unmasked: for receivers and jobs, never for display)."""
    from fengqiao.models import Case

    return db.scalar(sa.select(Case.data).where(Case.number == case_number))


def case_info(case_number: str) -> dict | None:
    """A case's summary: number, type, state, org (code), assignee, deadline, created_at,
    closed_at, version, title (no data: use ``case_data``). None for an unknown number."""
    from fengqiao.models import Case

    case = db.scalar(sa.select(Case).where(Case.number == case_number))
    if case is None:
        return None
    return {"number": case.number, "type": case.type, "state": case.state, "org": case.org.code,
            "assignee": case.assignee.username if case.assignee else None, "deadline": case.deadline,
            "created_at": case.created_at, "closed_at": case.closed_at, "version": case.version,
            "title": case.title}


def tracking_matches(case_number: str, code: str) -> bool:
    """Whether ``code`` is the resident's 查询码 of the case (constant-time; residents have no
    account, so number + code is what lets one download their own certificate)."""
    from fengqiao.cases.tracking import find_for_resident

    try:
        find_for_resident(case_number, code)
    except DomainError:
        return False
    return True


@plugin_errors
def perform_action(case_number: str, action: str, *, actor: str | None = None, comment: str = "",
                   fields: dict | None = None, deadline_days: int | None = None) -> dict:
    """Act on a case and return its ``case_info``.

    With ``actor`` (a username) the action runs exactly as if that person clicked it: their
    scope, role and guards apply. Without, the workflow transition ``action`` is taken by the
    system (history shows no person); ``deadline_days`` then restarts the clock with that many
    working days. Raises ``APIError`` (404 unknown, 403/409 not allowed now, 422 guards).
    It does not commit (see the module's note).
    """
    from fengqiao.models import Case, User

    if actor is None:
        from fengqiao.cases.system import perform_as_system

        perform_as_system(case_number, action, comment, fields, deadline_days)
    else:
        from fengqiao.cases.engine import perform

        user = db.scalar(sa.select(User).where(User.username == actor, User.active))
        if user is None:
            raise APIError(404, [("/actor", f"用户 {actor} 不存在或已停用", "unknown_user")])
        version = db.scalar(sa.select(Case.version).where(Case.number == case_number))
        perform(case_number, action, user, {"version": version, "comment": comment, "fields": fields or {}})
    return case_info(case_number)  # type: ignore[return-value]


def cases_in(scope: Scope) -> sa.Select:
    """Deprecated (API 1.5): a query over the core's internal case table. Use ``case_summaries``."""
    from fengqiao.cases.queries import cases_in as query

    return query(scope)
