"""Staff pages: issued certificates (download, revoke), unlisted requests (put on the next
list version), metrics with an Excel ledger."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.cases import perform_action
from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.files import workbook_bytes, xlsx_response
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import org_unit
from fengqiao.sdk.privacy import mask_name
from fengqiao.sdk.web import current_user, paginate, parse_int, render, requires
from fengqiao.sdk.workdays import today_local
from flask import flash, redirect, request, url_for

from fengqiao_certificates.access import may_manage, view_scope
from fengqiao_certificates.issuing import by_serial, revoke
from fengqiao_certificates.lists import Suggestion, suggest_item
from fengqiao_certificates.metrics import (
    HEADERS,
    by_unit,
    codes_in,
    demanding_agencies,
    ledger_rows,
    month_start,
    total,
)
from fengqiao_certificates.models import CertificateRequest, IssuedCertificate
from fengqiao_certificates.views import pages, pdf_response

PAGE_SIZE = 50


@pages.get("/issued")
@requires("certificates.view")
def issued():
    codes = list(codes_in(view_scope()))
    stmt = sa.select(IssuedCertificate).where(IssuedCertificate.org_code.in_(codes))
    q = (request.args.get("q") or "").strip()
    if q:
        stmt = stmt.where(sa.or_(IssuedCertificate.serial == q, IssuedCertificate.case_number == q.upper()))
    page = paginate(stmt, IssuedCertificate.id, limit=PAGE_SIZE)
    return render("certificates/issued.html", rows=page.items, page=page, q=q, mask_name=mask_name)


def _visible(serial: str) -> IssuedCertificate:
    cert = by_serial(serial)
    unit = org_unit(cert.org_code) if cert else None
    if cert is None or unit is None or not view_scope().contains(unit.path):
        raise APIError(404)
    return cert


@pages.get("/issued/<serial>.pdf")
@requires("certificates.view")
def issued_pdf(serial: str):
    return pdf_response(_visible(serial))


@pages.post("/issued/<serial>/revoke")
@requires("certificates.revoke")
def issued_revoke(serial: str):
    from fengqiao.sdk.orgs import scope_for

    cert = _visible(serial)
    if not scope_for(current_user, "certificates.revoke").contains(org_unit(cert.org_code).path):
        raise APIError(404)
    try:
        revoke(cert, request.form.get("reason", ""), current_user.username)
    except ValidationFailed as exc:
        flash(exc.problems[0][1], "error")
        return redirect(url_for(".issued", q=serial)), 303
    except APIError as exc:
        flash(exc.problems[0][1], "error")
        return redirect(url_for(".issued", q=serial)), 303
    flash(f"证明 {serial} 已撤销", "success")
    return redirect(url_for(".issued", q=serial))


@pages.get("/unlisted")
@requires("certificates.view")
def unlisted():
    names = codes_in(view_scope())
    codes = list(names)
    page = paginate(sa.select(CertificateRequest).where(
        CertificateRequest.org_code.in_(codes), CertificateRequest.match == "unlisted"), CertificateRequest.id,
        limit=PAGE_SIZE)
    streets = {}
    for r in page.items:
        unit = org_unit(r.org_code)
        parent = org_unit(unit.parent) if unit and unit.parent and unit.level != "street" else unit
        streets[r.id] = parent if parent and may_manage(parent.code) else None
    return render("certificates/unlisted.html", rows=page.items, page=page, streets=streets, names=names)


@pages.post("/unlisted/<int:request_id>/list")
@requires("certificates.manage")
def unlisted_add(request_id: int):
    """The street puts an allowed unlisted certificate on its next list version (draft)."""
    row = db.get(CertificateRequest, request_id)
    unit = org_unit(row.org_code) if row else None
    target = (request.form.get("org") or "").strip()
    if row is None or unit is None or not target or not unit.path.startswith(org_unit(target).path if org_unit(target) else "~"):
        raise APIError(404)
    if not may_manage(target):
        raise APIError(404)
    days = parse_int((request.form.get("time_limit_days") or "3").strip(), maximum=60)
    if days is None:
        flash("办理时限应为 0 至 60 之间的整数（工作日）", "error")
        return redirect(url_for(".unlisted")), 303
    added = suggest_item(Suggestion(target, row.requested, days), current_user.username)
    db.commit()
    if added:
        note_on_case(row.case_number, f"决定将「{row.requested}」纳入{org_unit(target).name}下一版可出具证明清单（草稿）")
    flash(f"已将「{row.requested}」加入{org_unit(target).name}清单草稿，发布后生效" if added
          else f"「{row.requested}」已在草稿中", "success")
    return redirect(url_for(".unlisted"))


def note_on_case(number: str, text: str) -> None:
    """Record a decision taken outside the workflow in the case's history (a working note)."""
    try:
        perform_action(number, "comment", actor=current_user.username, comment=text)
    except APIError:  # e.g. the case is no longer visible to this person: the list change stands
        db.rollback()


def _period() -> tuple[date, date, list[str]]:
    errors = []
    today = today_local()
    start, end = month_start(today), today
    for key in ("start", "end"):
        raw = (request.args.get(key) or "").strip()
        if raw:
            try:
                value = date.fromisoformat(raw)
            except ValueError:
                errors.append(f"{'开始' if key == 'start' else '结束'}日期格式应为 YYYY-MM-DD")
                continue
            start, end = (value, end) if key == "start" else (start, value)
    if start > end:
        errors.append("开始日期不能晚于结束日期")
    return start, end, errors


@pages.get("/metrics")
@requires("certificates.view")
def metrics():
    start, end, errors = _period()
    rows = [] if errors else by_unit(view_scope(), start, end)
    agencies = [] if errors else demanding_agencies(view_scope(), start, end)
    return render("certificates/metrics.html", rows=rows, sum=total(rows), start=start, end=end,
                  errors=errors, agencies=agencies), 422 if errors else 200


@pages.get("/metrics/ledger.xlsx")
@requires("certificates.view")
def ledger():
    start, end, errors = _period()
    if errors:
        raise ValidationFailed([("/start", errors[0], "format")])
    rows = by_unit(view_scope(), start, end)
    data = workbook_bytes(f"证明事项台账 {start}至{end}", HEADERS, ledger_rows(rows))
    return xlsx_response(f"证明事项台账-{start}-{end}.xlsx", data)
