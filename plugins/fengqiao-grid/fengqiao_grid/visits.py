"""The grid worker's records: 走访 (with photos, and a case spawned in one tap), 巡查 logs,
民情日记 entries and the monthly 矛盾纠纷排查 return (items found, or a confirmed 零报告).

A visit is made at an address in the caller's grids (``grid.manage``); its household is the
room's, a unit (实有单位) must be at that address. "Spawn a case" submits the core's
网格事件上报 form (``grid-incident``) through ``fengqiao.sdk.forms.submit_form`` for the
address's grid, as the worker — the same validation, numbering, routing, history and signals
as the form page — so the case lands in the grid's community queue with the address in its
data, and the visit row keeps the case number (the link between case, address and household).

Photos are checked before anything is decoded (count, then size), then by content
(``safe_image``: re-encoded without metadata). Services flush; the request commits.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.errors import Conflict, DomainError, Invalid, ValidationFailed
from fengqiao.sdk.files import safe_image
from fengqiao.sdk.forms import submit_form
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.privacy import mask_text
from fengqiao.sdk.workdays import today_local
from sqlalchemy.exc import IntegrityError

from fengqiao_grid.access import (
    MANAGE,
    address_in_scope,
    establishment_in_scope,
    grid_for,
    household_in_scope,
)
from fengqiao_grid.case_links import link_case
from fengqiao_grid.checks import schema_problems
from fengqiao_grid.models import GridAddress
from fengqiao_grid.models_visits import (
    CASE_CATEGORY,
    PURPOSES,
    GridDiaryEntry,
    GridDisputeReturn,
    GridPatrol,
    GridVisit,
    GridVisitPhoto,
)

ALREADY = "{month} 的矛盾纠纷排查情况已填报"
CASE_FORM = "grid-incident"  # the core's 网格事件上报
MAX_PHOTO = 1024 * 1024  # bytes of one photo
MAX_PHOTOS = 3
PHOTO_PROBLEM = "照片应为 1MB 以内的 JPG、PNG、GIF 或 WebP 图片"
DAY = {"type": "string", "format": "date"}
VISIT_BODY = {
    "type": "object", "additionalProperties": False, "required": ["address", "purpose"],
    "properties": {
        "address": {"type": "integer", "title": "走访地址", "minimum": 1},
        "unit": {"type": "integer", "title": "实有单位", "minimum": 1},
        "date": {**DAY, "title": "走访日期"},
        "purpose": {"type": "string", "title": "走访事项", "enum": list(PURPOSES)},
        "findings": {"type": "string", "title": "走访情况", "maxLength": 2000},
        "spawn_case": {"type": "boolean", "title": "同时上报网格事件"},
        # base64 of each picture; the length is checked before anything is decoded
        "photos": {"type": "array", "title": "照片", "maxItems": MAX_PHOTOS,
                   "items": {"type": "string", "maxLength": (MAX_PHOTO + 2) // 3 * 4}},
    },
}
PATROL_BODY = {
    "type": "object", "additionalProperties": False, "required": ["grid", "route"],
    "properties": {
        "grid": {"type": "string", "title": "网格", "maxLength": 32},
        "date": {**DAY, "title": "巡查日期"},
        "route": {"type": "string", "title": "巡查路线/区域", "minLength": 1, "maxLength": 200},
        "findings": {"type": "string", "title": "巡查发现", "maxLength": 2000},
    },
}
DIARY_BODY = {
    "type": "object", "additionalProperties": False, "required": ["grid", "text"],
    "properties": {
        "grid": {"type": "string", "title": "网格", "maxLength": 32},
        "date": {**DAY, "title": "日期"},
        "text": {"type": "string", "title": "民情日记", "minLength": 1, "maxLength": 2000},
        "household": {"type": "integer", "title": "涉及住户", "minimum": 1},
    },
}
RETURN_BODY = {
    "type": "object", "additionalProperties": False, "required": ["grid", "month", "zero_report"],
    "properties": {
        "grid": {"type": "string", "title": "网格", "maxLength": 32},
        "month": {"type": "string", "title": "月份", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
        "zero_report": {"type": "boolean", "title": "零报告"},
        "confirmed": {"type": "boolean", "title": "确认本月未发现矛盾纠纷"},
        "items_count": {"type": "integer", "title": "排查发现矛盾纠纷（件）", "minimum": 0, "maximum": 9999},
        "items_text": {"type": "string", "title": "矛盾纠纷情况", "maxLength": 4000},
    },
}


def _day(value, pointer: str, label: str, problems: list) -> date:
    """A ``YYYY-MM-DD`` date not after today; today when left out (the schema checked the shape)."""
    if not value:
        return today_local()
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return today_local()  # the schema reported it
    if day > today_local():
        problems.append((pointer, f"{label}不能晚于今天", "future"))
    return day


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def decode_photos(values, problems: list) -> list[bytes]:
    """The base64 pictures of an API body as bytes; the schema has already limited their count
    and length, so nothing oversized is decoded."""
    out = []
    for i, value in enumerate(values or []):
        try:
            out.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError, TypeError):
            problems.append((f"/photos/{i}", PHOTO_PROBLEM, "photo"))
    return out


def checked_photos(raw: list[bytes], problems: list, pointer: str = "/photos") -> list[tuple[bytes, str]]:
    """Each picture checked by size, then content, and re-encoded (``safe_image``)."""
    out = []
    for i, data in enumerate(raw[:MAX_PHOTOS + 1]):
        checked = safe_image(data) if data and len(data) <= MAX_PHOTO else None
        if checked is None:
            problems.append((f"{pointer}/{i}", PHOTO_PROBLEM, "photo"))
        else:
            out.append(checked)
    if len(raw) > MAX_PHOTOS:
        problems.append((pointer, f"照片最多 {MAX_PHOTOS} 张", "photos"))
    return out


def record_visit(data: dict, actor: str, raw_photos: list[bytes] | None = None) -> GridVisit:
    """Record a visit (and spawn its case when asked). ``raw_photos``: uploaded files (the
    page); an API body brings ``photos`` as base64. Everything is checked before anything is
    written, all field problems at once."""
    problems = schema_problems(VISIT_BODY, data)
    if problems and any(p[0] in ("", "/address") for p in problems):
        raise Invalid(problems)
    address = address_in_scope(data["address"], MANAGE, "/address")
    unit = None
    if data.get("unit") is not None and not any(p[0] == "/unit" for p in problems):
        unit = establishment_in_scope(data["unit"], MANAGE, "/unit")
        if unit.address_id != address.id:
            problems.append(("/unit", "该单位不在所选地址", "unit_elsewhere"))
    household = None
    if unit is None:
        from fengqiao_grid.people import household_at

        household = household_at(address) if address.kind == "room" else None
    visited_on = _day(data.get("date"), "/date", "走访日期", problems)
    findings = _text(data, "findings")
    spawn = data.get("spawn_case") is True
    if spawn and not findings:
        problems.append(("/findings", "上报网格事件时请填写走访情况（发现的问题）", "required"))
    if raw_photos is None:
        raw_photos = decode_photos(data.get("photos") if isinstance(data.get("photos"), list) else [], problems)
    photos = checked_photos(raw_photos, problems)
    if problems:
        raise Invalid(problems)
    visit = GridVisit(grid_code=address.grid_code, address_id=address.id,
                      household_id=household.id if household else None,
                      establishment_id=unit.id if unit else None, visited_on=visited_on, purpose=data["purpose"],
                      findings=findings, worker=actor, created_at=utcnow())
    db.add(visit)
    db.flush()
    for content, kind in photos:
        db.add(GridVisitPhoto(visit_id=visit.id, content_type=kind, data=content, created_at=utcnow()))
    if spawn:
        visit.case_number = spawn_case(visit, address, unit.name if unit else None, actor, len(photos))
    db.flush()
    return visit


def spawn_case(visit: GridVisit, address: GridAddress, unit_name: str | None, actor: str, photos: int) -> str:
    """Open a 网格事件上报 case for the visit's grid, as the worker, carrying the address."""
    where = f"{address.label}（{unit_name}）" if unit_name else address.label
    summary = f"{PURPOSES[visit.purpose]}发现：{visit.findings}"
    note = f"\n（走访记录 #{visit.id}，照片 {photos} 张，见网格走访记录）" if photos else f"\n（走访记录 #{visit.id}）"
    data = {"summary": summary[:100], "category": CASE_CATEGORY[visit.purpose], "urgency": "normal",
            "source": "网格巡查", "description": (visit.findings + note)[:2000],
            "location": {"address": where[:200], "building": address.code[:50]}}
    try:
        receipt = submit_form(CASE_FORM, data, org=address.grid_code, actor=actor, channel="web")
    except DomainError as err:  # the form refused what we built: say so at the field that caused it
        raise ValidationFailed([("/spawn_case", "网格事件上报失败：" + "；".join(m for _p, m, _c in err.problems),
                                 "case_refused")]) from err
    link_case(receipt["case_number"], address)  # before case_created goes out: the visit's room, not a guess
    return receipt["case_number"]


