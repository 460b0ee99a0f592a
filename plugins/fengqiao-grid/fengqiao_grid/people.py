"""Households and people (实有人口): registering a person at a room, moving in and out, care
tags, the household's rental, and the special groups behind their own permission.

A person's stays are ``GridResidence`` rows: moving in adds one, moving out closes the open one
with its date — once; nothing is overwritten, so a room's and a person's history can be read
back. Special-group records are read and written only with ``grid.special``, and every read
and write of them is a row in the audit log (never the value). Services flush; the request
commits.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.errors import Conflict, Invalid
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.privacy import audit, mask_id_card, mask_mobile, mask_name, mask_text
from fengqiao.sdk.web import id_card_problem, validate
from fengqiao.sdk.workdays import today_local

from fengqiao_grid.access import MANAGE, VIEW, address_in_scope, addresses_in_scope
from fengqiao_grid.checks import schema_problems
from fengqiao_grid.models import (
    CARE_TAGS,
    RELATIONS,
    RESIDENCE_TYPES,
    SPECIAL_GROUPS,
    GridAddress,
    GridHousehold,
    GridPerson,
    GridResidence,
    GridSpecialRecord,
)

MOBILE = {"type": "string", "format": "cn-mobile", "title": "手机号"}  # leave it out when there is none
DAY = {"type": "string", "format": "date"}
PERSON_BODY = {
    "type": "object", "additionalProperties": False,
    "required": ["address", "name", "id_card", "relation", "residence_type"],
    "properties": {
        "address": {"type": "integer", "title": "地址（户）", "minimum": 1},
        "name": {"type": "string", "title": "姓名", "minLength": 1, "maxLength": 50},
        "id_card": {"type": "string", "title": "身份证号", "minLength": 1, "maxLength": 20},
        "relation": {"type": "string", "title": "与户主关系", "enum": list(RELATIONS)},
        "residence_type": {"type": "string", "title": "居住类型", "enum": list(RESIDENCE_TYPES)},
        "mobile": MOBILE,
        "moved_in": {**DAY, "title": "迁入日期"},
        "care_tags": {"type": "array", "title": "关怀对象", "uniqueItems": True, "maxItems": len(CARE_TAGS),
                      "items": {"type": "string", "enum": list(CARE_TAGS)}},
    },
}
MOVE_IN_BODY = {
    "type": "object", "additionalProperties": False, "required": ["address", "relation", "residence_type"],
    "properties": {
        "address": {"type": "integer", "title": "迁入地址（户）", "minimum": 1},
        "relation": PERSON_BODY["properties"]["relation"],
        "residence_type": PERSON_BODY["properties"]["residence_type"],
        "moved_in": {**DAY, "title": "迁入日期"},
    },
}
MOVE_OUT_BODY = {
    "type": "object", "additionalProperties": False, "required": ["moved_out"],
    "properties": {
        "moved_out": {**DAY, "title": "迁出日期"},
        "reason": {"type": "string", "title": "迁出原因", "maxLength": 200},
    },
}
CARE_BODY = {
    "type": "object", "additionalProperties": False, "required": ["care_tags"],
    "properties": {"care_tags": PERSON_BODY["properties"]["care_tags"]},
}
RENTAL_BODY = {
    "type": "object", "additionalProperties": False, "required": ["rented"],
    "properties": {
        "rented": {"type": "boolean", "title": "出租房"},
        "landlord_name": {"type": "string", "title": "房东姓名", "maxLength": 50},
        "landlord_mobile": {**MOBILE, "title": "房东手机号"},
    },
}
SPECIAL_BODY = {
    "type": "object", "additionalProperties": False, "required": ["group"],
    "properties": {
        "group": {"type": "string", "title": "特殊人群类别", "enum": list(SPECIAL_GROUPS)},
        "note": {"type": "string", "title": "说明", "maxLength": 1000},
    },
}


def _day(value, pointer: str, label: str, problems: list, default: date | None = None) -> date | None:
    """A ``YYYY-MM-DD`` date not after today (the schema checked its shape)."""
    if not value:
        return default
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return None  # the schema reported it
    if day > today_local():
        problems.append((pointer, f"{label}不能晚于今天", "future"))
    return day


def normalise_id_card(value) -> str:
    return value.strip().upper() if isinstance(value, str) else value


def born_on(id_card: str) -> date:
    return date(int(id_card[6:10]), int(id_card[10:12]), int(id_card[12:14]))


def age(person: GridPerson, on: date | None = None) -> int:
    on = on or today_local()
    born = person.birth_date
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def current_residence(person_id: int) -> GridResidence | None:
    return db.scalar(sa.select(GridResidence).where(GridResidence.person_id == person_id,
                                                    GridResidence.moved_out_on.is_(None)))


def residences(person_id: int) -> list[GridResidence]:
    return list(db.scalars(sa.select(GridResidence).where(GridResidence.person_id == person_id)
                           .order_by(GridResidence.moved_in_on.desc(), GridResidence.id.desc())))


def household_at(address: GridAddress, create: bool = False) -> GridHousehold | None:
    household = db.scalar(sa.select(GridHousehold).where(GridHousehold.address_id == address.id))
    if household is None and create:
        household = GridHousehold(address_id=address.id, rented=False, landlord_name="", landlord_mobile="",
                                  created_at=utcnow())
        db.add(household)
        db.flush()
    return household


def _room(data: dict, pointer: str = "/address") -> GridAddress | None:
    """The room named in the body, loaded in the caller's scope first (another grid's room is
    the uniform 404 at ``pointer``); None when the body names none (the schema says so)."""
    ident = data.get("address")
    if not isinstance(ident, int) or isinstance(ident, bool):
        return None
    return address_in_scope(ident, MANAGE, pointer)


def _tags(values) -> str:
    return ",".join(k for k in CARE_TAGS if k in (values or ()))


def _check_head(address: GridAddress, relation: str) -> None:
    """A household has one head at a time: refuse a second before anything is written."""
    household = household_at(address)
    if relation != "head" or household is None or household.head_person_id is None:
        return
    head = current_residence(household.head_person_id)
    if head is not None and head.household_id == household.id:
        raise Invalid([("/relation", "该户已有户主，请选择其他关系（原户主迁出后可登记新户主）", "head_exists")])


def _settle(person: GridPerson, address: GridAddress, relation: str, kind: str, moved_in: date,
            actor: str) -> GridResidence:
    household = household_at(address, create=True)
    if relation == "head":
        household.head_person_id = person.id
    stay = GridResidence(person_id=person.id, household_id=household.id, address_id=address.id, relation=relation,
                         residence_type=kind, moved_in_on=moved_in, moved_out_reason="", recorded_by=actor,
                         recorded_at=utcnow())
    db.add(stay)
    person.address_id = address.id
    db.flush()
    return stay


def add_person(data: dict, actor: str) -> GridPerson:
    """Register a person living at a room (the household is made with the first person)."""
    address = _room(data)
    data = {**data, "id_card": normalise_id_card(data.get("id_card"))}
    if isinstance(data.get("name"), str):
        data["name"] = data["name"].strip()
    problems = schema_problems(PERSON_BODY, data)
    card = data.get("id_card")
    if isinstance(card, str) and card and not any(p[0] == "/id_card" for p in problems):
        message = id_card_problem(card)
        if message:
            problems.append(("/id_card", message, "id_card"))
    moved_in = _day(data.get("moved_in"), "/moved_in", "迁入日期", problems, default=today_local())
    if address is not None and address.kind != "room":
        problems.append(("/address", "只能登记到具体的户（门牌）", "not_a_room"))
    if problems:
        raise Invalid(problems)
    if moved_in < born_on(card):
        raise Invalid([("/moved_in", "迁入日期早于出生日期", "before_birth")])
    _check_head(address, data["relation"])
    # One open stay per person: someone already living at an address the caller can see is
    # moved there from their own page (a stay elsewhere, out of the caller's sight, says nothing).
    living = db.scalar(
        sa.select(GridAddress.label).join(GridResidence, GridResidence.address_id == GridAddress.id)
        .join(GridPerson, GridPerson.id == GridResidence.person_id)
        .where(GridPerson.id_card == card, GridResidence.moved_out_on.is_(None), addresses_in_scope(VIEW)).limit(1))
    if living is not None:
        raise Conflict(f"此人已登记在住（{living}），请先在其人员页面办理迁出", code="already_resident")
    person = GridPerson(name=data["name"], id_card=card, gender="M" if int(card[16]) % 2 else "F",
                        birth_date=born_on(card), mobile=data.get("mobile") or "", address_id=address.id,
                        care_tags=_tags(data.get("care_tags")), created_at=utcnow(), created_by=actor)
    db.add(person)
    db.flush()
    _settle(person, address, data["relation"], data["residence_type"], moved_in, actor)
    return person


def move_out(person: GridPerson, data: dict, actor: str) -> GridResidence:
    """Close the person's open stay with its date (once: a second move-out is a 409)."""
    problems = schema_problems(MOVE_OUT_BODY, data)
    day = _day(data.get("moved_out"), "/moved_out", "迁出日期", problems)
    if problems:
        raise Invalid(problems)
    stay = current_residence(person.id)
    if stay is None:
        raise Conflict("此人已迁出", code="not_resident")
    if day < stay.moved_in_on:
        raise Invalid([("/moved_out", f"迁出日期不能早于迁入日期（{stay.moved_in_on.isoformat()}）", "before_move_in")])
    stay.moved_out_on, stay.moved_out_reason, stay.closed_by = day, (data.get("reason") or "").strip(), actor
    household = db.get(GridHousehold, stay.household_id)
    if household.head_person_id == person.id:
        household.head_person_id = None
    db.flush()
    return stay


