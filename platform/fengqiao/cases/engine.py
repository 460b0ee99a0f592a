"""Act on a case: a built-in action or a workflow transition — one transaction per action.

Every action checks the caller's scope and role, the optimistic-lock ``version`` and the
guards, writes the change with a conditional ``UPDATE … WHERE version = N`` (so two people
acting at once cannot both win, on SQLite and PostgreSQL alike), appends a history row,
enqueues its jobs in the same transaction (the outbox) and queues the signals; the caller
(request, command or job) commits, and only then are the jobs dispatched and the signals sent. The built-in actions (claim, assign, urge, 延期, escalate, merge, comment, 报到 …)
live in ``cases/actions.py``; transitions come from the case type's declared workflow.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from fengqiao import signals
from fengqiao.cases import photos
from fengqiao.cases.actions import (
    BUILTIN,
    CLAIMED_MESSAGE,
    STALE_MESSAGE,
    ActionInfo,
    Outcome,
    Situation,
    TransitionAction,
    conflict_claimed,
)
from fengqiao.cases.queries import visible_case
from fengqiao.cases.routing import routable_units
from fengqiao.db import db, utcnow
from fengqiao.exceptions import Conflict, Forbidden, Invalid, NotFound
from fengqiao.models import Attachment, Case, CaseEvent, OrgUnit, User
from fengqiao.notifications.residents import notify_closed
from fengqiao.orgs.scope import scope_for
from fengqiao.validation import problems, validator_for

__all__ = ["CLAIMED_MESSAGE", "STALE_MESSAGE", "ActionInfo", "allowed_actions", "perform"]
CLAIM = "claim"
MAX_COMMENT = 2000

SYSTEM_TITLES = {
    "submit": "提交", "rate": "居民评价", "reopen": "重办", "sla_overdue": "超期",
    "checkin_overdue": "报到超时", "deadline_recomputed": "期限重算", "merged_from": "合并重复件",
    "migrate_workflow": "流程版本迁移", "board_publish": "发布至回音壁", "board_unpublish": "撤下回音壁",
    "park_review": "挂账复核提醒", "inbound": "外部工单接收",
}


def action_title(ctype, action: str) -> str:
    """The Chinese name of a history row's action."""
    if action in BUILTIN:
        return BUILTIN[action].title
    if action in ctype.transitions:
        return ctype.transitions[action].title
    return SYSTEM_TITLES.get(action, action)


def _candidates(situation: Situation):
    yield from (BUILTIN[name] for name in BUILTIN)
    for t in situation.ctype.transitions_from(situation.case.state):
        yield TransitionAction(t)


def allowed_actions(case: Case, user: User, choices: bool = False) -> list[ActionInfo]:
    """What ``user`` may do to ``case`` now (shown as buttons and in the API).

    ``choices`` fills the fields' option lists (who a case may be assigned to): the case page
    needs them for its selects; the API and bulk actions need only the names."""
    if not getattr(user, "is_authenticated", False):
        return []
    situation = Situation.of(case, user, choices)
    return [info for action in _candidates(situation) if (info := action.offer(situation))]


def upload_photo(case: Case, user: User, file: FileStorage, pointer: str = "/file",
                 documents: bool = False) -> Attachment:
    """Store one photo for a step of ``case`` that asks for files (自行处置's after photo …);
    refused unless such a step is open to ``user`` now (see :mod:`fengqiao.cases.photos`).
    ``documents``: any accepted type, for a step with a file field (``contentMediaType "*/*"``)."""
    offered = [a for a in allowed_actions(case, user) if photos.takes_files(a.fields)]
    if not offered:
        raise Forbidden("当前没有需要上传照片的办理操作", code="forbidden")
    if documents and not any(photos.takes_documents(p) for a in offered for _k, p in photos.file_fields(a.fields)):
        raise Forbidden("当前没有需要上传附件的办理操作（只能上传照片）", code="forbidden")
    return photos.store(user, file, pointer, documents=documents)


def visible_case_for_update(number: str, user: User) -> Case:
    """The case, if the caller may see it (404 otherwise, never 403: no existence hints)."""
    case = visible_case(number, scope_for(user, "cases.view"))
    if case is None:
        raise NotFound()
    return case


def _check_version(case: Case, payload: dict) -> int:
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise Invalid([("/version", "请提供事项当前的版本号 version（整数）", "required")])
    if version != case.version:
        raise Conflict(STALE_MESSAGE, code="stale", pointer="/version")
    return version


def _comment(payload: dict, required: bool) -> str:
    comment = payload.get("comment") or ""
    if not isinstance(comment, str):
        raise Invalid([("/comment", "应填写文本", "type")])
    comment = comment.strip()
    if required and not comment:
        raise Invalid([("/comment", "请填写办理意见", "required")])
    if len(comment) > MAX_COMMENT:
        raise Invalid([("/comment", f"最多填写 {MAX_COMMENT} 个字符", "maxLength")])
    return comment


