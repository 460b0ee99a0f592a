"""Standard 台账 (docs/domain.md, "Standard ledgers"): fixed columns, Chinese headers, unit
and period in the title.

A ledger is built by a background job (``cases.ledger``) that re-loads the requesting user
and applies their scope as it is when the job runs, streams the cases in keyset batches
into a write-only workbook, and reports progress. Running it twice rewrites the same file.

Kinds and their basis:

- 事项台账 (``cases``): every case received in the period;
- 超期台账 (``overdue``): cases whose first clock (``due_at``) ended in the period and was
  missed (first closed late, or still open past it) — exactly the cases 按期办结率 counts as
  not on time, a reopened case that was late at its first closure included;
- 满意度回访台账 (``ratings``): cases rated by the resident in the period.

Lateness (是否超期, 超期工作日) is judged on the first clock and the first closure, like
按期办结率; the 期限 column shows that deadline. A ledger of ONE case type also carries the
type's form fields (:class:`fengqiao.cases.export.FormFields`), masked for the requesting
user as every export is; titles go through :func:`fengqiao.masking.mask_text`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from fengqiao.cases import categories, metrics, queries
from fengqiao.cases.case_types import case_type
from fengqiao.cases.export import form_fields
from fengqiao.cases.tracking import RATINGS
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.exceptions import Invalid
from fengqiao.jobs import current_job_id, enqueue, files_dir, job, set_progress
from fengqiao.masking import mask_text
from fengqiao.models import Case, CaseEvent, User
from fengqiao.orgs.scope import Scope, scope_for
from fengqiao.workcalendar import load_calendar, working_days_between
from fengqiao.xlsx_stream import SheetWriter

JOB = "cases.ledger"
KINDS = {"cases": "事项台账", "overdue": "超期台账", "ratings": "满意度回访台账"}
BASIS = {
    "cases": "统计期间内受理的全部事项",
    "overdue": "考核期限在统计期间内且超期的事项（首次办结已超期、重办后仍计入，或超期未办结；挂账中的不计）",
    "ratings": "统计期间内群众评价的事项",
}
KIND_MESSAGE = "台账种类只能是事项台账、超期台账或满意度回访台账"
BATCH = 500
FIELD_WIDTH = 16  # a form field's column
PROGRESS_EVERY = 200


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    value: Callable[[Case, dict], Any]


def _type_title(case: Case, _ctx: dict) -> str:
    return case_type(case.type).title


def _state_title(case: Case, _ctx: dict) -> str:
    return case_type(case.type).state_title(case.state)


def _due(case: Case) -> datetime | None:
    """The deadline 按期办结率 counts: the first clock (older rows: the deadline)."""
    return case.due_at or case.deadline


def _first_closed(case: Case, ctx: dict) -> datetime | None:
    """When the first clock ended: a transition that stopped it (``ctx["stopped"]``, read
    per batch), else the first closure."""
    return ctx.get("stopped", {}).get(case.id) or case.first_closed_at or case.closed_at


def _stopped(ids: list[int]) -> dict[int, datetime]:
    """Case id → when a transition stopped its clock (``changes.sla_stopped``), for a batch."""
    rows = db.execute(sa.select(CaseEvent.case_id, sa.func.min(CaseEvent.at))
                      .where(CaseEvent.case_id.in_(ids), CaseEvent.changes["sla_stopped"].as_string().is_not(None))
                      .group_by(CaseEvent.case_id))
    return {case_id: at for case_id, at in rows}


def _late(case: Case, ctx: dict) -> bool | None:
    """True: past its first clock (first closed late, or never closed, not paused and past
    it), as :func:`fengqiao.cases.metrics.late_clause`; None: no deadline."""
    due, closed = _due(case), _first_closed(case, ctx)
    if due is None:
        return None
    if closed is not None:
        return closed > due
    return case.paused_at is None and due < ctx["now"]


def _late_text(case: Case, ctx: dict) -> str:
    return {True: "是", False: "否", None: "无期限"}[_late(case, ctx)]


def _days_late(case: Case, ctx: dict) -> int | None:
    """Working days after the deadline's day up to closure (or today), at least 1 when late."""
    if not _late(case, ctx):
        return None
    return max(1, working_days_between(_due(case), _first_closed(case, ctx) or ctx["now"], calendar=ctx["calendar"]))


def _natural_days_late(case: Case, ctx: dict) -> int | None:
    if not _late(case, ctx):
        return None
    return math.ceil(((_first_closed(case, ctx) or ctx["now"]) - _due(case)).total_seconds() / 86400)


NUMBER = Column("编号", 22, lambda c, _: c.number)
TYPE = Column("类型", 12, _type_title)
TITLE = Column("标题", 40, lambda c, _: mask_text(c.title))
ORG = Column("所属单位", 18, lambda c, _: c.org.name)
STATE = Column("状态", 12, _state_title)
RECEIVED = Column("受理时间", 17, lambda c, _: c.created_at)
CLOSED = Column("办结时间", 17, lambda c, _: c.closed_at)
DEADLINE = Column("期限", 17, lambda c, _: _due(c))
HANDLER = Column("办理人", 12, lambda c, _: c.assignee.label if c.assignee else "")
RATING = Column("满意度", 10, lambda c, _: RATINGS.get(c.rating or "", "未评价" if c.closed_at else ""))

