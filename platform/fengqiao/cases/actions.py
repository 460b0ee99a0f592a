"""The actions the engine offers on every case, besides its workflow's transitions.

Each action answers two questions: ``offer`` — may this user take it on this case now (and
with which fields)? — and ``apply`` — which column values, history changes and in-transaction
effects does it produce? ``engine.perform`` does the rest (version check, conditional write,
history row, signals after the caller's commit), so every action is one unit of work with one
history row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from fengqiao.accounts.directory import unit_staff
from fengqiao.accounts.roles import TYPE_BOUND_ROLES, permissions_for
from fengqiao.cases import checkin, parking, photos, sla, steps
from fengqiao.cases.case_types import case_type
from fengqiao.cases.escalation import (
    LEVEL_TITLES,
    cooling_reason,
    cooling_until,
    next_unit,
    on_own_level,
    supervising_unit,
)
from fengqiao.cases.jobs import notify_later
from fengqiao.cases.queries import entering_event, visible_case
from fengqiao.cases.recipients import recipient_units
from fengqiao.cases.recipients import resolve as resolve_recipients
from fengqiao.cases.reopen import reopen
from fengqiao.cases.routing import check_routable
from fengqiao.cases.workflow import MERGED, CaseType, Transition
from fengqiao.db import LOCAL_TZ, db, insert, utcnow
from fengqiao.exceptions import Conflict, DomainError, Invalid
from fengqiao.models import (
    Case,
    CaseEvent,
    CaseParticipant,
    Membership,
    OrgUnit,
    User,
)
from fengqiao.orgs.scope import Scope, scope_for

RATING_CODES = ("satisfied", "basically_satisfied", "dissatisfied")  # a resident's rating (tracking.RATINGS)
CLAIMED_MESSAGE = "已被他人认领"
STALE_MESSAGE = "该事项已被他人修改，请刷新后重试"
SUPERVISING = ("admin", "supervisor", "staff")


def conflict_claimed() -> Conflict:
    return Conflict(CLAIMED_MESSAGE, code="claimed")


@dataclass(frozen=True)
class ActionInfo:
    name: str
    title: str
    needs_comment: bool = False
    fields: dict | None = None
    needs_version: bool = True
    builtin: bool = False

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "comment_required": self.needs_comment,
                "fields": self.fields}


@dataclass
class Outcome:
    """What an action changes; the engine writes it in one transaction."""

    values: dict = field(default_factory=dict)  # columns of the case row
    changes: dict = field(default_factory=dict)  # recorded in the history row
    internal: bool = True  # hidden from the resident's timeline
    where: tuple = ()  # extra conditions of the conditional UPDATE
    conflict: DomainError | None = None  # raised when the UPDATE matches no row
    in_transaction: list[Callable[[int], None]] = field(default_factory=list)  # get the event id
    assigned: str | None = None
    escalated_to: str | None = None
    takes_over: bool = False  # the action wrote everything itself (the engine only reloads)


@dataclass
class Situation:
    """A case as one user stands to it: the units it belongs to and the roles held over them."""

    case: Case
    ctype: CaseType
    user: User
    participants: list[CaseParticipant]
    choices: bool = False  # fill option lists of fields (the case page's selects)

    @classmethod
    def of(cls, case: Case, user: User, choices: bool = False) -> Situation:
        participants = list(db.scalars(sa.select(CaseParticipant).where(CaseParticipant.case_id == case.id)
                                       .order_by(CaseParticipant.id)))
        return cls(case, case_type(case.type, case.workflow_version), user, participants, choices)

    @property
    def paths(self) -> list[str]:
        return [self.case.org.path, *(p.org.path for p in self.participants)]

    @property
    def handling_paths(self) -> list[str]:
        """The case's own unit and the units it was dispatched to (not the summoned ones)."""
        return [self.case.org.path, *(p.org.path for p in self.participants if p.role != "summoned")]

    @property
    def open(self) -> bool:
        return not self.ctype.is_final(self.case.state)

    def roles(self, levels: tuple[str, ...] = (), paths: list[str] | None = None) -> set[str]:
        """Roles the user holds in units whose subtree contains one of the case's units (a
        type-bound role such as ``mediator`` only on case types whose workflow names it)."""
        paths = self.paths if paths is None else paths
        return {
            m.role for m in self.user.memberships
            if m.org.active and any(p.startswith(m.org.path) for p in paths)
            and (not levels or m.org.level in levels)
            and (m.role not in TYPE_BOUND_ROLES or m.role in self.ctype.named_roles)
        }

    def may_act(self, paths: list[str] | None = None) -> bool:
        return any("cases.act" in permissions_for(r) for r in self.roles(paths=paths))

    def supervises(self) -> bool:
        """Holds a supervising role in a unit strictly above the case's own unit (a supervisor,
        or the unit's own leader, anywhere over the case)."""
        own = self.case.org.path
        return any(m.role in SUPERVISING and m.org.active and own.startswith(m.org.path) and own != m.org.path
                   for m in self.user.memberships) or bool(self.roles() & {"supervisor", "leader"})

    def is_assignee(self) -> bool:
        return self.case.assignee_id == self.user.id

    def in_dispatched_unit(self, roles: tuple[str, ...]) -> bool:
        """Holds one of ``roles`` in a unit the case was dispatched to, or below it (签收 is the
        handling unit's act: the dispatcher cannot sign in for it)."""
        targets = [p.org.path for p in self.participants if p.role == "handler"]
        as_assignee = "assignee" in roles and self.is_assignee()  # who signed for it, still in that unit
        return any((m.role in roles or as_assignee) and m.org.active and "cases.act" in permissions_for(m.role)
                   and any(m.org.path.startswith(path) for path in targets) for m in self.user.memberships)

    def summoned(self) -> list[CaseParticipant]:
        return [p for p in self.participants if p.role == "summoned"]


