"""How a queue is sorted and paged: by the sort a user picks (``sort=-deadline`` …) or the
view's own order, one keyset page after another ("下一页") or a numbered page (``page=3``).

Only orders a b-tree can serve are offered: ``created_at``, ``deadline`` and ``number`` are
indexed on ``cases`` (``id`` breaks ties). A sort by deadline puts cases without a deadline
last; rather than ``ORDER BY deadline IS NULL`` (which no index serves), the query runs in
*segments*: first the cases with a deadline, by deadline, then those without, by id, each an
index range of its own, and a page that ends one segment goes on with the next.

The cursor names its sort and segment (``<sort>|<segment>|<keyset cursor>``), so a cursor
taken under one sort and replayed under another is a 422 with a Chinese message, never a
page of the wrong rows. Numbered pages use OFFSET, which the caller allows only below the
capped total (:data:`fengqiao.cases.queries.TOTAL_CAP`): beyond it only the cursor goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.models import Case
from fengqiao.pagination import (
    BAD_CURSOR,
    Page,
    cursor_after,
    decode_cursor,
    encode_cursor,
    keyset_page,
)
from fengqiao.params import parse_int

# sort key → its label in the sort menu and on the column headers (in this order)
SORTS: dict[str, str] = {
    "-created": "提交时间（新→旧）",
    "created": "提交时间（旧→新）",
    "deadline": "办理期限（近→远）",
    "-deadline": "办理期限（远→近）",
    "number": "事项编号（升序）",
    "-number": "事项编号（降序）",
}
OTHER_SORT = "翻页参数属于另一种排序方式，请从第一页重新开始"
_SEPARATOR = "|"


@dataclass(frozen=True)
class Segment:
    """Rows matching ``where`` ordered by ``keys`` (the last one unique)."""

    where: sa.ColumnElement | None
    keys: tuple
    descending: bool

    def of(self, stmt: sa.Select) -> sa.Select:
        return stmt if self.where is None else stmt.where(self.where)


@dataclass(frozen=True)
class Order:
    """A named order: the sort key ("" for the view's own order) and its segments."""

    name: str
    segments: tuple[Segment, ...]


def parse_sort(raw: str | None) -> str | None:
    """The ``sort`` argument: a key of :data:`SORTS`, or None when absent (the view's order);
    anything else is :class:`Invalid` naming the choices."""
    value = (raw or "").strip()
    if not value:
        return None
    if value not in SORTS:
        shown = value if len(value) <= 20 else value[:20] + "…"
        raise Invalid([("/sort", f"未知的排序方式：{shown}（可选 {'、'.join(SORTS)}）", "enum")])
    return value


def view_order(view: str) -> Order:
    """The view's own order: deadlines first in the deadline views (they hold only cases
    with one), oldest first among the unclaimed, latest closed first in 已办结, newest first
    elsewhere."""
    if view in ("overdue", "due_soon"):
        return Order("", (Segment(None, (Case.deadline, Case.id), False),))
    if view == "unclaimed":
        return Order("", (Segment(None, (Case.id,), False),))
    if view == "closed":
        return Order("", (Segment(None, (Case.closed_at, Case.id), True),))
    return Order("", (Segment(None, (Case.id,), True),))


def order_for(sort: str | None, view: str) -> Order:
    if not sort:
        return view_order(view)
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field == "created":
        return Order(sort, (Segment(None, (Case.created_at, Case.id), descending),))
    if field == "number":
        return Order(sort, (Segment(None, (Case.number,), descending),))
    # deadline: the cases with one, then those without (last in either direction)
    return Order(sort, (Segment(Case.deadline.is_not(None), (Case.deadline, Case.id), descending),
                        Segment(Case.deadline.is_(None), (Case.id,), descending)))


def _cursor(order: Order, segment: int, inner: str | None) -> str:
    return encode_cursor(_SEPARATOR.join((order.name, str(segment), inner or "")))


def _read_cursor(order: Order, cursor: str | None) -> tuple[int, str | None]:
    """(segment, keyset cursor inside it) from a cursor this module wrote; 422 otherwise."""
    raw = decode_cursor(cursor)
    if raw is None:
        return 0, None
    parts = raw.split(_SEPARATOR, 2)
    if len(parts) != 3:
        raise Invalid([("/cursor", BAD_CURSOR, "cursor")])
    name, segment, inner = parts
    if name != order.name:
        raise Invalid([("/cursor", OTHER_SORT, "cursor_sort")])
    index = parse_int(segment, maximum=len(order.segments) - 1)
    if index is None:
        raise Invalid([("/cursor", BAD_CURSOR, "cursor")])
    return index, inner or None


def _has_rows(stmt: sa.Select) -> bool:
    return db.scalar(stmt.with_only_columns(Case.id).limit(1)) is not None


def cursor_page(stmt: sa.Select, order: Order, cursor: str | None, limit: int) -> Page:
    """One keyset page of ``stmt`` in ``order`` after ``cursor`` (segment by segment)."""
    index, inner = _read_cursor(order, cursor)
    items: list = []
    while index < len(order.segments):
        segment = order.segments[index]
        page = keyset_page(segment.of(stmt), list(segment.keys), inner, limit - len(items), segment.descending)
        items += page.items
        if page.next_cursor:
            return Page(items, _cursor(order, index, page.next_cursor))
        index, inner = index + 1, None
        if len(items) == limit:  # full: the next page starts the next segment, if it has rows
            rest = next((i for i in range(index, len(order.segments)) if _has_rows(order.segments[i].of(stmt))), None)
            return Page(items, _cursor(order, rest, None) if rest is not None else None)
    return Page(items, None)


def _count_up_to(stmt: sa.Select, cap: int) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(stmt.with_only_columns(Case.id).limit(cap).subquery()))


