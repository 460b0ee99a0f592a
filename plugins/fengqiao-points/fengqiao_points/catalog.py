"""Rules (admins edit them in the browser; each save is a new version), products (price,
stock, photo) and the staff's claim proposal page."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, not_found
from fengqiao.sdk.files import safe_image
from fengqiao.sdk.forms import submit_form
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.orgs import org_unit, org_units, scope_for
from fengqiao.sdk.web import current_user, paginate, public, render, requires
from flask import Response, abort, flash, redirect, request, url_for

from fengqiao_points.claims import FORM_KEY, may_propose_for, proposal_problem
from fengqiao_points.inputs import Fields
from fengqiao_points.models import PointsAccount, PointsClaim, PointsProduct, PointsRule
from fengqiao_points.pages import PAGE, flash_error, pages, product_or_404
from fengqiao_points.rules import PERIOD_LABELS, rules_for

MAX_PHOTO = 1024 * 1024
PROPOSERS = {"staff": "工作人员/网格员", "resident": "居民本人"}


def rule_units() -> dict:
    scope = scope_for(current_user, "points.rules")
    return {u.code: u for u in org_units() if u.level in ("county", "street", "community") and scope.contains(u.path)}


@pages.get("/rules")
@requires("points.view")
def rules():
    page = paginate(sa.select(PointsRule).where(PointsRule.active),
                    (PointsRule.org_path, PointsRule.name, PointsRule.id), limit=PAGE, descending=False)
    return render("points/rules.html", rules=page.items, page=page, periods=PERIOD_LABELS,
                  can_edit=current_user.can("points.rules"))


@pages.route("/rules/new", methods=["GET", "POST"])
@pages.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@requires("points.rules")
def edit_rule(rule_id: int | None = None):
    units = rule_units()
    old = db.get(PointsRule, rule_id) if rule_id else None
    if rule_id and (old is None or not old.active or old.org_code not in units):
        abort(404)
    fields = Fields({} if old is None else {
        "name": old.name, "org": old.org_code, "points": str(old.points), "cap_points": str(old.cap_points or ""),
        "cap_period": old.cap_period or "", "proposers": old.proposers,
        "evidence_required": "1" if old.evidence_required else ""})
    if request.method == "POST":
        fields = Fields()
        name = fields.text("name", "规则名称", max_len=100)
        org = fields.choice("org", "适用地区", units)
        points = fields.integer("points", "分值", minimum=-1000, maximum=1000, nonzero=True)
        cap = fields.integer("cap_points", "每期上限", minimum=1, maximum=100000, required=False)
        period = fields.choice("cap_period", "上限周期", PERIOD_LABELS, required=cap is not None)
        proposers = [p for p in request.form.getlist("proposers") if p in PROPOSERS]
        if not proposers:
            fields.errors["proposers"] = "请至少选择一类可申报人"
        if fields.ok:
            key = old.key if old else _new_key(name)
            if old:
                old.active = False
            db.add(PointsRule(key=key, version=(old.version + 1) if old else 1, org_code=org,
                              org_path=units[org].path, name=name, points=points, cap_points=cap,
                              cap_period=period if cap else None,
                              evidence_required=bool(request.form.get("evidence_required")),
                              proposers=",".join(proposers), active=True, created_by=current_user.username,
                              created_at=utcnow()))
            db.commit()
            flash(f"规则「{name}」已保存" + ("（新版本，已有的申报仍按原版本入账）" if old else ""), "success")
            return redirect(url_for(".rules"))
        fields.values["proposers"] = ",".join(proposers)
    return render("points/rule_edit.html", fields=fields, units=units, periods=PERIOD_LABELS,
                  proposers=PROPOSERS, old=old)


@pages.post("/rules/<int:rule_id>/retire")
@requires("points.rules")
def retire_rule(rule_id: int):
    rule = db.get(PointsRule, rule_id)
    if rule is None or not rule.active or rule.org_code not in rule_units():
        abort(404)
    rule.active = False
    db.commit()
    flash(f"规则「{rule.name}」已停用", "success")
    return redirect(url_for(".rules"))


def _new_key(name: str) -> str:
    count = db.scalar(sa.select(sa.func.count(sa.distinct(PointsRule.key)))) or 0
    return f"r{count + 1}-{re.sub(r'[^0-9a-z]', '', name.lower())[:20]}"[:40]


@pages.route("/products", methods=["GET", "POST"])
@requires("points.view")
def products():
    fields = Fields({})
    if request.method == "POST":
        if not current_user.can("points.manage"):
            abort(403)
        fields = Fields()
        name = fields.text("name", "商品名称", max_len=100)
        points = fields.integer("points", "所需积分", minimum=1, maximum=100000)
        stock = fields.integer("stock", "库存", minimum=0, maximum=1000000)
        donor = fields.text("donor", "捐赠方", required=False, max_len=100)
        photo = request.files.get("photo")
        data = photo.read(MAX_PHOTO + 1) if photo and photo.filename else None
        checked = safe_image(data) if data and len(data) <= MAX_PHOTO else None
        if data is not None and checked is None:
            fields.errors["photo"] = "照片应为 1MB 以内的 JPG、PNG、GIF 或 WebP 图片"
        data, kind = checked or (None, None)  # stored re-encoded: no metadata, nothing appended
        if fields.ok:
            db.add(PointsProduct(name=name, points=points, stock=stock, donor=donor or None, photo=data,
                                 photo_type=kind, active=True, created_at=utcnow()))
            db.commit()
            flash(f"商品「{name}」已上架", "success")
            return redirect(url_for(".products"))
    page = paginate(sa.select(PointsProduct).where(PointsProduct.active), PointsProduct.id, limit=PAGE,
                    descending=False)
    return render("points/products.html", products=page.items, page=page, fields=fields,
                  can_manage=current_user.can("points.manage"))


@pages.post("/products/<int:product_id>/stock")
@requires("points.manage")
def restock(product_id: int):
    product = product_or_404(product_id)
    fields = Fields()
    added = fields.integer("add", "补货数量", minimum=1, maximum=100000)
    if fields.ok:
        db.execute(sa.update(PointsProduct).where(PointsProduct.id == product.id)
                   .values(stock=PointsProduct.stock + added))
        db.commit()
        flash(f"「{product.name}」已补货 {added} 件", "success")
    else:
        flash(fields.errors["add"], "error")
    return redirect(url_for(".products"))


@pages.get("/products/<int:product_id>/photo")
@public
def product_photo(product_id: int):
    row = db.execute(sa.select(PointsProduct.photo, PointsProduct.photo_type)
                     .where(PointsProduct.id == product_id)).first()
    if row is None or row.photo is None:
        abort(404)
    return Response(row.photo, mimetype=row.photo_type, headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


@pages.route("/claims/new", methods=["GET", "POST"])
@requires("points.propose")
def propose():
    """Propose points for an account: checked here (account, rule, cap) with a clear
    message, then submitted as a ``points-claim`` case in the account's unit."""
    fields = Fields({"account": request.args.get("account", "")})
    account = rule_list = None
    number = (request.values.get("account") or "").strip()
    if number:
        account = db.scalar(sa.select(PointsAccount).where(PointsAccount.number == number))
        if account is None or not may_propose_for(account):
            raise not_found("/account")  # the same answer for a wrong number and another unit's account
        else:
            rule_list = [r for r in rules_for(account) if "staff" in r.proposers.split(",")]
    if request.method == "POST" and account is not None:
        fields = Fields()
        rule_id = fields.integer("rule", "积分规则", minimum=1, maximum=10**9)
        description = fields.text("description", "事迹说明", min_len=2, max_len=500)
        rule = next((r for r in rule_list if r.id == rule_id), None)
        if rule_id and rule is None:
            fields.errors["rule"] = "请选择适用于该账户的积分规则"
        if fields.ok:
            problem = proposal_problem(account, rule)
            if problem:
                fields.errors["rule"] = problem
        if fields.ok:
            try:
                receipt = submit_form(FORM_KEY, {"account": account.number, "rule": rule.id,
                                                 "description": description},
                                      org=account.org_code, actor=current_user.username, channel="web")
            except APIError as err:
                flash_error(err)
            else:
                db.commit()  # the case is in: our case_created receiver records the claim now
                claim = db.scalar(sa.select(PointsClaim).where(PointsClaim.case_number == receipt["case_number"]))
                if claim is not None:
                    claim.proposer = current_user.username  # the request commits it
                flash(f"已提交申报 {receipt['case_number']}，待社区初审", "success")
                return redirect(url_for(".statement", account_id=account.id))
    return render("points/propose.html", fields=fields, account=account, rules=rule_list or [],
                  unit=org_unit(account.org_code) if account else None)