def _fields(info: ActionInfo, payload: dict) -> dict:
    values = payload.get("fields") or {}
    if not isinstance(values, dict):
        raise Invalid([("/fields", "应为对象", "type")])
    if not info.fields:
        return {}
    found = problems(validator_for(info.fields), values)
    if found:  # an empty photo/file field names itself: 「请上传整改照片」
        raise Invalid([("/fields" + p, photos.missing_message(info.fields, p, c) or m, c) for p, m, c in found])
    return values


def _write(case: Case, expected_version: int, outcome: Outcome) -> None:
    """The conditional UPDATE: it changes nothing unless nobody else acted first."""
    stmt = (
        sa.update(Case)
        .where(Case.id == case.id, Case.version == expected_version, *outcome.where)
        .values(version=Case.version + 1, **outcome.values)
        .execution_options(synchronize_session=False)
    )
    if db.execute(stmt).rowcount != 1:
        raise outcome.conflict or Conflict(STALE_MESSAGE, code="stale", pointer="/version")


def dispatch_targets(user: User) -> list[OrgUnit]:
    """Units ``user`` may dispatch, transfer or summon a case to (cases/routing.py):
    departments first, then streets and communities of their jurisdiction."""
    return routable_units(user)


def routing_actions(ctype, actions: list[ActionInfo]) -> set[str]:
    """Offered actions whose ``unit`` field routes the case (派单 ``dispatch`` effect, 转办):
    their unit select lists only :func:`dispatch_targets`, whatever options the field names."""
    return {a.name for a in actions if a.name == "assign" or (
        a.name in ctype.transitions and "dispatch" in ctype.transitions[a.name].effects)}


def perform(number: str, action: str, user: User, payload: dict[str, Any]) -> Case:
    """Take ``action`` on case ``number`` for ``user``; returns the updated case."""
    case = visible_case_for_update(number, user)
    situation = Situation.of(case, user)
    actions = {a.name: a for a in _candidates(situation)}
    chosen = actions.get(action)
    info = chosen.offer(situation) if chosen else None
    if info is None:
        if action == CLAIM and case.assignee_id is not None:
            raise conflict_claimed()
        known = action in BUILTIN or action in situation.ctype.transitions
        reason = getattr(chosen, "why_not", lambda _s: None)(situation) if chosen else None
        message = reason or ("当前状态下不能执行此操作" if known else f"未知操作 {action}")
        raise (Forbidden if known else NotFound)(message, code="forbidden_transition")
    version = _check_version(case, payload) if info.needs_version else case.version
    comment = _comment(payload, info.needs_comment)
    fields = _fields(info, payload)
    now = utcnow()
    outcome = chosen.apply(situation, fields, comment, now)
    if outcome.takes_over:  # the action wrote everything itself (reopen)
        db.expire_all()
        return db.get(Case, case.id)
    return write_outcome(case, situation.ctype, action, user, outcome, version, comment, now,
                         write=bool(outcome.values) or info.needs_version)


def write_outcome(case: Case, ctype, action: str, user: User, outcome: Outcome, version: int,
                  comment: str, now, write: bool = True) -> Case:
    """Write ``outcome`` (conditional UPDATE), append its history row, run its in-transaction
    steps and queue the signals (sent after the caller's commit); returns the reloaded case.
    ``user.id`` None = system."""
    from_state = case.state
    to_state = outcome.values.get("state", from_state)
    if write:
        _write(case, version, outcome)
    event_id = db.execute(sa.insert(CaseEvent).returning(CaseEvent.id).values(
        case_id=case.id, at=now, actor_id=user.id, action=action, from_state=from_state,
        to_state=to_state, comment=comment, changes=outcome.changes, internal=outcome.internal,
    )).scalar_one()
    for later in outcome.in_transaction:
        later(event_id)
    db.expire(case)
    case = db.get(Case, case.id)
    if ctype.is_final(to_state) and not ctype.is_final(from_state):  # the resident hears of it (SMS, consent)
        notify_closed(case.id, event_id)
    _announce(case, ctype, action, from_state, to_state, user, outcome)
    return case


def _announce(case: Case, ctype, action: str, from_state: str, to_state: str, user: User,
              outcome: Outcome) -> None:
    if outcome.assigned is not None or action == CLAIM:
        signals.send(signals.case_assigned, case_number=case.number,
                     assignee=case.assignee.username if case.assignee else None,
                     org=case.org.code, actor=user.username)
    if outcome.escalated_to:
        signals.send(signals.case_escalated, case_number=case.number, org=outcome.escalated_to,
                     automatic=False)
    if to_state != from_state or action in ctype.transitions:
        signals.send(signals.case_transitioned, case_number=case.number, action=action,
                     from_state=from_state, to_state=to_state, actor=user.username)
    if ctype.is_final(to_state) and not ctype.is_final(from_state):
        signals.send(signals.case_closed, case_number=case.number, case_type=case.type,
                     org=case.org.code, state=to_state)


def history(case: Case, include_internal: bool = True) -> list[CaseEvent]:
    stmt = sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    if not include_internal:
        stmt = stmt.where(CaseEvent.internal.is_(False))
    return list(db.scalars(stmt))
