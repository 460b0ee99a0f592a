"""JSON routes under ``/api/v1/p/grid/`` (staff token or session), each documented.

Errors use the one shape ``{"errors":[{"pointer","message","code"}]}``. An object in the path
or the body outside the caller's grids is the uniform 404; a grid named in the body is a 422
at ``/grid``. Personal data is masked in every answer.
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import not_found
from fengqiao.sdk.orgs import org_in_scope
from fengqiao.sdk.privacy import mask_mobile, mask_name
from fengqiao.sdk.web import current_user, document, json_body, paginate, query, requires
from flask import Blueprint, request

from fengqiao_grid import addresses, establishments, people
from fengqiao_grid.access import (
    MANAGE,
    SPECIAL,
    VIEW,
    address_in_scope,
    addresses_in_scope,
    household_in_scope,
    person_in_scope,
)
from fengqiao_grid.exports import people_workbook
from fengqiao_grid.models import KINDS, GridAddress, GridEstablishment

api = Blueprint("grid_api", __name__)
TAG = "grid"
PAGE = 50
OBJECT = {"type": "object"}
GRID_Q = query("grid", "网格编码（只看这个网格）")
NOT_IN_SCOPE = "不存在或不在您的网格内"


def _body() -> dict:
    return json_body(OBJECT)


def _grid_arg() -> str | None:
    """``?grid=``: a grid of the caller's, else the uniform 404 (it names an object)."""
    grid = (request.args.get("grid") or "").strip() or None
    if grid is not None and not org_in_scope(grid, VIEW):
        raise not_found("/grid")
    return grid


def address_json(a: GridAddress) -> dict:
    return {"id": a.id, "code": a.code, "label": a.label, "grid": a.grid_code, "kind": a.kind}


def address_detail(a: GridAddress) -> dict:
    out = {**address_json(a), "parent": a.parent_id,
           "children": [address_json(c) for c in addresses.children(a)],
           "moves": [{"from": m.from_grid, "to": m.to_grid, "at": m.moved_at.isoformat(), "by": m.actor}
                     for m in addresses.moves(a)]}
    if a.kind in ("building", "entrance"):
        out["keeper"] = {"user": a.keeper_user, "name": mask_name(a.keeper_name) if a.keeper_name else "",
                         "mobile": mask_mobile(a.keeper_mobile) if a.keeper_mobile else ""}
    if a.kind == "room":
        household = people.household_at(a)
        out["household"] = None if household is None else {
            "id": household.id, "head": household.head_person_id, "rented": household.rented,
            "landlord_name": mask_name(household.landlord_name) if household.landlord_name else "",
            "landlord_mobile": mask_mobile(household.landlord_mobile) if household.landlord_mobile else "",
            "members": [{"id": p.id, "name": mask_name(p.name), "relation": s.relation,
                         "residence_type": s.residence_type, "moved_in": s.moved_in_on.isoformat()}
                        for s, p in people.household_members(household)]}
        out["units"] = [establishments.unit_json(u, a.label) for u in establishments.units_at(a)]
    return out


@api.post("/addresses/bulk")
@requires(MANAGE)
def bulk_addresses():
    return addresses.bulk_create_once(_body(), current_user.username), 201


document("/p/grid/addresses/bulk", "post", "批量生成标准地址（小区 → 楼栋 → 单元 → 户；重复提交不会重复生成）", tag=TAG,
         body=addresses.BULK_BODY,
         responses={201: "{estate, created, existing, rooms}", 401: "需登录", 403: "需要 grid.manage 权限",
                    409: "同一批地址正在由他人生成，请稍后重试",
                    422: f"字段错误；/grid 网格不在辖区内；一次超过 {addresses.MAX_ROOMS} 户"})


@api.get("/addresses")
@requires(VIEW)
def list_addresses():
    kind = request.args.get("kind") or None
    stmt = addresses.search(sa.select(GridAddress).where(addresses_in_scope(VIEW)), request.args.get("q"),
                            _grid_arg(), kind if kind in KINDS else None)
    page = paginate(stmt, GridAddress.id, limit=PAGE, descending=False)
    return {"items": [address_json(a) for a in page.items], "next_cursor": page.next_cursor}


