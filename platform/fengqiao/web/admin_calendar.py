"""``/admin/calendar``: the working-day calendar — years entered, a year's upload, single days.

Every change is validated in full before anything is written, recorded in
``calendar_changes`` (who, when, what; removals included) and announced with the
``calendar_changed`` signal, delivered once the request commits, so open deadlines can be
recomputed.

The national calendar may be changed by whoever manages a top-level unit; a unit's local
additions by whoever manages that unit.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.models import CalendarDay, OrgUnit
from fengqiao.models.calendar_days import KIND_LABELS
from fengqiao.orgs.scope import scope_for
from fengqiao.params import int_arg, parse_int
from fengqiao.web.blueprint import web_bp
from fengqiao.workcalendar import announce_calendar_changed, today_local
from fengqiao.workcalendar.arrangement import ArrangementInvalid, import_arrangement
from fengqiao.workcalendar.changes import add_day, remove_day
from fengqiao.workcalendar.overview import (
    days_of_year,
    missing_years,
    recent_changes,
    year_overview,
)
from fengqiao.workcalendar.rules import WEEKDAY_NAMES

NATIONAL = ""  # the form value of the national jurisdiction
JURISDICTION_LEVELS = ("county", "street")


def _can_edit_national() -> bool:
    return any(p.count("/") == 2 for p in scope_for(current_user, "orgs.manage").paths)


def _jurisdictions() -> list[tuple[str, str]]:
    """(value, label) of the jurisdictions the user may change: national, then units."""
    scope = scope_for(current_user, "orgs.manage")
    choices = [(NATIONAL, "全国（国务院安排）")] if _can_edit_national() else []
    units = db.scalars(sa.select(OrgUnit).where(
        scope.clause(OrgUnit.path), OrgUnit.active, OrgUnit.kind == "territorial",
        OrgUnit.level.in_(JURISDICTION_LEVELS)).order_by(OrgUnit.path))
    choices += [(u.code, f"{'　' * (u.depth + 1)}{u.name}（{u.code}，在全国基础上增加）") for u in units]
    return choices


def _may_change(org_code: str | None) -> bool:
    if org_code is None:
        return _can_edit_national()
    path = db.scalar(sa.select(OrgUnit.path).where(OrgUnit.code == org_code))
    return path is not None and scope_for(current_user, "orgs.manage").contains(path)


def _org_of(value: str | None) -> str | None:
    return value or None


def _page(status: int = 200, **context):
    today = today_local()
    year = context.pop("year", None) or int_arg("year", today.year + 1, minimum=1950, maximum=9999,
                                                 message="年份应为 1950–9999 之间的四位数字")
    overview = year_overview(today)
    known = sorted({y.year for y in overview} | {year})
    context.setdefault("upload_year", today.year + 1)
    return render_template(
        "admin/calendar.html",
        today=today, year=year, known_years=known, overview=overview,
        missing=missing_years(today),
        days=days_of_year(year, all_orgs=True), changes=recent_changes(),
        jurisdictions=_jurisdictions(), kind_labels=KIND_LABELS,
        weekday_names=WEEKDAY_NAMES, may_change=_may_change, **context,
    ), status


@web_bp.get("/admin/calendar")
@requires("orgs.manage")
def calendar_admin():
    return _page()


@web_bp.post("/admin/calendar/import")
@requires("orgs.manage")
def calendar_admin_import():
    """Upload a year's whole arrangement: saved only when every row is valid."""
    org_code = _org_of(request.form.get("org"))
    upload = request.files.get("arrangement_file")
    year_text = (request.form.get("year") or "").strip()
    form = {"upload_year": year_text, "upload_org": request.form.get("org", "")}
    if not _may_change(org_code):
        abort(403)
    problems: list[str] = []
    if year_text and parse_int(year_text, minimum=1950, maximum=9999) is None:
        problems.append(f"年份「{year_text}」无效")
    if upload is None or not upload.filename:
        problems.append("请选择要上传的 .csv 或 .xlsx 文件")
    if problems:
        return _page(422, import_problems=problems, **form)
    try:
        result = import_arrangement(
            upload.read(), upload.filename, int(year_text) if year_text else None, org_code,
            actor=current_user.username)
    except ArrangementInvalid as invalid:
        return _page(422, import_problems=[str(p) for p in invalid.problems],
                     filename=upload.filename, **form)
    announce_calendar_changed(result.years, org_code)
    flash(result.summary, "success")
    return redirect(url_for("web.calendar_admin", year=result.year))


@web_bp.post("/admin/calendar/days")
@requires("orgs.manage")
def calendar_admin_add_day():
    org_code = _org_of(request.form.get("org"))
    if not _may_change(org_code):
        abort(403)
    text = (request.form.get("day") or "").strip()
    form = {"add_day": text, "add_kind": request.form.get("kind", ""),
            "add_name": request.form.get("name", ""), "add_org": request.form.get("org", "")}
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return _page(422, add_problems=[f"日期「{text}」无效，应为 2027-01-01 这样的格式" if text else "请填写日期"],
                     **form)
    try:
        row = add_day(day, request.form.get("kind", ""), request.form.get("name", ""),
                               org_code, current_user.username)
    except Invalid as failed:
        return _page(422, add_problems=[m for _p, m, _c in failed.problems], year=day.year, **form)
    announce_calendar_changed([day.year], org_code)
    flash(f"已添加 {day.isoformat()}（{row.kind_label}{'：' + row.name if row.name else ''}）", "success")
    return redirect(url_for("web.calendar_admin", year=day.year))


@web_bp.post("/admin/calendar/days/<int:day_id>/delete")
@requires("orgs.manage")
def calendar_admin_remove_day(day_id: int):
    row = db.get(CalendarDay, day_id)
    if row is None:
        abort(404)
    if not _may_change(row.org_code):
        abort(403)
    label = f"{row.day.isoformat()}（{row.kind_label}{'：' + row.name if row.name else ''}）"
    org_code = row.org_code
    year = remove_day(row, current_user.username, "管理页面删除")
    announce_calendar_changed([year], org_code)
    flash(f"已删除 {label}，删除记录已保留在变更历史中", "success")
    return redirect(url_for("web.calendar_admin", year=year))