def visit_json(visit: GridVisit, label: str) -> dict:
    """A visit as the API shows it: findings masked (they may name people or numbers)."""
    photos = db.scalars(sa.select(GridVisitPhoto.id).where(GridVisitPhoto.visit_id == visit.id)
                        .order_by(GridVisitPhoto.id)).all()
    return {"id": visit.id, "grid": visit.grid_code, "address": {"id": visit.address_id, "label": label},
            "household": visit.household_id, "unit": visit.establishment_id, "date": visit.visited_on.isoformat(),
            "purpose": visit.purpose, "purpose_label": PURPOSES[visit.purpose], "findings": mask_text(visit.findings),
            "case_number": visit.case_number, "worker": visit.worker, "photos": list(photos)}


# --- 巡查 and 民情日记


def record_patrol(data: dict, actor: str) -> GridPatrol:
    problems = schema_problems(PATROL_BODY, data)
    grid = grid_for(data.get("grid"), MANAGE)
    day = _day(data.get("date"), "/date", "巡查日期", problems)
    route = _text(data, "route")
    if not route and not any(p[0] == "/route" for p in problems):
        problems.append(("/route", "请填写巡查路线/区域", "required"))
    if problems:
        raise Invalid(problems)
    row = GridPatrol(grid_code=grid.code, patrolled_on=day, route=route, findings=_text(data, "findings"),
                     worker=actor, created_at=utcnow())
    db.add(row)
    db.flush()
    return row