def move_in(person: GridPerson, data: dict, actor: str) -> GridResidence:
    """A new stay at a room (the person must have moved out of the last one first)."""
    address = _room(data)
    problems = schema_problems(MOVE_IN_BODY, data)
    day = _day(data.get("moved_in"), "/moved_in", "迁入日期", problems, default=today_local())
    if address is not None and address.kind != "room":
        problems.append(("/address", "只能迁入具体的户（门牌）", "not_a_room"))
    if problems:
        raise Invalid(problems)
    if current_residence(person.id) is not None:
        raise Conflict("此人尚未迁出原住址，请先办理迁出", code="still_resident")
    last = db.scalar(sa.select(sa.func.max(GridResidence.moved_out_on)).where(GridResidence.person_id == person.id))
    if last and day < last:
        raise Invalid([("/moved_in", f"迁入日期不能早于上次迁出日期（{last.isoformat()}）", "before_move_out")])
    _check_head(address, data["relation"])
    return _settle(person, address, data["relation"], data["residence_type"], day, actor)


def set_care_tags(person: GridPerson, data: dict, actor: str) -> None:
    validate(CARE_BODY, data)
    before = person.care_tags
    person.care_tags = _tags(data["care_tags"])
    if before != person.care_tags:
        address = db.get(GridAddress, person.address_id)
        audit("grid.care_tags", record=f"grid-person:{person.id}", org=address.grid_code, actor=actor,
              detail={"tags": person.care_tags.split(",") if person.care_tags else []})
    db.flush()