def add_participant(case: Case, unit: OrgUnit, role: str, user: User, now: datetime,
                    checkin_due: datetime | None = None) -> None:
    db.execute(insert(CaseParticipant).values(
        case_id=case.id, org_id=unit.id, role=role, added_at=now, added_by_id=user.id,
        checkin_due=checkin_due,
    ).on_conflict_do_nothing(index_elements=["case_id", "org_id"]))


def active_unit(code: str, pointer: str) -> OrgUnit:
    unit = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == code)) if isinstance(code, str) else None
    if unit is None or not unit.active:
        raise Invalid([(pointer, f"单位 {code} 不存在或已停用", "unknown_org")])
    return unit


def routed_unit(s: Situation, code: str, pointer: str) -> OrgUnit:
    """The active unit ``code`` names, if the actor may route the case there (cases/routing.py)."""
    return check_routable(s.user, active_unit(code, pointer), pointer)


def _notify(case: Case, event: str, message: str, recipients: list[str],
            units: list[int] | None = None) -> Callable[[int], None]:
    def enqueue(event_id: int) -> None:
        notify_later(case, event_id, event, message, recipients, units=units)
    return enqueue


def _notify_declared(s: Situation, t: Transition, out: Outcome, dispatched_to: int | None,
                     told: set[str]) -> Callable[[int], None]:
    """The transition's own ``notify`` list, resolved once the step is written (its assignee,
    the unit it dispatched to); whoever an effect of the step already told (``told``) and the
    actor are left out. Keyed apart from the effects' notification of the same history row."""
    def enqueue(event_id: int) -> None:
        names = resolve_recipients(s.case, t.notify, actor=s.user, dispatched_to=dispatched_to,
                                   assignee_id=out.values.get("assignee_id", s.case.assignee_id))
        message = f"事项 {s.case.number}：{t.title}，当前状态：{s.ctype.state_title(t.target)}"
        notify_later(s.case, None, t.name, message, [n for n in names if n not in told], key=f"step:{event_id}",
                     units=recipient_units(s.case, t.notify, dispatched_to=dispatched_to))
    return enqueue


# ---- workflow transitions -------------------------------------------------------------


def stepped_in_by(case: Case) -> int | None:
    """Who took the step into the case's current state (``other_hand``)."""
    entered = entering_event(case)
    return entered.actor_id if entered is not None else None


def earlier_hands(case: Case) -> set[int]:
    """Who submitted the case and who took the step into its current state (``four_eyes``)."""
    submitters = db.scalars(sa.select(CaseEvent.actor_id).where(CaseEvent.case_id == case.id,
                                                                CaseEvent.action == "submit"))
    return {actor for actor in (*submitters, stepped_in_by(case)) if actor is not None}


