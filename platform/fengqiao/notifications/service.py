"""The message centre's service: deliver, count, list and mark read.

Every function here works on one user's own rows (the caller passes the signed-in user), so
another user's notification is simply not found. Nothing commits: the outbox job (delivery)
or the request (marking read) does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from fengqiao.db import db, insert, utcnow
from fengqiao.exceptions import Invalid, NotFound
from fengqiao.masking import mask_text
from fengqiao.models import Notification, User
from fengqiao.pagination import Page, keyset_page

BELL_CAP = 99  # the bell shows 「99+」 past this; the count stops there (a capped COUNT)
MAX_IDS = 200  # ids marked read in one request
PSEUDO_RECIPIENTS = frozenset({"reporter"})  # residents are reached by SMS later, not here

# The case events (``cases.notify``'s ``event``) as the inbox shows them; unknown kinds
# (a workflow's own transition names, plugin events) show as 「事项动态」.
KIND_LABELS = {
    "dispatch": "派遣",
    "summon": "吹哨报到",
    "assign": "指派",
    "urge": "催办",
    "escalate": "上报",
    "supervise": "督办",
    "overdue": "超期",
    "due_soon": "临期",
    "reply": "答复",
    "park_review": "挂账复核",
    "approve_extension": "延期审批",
    "reject_extension": "延期审批",
    "rate": "居民评价",
    "reopen": "重办",
}
OTHER_KIND = "事项动态"


def kind_labels() -> dict[str, str]:
    """Every kind with a label of its own: the core's and those switched-on plugins declared
    with ``ctx.add_notification_kind`` (outside an app context, the core's alone)."""
    from flask import current_app, has_app_context

    from fengqiao.plugins.state import is_active

    if not has_app_context():
        return dict(KIND_LABELS)
    declared = current_app.extensions.get("fengqiao.notification_kinds", {})
    return {**KIND_LABELS, **{kind: label for kind, (plugin, label) in declared.items() if is_active(plugin)}}


def kind_label(kind: str) -> str:
    return kind_labels().get(kind, OTHER_KIND)


def deliver(event_key: str, usernames: Iterable[str], *, kind: str, title: str, text: str, link: str,
            case_number: str | None = None) -> int:
    """One row per active recipient; a row already delivered for ``event_key`` is left as it
    is (INSERT … ON CONFLICT DO NOTHING), so running the delivering job twice delivers once.
    ``text`` is masked here, whatever the caller did. Returns the rows written now."""
    names = sorted({n for n in usernames if n and n not in PSEUDO_RECIPIENTS})
    if not names:
        return 0
    ids = db.scalars(sa.select(User.id).where(User.username.in_(names), User.active.is_(True))).all()
    if not ids:
        return 0
    now, masked = utcnow(), mask_text(text)
    rows = [dict(user_id=user_id, event_key=event_key[:120], kind=kind[:32], title=title[:200], text=masked,
                 link=link[:300], case_number=case_number, created_at=now, read_at=None) for user_id in ids]
    written = db.execute(insert(Notification).values(rows).on_conflict_do_nothing(
        index_elements=["event_key", "user_id"]).returning(Notification.id)).all()
    return len(written)


def unread_count(user: User) -> int:
    """Unread rows of ``user``, counted up to ``BELL_CAP + 1`` only (then shown 「99+」): the
    bell is on every page, so the count must not grow with a long-unread inbox."""
    capped = (sa.select(Notification.id).where(Notification.user_id == user.id, Notification.read_at.is_(None))
              .limit(BELL_CAP + 1).subquery())
    return db.scalar(sa.select(sa.func.count()).select_from(capped)) or 0


@dataclass(frozen=True)
class InboxFilter:
    unread: bool = False
    kind: str | None = None


def parse_filter(unread: str | None, kind: str | None) -> InboxFilter:
    """The list's filters from query values; anything else is a 422 naming the field."""
    problems = []
    if unread not in (None, "", "0", "1"):
        problems.append(("/unread", "参数 unread 只能是 0 或 1", "choice"))
    if kind and kind not in kind_labels() and kind != "other":
        problems.append(("/kind", "消息类别无效", "choice"))
    if problems:
        raise Invalid(problems)
    return InboxFilter(unread=unread == "1", kind=kind or None)


def page(user: User, filters: InboxFilter, cursor: str | None, limit: int) -> Page:
    """``user``'s notifications, newest first (keyset on id)."""
    stmt = sa.select(Notification).where(Notification.user_id == user.id)
    if filters.unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    if filters.kind == "other":
        stmt = stmt.where(Notification.kind.not_in(list(kind_labels())))
    elif filters.kind:
        stmt = stmt.where(Notification.kind == filters.kind)
    return keyset_page(stmt, Notification.id, cursor, limit)


def own(user: User, notification_id: int) -> Notification:
    row = db.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound()  # another user's row is not found, never forbidden
    return row


def open_(user: User, notification_id: int) -> str:
    """Mark one of ``user``'s rows read and return where it points."""
    row = own(user, notification_id)
    if row.read_at is None:
        row.read_at = utcnow()
    return row.link if row.link.startswith("/") and not row.link.startswith("//") else "/inbox"


def mark_read(user: User, ids: list[int] | None = None, *, everything: bool = False) -> int:
    """Mark ``ids`` (only ``user``'s own; others are ignored) or every unread row read."""
    stmt = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if not everything:
        if not ids:
            return 0
        stmt = stmt.where(Notification.id.in_(ids))
    return db.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount or 0


def to_json(row: Notification) -> dict:
    """A row as the API shows it: ``event`` and ``at`` are the public contract's names (docs/notifications.md),
    ``kind`` and ``created_at`` the same values under the names the first release used."""
    at = row.created_at.isoformat()
    return {"id": row.id, "title": row.title, "text": row.text, "link": row.link, "read": row.read_at is not None,
            "at": at, "event": row.kind, "kind": row.kind, "kind_label": kind_label(row.kind),
            "case_number": row.case_number, "created_at": at}