def set_rental(household: GridHousehold, data: dict) -> None:
    """Mark the household's room as an 出租房 (with its landlord), or not."""
    validate(RENTAL_BODY, data)
    household.rented = data["rented"]
    household.landlord_name = (data.get("landlord_name") or "").strip() if data["rented"] else ""
    household.landlord_mobile = (data.get("landlord_mobile") or "") if data["rented"] else ""
    if household.rented and not household.landlord_name:
        raise Invalid([("/landlord_name", "出租房请填写房东姓名", "required")])
    db.flush()


def _grid_of(person: GridPerson) -> str:
    return db.get(GridAddress, person.address_id).grid_code


def special_records(person: GridPerson, actor: str) -> list[dict]:
    """The person's special-group records (masked), and a row in the audit log saying who looked.
    Call only for a person loaded with ``grid.special``."""
    rows = list(db.scalars(sa.select(GridSpecialRecord).where(GridSpecialRecord.person_id == person.id)
                           .order_by(GridSpecialRecord.id)))
    audit("grid.special_view", record=f"grid-person:{person.id}", org=_grid_of(person), actor=actor,
          detail={"records": len(rows)})
    return [{"id": r.id, "group": r.group_key, "group_label": SPECIAL_GROUPS[r.group_key], "note": mask_text(r.note),
             "created_at": r.created_at.isoformat(), "created_by": r.created_by} for r in rows]


def add_special(person: GridPerson, data: dict, actor: str) -> GridSpecialRecord:
    validate(SPECIAL_BODY, data)
    row = GridSpecialRecord(person_id=person.id, group_key=data["group"], note=(data.get("note") or "").strip(),
                            created_at=utcnow(), created_by=actor)
    db.add(row)
    db.flush()
    audit("grid.special_add", record=f"grid-person:{person.id}", org=_grid_of(person), actor=actor,
          detail={"group": data["group"]})
    return row


def person_json(person: GridPerson) -> dict:
    """A person as every output shows them: name, ID number and mobile masked."""
    stays = residences(person.id)
    labels = dict(db.execute(sa.select(GridAddress.id, GridAddress.label)
                             .where(GridAddress.id.in_({s.address_id for s in stays} | {person.address_id}))).all())
    current = next((s for s in stays if s.moved_out_on is None), None)
    return {
        "id": person.id, "name": mask_name(person.name), "id_card": mask_id_card(person.id_card),
        "gender": "男" if person.gender == "M" else "女", "age": age(person),
        "mobile": mask_mobile(person.mobile) if person.mobile else "",
        "address": {"id": person.address_id, "label": labels.get(person.address_id, "")},
        "resident": current is not None,
        "relation": current.relation if current else None,
        "residence_type": current.residence_type if current else None,
        "care_tags": [k for k in person.care_tags.split(",") if k],
        "residences": [{"address": s.address_id, "label": labels.get(s.address_id, ""), "relation": s.relation,
                        "residence_type": s.residence_type, "moved_in": s.moved_in_on.isoformat(),
                        "moved_out": s.moved_out_on.isoformat() if s.moved_out_on else None,
                        "reason": mask_text(s.moved_out_reason)} for s in stays],
    }


def household_members(household: GridHousehold, current: bool = True) -> list[tuple[GridResidence, GridPerson]]:
    """The household's stays with their people: the current ones, or the ended ones."""
    stmt = (sa.select(GridResidence, GridPerson).join(GridPerson, GridPerson.id == GridResidence.person_id)
            .where(GridResidence.household_id == household.id))
    stmt = stmt.where(GridResidence.moved_out_on.is_(None) if current else GridResidence.moved_out_on.is_not(None))
    return [tuple(row) for row in db.execute(stmt.order_by(GridResidence.relation != "head", GridResidence.id))]