class TransitionAction:
    """A transition of the case type's workflow, with its guards and effects."""

    def __init__(self, transition: Transition):
        self.t = transition
        self.name = transition.name

    def holds_role(self, s: Situation) -> bool:
        """The user may take the transition by role and unit, read without a query: one of its
        roles (at its ``levels``) over the case, or its assignee — and, for the unit-bound
        guards, in the right unit (``dispatched_unit``: the handling unit, so the community
        that filed a case never sees a department's 签收/退单; ``case_unit``: the case's own).
        Whoever fails here is not offered the transition anywhere (case page, API
        ``allowed_actions``, the queue's bulk bar); the person-bound guards (``four_eyes``,
        ``other_hand``, ``from_above``) are :meth:`offer`'s."""
        t = self.t
        if "dispatched_unit" in t.guards and not s.in_dispatched_unit(t.roles):
            return False
        if "case_unit" in t.guards and not s.roles(t.levels, paths=[s.case.org.path]) & set(t.roles):
            return False
        held = s.roles(t.levels)
        return ("assignee" in t.roles and s.is_assignee()) or (
            bool(held & set(t.roles)) and any("cases.act" in permissions_for(r) for r in held))

    def offer(self, s: Situation) -> ActionInfo | None:
        t = self.t
        if not s.open or s.case.state not in t.sources:
            return None
        if "assignee_required" in t.guards and s.case.assignee_id is None:
            return None
        if not self.holds_role(s):
            return None
        if "four_eyes" in t.guards and s.user.id is not None and s.user.id in earlier_hands(s.case):
            return None
        if "from_above" in t.guards and not parking.from_above(s, t):
            return None
        if "other_hand" in t.guards and s.user.id is not None and s.user.id == stepped_in_by(s.case):
            return None
        fields = parking.with_reported_defaults(s.ctype, t, s.case) if "set_tier" in t.effects else t.fields
        return ActionInfo(t.name, t.title, "comment_required" in t.guards, fields)

    def why_not(self, s: Situation) -> str | None:
        """Why an approval is refused to someone who otherwise holds the role (no self-approval)."""
        t = self.t
        if not s.open or s.case.state not in t.sources or not (s.roles() & set(t.roles)):
            return None
        if "four_eyes" in t.guards and s.user.id in earlier_hands(s.case):
            return "不能审批本人提交或申请的事项，须由他人办理"
        if "from_above" in t.guards and not parking.from_above(s, t):
            return "须由事项所属单位的上级单位审批"
        if "dispatched_unit" in t.guards and not s.in_dispatched_unit(t.roles):
            return f"「{t.title}」须由承办单位（事项派往的单位）办理"
        if "other_hand" in t.guards and s.user.id == stepped_in_by(s.case):
            return "不能审核本人办理的环节，须由他人办理"
        if "case_unit" in t.guards and not s.roles(t.levels, paths=[s.case.org.path]) & set(t.roles):
            return "须由受理单位办理（承办单位不能审核本单位的答复）"
        return None

    def _check_guards(self, s: Situation) -> None:
        guards = self.t.guards  # attachment_required: photos.claim counts this step's own files
        if "all_checked_in" in guards:
            missing = [p.org.name for p in s.summoned() if p.checked_in_at is None]
            if missing or not s.summoned():
                raise Invalid([("", "尚有部门未报到：" + "、".join(missing) if missing else "尚未吹哨通知任何部门",
                                         "all_checked_in")])
        if "all_rated" in guards:
            missing = [p.org.name for p in s.summoned() if p.rating is None]
            if missing:
                raise Invalid([("", "请先逐一评价报到部门：" + "、".join(missing), "all_rated")])

    def apply(self, s: Situation, fields: dict, comment: str, now: datetime) -> Outcome:
        t, case = self.t, s.case
        self._check_guards(s)
        photos.claim(s, t, fields)  # the step's own files; before_after_photos, attachment_required
        out = Outcome(values={"state": t.target}, changes=dict(fields), internal=False)
        data = case.data  # set_tier writes the confirmed values back into it
        dispatched_to, told = None, set()  # for the declared ``notify`` (effects tell their own)
        parking.check_review_on(fields, now)
        if "set_tier" in t.effects:
            tier_values, tier_changes, data = parking.regrade(s, t, fields, now)
            out.values.update(tier_values)
            out.changes.update(tier_changes)
        if "set_review" in t.effects:
            out.values.update(parking.review_values(case, fields))
            out.changes["review_on"] = out.values["review_on"].isoformat()
        if "assign_actor" in t.effects:
            out.values["assignee_id"] = s.user.id
            out.assigned = s.user.username
            if case.responded_at is None:
                out.values["responded_at"] = now
        if "unassign" in t.effects:
            out.values["assignee_id"] = None
        if "dispatch" in t.effects:
            unit = routed_unit(s, fields.get("unit", ""), "/fields/unit")
            out.changes["unit_name"] = unit.name
            add_participant(case, unit, "handler", s.user, now)
            dispatched_to, staff = unit.id, unit_staff([unit.id])
            told.update(staff)
            out.in_transaction.append(_notify(case, "dispatch", f"事项 {case.number} 已派至{unit.name}，请签收办理",
                                              staff, [unit.id]))
        if "summon" in t.effects:
            units = [routed_unit(s, code, f"/fields/units/{i}") for i, code in enumerate(fields.get("units", []))]
            limit = checkin.limit_for(s.ctype, case.data)  # by category: 应急 natural minutes, else working hours
            due = checkin.due_at(limit, now, case.org.path)
            for unit in units:
                add_participant(case, unit, "summoned", s.user, now, checkin_due=due)
            out.changes["unit_names"] = [u.name for u in units]
            out.changes["checkin_due"] = due.isoformat()
            out.changes["checkin_limit"] = limit
            summoned = unit_staff([u.id for u in units])
            told.update(summoned)
            out.in_transaction.append(_notify(
                case, "summon", f"吹哨报到：请于{checkin.describe(limit)}内（{due.astimezone(LOCAL_TZ):%m月%d日 %H:%M}前）"
                f"就事项 {case.number} 报到", summoned, [u.id for u in units]))
        if t.deadline:
            out.values.update(sla.restart(case, t.deadline, now, s.ctype.due_soon))  # due_at stays
            out.changes["deadline_limit"] = t.deadline
        if "pause_sla" in t.effects:
            out.values.update(sla.pause(case, now))
        if "resume_sla" in t.effects:
            out.values.update(sla.resume(case, now, s.ctype.due_soon))
            out.values.update(review_on=None, review_reminded_on=None)  # the review date belonged to the pause
        if "notify" in t.effects:
            told.add("reporter")
            out.in_transaction.append(_notify(case, t.name, f"您的事项 {case.number} 有新进展：{t.title}", ["reporter"]))
        if "record_rating" in t.effects and fields.get("satisfied") in RATING_CODES:
            out.values.update(rating=fields["satisfied"], rated_at=now)  # the resident's answer at 回访
        if s.ctype.is_final(t.target):  # after a resume (销号) it closes against the resumed deadline
            out.values.update(sla.close(parking.Overlay(case, out.values), now))
        if out.changes:
            out.values["data"] = {**data, f"_{t.name}": out.changes}
        elif data is not case.data:
            out.values["data"] = data
        steps.apply(s, t, fields, out, now)  # a step's own limit (签收 …); "sla": "stop"
        if t.notify:
            out.in_transaction.append(_notify_declared(s, t, out, dispatched_to, told))
        return out


