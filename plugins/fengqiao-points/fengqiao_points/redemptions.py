"""Reserve, collect, cancel and release: balance and stock change in one transaction.

Each step starts with ``write_lock()`` (SQLite ``BEGIN IMMEDIATE``) and changes rows only
with conditional updates whose row count decides: the balance through ``ledger.post``
(``balance >= cost``), the stock with ``stock >= quantity``, a reservation's status with
``status = 'reserved'`` — so two requests can never spend the same points, sell the same
item or refund the same reservation twice.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fengqiao.sdk.channels import notify
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db, utcnow, write_lock
from fengqiao.sdk.orgs import org_ancestors
from fengqiao.sdk.plugin import plugin_settings

from fengqiao_points import ledger
from fengqiao_points.models import PointsAccount, PointsProduct, PointsRedemption

PRODUCTS = PointsProduct.__table__
REDEMPTIONS = PointsRedemption.__table__

STATUS_LABELS = {"reserved": "已预约待领取", "collected": "已领取", "cancelled": "已取消",
                 "expired": "逾期未领已释放"}
MAX_QUANTITY = 20


def out_of_stock() -> APIError:
    return APIError(409, [("/product", "该商品库存不足", "out_of_stock")])


def shelf_codes(org_code: str) -> list[str]:
    """Units whose products an account may take: its own and every unit above it (a product
    without a unit is on every shelf)."""
    return [u.code for u in org_ancestors(org_code)]


def reserve(account_id: int, product_id: int, quantity: int, actor: str | None) -> tuple[int, int]:
    """Hold ``quantity × price`` points and take the stock; returns (redemption id, balance
    after). 404 unknown account/product, 409 ``insufficient_points`` / ``out_of_stock``."""
    try:
        write_lock()
        account = db.execute(sa.select(PointsAccount.id, PointsAccount.active, PointsAccount.org_code)
                             .where(PointsAccount.id == account_id)).first()
        if account is None or not account.active:
            raise APIError(404, [("/account", "积分账户不存在或已停用", "not_found")])
        product = db.execute(sa.select(PointsProduct.points, PointsProduct.name, PointsProduct.active,
                                       PointsProduct.org_code).where(PointsProduct.id == product_id)).first()
        if product is None or not product.active or (
                product.org_code and product.org_code not in shelf_codes(account.org_code)):
            raise APIError(404, [("/product", "商品不存在或已下架", "not_found")])
        cost = product.points * quantity
        taken = db.execute(
            sa.update(PRODUCTS).where(PRODUCTS.c.id == product_id, PRODUCTS.c.stock >= quantity)
            .values(stock=PRODUCTS.c.stock - quantity)
        ).rowcount
        if taken != 1:
            raise out_of_stock()
        redemption_id = db.execute(sa.insert(REDEMPTIONS).returning(REDEMPTIONS.c.id).values(
            account_id=account_id, product_id=product_id, quantity=quantity, points=cost,
            status="reserved", reserved_by=actor, created_at=utcnow(),
        )).scalar_one()
        balance = ledger.post(account_id, -cost, kind="redeem", actor=actor,
                              reason=f"兑换「{product.name}」×{quantity}",
                              ref=f"redeem:{redemption_id}", redemption_id=redemption_id)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return redemption_id, balance


def close(redemption_id: int, status: str, actor: str | None) -> int | None:
    """Collect (no refund) or cancel/expire (refund the points, put the stock back) a
    reservation still ``reserved``. Returns the balance after a refund (None when
    collected). 404 unknown, 409 ``not_reserved`` when it was already closed."""
    refund = status in ("cancelled", "expired")
    try:
        write_lock()
        row = db.execute(
            sa.update(REDEMPTIONS)
            .where(REDEMPTIONS.c.id == redemption_id, REDEMPTIONS.c.status == "reserved")
            .values(status=status, closed_at=utcnow(), closed_by=actor)
            .returning(REDEMPTIONS.c.account_id, REDEMPTIONS.c.product_id,
                       REDEMPTIONS.c.quantity, REDEMPTIONS.c.points, REDEMPTIONS.c.reserved_by)
        ).first()
        if row is None:
            exists = db.scalar(sa.select(REDEMPTIONS.c.status).where(REDEMPTIONS.c.id == redemption_id))
            if exists is None:
                raise APIError(404, [("", "预约不存在", "not_found")])
            raise APIError(409, [("", f"该预约{STATUS_LABELS.get(exists, exists)}，不能再操作",
                                  "not_reserved")])
        balance = None
        if refund:
            db.execute(sa.update(PRODUCTS).where(PRODUCTS.c.id == row.product_id)
                       .values(stock=PRODUCTS.c.stock + row.quantity))
            reason = "取消预约，退还积分" if status == "cancelled" else "预约逾期未领取，退还积分"
            balance = ledger.post(row.account_id, row.points, kind="refund", reason=reason, actor=actor,
                                  ref=f"refund:{redemption_id}", redemption_id=redemption_id)
        if status == "expired" and row.reserved_by:
            _tell_expired(redemption_id, row)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return balance


EXPIRED_KIND = "points.reservation_expired"


def _tell_expired(redemption_id: int, row) -> None:
    """The staff member who reserved for a household hears that it was released (in the
    releasing transaction; once per reservation): the household may still be waiting."""
    name = db.scalar(sa.select(PointsProduct.name).where(PointsProduct.id == row.product_id))
    org_code = db.scalar(sa.select(PointsAccount.org_code).where(PointsAccount.id == row.account_id))
    notify(f"points:redemption:{redemption_id}:expired", [row.reserved_by], kind=EXPIRED_KIND,
           title=f"兑换预约已逾期释放：「{name}」×{row.quantity}",
           text=f"您代为预约的「{name}」×{row.quantity} 逾期未领取，已释放，{row.points} 分已退回积分账户",
           link="/p/points/", org=org_code)


def release_overdue() -> int:
    """Periodic job: release reservations not collected within ``reservation_days`` (refund
    and stock back). Safe to run twice: ``close`` only touches rows still reserved."""
    days = int(plugin_settings("points")["reservation_days"])
    cutoff = utcnow() - timedelta(days=days)
    ids = list(db.scalars(sa.select(REDEMPTIONS.c.id).where(
        REDEMPTIONS.c.status == "reserved", REDEMPTIONS.c.created_at < cutoff).order_by(REDEMPTIONS.c.id)))
    db.rollback()
    released = 0
    for redemption_id in ids:
        try:
            close(redemption_id, "expired", None)
            released += 1
        except APIError:  # collected or cancelled meanwhile
            continue
    return released