def offset_page(stmt: sa.Select, order: Order, offset: int, limit: int) -> Page:
    """The ``limit`` rows after the first ``offset`` in ``order`` (a numbered page), with the
    cursor that continues after its last row. The caller keeps ``offset`` below the capped
    total: OFFSET reads every row it skips."""
    rows: list[tuple[int, Case]] = []  # (segment, case)
    for index, segment in enumerate(order.segments):
        need = limit + 1 - len(rows)
        if need <= 0:
            break
        ordered = segment.of(stmt).order_by(*(k.desc() if segment.descending else k.asc() for k in segment.keys))
        found = list(db.scalars(ordered.offset(offset).limit(need)).unique())
        if offset:  # nothing found: the segment is shorter than the offset, which skips all of it
            offset = 0 if found else offset - _count_up_to(segment.of(stmt), offset)
        rows += [(index, case) for case in found]
    more = len(rows) > limit
    rows = rows[:limit]
    if not more or not rows:
        return Page([case for _i, case in rows], None)
    index, last = rows[-1]
    return Page([case for _i, case in rows], _cursor(order, index, cursor_after(last, order.segments[index].keys)))


# the sort each view's own order amounts to, for the column headers' aria-sort (已办结 is by
# closing time, which no column header offers)
VIEW_SORT = {"overdue": "deadline", "due_soon": "deadline", "unclaimed": "created", "closed": None}
WINDOW = 2  # page numbers shown either side of the current one (and always the first and last)


@dataclass(frozen=True)
class Pager:
    """What the queue's pager shows: the capped total, numbered pages (OFFSET, within the
    cap), 上一页/下一页 and the message of a page number past the end."""

    total: int  # counted up to cap + 1
    cap: int
    limit: int
    current: int | None  # the numbered page shown; None on a page reached by cursor
    last: int  # the last page a number reaches
    message: str | None = None

    @property
    def total_label(self) -> str:
        return f"{self.cap}+" if self.total > self.cap else str(self.total)

    @property
    def numbers(self) -> list[int | None]:
        """Page numbers to link, None for a gap ("…")."""
        here = self.current or 1
        shown = sorted({1, self.last, *range(max(1, here - WINDOW), min(self.last, here + WINDOW) + 1)})
        out: list[int | None] = []
        for n in shown:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out if self.last > 1 else []

    @property
    def previous(self) -> int | None:
        return min(self.current - 1, self.last) if self.current and self.current > 1 else None

    @property
    def next_number(self) -> int | None:
        """The next page by number while numbers reach it (then "下一页" follows the cursor)."""
        return self.current + 1 if self.current and self.current < self.last else None


def pager(total: int, cap: int, limit: int, page: int | None, by_cursor: bool) -> Pager:
    """The pager for a list of ``total`` rows (counted up to ``cap + 1``) in pages of
    ``limit``. Numbers reach every page that starts within the cap; past the last one, a page
    number shows an empty page and says why (:attr:`Pager.message`), not an error."""
    within = -(-min(total, cap) // limit)  # pages holding the first `cap` rows
    last = max(1, within)
    current = None if by_cursor else (page or 1)
    message = None
    if current is not None and current > last:
        if total > cap:
            message = f"按页码最多翻到第 {last} 页（前 {cap} 件）；更多事项请在第 {last} 页点“下一页”继续"
        else:
            message = f"第 {current} 页没有事项：共 {last} 页，请返回第 {last} 页" if total else "暂无事项，请返回第 1 页"
    return Pager(total, cap, limit, current, last, message)


def effective_sort(sort: str | None, view: str) -> str | None:
    """The sort key the list is in: the one asked for, else the one the view's order is."""
    return sort or VIEW_SORT.get(view, "-created")