# ---- built-in actions -------------------------------------------------------------------


class Builtin:
    name = ""
    title = ""
    needs_comment = False
    needs_version = True

    def info(self, fields: dict | None = None) -> ActionInfo:
        return ActionInfo(self.name, self.title, self.needs_comment, fields, self.needs_version, True)

    def why_not(self, s) -> str | None:
        """Why the action is not offered, when that is worth telling (else the generic answer)."""
        return None


def past_deadline(case: Case) -> bool:
    """The case's deadline has passed: it stays passed (no extension can move it any more)."""
    return case.deadline is not None and utcnow() > case.deadline


class Claim(Builtin):
    name, title = "claim", "认领"

    def offer(self, s):
        if s.open and s.case.assignee_id is None and s.may_act(s.handling_paths):
            return self.info()
        return None

    def apply(self, s, fields, comment, now):
        values = {"assignee_id": s.user.id}
        if s.case.responded_at is None:
            values["responded_at"] = now
        return Outcome(values=values, changes={"assignee": s.user.username}, where=(Case.assignee_id.is_(None),),
                       conflict=conflict_claimed(), assigned=s.user.username)


def assignable_users(s: Situation) -> list[User]:
    """People who may act on the case: members of its units, of the units above them, and of
    the units below them (a community assigns its grid workers); mediators where the type names them."""
    handlers = ("staff", "grid_worker", "department", "supervisor",
                *(r for r in TYPE_BOUND_ROLES if r in s.ctype.named_roles))

    paths = s.paths
    covering = sa.or_(*(sa.literal(p).startswith(OrgUnit.path) for p in paths),
                      Scope(tuple(paths)).clause(OrgUnit.path))
    users = db.scalars(
        sa.select(User).join(Membership, Membership.user_id == User.id)
        .join(OrgUnit, Membership.org_id == OrgUnit.id)
        .where(User.active, OrgUnit.active, covering,
               Membership.role.in_(handlers))
        .order_by(User.username).distinct().limit(200)
    )
    return list(users)


