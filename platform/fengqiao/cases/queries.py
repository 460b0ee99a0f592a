"""Case queries, always through the one scoping function: queue views, filters, search.

The web queue, the API list and the Excel export all build their query with
:func:`queue_query`, so a filter means the same thing everywhere and no path can show a
case outside the caller's scope. Every predicate is one a b-tree can serve where that is
possible (the case's unit path range, ``phone_tail``, ``deadline``, ``closed_at``, the
number), and no page counts all rows: tab badges count at most :data:`COUNT_CAP`, the list's
total at most :data:`TOTAL_CAP`. Sorts and pages are ``cases.queue_order``'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm

from fengqiao import caches
from fengqiao.accounts.roles import permissions_for
from fengqiao.cases import queue_order
from fengqiao.db import current_session, db, utcnow
from fengqiao.exceptions import Invalid
from fengqiao.labels import TIER_LABELS
from fengqiao.models import Case, CaseEvent, CaseParticipant, OrgUnit, User
from fengqiao.orgs.scope import Scope, scope_for
from fengqiao.orgs.service import get_by_code, units_in
from fengqiao.pagination import Page, capped_label

# view key → tab label, in the order the tabs show
VIEWS: dict[str, str] = {
    "all": "全部可见",
    "mine": "我的事项",
    "unclaimed": "待认领",
    "due_soon": "临期",
    "overdue": "已超期",
    "escalated": "下级上报",
    "closed": "已办结",
}
COUNTED_VIEWS = ("mine", "unclaimed", "due_soon", "overdue", "escalated")
COUNT_CAP = 99  # badges show "99+" beyond this: counting stops there (the cost of a page grows
# with the cap: five badges each read up to COUNT_CAP + 1 cases; the list shows them all)
TOTAL_CAP = 1000  # "共 N 件" above the list counts this far ("共 1000+ 件"), and numbered pages
# (OFFSET) reach only this far: past it "下一页" goes on by cursor
MAX_QUERY = 100

FULL_NUMBER = re.compile(r"^[A-Z]{1,10}-\d{8}-\d{6}$")
NUMBER_PREFIX = re.compile(r"^[A-Z]{1,10}-[0-9-]*$")
PHONE_TAIL = re.compile(r"^\d{4}$")


# Form fields holding a case's category (类别), first present wins: the queue's, the metrics'
# and the 台账's 类别 filter, the category breakdown and 重复投诉 read it (cases/categories.py).
CATEGORY_FIELDS = ("category", "request_type", "dispute_type", "service_item")


def category_of(case=Case):
    """SQL: the case's category, the first of :data:`CATEGORY_FIELDS` in its data (else NULL)."""
    return sa.func.coalesce(*(case.data[name].as_string() for name in CATEGORY_FIELDS))


_PARTICIPANT_UNIT = sa.orm.aliased(OrgUnit, name="participant_unit")
_OWNER_UNIT = sa.orm.aliased(OrgUnit, name="owner_unit")


def _territorial(scope: Scope) -> bool:
    """Whether the scope holds a unit that owns cases in numbers (not only departments); from
    the ``accounts`` cache, which any change of a unit invalidates."""
    session = current_session()

    def load() -> bool:
        return session.scalar(sa.select(OrgUnit.id).where(scope.clause(OrgUnit.path), OrgUnit.kind != "department")
                              .limit(1)) is not None

    return caches.cached(session, caches.ACCOUNTS, ("territorial", scope.paths), load)


def cases_in(scope: Scope) -> sa.Select:
    """Cases owned by a unit in ``scope``, or dispatched to one (a department sees what it
    was sent, and nothing else of the community's).

    A scope of departments only is served from ``case_participants`` (the few cases sent
    there) instead of walking the cases table for owners it will not find.
    """
    dispatched = (
        sa.select(CaseParticipant.case_id)
        .join(_PARTICIPANT_UNIT, CaseParticipant.org_id == _PARTICIPANT_UNIT.id)
        .where(scope.clause(_PARTICIPANT_UNIT.path))
    )
    if scope.paths and not _territorial(scope):
        owned = Case.org_id.in_(sa.select(_OWNER_UNIT.id).where(scope.clause(_OWNER_UNIT.path)))
    else:
        owned = scope.clause(OrgUnit.path)
    return (
        sa.select(Case)
        .join(OrgUnit, Case.org_id == OrgUnit.id)
        .where(sa.or_(owned, Case.id.in_(dispatched)))
    )


