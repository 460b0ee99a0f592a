"""Act on a case: claim it, or take a workflow transition — one transaction per action.

Every action checks the caller's scope and role, the optimistic-lock ``version`` and the
transition's guards, writes the change with a conditional ``UPDATE … WHERE version = N``
(so two people acting at once cannot both win, on SQLite and PostgreSQL alike), appends a
history row, commits, and only then sends the signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from fengqiao import signals
from fengqiao.accounts.roles import permissions_for
from fengqiao.cases.workflow import CaseType, Transition, case_type
from fengqiao.db import db, utcnow
from fengqiao.errors import APIError, ValidationFailed
from fengqiao.models import Case, CaseEvent, CaseParticipant, OrgUnit, User
from fengqiao.orgs.scope import scope_for
from fengqiao.validation import problems, validator_for

CLAIM = "claim"
CLAIMED_MESSAGE = "已被他人认领"
STALE_MESSAGE = "该事项已被他人修改，请刷新后重试"
MAX_COMMENT = 2000


@dataclass(frozen=True)
class ActionInfo:
    name: str
    title: str
    needs_comment: bool = False
    fields: dict | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "comment_required": self.needs_comment,
                "fields": self.fields}


def _case_paths(case: Case) -> list[str]:
    """The owning unit's path and the paths of the units the case was dispatched to."""
    dispatched = db.scalars(
        sa.select(OrgUnit.path).join(CaseParticipant, CaseParticipant.org_id == OrgUnit.id)
        .where(CaseParticipant.case_id == case.id)
    )
    return [case.org.path, *dispatched]


def _roles_over(user: User, paths: list[str], levels: tuple[str, ...] = ()) -> set[str]:
    """Roles ``user`` holds in units whose subtree contains one of ``paths`` (the case's
    unit and the units it was dispatched to)."""
    return {
        m.role for m in user.memberships
        if m.org.active and any(p.startswith(m.org.path) for p in paths)
        and (not levels or m.org.level in levels)
    }


def _may_take(user: User, case: Case, paths: list[str], transition: Transition) -> bool:
    if "assignee" in transition.roles and case.assignee_id == user.id:
        return True
    roles = _roles_over(user, paths, transition.levels)
    return bool(roles & set(transition.roles)) and any("cases.act" in permissions_for(r) for r in roles)


def allowed_actions(case: Case, user: User) -> list[ActionInfo]:
    """What ``user`` may do to ``case`` now (shown as buttons and in the API)."""
    if not getattr(user, "is_authenticated", False):
        return []
    ctype = case_type(case.type)
    if ctype.is_final(case.state):
        return []
    paths = _case_paths(case)
    actions = []
    if case.assignee_id is None and any(
        "cases.act" in permissions_for(r) for r in _roles_over(user, paths)
    ):
        actions.append(ActionInfo(CLAIM, "认领"))
    for t in ctype.transitions_from(case.state):
        if _may_take(user, case, paths, t) and not (
            "assignee_required" in t.guards and case.assignee_id is None
        ):
            actions.append(ActionInfo(t.name, t.title, "comment_required" in t.guards, t.fields))
    return actions


def visible_case_for_update(number: str, user: User) -> Case:
    """The case, if the caller may see it (404 otherwise, never 403: no existence hints)."""
    from fengqiao.cases.queries import visible_case

    case = visible_case(number, scope_for(user, "cases.view"))
    if case is None:
        raise APIError(404)
    return case


def _check_version(case: Case, payload: dict) -> int:
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationFailed([("/version", "请提供事项当前的版本号 version（整数）", "required")])
    if version != case.version:
        raise APIError(409, [("/version", STALE_MESSAGE, "stale")])
    return version


def _comment(payload: dict, required: bool) -> str:
    comment = payload.get("comment") or ""
    if not isinstance(comment, str):
        raise ValidationFailed([("/comment", "应填写文本", "type")])
    comment = comment.strip()
    if required and not comment:
        raise ValidationFailed([("/comment", "请填写办理意见", "required")])
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed([("/comment", f"最多填写 {MAX_COMMENT} 个字符", "maxLength")])
    return comment


def _fields(transition: Transition, payload: dict) -> dict:
    if not transition.fields:
        return {}
    values = payload.get("fields") or {}
    found = problems(validator_for(transition.fields), values)
    if found:
        raise ValidationFailed([("/fields" + p, m, c) for p, m, c in found])
    return values