class Assign(Builtin):
    name, title = "assign", "指派 / 转办"

    def offer(self, s):
        if not s.open or not (s.is_assignee() or s.roles() & {"staff", "supervisor", "admin", "leader"}):
            return None
        options = [{"const": u.username, "title": u.label} for u in assignable_users(s)
                   if u.id != s.case.assignee_id] if s.choices else []
        return self.info({"type": "object", "additionalProperties": False, "properties": {
            "assignee": {"type": "string", "title": "指派给（办理人）", "oneOf": options} if options
            else {"type": "string", "title": "指派给（办理人）"},
            "unit": {"type": "string", "title": "或转办至单位", "minLength": 1, "maxLength": 32}}})

    def apply(self, s, fields, comment, now):
        case = s.case
        if fields.get("assignee"):
            user = db.scalar(sa.select(User).where(User.username == fields["assignee"], User.active))
            if user is None or user.id not in {u.id for u in assignable_users(s)}:
                raise Invalid([("/fields/assignee", "该人员不能办理此事项（不在事项所属单位或其上级单位）", "enum")])
            return Outcome(values={"assignee_id": user.id}, changes={"assignee": user.username},
                           assigned=user.username,
                           in_transaction=[_notify(case, "assign", f"事项 {case.number} 已指派给您办理", [user.username])])
        if fields.get("unit"):
            unit = routed_unit(s, fields["unit"], "/fields/unit")
            add_participant(case, unit, "handler", s.user, now)
            return Outcome(values={"assignee_id": None}, changes={"unit": unit.code, "unit_name": unit.name},
                           assigned="", in_transaction=[_notify(case, "assign", f"事项 {case.number} 已转办至{unit.name}",
                                                                 unit_staff([unit.id]), [unit.id])])
        raise Invalid([("/fields/assignee", "请选择办理人，或填写转办单位", "required")])


class Urge(Builtin):
    name, title, needs_comment = "urge", "催办", True

    def offer(self, s):
        return self.info() if s.open and not s.is_assignee() and s.supervises() else None

    def apply(self, s, fields, comment, now):
        case = s.case
        recipients = [case.assignee.username] if case.assignee else unit_staff([case.org_id])
        return Outcome(values={"urge_count": Case.urge_count + 1}, changes={"urge_count": case.urge_count + 1},
                       in_transaction=[_notify(case, "urge", f"请加快办理事项 {case.number}（第{case.urge_count + 1}次催办）",
                                               recipients)])


# 延期 (docs/domain.md): before the deadline, at most ``max_extensions`` approved per case
# (default 1), together at most ``max_extension_ratio`` of the limit (default 1.0: up to the
# original limit); a later one is decided a level higher than the first.
MAX_EXTENSIONS = 1
MAX_EXTENSION_RATIO = 1.0
EXTENSION_DECIDERS = ("admin", "supervisor", "leader", "staff")
SECOND_EXTENSION_MESSAGE = "再次延期须由更高一级审批：事项所属单位上两级（或县级）的领导、督办或调度人员"


def _setting(name: str, default, kind):
    from flask import current_app

    raw = current_app.extensions["fengqiao.settings"].extra.get(name, default)
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        return default
    return value if value >= 0 else default


def extension_limits() -> tuple[int, float]:
    """(approved 延期 allowed per case, cap on their total as a share of the limit)."""
    return _setting("max_extensions", MAX_EXTENSIONS, int), _setting("max_extension_ratio", MAX_EXTENSION_RATIO, float)