def filtered(stmt: sa.Select, *, type_: str | None = None, state: str | None = None,
             org: OrgUnit | None = None, assignee: User | None = None,
             priority: str | None = None, category: str | None = None) -> sa.Select:
    if type_:
        stmt = stmt.where(Case.type == type_)
    if category:
        stmt = stmt.where(category_of() == category)
    if state:
        stmt = stmt.where(Case.state == state)
    if org is not None:
        stmt = stmt.where(Scope((org.path,)).clause(OrgUnit.path))
    if assignee is not None:
        stmt = stmt.where(Case.assignee_id == assignee.id)
    if priority:
        stmt = stmt.where(Case.priority == priority)
    return stmt


def visible_case(number: str, scope: Scope) -> Case | None:
    return db.scalar(cases_in(scope).where(Case.number == number))


@dataclass(frozen=True)
class Filters:
    """What a queue shows: one view plus optional filters and a search text."""

    view: str = "all"
    type_: str | None = None
    state: str | None = None
    org: OrgUnit | None = None
    priority: str | None = None
    q: str | None = None
    assigned_to_me: bool = False
    category: str | None = None  # checked by cases.categories.parse_queue_filters
    sort: str | None = None  # a key of queue_order.SORTS; None: the view's own order

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments (links keep them when paging or switching)."""
        found = {"type": self.type_, "category": self.category, "state": self.state,
                 "org": self.org.code if self.org else None, "priority": self.priority, "q": self.q,
                 "sort": self.sort}
        return {k: v for k, v in found.items() if v}


def parse_filters(args: Mapping[str, str], user: User) -> Filters:
    """Filters from query arguments; every bad value is one Chinese problem (422)."""
    problems = []
    view = (args.get("view") or "all").strip()
    if view not in VIEWS:
        problems.append(("/view", f"未知的队列：{view}（可选 {'、'.join(VIEWS)}）", "enum"))
    org = None
    code = (args.get("org") or "").strip()
    if code:
        org = get_by_code(code)
        if org is None or not scope_for(user, "cases.view").contains(org.path):
            problems.append(("/org", "组织机构代码不存在或无权查看", "unknown_org"))
    q = (args.get("q") or "").strip()
    if len(q) > MAX_QUERY:
        problems.append(("/q", f"搜索内容最多 {MAX_QUERY} 个字符", "maxLength"))
    assignee = (args.get("assignee") or "").strip()
    if assignee not in ("", "me"):
        problems.append(("/assignee", "assignee 只能为 me（分配给我的）", "enum"))
    type_, state = (args.get("type") or "").strip() or None, (args.get("state") or "").strip() or None
    if state and ":" in state:  # the queue's state filter names the type too: "grid_incident:closed"
        state_type, state = (part.strip() or None for part in state.split(":", 1))
        if type_ and state_type and type_ != state_type:
            problems.append(("/state", "所选状态不属于所选事项类型，请重新选择", "state_type"))
        type_ = type_ or state_type
    sort = None
    try:
        sort = queue_order.parse_sort(args.get("sort"))
    except Invalid as failed:
        problems += failed.problems
    if problems:
        raise Invalid(problems)
    return Filters(view=view, type_=type_, state=state, org=org,
                   priority=(args.get("priority") or "").strip() or None, q=q or None,
                   assigned_to_me=assignee == "me", sort=sort)


def _open():
    return Case.closed_at.is_(None)


def _running():
    """Open and on the clock: a paused case (挂账) is neither overdue nor due soon."""
    return sa.and_(Case.closed_at.is_(None), Case.paused_at.is_(None), Case.deadline.is_not(None))


def _both(a: Scope, b: Scope) -> Scope:
    """Subtrees in both scopes (of two nested roots, the deeper one)."""
    return Scope(tuple(sorted({
        p if p.startswith(q) else q for p in a.paths for q in b.paths
        if p.startswith(q) or q.startswith(p)
    })))


def _my_unit_ids(user: User, permission: str) -> list[int]:
    return [m.org_id for m in user.memberships if m.org.active and permission in permissions_for(m.role)]


def _search(q: str):
    """A number (exact, or a prefix such as ``WG-2026``), four digits (the reporter's phone
    tail, exact), or a piece of the title."""
    upper = q.upper()
    if FULL_NUMBER.match(upper):
        return Case.number == upper  # the unique index
    if NUMBER_PREFIX.match(upper):
        # The lower bound lets a b-tree start at the prefix; LIKE keeps it exact under any
        # collation (PostgreSQL serves LIKE 'x%' from the index only under collation "C").
        return sa.and_(Case.number >= upper, Case.number.startswith(upper, autoescape=True))
    if PHONE_TAIL.match(q):
        return Case.phone_tail == q
    if q.isdigit():  # part of a number's date or sequence, or of the title
        return sa.or_(Case.number.contains(q, autoescape=True), Case.title.contains(q, autoescape=True))
    return Case.title.icontains(q, autoescape=True)


def _view_clause(view: str, user: User, now: datetime):
    if view == "mine":
        return sa.and_(Case.assignee_id == user.id, _open())
    if view == "unclaimed":
        return sa.and_(Case.assignee_id.is_(None), _open())
    if view == "overdue":
        return sa.and_(_running(), Case.deadline < now)
    if view == "due_soon":
        return sa.and_(_running(), Case.deadline >= now,
                       Case.sla_status == "due_soon")  # set by the clock's rule (sla.due_soon_from), swept each minute
    if view == "escalated":
        return sa.and_(_open(), Case.escalated_to_id.in_(_my_unit_ids(user, "cases.view")))
    if view == "closed":
        return Case.closed_at.is_not(None)
    return sa.true()


def queue_query(user: User, filters: Filters, now: datetime | None = None, view: str | None = None) -> sa.Select:
    """The caller's scoped cases in ``view`` (default: the filters' view) with the filters.

    ``unclaimed`` lists only cases in units where the caller may act (they could claim them).
    """
    view = view or filters.view
    scope = scope_for(user, "cases.view")
    if view == "unclaimed":
        scope = _both(scope, scope_for(user, "cases.act"))
    stmt = filtered(cases_in(scope), type_=filters.type_, state=filters.state, org=filters.org,
                    priority=filters.priority, assignee=user if filters.assigned_to_me else None,
                    category=filters.category)
    stmt = stmt.where(_view_clause(view, user, now or utcnow()))
    if filters.q:
        stmt = stmt.where(_search(filters.q))
        if PHONE_TAIL.match(filters.q):  # a phone hidden from the caller's unit finds nothing
            from fengqiao.cases.visibility import tail_searchable

            stmt = stmt.where(tail_searchable(user))
    return stmt


def queue_page(user: User, filters: Filters, cursor: str | None, limit: int, page: int | None = None) -> Page:
    """One page of the queue in the filters' sort (else the view's own order): after
    ``cursor``, or the numbered ``page`` (OFFSET: the caller keeps it within
    :data:`TOTAL_CAP`). Form data and assignees' memberships stay unloaded (a list shows
    neither)."""
    order = queue_order.order_for(filters.sort, filters.view)
    stmt = queue_query(user, filters).options(
        sa.orm.defer(Case.data), sa.orm.joinedload(Case.assignee).lazyload(User.memberships))
    if page is not None and not cursor:
        return queue_order.offset_page(stmt, order, (page - 1) * limit, limit)
    return queue_order.cursor_page(stmt, order, cursor, limit)


def queue_total(user: User, filters: Filters) -> int:
    """How many cases the queue holds under the filters, counted up to ``TOTAL_CAP + 1``
    (a LIMITed subquery: the cost stops growing there); shown with :func:`capped_label`."""
    return db.scalar(sa.select(sa.func.count()).select_from(
        queue_query(user, filters).with_only_columns(Case.id).limit(TOTAL_CAP + 1).subquery()))


def view_counts(user: User, filters: Filters, views=COUNTED_VIEWS) -> dict[str, str]:
    """Badge text per view under the same filters: an exact number up to the cap, then
    "99+" (a LIMITed subquery per view: the cost does not grow with the table), all views
    in one statement."""
    now = utcnow()
    capped = [sa.select(sa.func.count()).select_from(
        queue_query(user, filters, now, view).with_only_columns(Case.id).limit(COUNT_CAP + 1).subquery()
    ).scalar_subquery() for view in views]
    found = db.execute(sa.select(*capped)).one()
    return {view: capped_label(n, COUNT_CAP) for view, n in zip(views, found, strict=True)}


def deadline_flag(case: Case, now: datetime | None = None) -> str | None:
    """``overdue`` (已超期) or ``due_soon`` (临期) for an open case, else None — the same
    rule as the two views."""
    if case.closed_at is not None or case.paused_at is not None or case.deadline is None:
        return None
    now = now or utcnow()
    if case.deadline < now:
        return "overdue"
    if case.sla_status == "due_soon":
        return "due_soon"
    return None


# SLA tier keys of the core's case types (a case's ``priority``) in Chinese, for the filter.
PRIORITY_LABELS = TIER_LABELS
MAX_ORG_CHOICES = 300


@dataclass(frozen=True)
class FilterOptions:
    types: list[tuple[str, str]]  # (key, title)
    states: list[tuple[str, list[tuple[str, str]]]]  # (type title, [("type:state", title)])
    priorities: list[tuple[str, str]]
    orgs: list[OrgUnit]

    def state_title(self, state: str) -> str:
        """The title of a state key in any type (a filter on a state of every type)."""
        return next((title for _t, states in self.states for key, title in states
                     if key.split(":", 1)[1] == state), state)


def _states_of(ctype) -> list[tuple[str, str]]:
    """A type's states for the filter, each once: the value names the type as well
    ("grid_incident:closed"), so 已办结 of one type never selects another type's."""
    seen: dict[str, str] = {}
    for state in ctype.states.values():
        seen.setdefault(f"{ctype.key}:{state.key}", state.title)
    return list(seen.items())


