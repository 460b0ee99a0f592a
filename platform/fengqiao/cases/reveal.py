"""Reveal one personal field of a case in full: an explicit, audited act with a reason.

The API (``POST /api/v1/cases/{number}/reveal``) and the case page's button both call
:func:`reveal`, so the checks and the audit row are the same for both: 404 for a case the
caller cannot see, 403 without ``cases.reveal`` for the case's unit or for a field the form
hides from the caller's unit (``ui.hidden_from_handler``: only the accepting level may; both
attempts are audited too), 422 without a reason or for a pointer that names no value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fengqiao import audit
from fengqiao.cases import queries
from fengqiao.cases.visibility import REVEAL, case_definition
from fengqiao.exceptions import Forbidden, Invalid, NotFound
from fengqiao.masking import HIDDEN_KIND, mask_as, schema_at
from fengqiao.models import Case, User
from fengqiao.orgs.scope import scope_for
from fengqiao.params import parse_int

MAX_REASON = 500
MAX_POINTER = 200


@dataclass(frozen=True)
class Revealed:
    field: str
    value: Any
    label: str

    def to_json(self) -> dict:
        return {"field": self.field, "value": self.value}


def _parts(pointer: str) -> list[str]:
    """RFC 6901: ``/parties/0/mobile`` → ``["parties", "0", "mobile"]``."""
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def _value_at(data: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and parse_int(part, len(data)) < len(data):
            data = data[parse_int(part)]
        else:
            return None
    return data


def _schema_of(case: Case, user: User) -> dict:
    """The case's schema with personal marks, and hidden marks unless ``user`` may reveal
    at the case's accepting level (``cases.visibility``)."""
    definition = case_definition(case, user, REVEAL)
    return definition["schema"] if definition else {}


def _checked_input(field: Any, reason: Any) -> tuple[str, str]:
    problems = []
    if not isinstance(field, str) or not field.startswith("/") or len(field) > MAX_POINTER:
        problems.append(("/field", "请指明要查看的字段（JSON 指针，如 /caller_mobile）", "pointer"))
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        problems.append(("/reason", "请填写查看完整个人信息的理由", "required"))
    elif len(reason) > MAX_REASON:
        problems.append(("/reason", f"理由不能超过 {MAX_REASON} 个字", "too_long"))
    if problems:
        raise Invalid(problems)
    return field, reason


def reveal(number: str, user: User, field: Any, reason: Any) -> Revealed:
    """The full value at ``field`` of case ``number``; raises NotFound, Forbidden or Invalid."""
    case = queries.visible_case(number, scope_for(user, "cases.view"))
    if case is None:
        raise NotFound()
    if queries.visible_case(number, scope_for(user, audit.REVEAL_PERMISSION)) is None:
        audit.record("case.reveal", user=user, outcome="denied", case_number=case.number, org=case.org,
                     field=field if isinstance(field, str) else "",
                     reason=reason.strip()[:MAX_REASON] if isinstance(reason, str) else "")
        raise Forbidden("您的角色无权查看完整个人信息", code="forbidden")
    field, reason = _checked_input(field, reason)
    parts = _parts(field)
    # Hidden from the caller's unit unless it is the accepting level *with* the reveal right.
    schema, kind = schema_at(_schema_of(case, user), parts)
    if kind == HIDDEN_KIND:
        audit.record("case.reveal", user=user, outcome="denied", case_number=case.number, org=case.org,
                     field=field, reason=reason, detail={"hidden_from_handler": True})
        raise Forbidden("该信息已对承办单位隐藏，仅受理单位可以申请查看", code="hidden_from_handler", pointer="/field")
    value = _value_at(case.data, parts)
    if value is None or value == "" or isinstance(value, (dict, list)):
        raise Invalid([("/field", "该字段不存在、没有内容或不是单个值", "no_value")])
    if mask_as(kind, value) == value:
        raise Invalid([("/field", "该字段未脱敏，无需申请查看", "not_masked")])
    audit.record("case.reveal", user=user, case_number=case.number, org=case.org,
                 record_ref=f"case:{case.number}", field=field, reason=reason)
    return Revealed(field, value, schema.get("title", field) if isinstance(schema, dict) else field)
