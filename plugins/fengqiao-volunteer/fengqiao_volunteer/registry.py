"""Registering volunteers, teams and 双报到 units (the API, the staff pages and the phone
sign-up page all come through here, so the checks are the same everywhere)."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, ValidationFailed, not_found
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import Scope, get_in_scope, org_unit
from fengqiao.sdk.web import validate
from fengqiao.sdk.workdays import today_local
from sqlalchemy.exc import IntegrityError

from fengqiao_volunteer.models import ReportUnit, Team, Volunteer
from fengqiao_volunteer.rules import ADULT_AGE, MAX_ID, age_on, birth_date

VOLUNTEER_SCHEMA = {
    "type": "object",
    "required": ["name", "id_card", "org"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "title": "姓名", "minLength": 1, "maxLength": 50},
        "id_card": {"type": "string", "title": "身份证号", "format": "cn-id-card"},
        "mobile": {"type": ["string", "null"], "title": "手机号", "format": "cn-mobile"},
        "org": {"type": "string", "title": "所在社区", "minLength": 1, "maxLength": 40},
        "guardian_consent": {"type": "boolean", "title": "监护人同意"},
        "guardian_name": {"type": ["string", "null"], "title": "监护人姓名", "maxLength": 50},
        "skills": {"type": ["string", "null"], "title": "技能特长", "maxLength": 200},
        "availability": {"type": ["string", "null"], "title": "服务时间", "maxLength": 200},
        "party_member": {"type": "boolean", "title": "党员"},
        "double_report": {"type": "boolean", "title": "在职党员双报到"},
        "report_unit": {"type": ["integer", "null"], "title": "报到单位", "minimum": 1, "maximum": MAX_ID},
        "team": {"type": ["integer", "null"], "title": "所属队伍", "minimum": 1, "maximum": MAX_ID},
    },
}

UNIT_SCHEMA = {
    "type": "object",
    "required": ["name", "org"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "title": "单位名称", "minLength": 1, "maxLength": 100},
        "org": {"type": "string", "title": "报到社区", "minLength": 1, "maxLength": 40},
        "contact_name": {"type": ["string", "null"], "title": "联系人", "maxLength": 50},
        "contact_mobile": {"type": ["string", "null"], "title": "联系电话", "format": "cn-mobile"},
    },
}

TEAM_SCHEMA = {
    "type": "object",
    "required": ["name", "org"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "title": "队伍名称", "minLength": 1, "maxLength": 100},
        "org": {"type": "string", "title": "所属单位", "minLength": 1, "maxLength": 40},
        "leader": {"type": ["integer", "null"], "title": "队长（志愿者编号）", "minimum": 1, "maximum": MAX_ID},
    },
}


def clean(data: dict) -> dict:
    """Trim strings and drop empty ones, so a blank optional field counts as absent."""
    if not isinstance(data, dict):
        raise ValidationFailed([("", "提交的内容应为 JSON 对象", "type")])
    out = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
        out[key] = value
    return out


def org_path_in(code: str, scope: Scope | None, pointer: str = "/org") -> str:
    """The unit's path, checking it exists and (for staff) lies in their scope."""
    unit = org_unit(code)
    if unit is None or not unit.active:
        raise ValidationFailed([(pointer, "所选单位不存在", "enum")])
    if scope is not None and not scope.contains(unit.path):
        raise ValidationFailed([(pointer, "该单位不在您的管辖范围内", "forbidden")])
    return unit.path


def managed_volunteer(volunteer_id, pointer: str = "/volunteer") -> Volunteer:
    """A volunteer the signed-in staff manage (``volunteer.manage`` over their unit), else the
    uniform 404, before anything about them (age, enrolments) is looked at or said."""
    return get_in_scope(Volunteer, volunteer_id, "volunteer.manage", pointer=pointer)


def _referenced(model, ident: int, scope: Scope | None, pointer: str, label: str):
    """A row a body field refers to. Staff (``scope``) get the uniform 404 for a missing row and
    for another unit's alike (two answers would tell which ids exist); the demo loader (no
    scope) gets the field message."""
    row = db.get(model, ident) if 0 < ident <= MAX_ID else None
    if scope is not None and (row is None or not scope.contains(row.org_path)):
        raise not_found(pointer)
    if row is None:
        raise ValidationFailed([(pointer, f"{label}不存在", "enum")])
    return row


def register_volunteer(data: dict, *, scope: Scope | None, actor: str | None) -> Volunteer:
    """Validate and store a volunteer; a minor (age from the ID) needs a guardian's consent."""
    data = clean(data)
    if isinstance(data.get("id_card"), str):
        data["id_card"] = data["id_card"].upper()
    validate(VOLUNTEER_SCHEMA, data)
    path = org_path_in(data["org"], scope)
    id_card = data["id_card"]
    if age_on(id_card, today_local()) < ADULT_AGE and not data.get("guardian_consent"):
        raise ValidationFailed([("/guardian_consent", f"未满 {ADULT_AGE} 周岁的志愿者须经监护人同意后登记",
                                 "guardian_consent")])
    for key, model, label in (("report_unit", ReportUnit, "报到单位"), ("team", Team, "队伍")):
        if data.get(key) is not None:
            _referenced(model, data[key], scope, f"/{key}", label)
    if db.scalar(sa.select(Volunteer.id).where(Volunteer.id_card == id_card)):
        raise APIError(409, [("/id_card", "该身份证号已登记为志愿者", "duplicate")])
    volunteer = Volunteer(
        name=data["name"], id_card=id_card, birth_date=birth_date(id_card), mobile=data.get("mobile"),
        org=data["org"], org_path=path, skills=data.get("skills"), availability=data.get("availability"),
        guardian_consent=bool(data.get("guardian_consent")), guardian_name=data.get("guardian_name"),
        party_member=bool(data.get("party_member") or data.get("double_report")),
        double_report=bool(data.get("double_report")), report_unit_id=data.get("report_unit"),
        team_id=data.get("team"), created_by=actor,
    )
    db.add(volunteer)
    try:
        db.commit()
    except IntegrityError:  # registered at the same moment by someone else
        db.rollback()
        raise APIError(409, [("/id_card", "该身份证号已登记为志愿者", "duplicate")]) from None
    return volunteer


def find_by_identity(name: str, id_card: str) -> Volunteer | None:
    """The volunteer with this ID number and name (phone pages identify people this way)."""
    volunteer = db.scalar(sa.select(Volunteer).where(Volunteer.id_card == id_card.strip().upper()))
    if volunteer is None or volunteer.name != name.strip():
        return None
    return volunteer


def register_unit(data: dict, *, scope: Scope | None, actor: str | None) -> ReportUnit:
    data = clean(data)
    validate(UNIT_SCHEMA, data)
    path = org_path_in(data["org"], scope)
    unit = ReportUnit(name=data["name"], org=data["org"], org_path=path, contact_name=data.get("contact_name"),
                      contact_mobile=data.get("contact_mobile"), created_by=actor)
    db.add(unit)
    db.commit()
    return unit


def create_team(data: dict, *, scope: Scope | None) -> Team:
    data = clean(data)
    validate(TEAM_SCHEMA, data)
    path = org_path_in(data["org"], scope)
    leader = data.get("leader")
    if leader is not None:
        _referenced(Volunteer, leader, scope, "/leader", "志愿者")
    team = Team(name=data["name"], org=data["org"], org_path=path, leader_id=leader)
    db.add(team)
    db.flush()
    if leader is not None:
        db.get(Volunteer, leader).team_id = team.id
    db.commit()
    return team