COLUMNS: dict[str, list[Column]] = {
    "cases": [NUMBER, TYPE, TITLE, ORG, STATE, RECEIVED, CLOSED, DEADLINE,
              Column("是否超期", 10, _late_text), HANDLER, RATING],
    "overdue": [NUMBER, TYPE, TITLE, ORG, STATE, RECEIVED, DEADLINE, CLOSED,
                Column("超期工作日", 10, _days_late), Column("超期自然日", 10, _natural_days_late),
                HANDLER, Column("催办次数", 10, lambda c, _: c.urge_count),
                Column("督办层级", 10, lambda c, _: c.escalation_level),
                Column("首次办结时间", 17, lambda c, _: c.first_closed_at), Column("重办次数", 10, lambda c, _: c.reopen_count)],
    "ratings": [NUMBER, TYPE, TITLE, ORG, RECEIVED, CLOSED,
                Column("评价时间", 17, lambda c, _: c.rated_at), RATING, HANDLER],
}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise Invalid([("/kind", KIND_MESSAGE, "enum")])


def ledger_query(kind: str, scope: Scope, filters: metrics.Filters, now: datetime) -> sa.Select:
    """The scoped, filtered cases of one ledger (ordered by the caller)."""
    start, end = filters.period.bounds
    base = queries.filtered(queries.cases_in(scope), type_=filters.type, org=filters.org,
                            category=filters.category)
    if kind == "overdue":
        return base.where(metrics.due_clause(start, end, now), metrics.late_clause(now))
    if kind == "ratings":
        return base.where(Case.rated_at >= start, Case.rated_at < end, Case.rating.is_not(None))
    return base.where(Case.created_at >= start, Case.created_at < end)


def request_ledger(user: User, kind: str, filters: metrics.Filters) -> int:
    """Queue a ledger for ``user`` (the caller commits; the job runs after the commit)."""
    _check_kind(kind)
    return enqueue(JOB, owner=user, kind=kind, org=filters.org.code if filters.org else "",
                   start=filters.period.start.isoformat(), end=filters.period.end.isoformat(),
                   type=filters.type or "", user_id=user.id, category=filters.category or "")


def _download_name(kind: str, unit: str, filters: metrics.Filters) -> str:
    period = filters.period
    name = f"{KINDS[kind]}-{unit}-{period.start.isoformat()}至{period.last_day.isoformat()}.xlsx"
    return re.sub(r'[\\/:*?"<>|]', "-", name)


def _file_key(args: dict) -> str:
    job_id = current_job_id()
    if job_id is not None:
        return str(job_id)
    return hashlib.sha256(json.dumps(args, sort_keys=True).encode()).hexdigest()[:16]


@job(JOB, queue="fengqiao-low")
def build_ledger(kind: str, org: str, start: str, end: str, user_id: int, type: str = "",
                 category: str = "") -> dict:
    """Write one ledger workbook into the jobs' files folder; idempotent."""
    _check_kind(kind)
    user = db.get(User, user_id)
    if user is None or not user.active:
        raise Invalid([("/user_id", "申请台账的用户不存在或已停用", "unknown_user")])
    scope = scope_for(user, metrics.PERMISSION)
    # ``end`` is exclusive, as stored; the user's scope is checked again as it is now.
    filters = metrics.resolve_filters(scope, org=org, type_=type, start=start, end=end, category=category)
    now = utcnow()
    stmt = ledger_query(kind, scope, filters, now)
    total = db.scalar(sa.select(sa.func.count()).select_from(stmt.with_only_columns(Case.id).subquery()))
    set_progress(0, total)

    unit = filters.org.name if filters.org else "全部可见单位"
    title = f"{KINDS[kind]} · {unit} · {filters.period.label}"
    stamp = now.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    type_note = f"；事项类型：{case_type(filters.type).title}" if filters.type else ""
    if filters.category:
        type_note += f"；类别：{categories.choices().title(filters.category)}"
    note = f"口径：{BASIS[kind]}{type_note}；时间为北京时间；个人信息已脱敏；导出于 {stamp}"
    columns = COLUMNS[kind]
    headers, widths = [c.header for c in columns], [c.width for c in columns]
    fields = form_fields(filters.type, stmt, user)
    if fields is not None:  # one case type: its form's content, masked for this user
        headers, widths = headers + fields.headers, widths + [FIELD_WIDTH] * len(fields.headers)
        note = note.replace("；时间为北京时间", "；含该类型的表单内容；时间为北京时间")
    sheet = SheetWriter(title, note, headers, widths)
    ctx = {"now": now, "calendar": load_calendar(filters.org.path if filters.org else None)}

    done, last_id = 0, 0
    while True:
        batch = list(db.scalars(stmt.where(Case.id > last_id).order_by(Case.id).limit(BATCH)).unique())
        if not batch:
            break
        ctx["stopped"] = _stopped([case.id for case in batch])
        for case in batch:
            sheet.append([column.value(case, ctx) for column in columns]
                         + (fields.values(case) if fields is not None else []))
            done += 1
            if done % PROGRESS_EVERY == 0:
                set_progress(done, total)
        last_id = batch[-1].id
        for case in batch:  # keep the session (and memory) small on big ledgers
            db.expunge(case)
    set_progress(done, max(total, done))

    args = {"kind": kind, "org": org, "start": start, "end": end, "type": type, "user_id": user_id,
            **({"category": category} if category else {})}
    path = files_dir() / f"ledger-{_file_key(args)}.xlsx"
    sheet.save(path)
    return {"file": path.name, "filename": _download_name(kind, unit, filters), "rows": done}