def record_diary(data: dict, actor: str) -> GridDiaryEntry:
    problems = schema_problems(DIARY_BODY, data)
    household = None
    if isinstance(data.get("household"), int) and not any(p[0] == "/household" for p in problems):
        household = household_in_scope(data["household"], MANAGE, "/household")  # an object: 404 first
    grid = grid_for(data.get("grid"), MANAGE)
    if household is not None and db.get(GridAddress, household.address_id).grid_code != grid.code:
        problems.append(("/household", "该住户不在所选网格", "household_elsewhere"))
    day = _day(data.get("date"), "/date", "日期", problems)
    text = _text(data, "text")
    if not text and not any(p[0] == "/text" for p in problems):
        problems.append(("/text", "请填写民情日记", "required"))
    if problems:
        raise Invalid(problems)
    row = GridDiaryEntry(grid_code=grid.code, written_on=day, text=text,
                         household_id=household.id if household else None, worker=actor, created_at=utcnow())
    db.add(row)
    db.flush()
    return row


# --- the monthly 矛盾纠纷排查 return


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def dispute_return(grid_code: str, month: str) -> GridDisputeReturn | None:
    return db.scalar(sa.select(GridDisputeReturn).where(GridDisputeReturn.grid_code == grid_code,
                                                        GridDisputeReturn.month == month))


def record_return(data: dict, actor: str) -> GridDisputeReturn:
    """The grid's return for a month: ``zero_report`` with ``confirmed`` (the worker ticks that
    nothing was found), or ``items_count`` ≥ 1 with ``items_text``. One per grid and month: a
    second is a conflict (409), never a silent overwrite."""
    problems = schema_problems(RETURN_BODY, data)
    grid = grid_for(data.get("grid"), MANAGE)
    month = data.get("month") if isinstance(data.get("month"), str) else ""
    if not any(p[0] == "/month" for p in problems) and month > month_of(today_local()):
        problems.append(("/month", "不能填报以后月份的排查情况", "future"))
    zero = data.get("zero_report") is True
    count = data.get("items_count") if isinstance(data.get("items_count"), int) else 0
    text = _text(data, "items_text")
    if zero:
        if data.get("confirmed") is not True:
            problems.append(("/confirmed", "零报告须勾选确认：本月已排查，未发现矛盾纠纷", "confirm"))
        if count:
            problems.append(("/items_count", "零报告时发现件数应为 0", "zero"))
    elif "zero_report" in data and not any(p[0] in ("/zero_report", "/items_count") for p in problems):
        if count < 1:
            problems.append(("/items_count", "请填写排查发现的矛盾纠纷件数（没有发现请选零报告）", "required"))
        if not text:
            problems.append(("/items_text", "请简要填写发现的矛盾纠纷情况", "required"))
    if problems:
        raise Invalid(problems)
    if dispute_return(grid.code, month) is not None:
        raise Conflict(ALREADY.format(month=month), code="already_reported", pointer="/month")
    row = GridDisputeReturn(grid_code=grid.code, month=month, zero_report=zero, confirmed=zero,
                            items_count=0 if zero else count, items_text="" if zero else text,
                            recorded_by=actor, recorded_at=utcnow())
    try:
        with db.begin_nested():  # two people filing the same month at once meet the unique key
            db.add(row)
            db.flush()
    except IntegrityError:
        raise Conflict(ALREADY.format(month=month), code="already_reported", pointer="/month") from None
    return row


def return_json(row: GridDisputeReturn | None) -> dict | None:
    if row is None:
        return None
    return {"id": row.id, "grid": row.grid_code, "month": row.month, "zero_report": row.zero_report,
            "confirmed": row.confirmed, "items_count": row.items_count, "items_text": mask_text(row.items_text),
            "recorded_by": row.recorded_by, "recorded_at": row.recorded_at.isoformat()}