document("/p/grid/addresses", "get", "标准地址（按地址文字搜索，每页 50 条）", tag=TAG,
         params=[GRID_Q, query("q", "地址包含的文字，如“3幢1单元”"), query("kind", "estate / building / entrance / room"),
                 query("cursor", "上一页返回的 next_cursor")],
         responses={200: "{items: [{id, code, label, grid, kind}], next_cursor}", 401: "需登录",
                    404: f"网格{NOT_IN_SCOPE}"})


@api.get("/addresses/<int:address_id>")
@requires(VIEW)
def get_address(address_id: int):
    return address_detail(address_in_scope(address_id, VIEW))


document("/p/grid/addresses/{address_id}", "get", "地址详情：下级地址、楼栋长/单元管家、住户（脱敏）、单位", tag=TAG,
         responses={200: "{id, code, label, grid, kind, parent, children, moves, keeper?, household?, units?}",
                    401: "需登录", 404: f"地址{NOT_IN_SCOPE}"})


@api.post("/addresses/<int:address_id>/keeper")
@requires(MANAGE)
def set_keeper(address_id: int):
    address = address_in_scope(address_id, MANAGE)
    addresses.set_keeper(address, _body())
    return address_detail(address)


document("/p/grid/addresses/{address_id}/keeper", "post", "设置楼栋长（楼栋）或单元管家（单元）：账号，或姓名和手机号",
         tag=TAG, body=addresses.KEEPER_BODY,
         responses={200: "地址详情", 403: "需要 grid.manage 权限", 404: f"地址{NOT_IN_SCOPE}", 422: "字段错误"})


@api.post("/addresses/<int:address_id>/move")
@requires(MANAGE)
def move_address(address_id: int):
    address = address_in_scope(address_id, MANAGE)
    addresses.move(address, _body(), current_user.username)
    return address_detail(address)


document("/p/grid/addresses/{address_id}/move", "post", "网格调整：地址及其下级调整到另一网格（保留调整记录）", tag=TAG,
         body=addresses.MOVE_BODY,
         responses={200: "地址详情", 403: "需要 grid.manage 权限", 404: f"地址{NOT_IN_SCOPE}",
                    409: "目标网格已有相同编码的地址", 422: "/grid 网格不在辖区内或相同"})


@api.post("/people")
@requires(MANAGE)
def add_person():
    person = people.add_person(_body(), current_user.username)
    return {"id": person.id}, 201


document("/p/grid/people", "post", "登记实有人口（在某户迁入）", tag=TAG, body=people.PERSON_BODY,
         responses={201: "{id}", 403: "需要 grid.manage 权限", 404: f"/address 地址{NOT_IN_SCOPE}",
                    409: "此人已登记在该户", 422: "字段错误（/id_card 身份证号校验不通过 …）"})


@api.get("/people/<int:person_id>")
@requires(VIEW)
def get_person(person_id: int):
    return people.person_json(person_in_scope(person_id, VIEW))


document("/p/grid/people/{person_id}", "get", "人员信息（姓名、身份证号、手机号脱敏）与居住记录", tag=TAG,
         responses={200: "{id, name, id_card, gender, age, mobile, address, resident, relation, residence_type, "
                         "care_tags, residences}", 401: "需登录", 404: f"人员{NOT_IN_SCOPE}"})


@api.post("/people/<int:person_id>/move-out")
@requires(MANAGE)
def move_out(person_id: int):
    person = person_in_scope(person_id, MANAGE)
    people.move_out(person, _body(), current_user.username)
    return people.person_json(person)


document("/p/grid/people/{person_id}/move-out", "post", "迁出（记录迁出日期，不覆盖原记录）", tag=TAG,
         body=people.MOVE_OUT_BODY,
         responses={200: "人员信息", 404: f"人员{NOT_IN_SCOPE}", 409: "此人已迁出", 422: "字段错误"})


@api.post("/people/<int:person_id>/move-in")
@requires(MANAGE)
def move_in(person_id: int):
    person = person_in_scope(person_id, MANAGE)
    people.move_in(person, _body(), current_user.username)
    return people.person_json(person)


document("/p/grid/people/{person_id}/move-in", "post", "迁入另一户（新增居住记录）", tag=TAG, body=people.MOVE_IN_BODY,
         responses={200: "人员信息", 404: f"人员或 /address 地址{NOT_IN_SCOPE}", 409: "尚未迁出原住址",
                    422: "字段错误"})


