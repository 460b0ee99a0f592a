"""Bulk actions from the queue: the same workflow, one case at a time.

A bulk claim, assignment or transition is never a shortcut around the engine: each case goes
through :func:`fengqiao.cases.engine.perform` on its own (its scope, role, version and guard
checks, its signals), each in a SAVEPOINT of the caller's transaction, so one case failing
leaves the others done, and the caller gets one outcome per case with the reason in Chinese.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from fengqiao.accounts.roles import permissions_for
from fengqiao.cases import engine
from fengqiao.cases.actions import Situation, TransitionAction
from fengqiao.cases.case_types import case_type
from fengqiao.cases.queries import visible_case
from fengqiao.db import db
from fengqiao.exceptions import DomainError, Invalid, NotFound
from fengqiao.models import Case, CaseParticipant, Membership, OrgUnit, User
from fengqiao.orgs.scope import scope_for
from fengqiao.params import parse_int

log = logging.getLogger(__name__)

MAX_BATCH = 100
ASSIGN = "assign"
NOT_FOUND = "事项不存在或无权查看"
MAX_ASSIGNEES = 500
ASSIGNING_ROLES = {"admin", "supervisor", "staff", "leader"}  # besides the assignee (a hint; the engine decides)


@dataclass(frozen=True)
class BulkResult:
    number: str
    ok: bool
    message: str  # the new state's title, or why it failed
    new_state: str | None = None
    code: str | None = None  # the error code when it failed (claimed, stale, …)
    version: int | None = None

    def to_json(self) -> dict:
        if self.ok:
            return {"number": self.number, "ok": True, "state": self.new_state, "version": self.version}
        return {"number": self.number, "ok": False, "error": {"code": self.code, "message": self.message}}


def parse_selection(values: Iterable[str]) -> list[tuple[str, int | None]]:
    """Checkbox values ``"<number>:<version>"`` from the queue page (a missing or garbled
    version is left to the engine, which reports it for that case)."""
    selection = []
    for value in values:
        number, _, version = value.strip().rpartition(":")
        if not number:
            number, version = version, ""
        selection.append((number, parse_int(version)))
    return selection


def _check_batch(selection: Sequence[tuple[str, int | None]]) -> list[tuple[str, int | None]]:
    if not selection:
        raise Invalid([("/cases", "请至少选择一件事项", "minItems")])
    unique: dict[str, int | None] = {}
    for number, version in selection:
        unique.setdefault(number, version)
    if len(unique) > MAX_BATCH:
        raise Invalid([("/cases", f"一次最多批量办理 {MAX_BATCH} 件事项，请分批办理", "maxItems")])
    return list(unique.items())


def _field_label(number: str, action: str, key: str, user: User) -> str:
    """The title the action gives field ``key`` (the page shows it), for a failure message."""
    case = visible_case(number, scope_for(user, "cases.view"))
    offered = {a.name: a for a in engine.allowed_actions(case, user)} if case is not None else {}
    fields = offered[action].fields if action in offered else None
    title = ((fields or {}).get("properties", {}).get(key) or {}).get("title")
    return title or {"assignee": "办理人", "unit": "承办单位"}.get(key, key)


def bulk_perform(selection: Sequence[tuple[str, int | None]], action: str, user: User,
                 payload: dict) -> list[BulkResult]:
    """Take ``action`` on each ``(number, version)`` for ``user``; one result per case, in
    the order given (duplicates once). ``payload`` holds the shared ``comment`` and
    ``fields``. More than :data:`MAX_BATCH` cases, or none, is a 422 for the whole batch."""
    batch = _check_batch(selection)
    shared = {"comment": payload.get("comment") or "", "fields": payload.get("fields") or {}}
    results = []
    for number, version in batch:
        try:
            with db.begin_nested():  # a failing case undoes only its own writes
                case = engine.perform(number, action, user, {**shared, "version": version})
        except DomainError as err:
            pointer, message, code = err.problems[0]
            if isinstance(err, NotFound) and code != "forbidden_transition":
                message = NOT_FOUND
            elif isinstance(err, Invalid) and pointer.startswith("/fields/"):
                message = f"{_field_label(number, action, pointer.split('/')[2], user)}：{message}"
            results.append(BulkResult(number, False, message, code=code))
        except Exception:  # one broken case must not lose the outcome of the others
            log.exception("bulk %s failed on %s", action, number)
            results.append(BulkResult(number, False, "系统出现错误，此件未办理，请稍后重试", code="server_error"))
        else:
            title = case_type(case.type, case.workflow_version).state_title(case.state)
            results.append(BulkResult(number, True, title, case.state, version=case.version))
    return results


def summary(results: Sequence[BulkResult]) -> str:
    done = sum(r.ok for r in results)
    return f"成功 {done} 件，失败 {len(results) - done} 件"


@dataclass(frozen=True)
class Offer:
    """A workflow transition of one case type offered in the bulk bar (on at least one listed
    case of that type). Kept per type: two types may name different steps alike (or one step
    differently), so the bar groups them by type and shows only the selected cases' ones."""

    name: str
    title: str
    needs_comment: bool
    fields: dict  # field key → title
    type: str = ""  # the case type's key
    type_title: str = ""


