"""Monthly ranking by unit and the Excel exports (ledger, redemptions), names masked,
filtered to the caller's scope."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from fengqiao.sdk.files import safe_cell, workbook_bytes, xlsx_response
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_units, scope_for
from fengqiao.sdk.privacy import mask_name, mask_text
from fengqiao.sdk.web import current_user, render, requires
from fengqiao.sdk.workdays import LOCAL_TZ, today_local
from flask import request

from fengqiao_points.ledger import KIND_LABELS
from fengqiao_points.models import PointsAccount, PointsLedger, PointsProduct, PointsRedemption
from fengqiao_points.pages import pages
from fengqiao_points.redemptions import STATUS_LABELS

MAX_ROWS = 50_000


def month_bounds(raw: str | None) -> tuple[str, datetime, datetime]:
    """``YYYY-MM`` (default: this month) and its local start and end."""
    today = today_local()
    if not raw or not re.fullmatch(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])", raw):  # ASCII (\d takes ٢٠٢٦); 0000 or 9999-12 has no datetime
        raw = f"{today.year:04d}-{today.month:02d}"
    year, month = int(raw[:4]), int(raw[5:])
    start = datetime(year, month, 1, tzinfo=LOCAL_TZ)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=LOCAL_TZ)
    return raw, start, end


@pages.get("/ranking")
@requires("points.view")
def ranking():
    month, start, end = month_bounds(request.args.get("month"))
    scope = scope_for(current_user, "points.view")
    rows = db.execute(
        sa.select(PointsAccount.org_code, sa.func.sum(PointsLedger.points).label("total"),
                  sa.func.count(sa.distinct(PointsLedger.account_id)).label("households"))
        .join(PointsAccount, PointsAccount.id == PointsLedger.account_id)
        .where(PointsLedger.kind == "claim", PointsLedger.points > 0, PointsLedger.created_at >= start,
               PointsLedger.created_at < end, scope.clause(PointsAccount.org_path))
        .group_by(PointsAccount.org_code).order_by(sa.desc("total")).limit(200)
    ).all()
    units = {u.code: u.name for u in org_units(active_only=False)}
    return render("points/ranking.html", rows=rows, units=units, month=month)


def _scoped_entries(month: str | None):
    scope = scope_for(current_user, "points.view")
    stmt = (sa.select(PointsLedger, PointsAccount).join(PointsAccount, PointsAccount.id == PointsLedger.account_id)
            .where(scope.clause(PointsAccount.org_path)))
    if month:
        _, start, end = month_bounds(month)
        stmt = stmt.where(PointsLedger.created_at >= start, PointsLedger.created_at < end)
    return stmt.order_by(PointsLedger.id).limit(MAX_ROWS)


@pages.get("/export/ledger.xlsx")
@requires("points.view")
def export_ledger():
    month = request.args.get("month")
    rows = [[e.id, e.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"), a.number,
             safe_cell(mask_name(a.name)), a.org_code, KIND_LABELS.get(e.kind, e.kind), e.points,
             e.balance_after, safe_cell(mask_text(e.reason)), e.claim_number or "", e.redemption_id or "", e.actor or ""]
            for e, a in db.execute(_scoped_entries(month))]
    data = workbook_bytes("积分台账", ["序号", "时间", "账户号", "户主/姓名", "所属单位", "类型", "分值",
                                   "变动后余额", "事由", "申报编号", "预约号", "经办人"], rows)
    return xlsx_response(f"积分台账{('-' + month) if month else ''}.xlsx", data)


@pages.get("/export/redemptions.xlsx")
@requires("points.view")
def export_redemptions():
    scope = scope_for(current_user, "points.view")
    result = db.execute(
        sa.select(PointsRedemption, PointsAccount, PointsProduct.name)
        .join(PointsAccount, PointsAccount.id == PointsRedemption.account_id)
        .join(PointsProduct, PointsProduct.id == PointsRedemption.product_id)
        .where(scope.clause(PointsAccount.org_path)).order_by(PointsRedemption.id).limit(MAX_ROWS))
    rows = [[r.id, r.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"), a.number,
             safe_cell(mask_name(a.name)), a.org_code, safe_cell(name), r.quantity, r.points,
             STATUS_LABELS.get(r.status, r.status),
             r.closed_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if r.closed_at else "",
             r.closed_by or ""] for r, a, name in result]
    data = workbook_bytes("兑换记录", ["预约号", "预约时间", "账户号", "户主/姓名", "所属单位", "商品", "数量",
                                   "积分", "状态", "办结时间", "经办人"], rows)
    return xlsx_response("积分兑换记录.xlsx", data)
