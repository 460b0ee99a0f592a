"""Pages under ``/p/points/``: the blueprint and the staff's account screens. The other
screens register on the same blueprint from their own modules (imported at the bottom)."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, not_found
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import get_in_scope, org_unit, org_units, scope_for
from fengqiao.sdk.privacy import mask_name
from fengqiao.sdk.web import current_user, paginate, render, requires
from flask import Blueprint, flash, redirect, request, url_for

from fengqiao_points.accounts import KIND_LABELS, open_account, reset_pin
from fengqiao_points.inputs import Fields
from fengqiao_points.ledger import KIND_LABELS as ENTRY_LABELS
from fengqiao_points.models import PointsAccount, PointsLedger, PointsProduct, PointsRedemption
from fengqiao_points.redemptions import STATUS_LABELS

pages = Blueprint("points", __name__)
PAGE = 30


def account_or_404(account_id: int, permission: str = "points.view") -> PointsAccount:
    return get_in_scope(PointsAccount, account_id, permission)


def product_or_404(product_id: int) -> PointsProduct:
    """A product the caller manages: a unit's own product only within ``points.manage`` scope
    (products without a unit are the county's shared shelf)."""
    product = db.get(PointsProduct, product_id)
    if product is None:
        raise not_found()
    if product.org_code:
        unit = org_unit(product.org_code)
        get_in_scope(PointsProduct, product_id, "points.manage", path=lambda _p: unit.path if unit else None)
    return product


def managed_units() -> list:
    """Communities and villages where the user may open accounts (pickers)."""
    scope = scope_for(current_user, "points.manage")
    return [u for u in org_units(level="community", kind="territorial") if scope.contains(u.path)]


@pages.app_template_filter("points_mask")
def _mask(value: str) -> str:
    return mask_name(value or "")


@pages.get("/")
@requires("points.view")
def index():
    scope = scope_for(current_user, "points.view")
    q = (request.args.get("q") or "").strip()[:50]
    stmt = sa.select(PointsAccount).where(scope.clause(PointsAccount.org_path))
    if q:
        stmt = stmt.where(sa.or_(PointsAccount.number == q, PointsAccount.name.contains(q)))
    page = paginate(stmt, PointsAccount.id, limit=PAGE)
    units = {u.code: u.name for u in org_units(level="community", active_only=False, kind="territorial")}
    return render("points/index.html", accounts=page.items, page=page, q=q, units=units,
                  kinds=KIND_LABELS, can_manage=current_user.can("points.manage"))


@pages.route("/accounts/new", methods=["GET", "POST"])
@requires("points.manage")
def new_account():
    units = managed_units()
    fields, card = Fields({}), None
    if request.method == "POST":
        fields = Fields()
        name = fields.text("name", "户主/姓名", max_len=100)
        org = fields.choice("org", "所属社区/村", {u.code: u for u in units})
        kind = fields.choice("kind", "账户类型", KIND_LABELS)
        if fields.ok:
            account, pin = open_account(name, org, kind)
            db.commit()
            card = {"account": account, "pin": pin, "unit": org_unit(org)}
    return render("points/account_new.html", units=units, kinds=KIND_LABELS, fields=fields, card=card)


@pages.get("/accounts/<int:account_id>")
@requires("points.view")
def statement(account_id: int):
    account = account_or_404(account_id)
    page = paginate(sa.select(PointsLedger).where(PointsLedger.account_id == account.id), PointsLedger.id, limit=PAGE)
    reserved = list(db.scalars(sa.select(PointsRedemption).where(
        PointsRedemption.account_id == account.id, PointsRedemption.status == "reserved")))
    return render("points/statement.html", account=account, entries=page.items, page=page,
                  labels=ENTRY_LABELS, reserved=reserved, statuses=STATUS_LABELS, kinds=KIND_LABELS,
                  unit=org_unit(account.org_code), can_manage=current_user.can("points.manage"))


@pages.post("/accounts/<int:account_id>/pin")
@requires("points.manage")
def new_pin(account_id: int):
    account = account_or_404(account_id, "points.manage")
    pin = reset_pin(account)
    db.commit()
    flash(f"新查询码：{pin}（只显示一次，请抄写在积分卡上交给住户）", "success")
    return redirect(url_for(".statement", account_id=account.id))


def flash_error(err: APIError) -> None:
    """A refusal as a flash message; a 404 (missing or out of scope) is the error page instead."""
    if err.status == 404:
        raise err
    flash("；".join(m for _, m, _ in err.problems), "error")


from fengqiao_points import board, catalog, counter, reports, shelf  # noqa: E402,F401
