"""An order pushed by an external 12345 platform becomes a case, once per (source, number).

The integration account (role ``integration``, permission ``cases.inbound``) is a member of
the unit whose subtree it may send orders to; a member of a dispatch centre (the county
12345 centre, a department) sends like the unit above it, as in ``fengqiao.cases.routing``.
The order opens a 民生诉求 case through the normal submission path (the form's validation,
SLA clock from ``received_at``, history) and an ``ExternalOrder`` row links the two.

Idempotent: the same (source, number) answers the case opened first. Two concurrent
requests with the same number open one case: on PostgreSQL a transaction-scoped advisory
lock orders them; everywhere the unique constraint of ``external_orders`` is the backstop
(the loser's SAVEPOINT rolls back and it answers the winner's case).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from fengqiao.db import current_session, db, utcnow
from fengqiao.exceptions import Conflict, Invalid, NotFound
from fengqiao.models import Case, CaseEvent, OrgUnit
from fengqiao.models.delivery import ExternalOrder
from fengqiao.orgs.scope import Scope, _minimal

PERMISSION = "cases.inbound"
CHANNEL = "inbound"  # the submission's channel (web | api | import | inbound)
EVENT = "inbound"  # the internal history row that records the order (number, reply_by)
# source → the form its orders are submitted to (one form per external system).
SOURCES = {"12345": "livelihood-request"}
ORDER_NUMBER_PATTERN = r"^[A-Za-z0-9-]{4,40}$"  # the form's 12345 工单号 (external_number)
REQUEST_TYPES = {"consult": "咨询", "help": "求助", "complaint": "投诉", "report": "举报", "suggestion": "建议"}
URGENCIES = {"normal": "一般", "urgent": "紧急", "critical": "特急"}
# Body fields copied into the form's data under the same name.
FORM_FIELDS = ("request_type", "urgency", "summary", "content", "caller_name", "caller_mobile", "address",
               "received_at", "contact_consent")
NOT_FOUND_MESSAGE = "未找到该工单（来源或工单号有误，或不在本账户的辖区内）"


def _choice(values: dict[str, str], title: str) -> dict:
    return {"type": "string", "title": title, "oneOf": [{"const": k, "title": v} for k, v in values.items()]}


ORDER_BODY = {
    "type": "object",
    "properties": {
        "source": {"type": "string", "title": "来源系统", "enum": list(SOURCES)},
        "order_number": {"type": "string", "title": "工单号", "pattern": ORDER_NUMBER_PATTERN,
                         "description": "4–40 位字母、数字或连字符；同一来源内唯一"},
        "received_at": {"type": "string", "title": "受理时间", "format": "date-time",
                        "description": "12345 平台受理时间（RFC 3339，须带时区，如 2026-12-07T09:30:00+08:00）；"
                                       "办理期限从此时起算，须在近 30 天内、不晚于当前时间"},
        "request_type": _choice(REQUEST_TYPES, "诉求类型"),
        "urgency": _choice(URGENCIES, "紧急程度"),
        "summary": {"type": "string", "title": "诉求标题", "minLength": 1, "maxLength": 100},
        "content": {"type": "string", "title": "诉求内容", "minLength": 1, "maxLength": 3000},
        "caller_name": {"type": "string", "title": "来电人姓名", "minLength": 1, "maxLength": 50},
        "caller_mobile": {"type": "string", "title": "来电人手机号", "format": "cn-mobile"},
        "contact_consent": {"type": "boolean", "title": "来电人同意通过短信接收办理进展"},
        "address": {"type": "string", "title": "事发地址", "maxLength": 200},
        "org": {"type": "string", "title": "派往单位代码", "minLength": 1, "maxLength": 32,
                "description": "本账户所属单位辖区内的属地单位（社区/村、街道/乡镇等）"},
        "reply_by": {"type": "string", "title": "要求答复时间", "format": "date-time",
                     "description": "12345 平台要求的答复时间（选填，须晚于受理时间）：记入事项历史供承办人参考，"
                                    "查询接口原样返回；办理期限仍按事项类型计算"},
    },
    "required": ["source", "order_number", "received_at", "request_type", "summary", "content", "caller_name",
                 "caller_mobile", "org"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Received:
    """The answer to a pushed order: its case, and whether this request opened it."""

    order: ExternalOrder
    case: Case
    created: bool

    def to_json(self) -> dict:
        from fengqiao.cases.case_types import case_type

        case = self.case
        ctype = case_type(case.type, case.workflow_version)
        return {"created": self.created, "source": self.order.source, "order_number": self.order.number,
                "case_number": case.number, "tracking_code": case.tracking_code, "state": case.state,
                "state_title": ctype.state_title(case.state), "org": case.org.code,
                "deadline": case.deadline.isoformat() if case.deadline else None}


def inbound_scope(user) -> Scope:
    """The subtrees ``user`` may send orders to: its ``cases.inbound`` units, a dispatch
    centre standing for the unit above it (as for acting on cases)."""
    from fengqiao.cases.routing import acting_units

    return Scope(_minimal({unit.path for unit in acting_units(user, PERMISSION)}))


def find_order(source: str, number: str) -> ExternalOrder | None:
    return db.scalar(sa.select(ExternalOrder).where(ExternalOrder.source == source, ExternalOrder.number == number))


def _visible(order: ExternalOrder | None, scope: Scope) -> tuple[ExternalOrder, Case] | None:
    if order is None:
        return None
    case = db.get(Case, order.case_id)
    return (order, case) if case is not None and scope.contains(case.org.path) else None


def _target(code: str, scope: Scope) -> OrgUnit:
    unit = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))
    if unit is None or not unit.active:
        raise Invalid([("/org", f"单位 {code} 不存在或已停用", "unknown_org")])
    if not scope.contains(unit.path):
        raise Invalid([("/org", f"无权向{unit.name}派送工单：只能派往本账户所属单位辖区内的单位", "out_of_jurisdiction")])
    return unit


def _when(body: dict, name: str) -> datetime | None:
    from fengqiao.workcalendar.rules import to_local

    raw = body.get(name)
    if not isinstance(raw, str):
        return None
    try:
        return to_local(datetime.fromisoformat(raw))
    except (ValueError, OverflowError):
        raise Invalid([(f"/{name}", "请输入有效的日期时间", "format")]) from None


def _lock(source: str, number: str) -> None:
    """Serialise concurrent requests for one order (PostgreSQL; SQLite writes one at a time)."""
    session = current_session()
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"inbound\0{source}\0{number}".encode()).digest()
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                    {"key": int.from_bytes(digest[:8], "big", signed=True)})


def _existing(source: str, number: str, scope: Scope) -> Received | None:
    order = find_order(source, number)
    if order is None:
        return None
    found = _visible(order, scope)
    if found is None:  # another unit's order under this number: say nothing about it
        raise Conflict("该工单号已由其他单位接收，请核对工单号", code="order_taken", pointer="/order_number")
    return Received(found[0], found[1], created=False)


def _form_data(body: dict) -> dict:
    data = {name: body[name] for name in FORM_FIELDS if name in body}
    data["external_number"] = body["order_number"]
    return data


def _pointer(ptr: str) -> str:
    """A form field's pointer as the order's (the form's 工单号 is ``order_number`` here)."""
    return "/order_number" + ptr[len("/external_number"):] if ptr.startswith("/external_number") else ptr


def receive(user, body: dict) -> Received:
    """Open the case of order ``body`` (already checked against :data:`ORDER_BODY`), or answer
    the case it opened before. Runs in the caller's transaction (the request commits)."""
    from fengqiao.forms import store
    from fengqiao.forms.submit import submit

    source, number = body["source"], body["order_number"]
    scope = inbound_scope(user)
    if earlier := _existing(source, number, scope):
        return earlier
    unit = _target(body["org"], scope)
    received_at, reply_by = _when(body, "received_at"), _when(body, "reply_by")
    if reply_by is not None and received_at is not None and reply_by <= received_at:
        raise Invalid([("/reply_by", "要求答复时间应晚于受理时间", "reply_by_order")])
    _lock(source, number)
    if earlier := _existing(source, number, scope):  # a concurrent request opened it meanwhile
        return earlier
    version = store.require_usable(SOURCES[source], user)
    session = current_session()
    try:
        with session.begin_nested():
            try:
                result = submit(version, _form_data(body), user, CHANNEL, unit.code)
            except Invalid as err:
                raise Invalid([(_pointer(p), m, c) for p, m, c in err.problems]) from None
            order = ExternalOrder(source=source, number=number, case_id=result.case_id, created_at=utcnow())
            session.add(order)
            session.flush()
            case = db.get(Case, result.case_id)
            session.add(CaseEvent(
                case_id=case.id, at=utcnow(), actor_id=user.id, action=EVENT, from_state=case.state,
                to_state=case.state, internal=True,
                comment=f"自 {source} 平台接收工单 {number}" + (f"，要求 {reply_by:%Y-%m-%d %H:%M} 前答复" if reply_by else ""),
                changes={"source": source, "order_number": number,
                         "reply_by": reply_by.isoformat() if reply_by else None}))
            session.flush()
    except IntegrityError:
        if earlier := _existing(source, number, scope):  # lost the race to a concurrent request
            return earlier
        raise
    return Received(order, case, created=True)


def status(user, source: str, number: str) -> dict:
    """What the external system may pull about its order: state, the public timeline (no staff
    names or internal notes), the latest reply, closure; NotFound outside the account's scope."""
    from fengqiao.cases.tracking import public_view

    found = _visible(find_order(source, number), inbound_scope(user))
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE, code="not_found")
    order, case = found
    view = public_view(case)
    recorded = db.scalar(sa.select(CaseEvent.changes).where(CaseEvent.case_id == case.id, CaseEvent.action == EVENT)
                         .order_by(CaseEvent.id).limit(1)) or {}
    replies = view["replies"]
    return {"source": order.source, "order_number": order.number, "case_number": case.number,
            "state": view["state"], "state_title": view["state_title"], "closed": view["closed"],
            "closed_at": view["closed_at"], "deadline": view["deadline"], "reply_by": recorded.get("reply_by"),
            "reply": replies[-1]["text"] if replies else None, "replies": replies,
            "history": [{k: step[k] for k in ("at", "kind", "label", "state", "state_title", "reply")}
                        for step in view["timeline"]]}