def filter_options(user: User, types) -> FilterOptions:
    """Choices for the queue's filter bar: the case types given (``CaseType``s: shipped and
    admin-made, cases.categories.filter_types), their states and SLA tiers, and the units
    down to communities in the caller's scope."""
    types = sorted(types, key=lambda t: t.key)
    priorities: dict[str, str] = {}
    for t in types:
        for tier in (t.sla or {}).get("tiers", {}):
            priorities.setdefault(tier, PRIORITY_LABELS.get(tier, tier))
    orgs = db.scalars(
        units_in(scope_for(user, "cases.view"), include_inactive=False)
        .where(OrgUnit.level.in_(("county", "street", "community"))).limit(MAX_ORG_CHOICES)
    )
    return FilterOptions(
        types=[(t.key, t.title) for t in types],
        states=[(t.title, _states_of(t)) for t in types],
        priorities=list(priorities.items()),
        orgs=list(orgs),
    )


def entering_event(case) -> CaseEvent | None:
    """The history row of the step that led into the case's current state (who took it, what
    it recorded): ``four_eyes``, ``other_hand`` and the 挂账 request's review date read it."""
    return db.scalar(sa.select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.to_state == case.state,
        sa.or_(CaseEvent.from_state.is_(None), CaseEvent.from_state != CaseEvent.to_state))
        .order_by(CaseEvent.id.desc()).limit(1))