def extension_room(case: Case) -> float:
    """How much more the case may still be extended, in its limit's unit."""
    ratio = extension_limits()[1]
    unit = sla.unit_of(case.sla_limit)
    room = ratio * float(case.sla_limit[unit]) - float(case.extended_total or 0)
    return max(0.0, room if unit == "hours" else float(int(room + 1e-9)))


def extension_refusal(case: Case, amount: float | None = None) -> str | None:
    """Why no (further) extension of ``amount`` may be granted, or None."""
    most, ratio = extension_limits()
    done = case.extension_count or 0
    if done >= most:
        return (f"本事项已延期 {done} 次，已达上限（每件事项最多延期 {most} 次）" if most
                else "按本单位规定，事项不能延期")
    room = extension_room(case)
    cap = f"延期合计不得超过 {sla.amount_text(ratio * float(case.sla_limit[sla.unit_of(case.sla_limit)]), case.sla_limit)}" \
          f"（原办理时限 {sla.limit_text(case.sla_limit)}）"
    if room <= 1e-9:
        return f"{cap}，本事项已无可延长的时间"
    if amount is not None and float(amount) > room + 1e-9:
        return f"{cap}，本事项最多还可延长 {sla.amount_text(room, case.sla_limit)}"
    return None


def may_decide_extension(s: Situation) -> bool:
    """The first 延期 is decided by whoever supervises the case (a unit above it, a supervisor,
    or a leader over it); a later one only two levels above the case's own unit (a grid's case:
    the street; a community's: the county) — or at the top unit when there is none that high."""
    own = s.case.org
    if not (s.case.extension_count or 0):
        return s.supervises() or "leader" in s.roles(paths=[own.path])
    for m in s.user.memberships:
        if not (m.org.active and own.path.startswith(m.org.path) and m.role in EXTENSION_DECIDERS):
            continue
        if own.depth - m.org.depth >= 2 or (own.depth < 2 and m.org.depth == 0 and m.role != "staff"):
            return True
    return False


def _extension_fields(limit: dict) -> dict:
    amount = ({"type": "number", "title": "延长小时数", "exclusiveMinimum": 0, "maximum": 720}
              if sla.unit_of(limit) == "hours" else
              {"type": "integer", "title": "延长工作日数", "minimum": 1, "maximum": 60})
    return {"type": "object", "required": ["amount"], "additionalProperties": False,
            "properties": {"amount": amount}}


class RequestExtension(Builtin):
    name, title, needs_comment = "request_extension", "申请延期", True

    def offer(self, s):
        case = s.case
        if not s.open or case.sla_limit is None or case.pending_extension or case.paused_at or past_deadline(case):
            return None
        if steps.clock_stopped(case):  # the clock ended at the agreement: nothing left to extend
            return None
        if not (s.is_assignee() or s.may_act()) or extension_refusal(case):
            return None
        return self.info(_extension_fields(case.sla_limit))

    def why_not(self, s):
        if s.open and s.case.sla_limit is not None and past_deadline(s.case):
            return "办理期限已过，不能再申请延期（延期须在期限届满前申请，超期事项按超期统计）"
        if s.open and s.case.sla_limit is not None and not s.case.pending_extension:
            return extension_refusal(s.case)
        return None

    def apply(self, s, fields, comment, now):
        if reason := extension_refusal(s.case, fields["amount"]):
            raise Invalid([("/fields/amount", reason, "extension_limit")])
        pending = {"amount": fields["amount"], "unit": sla.unit_of(s.case.sla_limit), "by": s.user.username,
                   "by_id": s.user.id, "reason": comment, "at": now.isoformat()}
        return Outcome(values={"pending_extension": pending}, changes={"amount": fields["amount"],
                                                                        "unit": pending["unit"]})


