"""保存的筛选: a staff member's named queue filters, shown as chips above the queue's tabs.

A saved filter is the query string of the queue's filters (view, search, type, category,
state, unit, priority, sort) under a name. It is checked when saved and again whenever it is
applied — applying is only opening ``/queues?<query>``, which validates every argument like
any other link, so a filter naming a unit the user no longer sees shows the queue's normal
message rather than cases. Filters belong to one account: every query here is scoped by
user, so another user's filter id is the same 404 as one that never existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from fengqiao.cases import categories
from fengqiao.db import db
from fengqiao.exceptions import Invalid, NotFound
from fengqiao.models import SavedQueueFilter, User

# the queue's arguments a filter keeps, in the order its query string lists them (never a
# cursor, page or limit: a filter is what to show, not where one was)
FILTER_KEYS = ("view", "q", "type", "category", "state", "org", "priority", "sort")
MAX_FILTERS = 20
MAX_NAME = 20
MAX_QUERY = 1000


def query_of(args: Mapping[str, Any]) -> str:
    """The filter part of queue arguments as a query string (blank values and the default
    view left out), in one order, so the same filter is always the same text."""
    kept = [(k, str(args.get(k) or "").strip()) for k in FILTER_KEYS]
    return urlencode([(k, v) for k, v in kept if v and not (k == "view" and v == "all")])


def list_for(user: User) -> list[SavedQueueFilter]:
    return list(db.scalars(sa.select(SavedQueueFilter).where(SavedQueueFilter.user_id == user.id)
                           .order_by(SavedQueueFilter.id).limit(MAX_FILTERS)))


def own(user: User, filter_id: int) -> SavedQueueFilter:
    """The user's own filter ``filter_id``; :class:`NotFound` for anyone else's."""
    row = db.scalar(sa.select(SavedQueueFilter).where(SavedQueueFilter.id == filter_id,
                                                      SavedQueueFilter.user_id == user.id))
    if row is None:
        raise NotFound()  # the one not-found message: never says whose it is
    return row


def _name_problems(user: User, name: str) -> list:
    if not name:
        return [("/name", "请填写筛选名称", "required")]
    if len(name) > MAX_NAME:
        return [("/name", f"筛选名称最多 {MAX_NAME} 个字", "maxLength")]
    taken = db.scalar(sa.select(SavedQueueFilter.id).where(SavedQueueFilter.user_id == user.id,
                                                           SavedQueueFilter.name == name))
    if taken is not None:
        return [("/name", f"已有名为「{name}」的筛选，请换一个名称", "unique")]
    return []


def create(user: User, name: Any, args: Mapping[str, Any]) -> SavedQueueFilter:
    """Save the queue filter in ``args`` as ``name`` (every problem at once, 422): the name is
    required, at most :data:`MAX_NAME` characters and new among the user's filters, the user
    has fewer than :data:`MAX_FILTERS`, and the filter itself is one the queue accepts."""
    name = str(name or "").strip()
    problems = _name_problems(user, name)
    count = db.scalar(sa.select(sa.func.count()).select_from(SavedQueueFilter)
                      .where(SavedQueueFilter.user_id == user.id))
    if count >= MAX_FILTERS:
        problems.append(("/name", f"每人最多保存 {MAX_FILTERS} 个筛选，请先删除不再使用的", "limit"))
    query = query_of(args)
    try:
        categories.parse_queue_filters({k: v for k, v in args.items() if k in FILTER_KEYS}, user)
    except Invalid as failed:
        problems += failed.problems
    if len(query) > MAX_QUERY:
        problems.append(("/query", "筛选条件过长，无法保存", "maxLength"))
    if problems:
        raise Invalid(problems)
    row = SavedQueueFilter(user_id=user.id, name=name, query=query)
    db.add(row)
    try:
        with db.begin_nested():  # the same name saved twice at once: the second is told so
            db.flush()
    except IntegrityError:
        raise Invalid([("/name", f"已有名为「{name}」的筛选，请换一个名称", "unique")]) from None
    return row


def delete(user: User, filter_id: int) -> SavedQueueFilter:
    row = own(user, filter_id)
    db.delete(row)
    db.flush()
    return row


@dataclass(frozen=True)
class Chip:
    id: int
    name: str
    query: str
    current: bool  # the queue shows exactly this filter now


@dataclass(frozen=True)
class SavedFilterBar:
    """What the queue page shows of the user's saved filters."""

    chips: list[Chip]
    save_args: dict[str, str]  # the filter on screen, for 保存当前筛选
    may_add: bool  # fewer than MAX_FILTERS saved

    max_name: int = MAX_NAME
    max_filters: int = MAX_FILTERS


def bar(user: User, args: Mapping[str, Any]) -> SavedFilterBar:
    """The chips (the current one marked) and the filter to offer for saving."""
    here = query_of(args)
    rows = list_for(user)
    chips = [Chip(r.id, r.name, r.query, r.query == here) for r in rows]
    save_args = {k: str(args.get(k)).strip() for k in FILTER_KEYS if str(args.get(k) or "").strip()}
    return SavedFilterBar(chips, save_args, len(rows) < MAX_FILTERS)
