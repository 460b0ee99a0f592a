"""Score events: proposed (by the member, the branch or a volunteer signal), reviewed by the
branch secretary, kept forever with an append-only history."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.privacy import mask_text
from fengqiao.sdk.web import validate
from fengqiao.sdk.workdays import today_local

from fengqiao_vanguard.indicators import find_indicator, set_for_year
from fengqiao_vanguard.members import can_review
from fengqiao_vanguard.models import (
    EVENT_SOURCES,
    EVENT_STATUS,
    KINDS,
    EventHistory,
    Member,
    ScoreEvent,
)

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "indicator": {"type": ["integer", "string"]},
        "points": {"type": "number"},
        "reason": {"type": "string", "minLength": 1, "maxLength": 500},
        "period": {"type": "string"},
        "evidence": {"type": ["string", "null"], "maxLength": 500},
    },
    "required": ["indicator", "points", "reason", "period"],
    "additionalProperties": False,
}
HISTORY_LABELS = {"proposed": "提出", "approved": "审核通过", "rejected": "审核未通过"}


def parse_period(value: str, pointer: str = "/period") -> int:
    """The year of a ``YYYY-MM`` period that is not in the future; 422 otherwise."""
    match = PERIOD.match(value or "")
    if not match:
        raise ValidationFailed([(pointer, "期间应为“年-月”格式，如 2026-03", "format")])
    if value > today_local().strftime("%Y-%m"):
        raise ValidationFailed([(pointer, "期间不能晚于本月", "range")])
    return int(match.group(1))


def propose(member: Member, data: dict, *, actor: str | None, source: str) -> ScoreEvent:
    """Record a pending event after checking it against the set in force for its year."""
    validate(EVENT_SCHEMA, data)
    year = parse_period(data["period"])
    item_set = set_for_year(member.org_code, year)
    indicator = find_indicator(item_set, data["indicator"])
    if indicator is None:
        raise ValidationFailed([("/indicator", "该指标不在此党员当年适用的指标体系中", "enum")])
    points = data["points"]
    problems = []
    if indicator.kind == "veto":
        if points != 0:
            problems.append(("/points", "一票否决事项不计分，分值请填 0", "const"))
    elif points <= 0:
        problems.append(("/points", "分值应大于 0（扣分项也填正数）", "exclusiveMinimum"))
    elif points > indicator.max_points:
        problems.append(("/points", f"分值不能超过该指标的上限 {indicator.max_points:g} 分", "maximum"))
    elif Decimal(str(points)).as_tuple().exponent < -2:
        problems.append(("/points", "分值最多保留两位小数", "multipleOf"))
    if not data["reason"].strip():
        problems.append(("/reason", "此项为必填项", "required"))
    if problems:
        raise ValidationFailed(problems)
    event = ScoreEvent(member_id=member.id, indicator_id=indicator.id, points=points,
                       reason=data["reason"].strip(), evidence=(data.get("evidence") or "").strip() or None,
                       period=data["period"], year=year, status="pending", source=source, created_by=actor)
    db.add(event)
    db.flush()
    db.add(EventHistory(event_id=event.id, actor=actor, action="proposed",
                        comment=f"{EVENT_SOURCES[source]}：{KINDS[indicator.kind]}「{indicator.name}」"
                                f"{points:g} 分"))
    db.commit()
    return event


def review(event_id: int, decision: str, actor, comment: str = "") -> ScoreEvent:
    """Approve or reject a pending event: only staff reviewing the member's branch, never the
    person who proposed it; the first decision wins (conditional update)."""
    event = db.get(ScoreEvent, event_id)
    if event is None or not can_review(event.member):
        raise APIError(404)
    if event.created_by and event.created_by == actor.username:
        raise APIError(403, [("", "不能审核自己提出的积分事项", "self_review")])
    if event.member.username and event.member.username == actor.username:
        raise APIError(403, [("", "不能审核本人的积分事项", "self_review")])
    if len(comment) > 500:
        raise ValidationFailed([("/comment", "最多填写 500 个字符", "maxLength")])
    status = {"approve": "approved", "reject": "rejected"}[decision]
    if status == "rejected" and not comment.strip():
        raise ValidationFailed([("/comment", "请填写不通过的理由", "required")])
    done = db.execute(
        sa.update(ScoreEvent).where(ScoreEvent.id == event_id, ScoreEvent.status == "pending")
        .values(status=status, reviewed_by=actor.username, reviewed_at=utcnow(),
                review_comment=comment.strip() or None)
    ).rowcount
    if not done:
        db.rollback()
        raise APIError(409, [("", "该事项已审核，请刷新后查看", "reviewed")])
    db.add(EventHistory(event_id=event_id, actor=actor.username, action=status, comment=comment.strip() or None))
    db.commit()
    db.refresh(event)
    return event


def event_json(event: ScoreEvent, *, history: bool = False) -> dict:
    out = {"id": event.id, "member": event.member_id, "indicator": event.indicator_id,
           "indicator_code": event.indicator.code, "indicator_name": event.indicator.name,
           "kind": event.indicator.kind, "points": event.points, "reason": mask_text(event.reason),
           "evidence": event.evidence and mask_text(event.evidence), "period": event.period, "status": event.status,
           "status_label": EVENT_STATUS[event.status], "source": event.source,
           "created_by": event.created_by, "created_at": event.created_at.isoformat(),
           "reviewed_by": event.reviewed_by,
           "review_comment": event.review_comment and mask_text(event.review_comment)}  # free text: numbers masked
    if history:
        out["history"] = [{"at": h.at.isoformat(), "actor": h.actor, "action": h.action,
                           "comment": h.comment and mask_text(h.comment)}
                          for h in history_of(event.id)]
    return out


def history_of(event_id: int) -> list[EventHistory]:
    return list(db.scalars(sa.select(EventHistory).where(EventHistory.event_id == event_id)
                           .order_by(EventHistory.id)))


def events_of(member_id: int, year: int) -> list[ScoreEvent]:
    return list(db.scalars(sa.select(ScoreEvent).where(ScoreEvent.member_id == member_id,
                                                       ScoreEvent.year == year)
                           .order_by(ScoreEvent.period.desc(), ScoreEvent.id.desc())))


def pending_in(scope) -> sa.Select:
    """The scoring queue: pending events of members in the reviewer's scope (page it with
    ``paginate`` by ``ScoreEvent.id``, oldest first)."""
    return (sa.select(ScoreEvent).join(Member, Member.id == ScoreEvent.member_id)
            .where(ScoreEvent.status == "pending", scope.clause(Member.org_path)))


def pending_count(scope, cap: int = 200) -> int:
    """How many events wait in the queue, counted up to ``cap``."""
    return len(db.scalars(pending_in(scope).with_only_columns(ScoreEvent.id).limit(cap)).all())
