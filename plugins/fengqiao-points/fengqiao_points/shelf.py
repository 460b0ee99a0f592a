"""The supermarket shelf for residents (phone first). A household signs in with the 账户号
and 查询码 printed on its points card; the account id is kept in the session for this
browser only. Residents see their balance and entries, reserve and cancel."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.forms import submit_form
from fengqiao.sdk.models import db
from fengqiao.sdk.web import paginate, public, rate_limited, render
from flask import flash, redirect, request, session, url_for

from fengqiao_points import redemptions
from fengqiao_points.accounts import sign_in
from fengqiao_points.claims import FORM_KEY, proposal_problem
from fengqiao_points.inputs import Fields
from fengqiao_points.ledger import KIND_LABELS
from fengqiao_points.models import PointsAccount, PointsLedger, PointsProduct, PointsRedemption
from fengqiao_points.pages import PAGE, flash_error, pages
from fengqiao_points.rules import rules_for

SESSION_KEY = "points_account"


def signed_in_account() -> PointsAccount | None:
    account_id = session.get(SESSION_KEY)
    account = db.get(PointsAccount, account_id) if isinstance(account_id, int) else None
    if account is None or not account.active:
        session.pop(SESSION_KEY, None)
        return None
    return account


@pages.get("/shelf")
@public
def shelf():
    account = signed_in_account()
    if account is None:
        return render("points/shelf_login.html", fields=Fields({}))
    on_shelf = sa.or_(PointsProduct.org_code.is_(None),
                      PointsProduct.org_code.in_(redemptions.shelf_codes(account.org_code)))
    page = paginate(sa.select(PointsProduct).where(PointsProduct.active, on_shelf),
                    (PointsProduct.points, PointsProduct.id), limit=PAGE, descending=False)
    reserved = list(db.scalars(sa.select(PointsRedemption).where(
        PointsRedemption.account_id == account.id, PointsRedemption.status == "reserved")
        .order_by(PointsRedemption.id.desc()).limit(20)))
    names = {p.id: p.name for p in db.scalars(sa.select(PointsProduct).where(
        PointsProduct.id.in_({r.product_id for r in reserved})))} if reserved else {}
    recent = list(db.scalars(sa.select(PointsLedger).where(PointsLedger.account_id == account.id)
                             .order_by(PointsLedger.id.desc()).limit(5)))
    return render("points/shelf.html", account=account, products=page.items, page=page,
                  reserved=reserved, names=names, recent=recent, labels=KIND_LABELS)


@pages.post("/shelf/login")
@public
@rate_limited("login")
def shelf_login():
    fields = Fields()
    number = fields.text("number", "账户号", max_len=32)
    pin = fields.text("pin", "查询码", max_len=16)
    if fields.ok:
        try:
            account = sign_in(number, pin)
        except APIError as err:
            fields.errors["pin"] = err.problems[0][1]
        else:
            session[SESSION_KEY] = account.id
            return redirect(url_for(".shelf"))
    fields.values.pop("pin", None)
    return render("points/shelf_login.html", fields=fields), 422


@pages.post("/shelf/logout")
@public
def shelf_logout():
    session.pop(SESSION_KEY, None)
    return redirect(url_for(".shelf"))


@pages.post("/shelf/reserve")
@public
def shelf_reserve():
    account = signed_in_account()
    if account is None:
        return redirect(url_for(".shelf"))
    fields = Fields()
    product_id = fields.integer("product", "商品", minimum=1, maximum=10**9)
    quantity = fields.integer("quantity", "数量", minimum=1, maximum=redemptions.MAX_QUANTITY)
    if not fields.ok:
        flash("；".join(fields.errors.values()), "error")
        return redirect(url_for(".shelf"))
    account_id = account.id
    db.rollback()
    try:
        redemption_id, balance = redemptions.reserve(account_id, product_id, quantity, None)
    except APIError as err:
        flash_error(err)
    else:
        flash(f"预约成功（预约号 {redemption_id}），请凭积分卡到服务台领取。剩余 {balance} 分", "success")
    return redirect(url_for(".shelf"))


@pages.post("/shelf/cancel/<int:redemption_id>")
@public
def shelf_cancel(redemption_id: int):
    account = signed_in_account()
    redemption = db.get(PointsRedemption, redemption_id)
    if account is None or redemption is None or redemption.account_id != account.id:
        flash("预约不存在", "error")
        return redirect(url_for(".shelf"))
    db.rollback()
    try:
        redemptions.close(redemption_id, "cancelled", None)
    except APIError as err:
        flash_error(err)
    else:
        flash("预约已取消，积分已退还", "success")
    return redirect(url_for(".shelf"))


@pages.get("/shelf/statement")
@public
def shelf_statement():
    account = signed_in_account()
    if account is None:
        return redirect(url_for(".shelf"))
    page = paginate(sa.select(PointsLedger).where(PointsLedger.account_id == account.id), PointsLedger.id, limit=PAGE)
    return render("points/shelf_statement.html", account=account, entries=page.items, page=page,
                  labels=KIND_LABELS)


@pages.route("/shelf/claim", methods=["GET", "POST"])
@public
@rate_limited()
def shelf_claim():
    """A household proposes points for itself under the rules open to residents; the claim
    then goes through review and 公示 like any other."""
    account = signed_in_account()
    if account is None:
        return redirect(url_for(".shelf"))
    rules = [r for r in rules_for(account) if "resident" in r.proposers.split(",")]
    fields = Fields({})
    if request.method == "POST":
        fields = Fields()
        rule_id = fields.integer("rule", "积分规则", minimum=1, maximum=10**9)
        description = fields.text("description", "事迹说明", min_len=2, max_len=500)
        rule = next((r for r in rules if r.id == rule_id), None)
        if rule_id and rule is None:
            fields.errors["rule"] = "请选择可由居民申报的积分规则"
        if fields.ok and (problem := proposal_problem(account, rule)):
            fields.errors["rule"] = problem
        if fields.ok:
            try:
                receipt = submit_form(FORM_KEY, {"account": account.number, "rule": rule.id,
                                                 "description": description}, org=account.org_code, channel="web")
            except APIError as err:
                flash_error(err)
            else:
                flash(f"已提交申报（编号 {receipt['case_number']}，查询码 {receipt['tracking_code']}），"
                      "经社区、街道审核并公示后入账", "success")
                return redirect(url_for(".shelf"))
    return render("points/shelf_claim.html", account=account, rules=rules, fields=fields), \
        (422 if fields.errors else 200)
