"""The public notice board (公示栏) of claims, names masked; anyone may object with a reason
during the notice period, which sends the claim back to review."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_units
from fengqiao.sdk.web import paginate, public, rate_limited, render
from flask import abort, flash, redirect, request, url_for

from fengqiao_points.claims import object_to
from fengqiao_points.inputs import Fields
from fengqiao_points.models import PointsAccount, PointsClaim, PointsRule
from fengqiao_points.pages import PAGE, pages


def _notice(number: str):
    row = db.execute(
        sa.select(PointsClaim, PointsAccount, PointsRule)
        .join(PointsAccount, PointsAccount.id == PointsClaim.account_id)
        .join(PointsRule, PointsRule.id == PointsClaim.rule_id)
        .where(PointsClaim.case_number == number, PointsClaim.state == "notice")
    ).first()
    if row is None:
        abort(404)
    return row


@pages.get("/board")
@public
def board():
    page = paginate(sa.select(PointsClaim).where(PointsClaim.state == "notice"),
                    (PointsClaim.notice_ends_at, PointsClaim.id), limit=PAGE, descending=False)
    claims = page.items
    accounts = {a.id: a for a in db.scalars(sa.select(PointsAccount).where(
        PointsAccount.id.in_({c.account_id for c in claims})))} if claims else {}
    rules = {r.id: r for r in db.scalars(sa.select(PointsRule).where(
        PointsRule.id.in_({c.rule_id for c in claims})))} if claims else {}
    units = {u.code: u.name for u in org_units(active_only=False)}
    return render("points/board.html", claims=claims, accounts=accounts, rules=rules, units=units,
                  page=page)


@pages.route("/board/<number>/object", methods=["GET", "POST"])
@public
@rate_limited()
def object_claim(number: str):
    claim, account, rule = _notice(number)
    fields = Fields({})
    if request.method == "POST":
        fields = Fields()
        reason = fields.text("reason", "异议理由", min_len=5, max_len=500)
        if fields.ok:
            try:
                object_to(number, reason)
            except APIError as err:
                fields.errors["reason"] = err.problems[0][1]
            else:
                flash("已收到您的异议，该申报已暂停公示并退回复核。谢谢监督！", "success")
                return redirect(url_for(".board"))
    return render("points/object.html", claim=claim, account=account, rule=rule, fields=fields), \
        (422 if fields.errors else 200)
