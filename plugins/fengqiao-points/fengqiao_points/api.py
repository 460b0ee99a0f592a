"""JSON routes under ``/api/v1/p/points/`` (staff token or session), each documented.

Errors use the one shape ``{"errors":[{"pointer","message","code"}]}``; overspending and
overselling answer 409 ``insufficient_points`` / ``out_of_stock``.
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, not_found
from fengqiao.sdk.models import db, utcnow, write_lock
from fengqiao.sdk.orgs import get_in_scope, org_unit, scope_for
from fengqiao.sdk.privacy import mask_name, mask_text
from fengqiao.sdk.web import current_user, document, json_body, paginate, query, requires
from flask import Blueprint

from fengqiao_points import ledger, redemptions
from fengqiao_points.accounts import open_account
from fengqiao_points.models import PointsAccount, PointsLedger, PointsProduct, PointsRedemption

api = Blueprint("points_api", __name__)
TAG = "points"
PAGE = 50

ACCOUNT_BODY = {
    "type": "object", "additionalProperties": False, "required": ["name", "org", "kind"],
    "properties": {
        "name": {"type": "string", "title": "户主/姓名", "minLength": 1, "maxLength": 100},
        "org": {"type": "string", "title": "所属社区/村", "minLength": 1, "maxLength": 32},
        "kind": {"type": "string", "title": "账户类型", "enum": ["household", "person"]},
    },
}
ADJUST_BODY = {
    "type": "object", "additionalProperties": False, "required": ["points", "reason"],
    "properties": {
        "points": {"type": "integer", "title": "调整分值", "minimum": -100000, "maximum": 100000,
                   "not": {"const": 0}},
        "reason": {"type": "string", "title": "调整原因", "minLength": 2, "maxLength": 200},
    },
}
PRODUCT_BODY = {
    "type": "object", "additionalProperties": False, "required": ["name", "points", "stock"],
    "properties": {
        "name": {"type": "string", "title": "商品名称", "minLength": 1, "maxLength": 100},
        "points": {"type": "integer", "title": "所需积分", "minimum": 1, "maximum": 100000},
        "stock": {"type": "integer", "title": "库存", "minimum": 0, "maximum": 1000000},
        "donor": {"type": "string", "title": "捐赠方", "maxLength": 100},
        "org": {"type": "string", "title": "所属社区/村", "maxLength": 32},
    },
}
REDEMPTION_BODY = {
    "type": "object", "additionalProperties": False, "required": ["account", "product"],
    "properties": {
        "account": {"type": "integer", "title": "积分账户", "minimum": 1},
        "product": {"type": "integer", "title": "商品", "minimum": 1},
        "quantity": {"type": "integer", "title": "数量", "minimum": 1, "maximum": redemptions.MAX_QUANTITY},
    },
}


def account_in_scope(account_id: int, permission: str, pointer: str = "") -> PointsAccount:
    """The account if the caller holds ``permission`` over its unit; the sdk's uniform 404
    otherwise (as for cases: no hint that it exists)."""
    return get_in_scope(PointsAccount, account_id, permission, pointer=pointer)


def redemption_in_scope(redemption_id: int) -> PointsRedemption:
    redemption = db.get(PointsRedemption, redemption_id)
    if redemption is None:
        raise not_found()
    account_in_scope(redemption.account_id, "points.manage")
    return redemption


def entry_json(e: PointsLedger) -> dict:
    return {"id": e.id, "points": e.points, "balance_after": e.balance_after, "kind": e.kind,
            "reason": mask_text(e.reason), "ref": e.ref, "rule": e.rule_id, "claim": e.claim_number,
            "redemption": e.redemption_id, "actor": e.actor, "created_at": e.created_at.isoformat()}


@api.post("/accounts")
@requires("points.manage")
def create_account():
    body = json_body(ACCOUNT_BODY)
    unit = org_unit(body["org"])
    if unit is None or not scope_for(current_user, "points.manage").contains(unit.path):
        raise APIError(422, [("/org", f"单位 {body['org']} 不存在或不在您的管辖范围内", "unknown_org")])
    account, pin = open_account(body["name"].strip(), unit.code, body["kind"])
    db.commit()
    return {"id": account.id, "number": account.number, "pin": pin}, 201


document("/p/points/accounts", "post", "开立积分账户（返回账户号和只显示一次的查询码）", tag=TAG,
         body=ACCOUNT_BODY,
         responses={201: "{id, number, pin}", 401: "需登录", 403: "需要 points.manage 权限",
                    422: "字段错误或单位不在管辖范围内"})


@api.get("/accounts/<int:account_id>")
@requires("points.view")
def get_account(account_id: int):
    account = account_in_scope(account_id, "points.view")
    page = paginate(sa.select(PointsLedger).where(PointsLedger.account_id == account.id), PointsLedger.id,
                    limit=PAGE)
    return {"id": account.id, "number": account.number, "name": mask_name(account.name),
            "kind": account.kind, "org": account.org_code, "balance": account.balance,
            "entries": [entry_json(e) for e in page.items], "next_cursor": page.next_cursor}


document("/p/points/accounts/{id}", "get", "积分账户余额与台账（最新在前，每页 50 条）", tag=TAG,
         params=[query("cursor", "上一页返回的 next_cursor")],
         responses={200: "{id, number, name (masked), kind, org, balance, entries: [...], next_cursor}",
                    401: "需登录", 404: "账户不存在或不在管辖范围内"})


@api.post("/accounts/<int:account_id>/adjustments")
@requires("points.adjust")
def adjust(account_id: int):
    body = json_body(ADJUST_BODY)
    account = account_in_scope(account_id, "points.adjust")
    try:
        write_lock()
        balance = ledger.post(account.id, body["points"], kind="adjustment", reason=body["reason"].strip(),
                              actor=current_user.username)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return {"balance_after": balance}, 201


document("/p/points/accounts/{id}/adjustments", "post", "人工调整积分（冲正，记入台账）", tag=TAG,
         body=ADJUST_BODY,
         responses={201: "{balance_after}", 403: "需要 points.adjust 权限", 404: "账户不存在",
                    409: "insufficient_points：扣减后余额将为负", 422: "字段错误"})


@api.post("/products")
@requires("points.manage")
def create_product():
    body = json_body(PRODUCT_BODY)
    org = body.get("org")
    unit = org_unit(org) if org else None
    if org and (unit is None or not scope_for(current_user, "points.manage").contains(unit.path)):
        raise APIError(422, [("/org", f"单位 {org} 不存在或不在您的管辖范围内", "unknown_org")])
    product = PointsProduct(name=body["name"].strip(), points=body["points"], stock=body["stock"],
                            donor=body.get("donor"), org_code=org, active=True, created_at=utcnow())
    db.add(product)
    db.commit()
    return {"id": product.id}, 201


document("/p/points/products", "post", "上架商品", tag=TAG, body=PRODUCT_BODY,
         responses={201: "{id}", 403: "需要 points.manage 权限", 422: "字段错误"})


@api.get("/products")
@requires("points.view")
def list_products():
    items = db.scalars(sa.select(PointsProduct).where(PointsProduct.active).order_by(PointsProduct.id).limit(200))
    return {"items": [{"id": p.id, "name": p.name, "points": p.points, "stock": p.stock, "donor": p.donor,
                       "org": p.org_code} for p in items]}


document("/p/points/products", "get", "在架商品（最多 200 件）", tag=TAG,
         responses={200: "{items: [{id, name, points, stock, donor, org}]}", 401: "需登录"})


@api.post("/redemptions")
@requires("points.manage")
def create_redemption():
    body = json_body(REDEMPTION_BODY)
    account_in_scope(body["account"], "points.manage", "/account")
    db.rollback()  # end the read so that the redemption's transaction starts with the write lock
    redemption_id, balance = redemptions.reserve(body["account"], body["product"], body.get("quantity", 1),
                                                 current_user.username)
    return {"id": redemption_id, "status": "reserved", "balance_after": balance}, 201


document("/p/points/redemptions", "post", "预约兑换（扣减积分与库存）", tag=TAG, body=REDEMPTION_BODY,
         responses={201: "{id, status: reserved, balance_after}", 403: "需要 points.manage 权限",
                    404: "账户或商品不存在", 409: "insufficient_points 积分不足 / out_of_stock 库存不足",
                    422: "字段错误"})


@api.post("/redemptions/<int:redemption_id>/collect")
@requires("points.manage")
def collect(redemption_id: int):
    redemption_in_scope(redemption_id)
    db.rollback()
    redemptions.close(redemption_id, "collected", current_user.username)
    return {"id": redemption_id, "status": "collected"}


document("/p/points/redemptions/{id}/collect", "post", "柜台确认领取（核销）", tag=TAG,
         responses={200: "{id, status: collected}", 404: "预约不存在", 409: "not_reserved：已领取或已取消"})


@api.post("/redemptions/<int:redemption_id>/cancel")
@requires("points.manage")
def cancel(redemption_id: int):
    redemption_in_scope(redemption_id)
    db.rollback()
    balance = redemptions.close(redemption_id, "cancelled", current_user.username)
    return {"id": redemption_id, "status": "cancelled", "balance_after": balance}


document("/p/points/redemptions/{id}/cancel", "post", "取消预约（积分通过台账退还，库存恢复）", tag=TAG,
         responses={200: "{id, status: cancelled, balance_after}", 404: "预约不存在",
                    409: "not_reserved：已领取或已取消"})
