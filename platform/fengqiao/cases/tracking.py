"""What a resident sees of their case: state, public timeline, no staff names or notes.

A wrong code and an unknown number give the same 404, so the answer never reveals whether
a case number exists. Lookups are rate-limited per client address.
"""

from __future__ import annotations

import hmac

import sqlalchemy as sa

from fengqiao import signals
from fengqiao.cases.workflow import case_type
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.errors import APIError, ValidationFailed
from fengqiao.models import Case, CaseEvent

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
        "rating": case.rating,
        "can_rate": ctype.is_final(case.state) and case.rating is None,
        "timeline": timeline,
    }


RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


def rate(case: Case, rating: str) -> Case:
    """The resident's satisfaction, once, after closure; recorded in the history."""
    if rating not in RATINGS:
        raise ValidationFailed([("/rating", "请从给定选项中选择", "enum")])
    if not case_type(case.type).is_final(case.state):
        raise ValidationFailed([("/rating", "事项办结后才能评价", "not_closed")])
    done = db.execute(
        sa.update(Case).where(Case.id == case.id, Case.rating.is_(None))
        .values(rating=rating, rated_at=utcnow(), version=Case.version + 1)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.rollback()
        raise APIError(409, [("/rating", "该事项已评价，感谢您的反馈", "already_rated")])
    db.execute(sa.insert(CaseEvent).values(
        case_id=case.id, at=utcnow(), actor_id=None, action="rate", from_state=case.state,
        to_state=case.state, comment=RATINGS[rating], changes={"rating": rating}, internal=False,
    ))
    db.commit()
    signals.send(signals.case_rated, case_number=case.number, rating=rating)
    db.refresh(case)
    return case
