"""回音壁: cases staff chose to publish, with their public replies and nothing personal.

Staff who may act on a case publish it with a summary they write for the public; the board
lists those cases to anyone, newest first. The board is the one case list without a
signed-in user, so its filter is the publish decision (``on_board``) rather than a scope.
Nothing from the form data is ever shown: only the case title, the staff's summary and the
public replies, each with phone and ID numbers masked.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from fengqiao.cases import queries
from fengqiao.cases.case_types import case_type
from fengqiao.cases.tracking import public_reply
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.exceptions import Conflict, Forbidden, Invalid, NotFound
from fengqiao.masking import mask_text
from fengqiao.models import Case, CaseEvent, OrgUnit, User
from fengqiao.orgs.scope import scope_for
from fengqiao.pagination import Page, keyset_page

PUBLISH, UNPUBLISH = "board_publish", "board_unpublish"
MAX_SUMMARY = 500
PAGE_SIZE = 20


def _actionable_case(case_number: str, user: User) -> Case:
    """The case, if ``user`` sees it (404 otherwise) and may act on it (403 otherwise)."""
    case = queries.visible_case(case_number, scope_for(user, "cases.view"))
    if case is None:
        raise NotFound()
    if queries.visible_case(case_number, scope_for(user, "cases.act")) is None:
        raise Forbidden("没有权限发布该事项到回音壁", code="forbidden")
    return case


def publishable(case: Case) -> bool:
    """Whether the case's type may appear on the public board (dispute records never do)."""
    return case_type(case.type, case.workflow_version).board


def clean_summary(summary: object) -> str:
    if not isinstance(summary, str) or not summary.strip():
        raise Invalid([("/summary", "请填写向公众展示的办理说明", "required")])
    summary = summary.strip()
    if len(summary) > MAX_SUMMARY:
        raise Invalid([("/summary", f"办理说明最多填写 {MAX_SUMMARY} 个字", "maxLength")])
    return summary


def _record(case: Case, user: User, action: str, comment: str, internal: bool) -> None:
    db.execute(sa.insert(CaseEvent).values(
        case_id=case.id, at=utcnow(), actor_id=user.id, action=action, from_state=case.state,
        to_state=case.state, comment=comment, changes={}, internal=internal,
    ))


def publish(case_number: str, user: User, summary: str) -> Case:
    """Show the case on the board with ``summary`` (publishing again replaces the summary)."""
    summary = clean_summary(summary)
    case = _actionable_case(case_number, user)
    if not publishable(case):
        raise Forbidden("该类事项不公开，不能发布到回音壁", code="not_public")
    db.execute(sa.update(Case).where(Case.id == case.id)
               .values(on_board=True, version=Case.version + 1)
               .execution_options(synchronize_session=False))
    _record(case, user, PUBLISH, summary, internal=False)
    db.refresh(case)
    return case


def unpublish(case_number: str, user: User) -> Case:
    """Take the case off the board (the history keeps that it was shown)."""
    case = _actionable_case(case_number, user)
    done = db.execute(sa.update(Case).where(Case.id == case.id, Case.on_board.is_(True))
                      .values(on_board=False, version=Case.version + 1)
                      .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("该事项未在回音壁公开", code="not_on_board")
    _record(case, user, UNPUBLISH, "", internal=True)
    db.refresh(case)
    return case


def board_summary(case: Case) -> str | None:
    """The summary currently shown on the board (the latest one published), if any."""
    return db.scalar(
        sa.select(CaseEvent.comment).where(CaseEvent.case_id == case.id, CaseEvent.action == PUBLISH)
        .order_by(CaseEvent.id.desc()).limit(1)
    )


def _community_names(cases: list[Case]) -> dict[int, str]:
    """Each case's community (社区/村) name: residents see the community, never the grid."""
    codes = {c for case in cases for c in case.org.path.strip("/").split("/")}
    communities = dict(db.execute(
        sa.select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(codes), OrgUnit.level == "community")
    ).all()) if codes else {}
    names = {}
    for case in cases:
        found = [communities[c] for c in case.org.path.strip("/").split("/") if c in communities]
        if found:
            names[case.id] = found[-1]
        elif case.org.level in ("county", "street") or case.org.parent is None:
            names[case.id] = case.org.name
        else:
            names[case.id] = case.org.parent.name
    return names


def _local_date(value: datetime | None) -> str | None:
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d") if value else None


def _item(case: Case, events: list[CaseEvent], unit: str) -> dict:
    ctype = case_type(case.type, case.workflow_version)
    summary = next((e.comment for e in reversed(events) if e.action == PUBLISH), "")
    finals = {k for k, s in ctype.states.items() if s.final}
    closed = ctype.is_final(case.state)
    closed_at = case.closed_at or next(
        (e.at for e in reversed(events) if e.to_state in finals and e.from_state != e.to_state), None
    ) if closed else None
    replies = [{"on": _local_date(e.at), "text": text} for e in events if (text := public_reply(e, ctype))]
    return {
        "number": case.number,
        "type": case.type,
        "type_title": ctype.title,
        "title": mask_text(case.title),
        "unit": unit,
        "state_title": ctype.state_title(case.state),
        "closed": closed,
        "submitted_on": _local_date(case.created_at),
        "closed_on": _local_date(closed_at),
        "summary": mask_text(summary),
        "replies": replies,
    }


def board_items(cursor: str | None, type: str | None = None, limit: int = PAGE_SIZE) -> Page:  # noqa: A002
    """One page of published cases, newest first, as public dicts (keyset paginated)."""
    stmt = sa.select(Case).where(Case.on_board.is_(True))
    if type:
        stmt = stmt.where(Case.type == type)
    page = keyset_page(stmt, Case.id, cursor, limit)
    if not page.items:
        return page
    ids = [c.id for c in page.items]
    events: dict[int, list[CaseEvent]] = {i: [] for i in ids}
    for event in db.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id.in_(ids), CaseEvent.internal.is_(False))
        .order_by(CaseEvent.id)
    ):
        events[event.case_id].append(event)
    units = _community_names(page.items)
    return Page([_item(c, events[c.id], units[c.id]) for c in page.items], page.next_cursor)