class DecideExtension(Builtin):
    needs_comment = False
    approve = True

    def offer(self, s):
        pending = s.case.pending_extension
        if not s.open or not pending or pending.get("by_id") == s.user.id or not may_decide_extension(s):
            return None
        if self.approve and past_deadline(s.case):
            return None  # the request waited past the deadline: it can only be rejected
        return self.info()

    def why_not(self, s):
        pending = s.case.pending_extension
        if not s.open or not pending:
            return None
        if self.approve and past_deadline(s.case):
            return "办理期限已过，该延期申请已失效，只能驳回"
        if pending.get("by_id") == s.user.id:
            return "不能审批本人提出的延期申请"
        if (s.case.extension_count or 0) and s.supervises():
            return SECOND_EXTENSION_MESSAGE
        return None

    def apply(self, s, fields, comment, now):
        pending = s.case.pending_extension
        values: dict = {"pending_extension": None}
        if self.approve:
            if reason := extension_refusal(s.case, pending["amount"]):  # the settings may have changed since
                raise Invalid([("", reason, "extension_limit")])
            values.update(sla.extend(s.case, pending["amount"], now, s.ctype.due_soon))
        return Outcome(values=values, changes={"amount": pending["amount"], "unit": pending["unit"],
                                               "approved": self.approve,
                                               "extension_count": values.get("extension_count",
                                                                             s.case.extension_count or 0)},
                       in_transaction=[_notify(s.case, self.name, f"事项 {s.case.number} 的延期申请{self.title[:2]}",
                                               [pending["by"]])])


class ApproveExtension(DecideExtension):
    name, title, approve = "approve_extension", "同意延期", True


class RejectExtension(DecideExtension):
    name, title, approve, needs_comment = "reject_extension", "驳回延期", False, True


class Escalate(Builtin):
    """上报: the case's own level (from its unit up to the one holding it now) hands it one
    level up, into that unit's 上报 queue; not again within the cool-down (escalation.py)."""

    name, title, needs_comment = "escalate", "上报上级", True

    def _may(self, s) -> bool:
        own_level = on_own_level(s.user, s.case) and s.may_act([s.case.org.path])  # (a mediator: dispute types only)
        return s.open and (s.is_assignee() or own_level) and next_unit(s.case) is not None

    def offer(self, s):
        return self.info() if self._may(s) and cooling_until(s.case, utcnow()) is None else None

    def why_not(self, s):
        until = cooling_until(s.case, utcnow()) if self._may(s) else None
        return cooling_reason(s.case, until) if until else None

    def apply(self, s, fields, comment, now):
        unit = next_unit(s.case)
        return Outcome(values={"escalated_to_id": unit.id, "escalation_level": s.case.escalation_level + 1,
                               "escalated_at": now},
                       changes={"unit": unit.code, "unit_name": unit.name, "level": LEVEL_TITLES[unit.level]},
                       escalated_to=unit.code,
                       in_transaction=[_notify(s.case, "escalate", f"事项 {s.case.number} 已上报至{unit.name}",
                                               unit_staff([unit.id]), [unit.id])])


class Supervise(Builtin):
    """督办: a supervision order issued from a unit above the one holding the case. It moves
    nothing; it is recorded with the issuing unit and sent to the handler (the case page
    shows a 督办 badge)."""

    name, title, needs_comment, needs_version = "supervise", "督办", True, False

    def offer(self, s):
        return self.info() if s.open and supervising_unit(s.user, s.case) is not None else None

    def apply(self, s, fields, comment, now):
        case, unit = s.case, supervising_unit(s.user, s.case)
        handlers = [case.org_id, *(p.org_id for p in s.participants if p.role == "handler")]
        recipients = [case.assignee.username] if case.assignee else unit_staff(handlers)
        return Outcome(changes={"unit": unit.code, "unit_name": unit.name},
                       in_transaction=[_notify(case, "supervise", f"{unit.name}督办事项 {case.number}：{comment}",
                                               recipients, handlers)])


class Merge(Builtin):
    name, title, needs_comment = "merge", "合并重复件", True

    def offer(self, s):
        if not s.open or not (s.roles() & {"staff", "supervisor", "admin"}):
            return None
        return self.info({"type": "object", "required": ["into"], "additionalProperties": False,
                          "properties": {"into": {"type": "string", "title": "并入事项编号", "minLength": 3,
                                                  "maxLength": 40}}})

    def apply(self, s, fields, comment, now):
        target = visible_case(fields["into"].strip(), scope_for(s.user, "cases.view"))
        if target is None or target.id == s.case.id:
            raise Invalid([("/fields/into", "找不到可并入的事项（编号有误或无权查看）", "unknown_case")])
        if target.type != s.case.type or case_type(target.type, target.workflow_version).is_final(target.state):
            raise Invalid([("/fields/into", "只能并入同类型、尚未办结的事项", "merge_target")])

        def note_on_target(_event_id: int) -> None:
            db.execute(sa.insert(CaseEvent).values(
                case_id=target.id, at=now, actor_id=s.user.id, action="merged_from", from_state=target.state,
                to_state=target.state, comment=comment, changes={"case": s.case.number}, internal=True))

        values = {"state": MERGED, "merged_into_id": target.id, "assignee_id": None, **sla.close(s.case, now)}
        return Outcome(values=values, changes={"into": target.number}, internal=False,
                       in_transaction=[note_on_target])


