"""What a case is linked to, for the case page's 关联事项 and the print view: the case it was
merged into (its parent), the duplicates merged into it, the units summoned by 吹哨 with
their check-ins, and the times it was reopened (重办 keeps the same case and number).

A linked case is named and linked only when the viewer may see it through the same scope
as the case page (``queries.cases_in``); otherwise it is mentioned without its number or
title, so the page never tells a community what another community's case is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from fengqiao.cases import queries
from fengqiao.cases.case_types import case_type
from fengqiao.db import db, utcnow
from fengqiao.models import Case, CaseEvent, CaseParticipant
from fengqiao.orgs.scope import Scope


@dataclass(frozen=True)
class LinkedCase:
    """Another case; ``number``/``title``/``state_title`` are None when the viewer may not see it."""

    kind: str  # "merged_into" (this case was merged into it) | "merged_from" (it was merged into this)
    at: datetime | None  # when the merge happened (from the history)
    number: str | None = None
    title: str | None = None
    state_title: str | None = None

    @property
    def visible(self) -> bool:
        return self.number is not None


@dataclass(frozen=True)
class Summons:
    """One unit summoned by 吹哨 and how it answered (its 报到 notes from the history)."""

    unit: str
    due: datetime | None
    checked_in_at: datetime | None
    rating: str | None
    late: bool  # checked in after the limit, or not yet and the limit has passed
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reopening:
    at: datetime
    by_resident: bool
    actor: str | None
    reason: str


@dataclass(frozen=True)
class Related:
    merged_into: LinkedCase | None
    merged_from: list[LinkedCase]
    summons: list[Summons]
    reopenings: list[Reopening]

    @property
    def count(self) -> int:
        return (self.merged_into is not None) + len(self.merged_from) + len(self.summons) + len(self.reopenings)


def related(case: Case, history: list[CaseEvent], scope: Scope,
            summoned: list[CaseParticipant] | None = None, now: datetime | None = None) -> Related:
    """The links of ``case`` as ``scope`` may see them; ``history`` is the case's (already
    read for the page), ``summoned`` its participants (all of them; only 吹哨 ones count)."""
    now = now or utcnow()
    merged_at = {str(e.changes.get("case")): e.at for e in history
                 if e.action == "merged_from" and isinstance(e.changes, dict)}
    into_at = next((e.at for e in reversed(history) if e.action == "merge"), None)
    ids = [i for i in [case.merged_into_id] if i is not None]
    children = list(db.scalars(sa.select(Case).where(Case.merged_into_id == case.id).order_by(Case.id)))
    parent = db.get(Case, case.merged_into_id) if case.merged_into_id is not None else None
    ids += [c.id for c in children]
    seen = set(db.scalars(queries.cases_in(scope).with_only_columns(Case.id).where(Case.id.in_(ids)))) if ids else set()

    def linked(other: Case, kind: str, at: datetime | None) -> LinkedCase:
        if other.id not in seen:
            return LinkedCase(kind, at)
        title = case_type(other.type, other.workflow_version).state_title(other.state)
        return LinkedCase(kind, at, other.number, other.title, title)

    notes: dict[str, list[str]] = {}
    for e in history:
        if e.action == "report_in" and isinstance(e.changes, dict) and e.comment:
            for code in e.changes.get("units") or []:
                notes.setdefault(str(code), []).append(e.comment)
    summons = [Summons(p.org.name, p.checkin_due, p.checked_in_at, p.rating,
                       bool(p.checkin_due and (p.checked_in_at or now) > p.checkin_due), notes.get(p.org.code, []))
               for p in summoned or [] if p.role == "summoned"]
    reopenings = [Reopening(e.at, (e.changes or {}).get("by") == "resident" or e.actor is None,
                            e.actor.label if e.actor else None, e.comment)
                  for e in history if e.action == "reopen"]
    return Related(
        merged_into=linked(parent, "merged_into", into_at) if parent is not None else None,
        merged_from=[linked(c, "merged_from", merged_at.get(c.number)) for c in children],
        summons=summons, reopenings=reopenings)