@api.post("/people/<int:person_id>/care")
@requires(MANAGE)
def set_care(person_id: int):
    person = person_in_scope(person_id, MANAGE)
    people.set_care_tags(person, _body(), current_user.username)
    return people.person_json(person)


document("/p/grid/people/{person_id}/care", "post", "设置关怀对象标签（独居老人、高龄、残疾、低保 …）", tag=TAG,
         body=people.CARE_BODY, responses={200: "人员信息", 404: f"人员{NOT_IN_SCOPE}", 422: "字段错误"})


@api.get("/people/<int:person_id>/special")
@requires(SPECIAL)
def get_special(person_id: int):
    person = person_in_scope(person_id, SPECIAL)
    return {"items": people.special_records(person, current_user.username)}


document("/p/grid/people/{person_id}/special", "get", "特殊人群记录（需 grid.special 权限；每次查看记入审计日志）",
         tag=TAG, responses={200: "{items: [{id, group, group_label, note, created_at, created_by}]}",
                             403: "需要 grid.special 权限", 404: f"人员{NOT_IN_SCOPE}"})


@api.post("/people/<int:person_id>/special")
@requires(SPECIAL)
def add_special(person_id: int):
    person = person_in_scope(person_id, SPECIAL)
    row = people.add_special(person, _body(), current_user.username)
    return {"id": row.id}, 201


document("/p/grid/people/{person_id}/special", "post", "登记特殊人群类别（需 grid.special 权限；记入审计日志）", tag=TAG,
         body=people.SPECIAL_BODY,
         responses={201: "{id}", 403: "需要 grid.special 权限", 404: f"人员{NOT_IN_SCOPE}", 422: "字段错误"})


@api.post("/households/<int:household_id>/rental")
@requires(MANAGE)
def set_rental(household_id: int):
    household = household_in_scope(household_id, MANAGE)
    people.set_rental(household, _body())
    return {"id": household.id, "rented": household.rented}


document("/p/grid/households/{household_id}/rental", "post", "出租房登记（房东姓名、手机号）或取消", tag=TAG,
         body=people.RENTAL_BODY,
         responses={200: "{id, rented}", 404: f"住户{NOT_IN_SCOPE}", 422: "字段错误"})


@api.post("/units")
@requires(MANAGE)
def add_unit():
    unit = establishments.add_unit(_body(), current_user.username)
    return {"id": unit.id}, 201


document("/p/grid/units", "post", "登记实有单位（统一社会信用代码按 GB 32100 校验）", tag=TAG,
         body=establishments.UNIT_BODY,
         responses={201: "{id}", 403: "需要 grid.manage 权限", 404: f"/address 地址{NOT_IN_SCOPE}",
                    422: "字段错误（/credit_code 校验位不正确 …）"})


@api.get("/units")
@requires(VIEW)
def list_units():
    stmt = (sa.select(GridEstablishment, GridAddress.label).join(GridAddress, GridAddress.id == GridEstablishment.address_id)
            .where(addresses_in_scope(VIEW)))
    grid = _grid_arg()
    if grid:
        stmt = stmt.where(GridAddress.grid_code == grid)
    q = (request.args.get("q") or "").strip()[:50]
    if q:
        stmt = stmt.where(GridEstablishment.name.contains(q, autoescape=True))
    page = paginate(stmt, GridEstablishment.id, limit=PAGE, descending=False)
    return {"items": [establishments.unit_json(u, label) for u, label in page.items], "next_cursor": page.next_cursor}


document("/p/grid/units", "get", "实有单位（联系人脱敏，每页 50 条）", tag=TAG,
         params=[GRID_Q, query("q", "单位名称包含的文字"), query("cursor", "上一页返回的 next_cursor")],
         responses={200: "{items: [{id, name, credit_code, category, category_label, address, contact_name, "
                         "contact_mobile, safety_due}], next_cursor}", 401: "需登录", 404: f"网格{NOT_IN_SCOPE}"})


@api.get("/people/export.xlsx")
@requires(VIEW)
def export_people():
    return people_workbook(_grid_arg(), current_user.username)


document("/p/grid/people/export.xlsx", "get", "实有人口台账（在住人员，脱敏，中文表头，Excel）", tag=TAG, params=[GRID_Q],
         responses={200: "xlsx 文件", 401: "需登录", 404: f"网格{NOT_IN_SCOPE}"})
