"""What a resident sees of their case: state, public timeline, no staff names or notes.

A wrong code and an unknown number give the same 404, so the answer never reveals whether
a case number exists. Lookups are rate-limited per client address.
"""

from __future__ import annotations

import hmac
import re
from datetime import timedelta

import sqlalchemy as sa

from fengqiao import signals
from fengqiao.cases.case_types import case_type
from fengqiao.cases.jobs import notify_handlers
from fengqiao.cases.reopen import closed_time, reopen, resident_may_reopen, window_days
from fengqiao.db import LOCAL_TZ, db, utcnow
from fengqiao.exceptions import Conflict, Invalid, NotFound
from fengqiao.masking import mask_text
from fengqiao.models import Case, CaseEvent

NOT_FOUND_MESSAGE = "未找到该事项，请核对事项编号和查询码"


def find_for_resident(number: str, code: str) -> Case:
    """The case with this number and 查询码; one answer (NotFound) for a wrong number or code."""
    number, code = (number or "").strip().upper(), (code or "").strip().upper()
    case = db.scalar(sa.select(Case).where(Case.number == number)) if number and code else None
    if case is None or not hmac.compare_digest(case.tracking_code.encode(), code.encode()):
        raise NotFound(NOT_FOUND_MESSAGE, code="not_found")
    return case


# Where a step's public reply lives: a staff comment marked public, the reply field a
# transition asks for (民生诉求 办结反馈 ``reply``, 网格事件 反馈 ``result``), or the
# transition's ``public_note`` — the text residents read for that step, where ``{comment}``
# stands for the step's comment (民生诉求 即时答复: ``"public_note": "{comment}"``) and
# ``{field}`` for one of its fields. Other transition comments are working notes, never shown.
REPLY_FIELDS = ("reply", "result")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")


def _note(template: str, event: CaseEvent) -> str:
    """``public_note`` with its ``{comment}`` / ``{field}`` placeholders filled (no format())."""
    changes = event.changes or {}

    def value(match: re.Match) -> str:
        name = match.group(1)
        found = event.comment if name == "comment" else changes.get(name)
        return found if isinstance(found, str) else "" if found is None else str(found)

    return _PLACEHOLDER.sub(value, template)


def public_reply(event: CaseEvent, ctype=None) -> str | None:
    """The text a resident may read from ``event`` (phones and ID numbers masked), if any;
    ``ctype`` (the case's type) lets a transition's ``public_note`` speak."""
    if event.internal:
        return None
    changes = event.changes or {}
    transition = ctype.transitions.get(event.action) if ctype is not None else None
    if event.action == "comment":
        text = event.comment if changes.get("public", True) else None
    elif transition is not None and transition.public_note:
        text = _note(transition.public_note, event)
    else:
        text = next((changes[k] for k in REPLY_FIELDS
                     if isinstance(changes.get(k), str) and _free_text(transition, k)), None)
    return mask_text(text.strip()) if text and text.strip() else None


def _free_text(transition, key: str) -> bool:
    """A field a person wrote (a reply), not a choice among codes (司法确认's ``result``)."""
    prop = ((transition.fields or {}).get("properties") or {}).get(key, {}) if transition is not None else {}
    return not (prop.get("enum") or prop.get("oneOf") or prop.get("const"))


def _step(event: CaseEvent, ctype) -> dict | None:
    """One line of the public timeline, or None for events residents need not see."""
    reply = public_reply(event, ctype)
    moved = bool(event.to_state) and event.from_state != event.to_state
    if not (moved or reply or event.action == "reopen"):
        return None
    by_resident = (event.changes or {}).get("by") == "resident"
    if event.action == "reopen":
        label = "居民申请重办" if by_resident else "重新办理"
    elif event.action == "comment":
        label = "回复"
    else:
        label = ctype.state_title(event.to_state)
    return {
        "at": event.at.isoformat(),
        "at_local": event.at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
        "kind": "reopen" if event.action == "reopen" else ("state" if moved else "reply"),
        "label": label,
        "state": event.to_state,
        "state_title": ctype.state_title(event.to_state),
        "reply": reply,
        # the resident's own words when they asked to reopen; staff reasons stay internal
        "reason": mask_text(event.comment) if event.action == "reopen" and by_resident else None,
    }


def public_timeline(events, ctype) -> list[dict]:
    return [step for e in events if (step := _step(e, ctype)) is not None]


def public_view(case: Case) -> dict:
    """The resident's view: no actor names, no internal events, no comments of staff."""
    ctype = case_type(case.type, case.workflow_version)
    events = db.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.internal.is_(False))
        .order_by(CaseEvent.id)
    )
    timeline = public_timeline(events, ctype)
    closed = ctype.is_final(case.state)
    closed_at = closed_time(case) if closed else None
    can_reopen = closed and resident_may_reopen(case)
    until = closed_at + timedelta(days=window_days()) if can_reopen and closed_at else None
    return {
        "number": case.number,
        "type": case.type,
        "type_title": ctype.title,
        "title": mask_text(case.title),
        "state": case.state,
        "state_title": ctype.state_title(case.state),
        "closed": closed,
        "submitted_at": case.created_at.isoformat(),
        "closed_at": closed_at.isoformat() if closed_at else None,
        "deadline": case.deadline.isoformat() if case.deadline else None,
        "rating": case.rating,
        "can_rate": closed and case.rating is None,
        "reopen_count": case.reopen_count,
        "can_reopen": can_reopen,
        "reopen_until": until.isoformat() if until else None,
        "reopen_until_local": until.astimezone(LOCAL_TZ).strftime("%Y-%m-%d") if until else None,
        "replies": [{"at": s["at"], "at_local": s["at_local"], "text": s["reply"]}
                    for s in timeline if s["reply"]],
        "timeline": timeline,
    }


RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


def rate(case: Case, rating: str) -> Case:
    """The resident's satisfaction, once, after closure; recorded in the history."""
    if rating not in RATINGS:
        raise Invalid([("/rating", "请从给定选项中选择", "enum")])
    if not case_type(case.type, case.workflow_version).is_final(case.state):
        raise Invalid([("/rating", "事项办结后才能评价", "not_closed")])
    done = db.execute(
        sa.update(Case).where(Case.id == case.id, Case.rating.is_(None))
        .values(rating=rating, rated_at=utcnow(), version=Case.version + 1)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict("该事项已评价，感谢您的反馈", code="already_rated", pointer="/rating")
    event_id = db.execute(sa.insert(CaseEvent).values(
        case_id=case.id, at=utcnow(), actor_id=None, action="rate", from_state=case.state,
        to_state=case.state, comment=RATINGS[rating], changes={"rating": rating}, internal=False,
    ).returning(CaseEvent.id)).scalar_one()
    db.refresh(case)
    notify_handlers(case, event_id, "rate", f"事项 {case.number} 收到居民评价：{RATINGS[rating]}")
    signals.send(signals.case_rated, case_number=case.number, rating=rating)
    return case


def ask_reopen(case: Case, reason: str) -> Case:
    """The resident asks to reopen their closed case (once, within the window after closure)."""
    reopen(case.id, reason=reason, by_resident=True)
    db.refresh(case)
    return case