class Comment(Builtin):
    name, title, needs_comment, needs_version = "comment", "批注 / 答复群众", True, False

    def offer(self, s):
        return self.info({"type": "object", "additionalProperties": False, "properties": {
            "public": {"type": "boolean", "title": "作为答复对群众公开"}}}) if s.may_act() else None

    def apply(self, s, fields, comment, now):
        public = bool(fields.get("public"))
        out = Outcome(changes={"public": public}, internal=not public)
        if public:
            out.in_transaction.append(_notify(s.case, "reply", f"您的事项 {s.case.number} 有新的答复", ["reporter"]))
        return out


class Reopen(Builtin):
    name, title, needs_comment = "reopen", "重办", True

    def offer(self, s):
        closed = not s.open and s.case.state != MERGED
        return self.info() if closed and s.roles() & {"staff", "supervisor", "admin", "leader"} else None

    def apply(self, s, fields, comment, now):
        reopen(s.case.id, reason=comment, actor=s.user, by_resident=False)
        return Outcome(takes_over=True)


class ReportIn(Builtin):
    """吹哨报到: a summoned unit's member checks in for the unit."""

    name, title = "report_in", "报到"

    def _mine(self, s) -> list[CaseParticipant]:
        # a member of the summoned unit itself (or a unit under it): the street that summoned
        # 澄湖派出所 sits above it but cannot check in on its behalf
        return [p for p in s.summoned() if p.checked_in_at is None and any(
            m.org.active and m.org.path.startswith(p.org.path) and "cases.act" in permissions_for(m.role)
            for m in s.user.memberships)]

    def offer(self, s):
        return self.info() if s.open and self._mine(s) else None

    def apply(self, s, fields, comment, now):
        units = self._mine(s)
        late = [p.org.name for p in units if p.checkin_due and now > p.checkin_due]
        for p in units:
            db.execute(sa.update(CaseParticipant).where(CaseParticipant.id == p.id,
                                                        CaseParticipant.checked_in_at.is_(None))
                       .values(checked_in_at=now, checked_in_by_id=s.user.id))
        values = {"responded_at": now} if s.case.responded_at is None else {}
        return Outcome(values=values, changes={"units": [p.org.code for p in units],
                                               "unit_names": [p.org.name for p in units], "late": late})


class RateUnit(Builtin):
    """吹哨报到: the initiating side rates each unit that checked in."""

    name, title = "rate_unit", "评价报到部门"
    RATINGS = ("满意", "基本满意", "不满意")

    def offer(self, s):
        todo = [p for p in s.summoned() if p.checked_in_at is not None and p.rating is None]
        own = s.roles(paths=[s.case.org.path]) & {"staff", "supervisor", "admin"}
        if not s.open or not todo or not own or s.case.state == s.ctype.initial_state:
            return None
        return self.info({"type": "object", "required": ["unit", "rating"], "additionalProperties": False,
                          "properties": {
                              "unit": {"type": "string", "title": "报到部门",
                                       "oneOf": [{"const": p.org.code, "title": p.org.name} for p in todo]},
                              "rating": {"type": "string", "title": "评价", "enum": list(self.RATINGS)}}})

    def apply(self, s, fields, comment, now):
        participant = next(p for p in s.summoned() if p.org.code == fields["unit"])
        db.execute(sa.update(CaseParticipant).where(CaseParticipant.id == participant.id)
                   .values(rating=fields["rating"], rated_at=now))
        return Outcome(changes={"unit": participant.org.code, "unit_name": participant.org.name,
                                "rating": fields["rating"]})


BUILTIN: dict[str, Builtin] = {a.name: a for a in (
    Claim(), Assign(), ReportIn(), RequestExtension(), ApproveExtension(), RejectExtension(),
    Urge(), Escalate(), Supervise(), Merge(), RateUnit(), Comment(), Reopen())}
