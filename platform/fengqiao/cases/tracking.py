"""What a resident sees of their case: state, public timeline, no staff names or notes.

A wrong code and an unknown number give the same 404, so the answer never reveals whether
a case number exists. Lookups are rate-limited per client address.
"""

from __future__ import annotations

import hmac
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from fengqiao.cases.workflow import case_type
from fengqiao.db import db
from fengqiao.errors import APIError
from fengqiao.models import Case, CaseEvent

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
NOT_FOUND = APIError(404, [("", "未找到该事项，请核对事项编号和查询码", "not_found")])


def find_for_resident(number: str, code: str) -> Case:
    number, code = (number or "").strip().upper(), (code or "").strip().upper()
    case = db.scalar(sa.select(Case).where(Case.number == number)) if number and code else None
    if case is None or not hmac.compare_digest(case.tracking_code, code):
        raise NOT_FOUND
    return case


def public_view(case: Case) -> dict:
    """The resident's view: no actor names, no internal events, no comments of staff."""
    ctype = case_type(case.type)
    events = db.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.internal.is_(False))
        .order_by(CaseEvent.id)
    )
    timeline = [
        {"at": e.at.isoformat(), "at_local": e.at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
         "state": e.to_state, "state_title": ctype.state_title(e.to_state)}
        for e in events
        if e.to_state and (e.from_state != e.to_state)
    ]
    return {
        "number": case.number,
        "type": case.type,
        "type_title": ctype.title,
        "title": case.title,
        "state": case.state,
        "state_title": ctype.state_title(case.state),
        "closed": ctype.is_final(case.state),
        "submitted_at": case.created_at.isoformat(),
        "deadline": case.deadline.isoformat() if case.deadline else None,
        "timeline": timeline,
    }
