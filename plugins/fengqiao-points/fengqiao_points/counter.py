"""The counter screen (服务台): staff find a household, confirm a collection (核销), cancel a
reservation or reserve on a household's behalf."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import scope_for
from fengqiao.sdk.web import current_user, paginate, render, requires
from flask import flash, redirect, request, url_for

from fengqiao_points import redemptions
from fengqiao_points.inputs import Fields
from fengqiao_points.models import PointsAccount, PointsProduct, PointsRedemption
from fengqiao_points.pages import PAGE, account_or_404, flash_error, pages


@pages.get("/counter")
@requires("points.manage")
def counter():
    scope = scope_for(current_user, "points.manage")
    number = (request.args.get("account") or "").strip()[:32]
    account = None
    stmt = (sa.select(PointsRedemption).join(PointsAccount, PointsAccount.id == PointsRedemption.account_id)
            .where(PointsRedemption.status == "reserved", scope.clause(PointsAccount.org_path)))
    if number:
        account = db.scalar(sa.select(PointsAccount).where(PointsAccount.number == number,
                                                           scope.clause(PointsAccount.org_path)))
        if account is None:
            flash("未找到该账户号，或不在您的管辖范围内", "error")
        stmt = stmt.where(PointsAccount.number == number)
    page = paginate(stmt, PointsRedemption.id, limit=PAGE, descending=False)
    rows = page.items
    accounts = {a.id: a for a in db.scalars(sa.select(PointsAccount).where(
        PointsAccount.id.in_({r.account_id for r in rows})))} if rows else {}
    products = {p.id: p for p in db.scalars(sa.select(PointsProduct))}
    return render("points/counter.html", rows=rows, page=page, account=account,
                  number=number, accounts=accounts, products=products, statuses=redemptions.STATUS_LABELS)


def _back():
    return redirect(url_for(".counter", account=request.form.get("account_number") or None))


@pages.post("/counter/<int:redemption_id>/<any(collect, cancel):action>")
@requires("points.manage")
def counter_close(redemption_id: int, action: str):
    redemption = db.get(PointsRedemption, redemption_id)
    if redemption is not None:
        account_or_404(redemption.account_id, "points.manage")
    db.rollback()
    try:
        redemptions.close(redemption_id, "collected" if action == "collect" else "cancelled", current_user.username)
    except APIError as err:
        flash_error(err)
    else:
        flash(f"预约 #{redemption_id} " + ("已确认领取" if action == "collect" else "已取消，积分已退还"), "success")
    return _back()


@pages.post("/counter/reserve")
@requires("points.manage")
def counter_reserve():
    fields = Fields()
    account_id = fields.integer("account", "积分账户", minimum=1, maximum=10**9)
    product_id = fields.integer("product", "商品", minimum=1, maximum=10**9)
    quantity = fields.integer("quantity", "数量", minimum=1, maximum=redemptions.MAX_QUANTITY)
    if not fields.ok:
        flash("；".join(fields.errors.values()), "error")
        return _back()
    account_or_404(account_id, "points.manage")
    db.rollback()
    try:
        redemption_id, balance = redemptions.reserve(account_id, product_id, quantity, current_user.username)
    except APIError as err:
        flash_error(err)
    else:
        flash(f"已预约（#{redemption_id}），余额 {balance} 分", "success")
    return _back()