def engine_can_assign() -> bool:
    """Whether this engine has the built-in 指派 action (the bulk bar shows it only then)."""
    return ASSIGN in getattr(engine, "BUILTIN", {})


def offered_actions(cases: Sequence[Case], user: User) -> tuple[dict[str, list[str]], list[Offer]]:
    """Hints for the queue's bulk bar: per case (number → action names) what ``user`` is
    likely allowed to do, and the workflow transitions offered on any listed case, one
    :class:`Offer` per case type and transition (types in the order the page lists them).

    Read from the case types, the caller's roles and one query for the units the listed
    cases were sent to (asking the engine row by row costs several queries each: ~200 for a
    page of 50): a transition appears only where the caller holds one of its roles over the
    case in the right unit (``TransitionAction.holds_role``: levels, ``dispatched_unit``,
    ``case_unit``). A hint can still be too generous (``four_eyes`` …) — the engine checks
    each case when the batch runs and reports what it refused.
    """
    roles = {m.role for m in user.memberships if m.org.active}
    if not any("cases.act" in permissions_for(r) for r in roles):
        return {c.number: [] for c in cases}, []
    can_assign = engine_can_assign()
    per_case: dict[str, list[str]] = {}
    offers: dict[tuple[str, str], Offer] = {}  # (type, transition) → offer
    taking_part = _participants(cases)  # one query for the page: the units each case was sent to
    for case in cases:
        ctype = case_type(case.type, case.workflow_version)
        per_case[case.number] = names = []
        if case.closed_at is not None or ctype.is_final(case.state):
            continue
        mine = case.assignee_id == user.id
        if case.assignee_id is None:
            names.append(engine.CLAIM)
        if can_assign and (mine or roles & ASSIGNING_ROLES):
            names.append(ASSIGN)
        situation = Situation(case, ctype, user, taking_part.get(case.id, []))
        for t in ctype.transitions_from(case.state):
            if not TransitionAction(t).holds_role(situation):  # roles, levels and the unit-bound guards
                continue
            if "assignee_required" in t.guards and case.assignee_id is None:
                continue
            names.append(t.name)
            fields = {k: p.get("title") or k for k, p in ((t.fields or {}).get("properties") or {}).items()}
            needs_comment = "comment_required" in t.guards
            key = (case.type, t.name)
            known = offers.get(key)
            if known is None:
                offers[key] = Offer(t.name, t.title, needs_comment, fields, case.type, ctype.title)
            elif t.title not in known.title.split(" / ") or fields.keys() - known.fields.keys():
                # the same type in another workflow version may title or field it differently
                title = known.title if t.title in known.title.split(" / ") else f"{known.title} / {t.title}"
                offers[key] = Offer(t.name, title, known.needs_comment or needs_comment,
                                    {**known.fields, **fields}, case.type, known.type_title)
    types = list(dict.fromkeys(type_ for type_, _ in offers))  # in the order the page lists them
    return per_case, sorted(offers.values(), key=lambda o: types.index(o.type))  # grouped by type (stable)


def _participants(cases: Sequence[Case]) -> dict[int, list[CaseParticipant]]:
    """The units taking part in each listed case (dispatched, summoned), by case id."""
    found: dict[int, list[CaseParticipant]] = {}
    ids = [c.id for c in cases]
    if ids:
        for p in db.scalars(sa.select(CaseParticipant).where(CaseParticipant.case_id.in_(ids))
                            .order_by(CaseParticipant.id)):
            found.setdefault(p.case_id, []).append(p)
    return found


def assignable_users(user: User) -> list[User]:
    """Active accounts that may act on cases in units where ``user`` may act (the choices
    of 批量指派)."""
    scope = scope_for(user, "cases.act")
    members = (
        sa.select(Membership.user_id, Membership.role)
        .join(OrgUnit, Membership.org_id == OrgUnit.id)
        .where(scope.clause(OrgUnit.path), OrgUnit.active)
    )
    ids = {uid for uid, role in db.execute(members) if "cases.act" in permissions_for(role)}
    if not ids:
        return []
    return list(db.scalars(
        sa.select(User).where(User.id.in_(ids), User.active).order_by(User.username).limit(MAX_ASSIGNEES)
    ))
