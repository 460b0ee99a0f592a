"""Excel export of a case list: the same filters and scope as the list, personal data masked.

No form field is exported; numbers typed into titles are masked (:func:`mask_text`). The
route that calls this writes the export to the audit log.
"""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.cases.tracking import RATINGS
from fengqiao.cases.workflow import case_type
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.exports import workbook_bytes
from fengqiao.masking import mask_text
from fengqiao.models import Case

HEADERS = ["事项编号", "标题", "类型", "状态", "所属单位", "办理人", "办理期限", "提交时间", "满意度"]
MAX_ROWS = 50_000  # larger ledgers go through a background job (case engine, later)


def cases_workbook(stmt: sa.Select, title: str) -> bytes:
    """``stmt`` is a scoped, filtered case query (see ``cases.queries``)."""
    rows = []
    for case in db.scalars(stmt.order_by(Case.id.desc()).limit(MAX_ROWS)).unique():
        ctype = case_type(case.type)
        rows.append([
            case.number, mask_text(case.title), ctype.title, ctype.state_title(case.state), case.org.name,
            case.assignee.label if case.assignee else "", case.deadline, case.created_at,
            RATINGS.get(case.rating or "", ""),
        ])
    stamp = utcnow().astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    return workbook_bytes(f"{title}（导出于 {stamp}）", HEADERS, rows)