def _write(case: Case, expected_version: int, values: dict, conflict: APIError) -> None:
    """The conditional UPDATE: it changes nothing unless nobody else acted first."""
    stmt = (
        sa.update(Case)
        .where(Case.id == case.id, Case.version == expected_version)
        .values(version=Case.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if db.execute(stmt).rowcount != 1:
        db.rollback()
        raise conflict


def _dispatch_target(code: str) -> OrgUnit:
    unit = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))
    if unit is None or not unit.active:
        raise ValidationFailed([("/fields/unit", f"承办单位 {code} 不存在或已停用", "unknown_org")])
    return unit


def dispatch_targets() -> list[OrgUnit]:
    """Units a case may be dispatched to: departments first, then streets and communities."""
    order = sa.case((OrgUnit.kind == "department", 0), else_=1)
    return list(db.scalars(
        sa.select(OrgUnit).where(OrgUnit.active, OrgUnit.level.in_(("county", "street", "community")))
        .order_by(order, OrgUnit.path)
    ))


def perform(number: str, action: str, user: User, payload: dict[str, Any]) -> Case:
    """Take ``action`` on case ``number`` for ``user``; returns the updated case."""
    case = visible_case_for_update(number, user)
    ctype: CaseType = case_type(case.type)
    offered = {a.name: a for a in allowed_actions(case, user)}
    if action not in offered:
        if action == CLAIM and case.assignee_id is not None:
            raise APIError(409, [("", CLAIMED_MESSAGE, "claimed")])
        known = action == CLAIM or action in ctype.transitions
        message = "当前状态下不能执行此操作" if known else f"未知操作 {action}"
        raise APIError(403 if known else 404, [("", message, "forbidden_transition")])
    version = _check_version(case, payload)
    from_state, values, changes = case.state, {}, {}
    if action == CLAIM:
        comment = _comment(payload, False)
        stmt = (
            sa.update(Case)
            .where(Case.id == case.id, Case.assignee_id.is_(None), Case.version == version)
            .values(assignee_id=user.id, version=Case.version + 1)
            .execution_options(synchronize_session=False)
        )
        if db.execute(stmt).rowcount != 1:
            db.rollback()
            raise APIError(409, [("", CLAIMED_MESSAGE, "claimed")])
        changes = {"assignee": user.username}
        to_state = from_state
    else:
        transition = ctype.transitions[action]
        comment = _comment(payload, "comment_required" in transition.guards)
        changes = _fields(transition, payload)
        to_state = transition.target
        values["state"] = to_state
        if "assign_actor" in transition.effects:
            values["assignee_id"] = user.id
        if "unassign" in transition.effects:
            values["assignee_id"] = None
        if "dispatch" in transition.effects:
            unit = _dispatch_target(changes.get("unit", ""))
            changes = {**changes, "unit_name": unit.name}
            insert = (postgresql if db.get_bind().dialect.name == "postgresql" else sqlite).insert
            db.execute(insert(CaseParticipant).values(
                case_id=case.id, org_id=unit.id, role="handler", added_at=utcnow(), added_by_id=user.id,
            ).on_conflict_do_nothing(index_elements=["case_id", "org_id"]))
        if changes:
            values["data"] = {**case.data, **{f"_{action}": changes}}
        _write(case, version, values, APIError(409, [("/version", STALE_MESSAGE, "stale")]))
    db.execute(sa.insert(CaseEvent).values(
        case_id=case.id, at=utcnow(), actor_id=user.id, action=action, from_state=from_state,
        to_state=to_state, comment=comment, changes=changes, internal=False,
    ))
    db.commit()
    db.expire(case)
    case = db.get(Case, case.id)
    _announce(case, ctype, action, from_state, to_state, user)
    return case


def _announce(case: Case, ctype: CaseType, action: str, from_state: str, to_state: str, user: User) -> None:
    if action == CLAIM:
        signals.send(signals.case_assigned, case_number=case.number, assignee=user.username,
                     org=case.org.code, actor=user.username)
        return
    signals.send(signals.case_transitioned, case_number=case.number, action=action,
                 from_state=from_state, to_state=to_state, actor=user.username)
    if ctype.is_final(to_state):
        signals.send(signals.case_closed, case_number=case.number, case_type=case.type,
                     org=case.org.code, state=to_state)


def history(case: Case, include_internal: bool = True) -> list[CaseEvent]:
    stmt = sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    if not include_internal:
        stmt = stmt.where(CaseEvent.internal.is_(False))
    return list(db.scalars(stmt))
