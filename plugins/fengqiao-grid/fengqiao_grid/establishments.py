"""Units at an address (实有单位): shops, companies, organisations, with their credit code
checked (GB 32100) and the next safety inspection due. Services flush; the request commits."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.errors import Invalid
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.privacy import mask_mobile, mask_name
from fengqiao.sdk.web import credit_code_problem

from fengqiao_grid.access import MANAGE, address_in_scope
from fengqiao_grid.checks import schema_problems
from fengqiao_grid.models import CATEGORIES, GridAddress, GridEstablishment

UNIT_BODY = {
    "type": "object", "additionalProperties": False, "required": ["address", "name", "category"],
    "properties": {
        "address": {"type": "integer", "title": "地址", "minimum": 1},
        "name": {"type": "string", "title": "单位名称", "minLength": 1, "maxLength": 100},
        "credit_code": {"type": "string", "title": "统一社会信用代码", "maxLength": 20},
        "category": {"type": "string", "title": "单位类别", "enum": list(CATEGORIES)},
        "contact_name": {"type": "string", "title": "联系人", "maxLength": 50},
        "contact_mobile": {"type": "string", "format": "cn-mobile", "title": "联系电话"},
        "safety_due": {"type": "string", "format": "date", "title": "下次安全检查"},
    },
}


def add_unit(data: dict, actor: str) -> GridEstablishment:
    """A unit at an address of the caller's grids (the address first: another grid's is 404)."""
    ident = data.get("address")
    address = address_in_scope(ident, MANAGE, "/address") if isinstance(ident, int) and not isinstance(
        ident, bool) else None
    data = dict(data)
    for key in ("name", "credit_code", "contact_name"):
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    if isinstance(data.get("credit_code"), str):
        data["credit_code"] = data["credit_code"].upper()
    problems = schema_problems(UNIT_BODY, data)
    code = data.get("credit_code") or ""
    if isinstance(code, str) and code and not any(p[0] == "/credit_code" for p in problems):
        message = credit_code_problem(code)
        if message:
            problems.append(("/credit_code", message, "credit_code"))
    if isinstance(data.get("name"), str) and not data["name"] and not any(p[0] == "/name" for p in problems):
        problems.append(("/name", "请填写单位名称", "required"))
    if problems:
        raise Invalid(problems)
    due = data.get("safety_due") or None
    unit = GridEstablishment(address_id=address.id, name=data["name"], credit_code=code or None,
                             category=data["category"], contact_name=data.get("contact_name") or "",
                             contact_mobile=data.get("contact_mobile") or "",
                             safety_due=date.fromisoformat(due) if due else None, created_at=utcnow(),
                             created_by=actor)
    db.add(unit)
    db.flush()
    return unit


def units_at(address: GridAddress) -> list[GridEstablishment]:
    return list(db.scalars(sa.select(GridEstablishment).where(GridEstablishment.address_id == address.id)
                           .order_by(GridEstablishment.id)))


def unit_json(unit: GridEstablishment, label: str = "") -> dict:
    return {"id": unit.id, "name": unit.name, "credit_code": unit.credit_code, "category": unit.category,
            "category_label": CATEGORIES[unit.category], "address": {"id": unit.address_id, "label": label},
            "contact_name": mask_name(unit.contact_name) if unit.contact_name else "",
            "contact_mobile": mask_mobile(unit.contact_mobile) if unit.contact_mobile else "",
            "safety_due": unit.safety_due.isoformat() if unit.safety_due else None}
