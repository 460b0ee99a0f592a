"""The grid worker's day as pages (phone-first): 「今天」, the visit form, a visit, its photos,
and the small forms for a 巡查 log, a 民情日记 entry and the month's 矛盾纠纷排查 return.

These routes join the plugin's one pages blueprint (``pages.py``) and post to the same
services as the API (``visits.py``). A refused form is shown again with one Chinese message
per field and status 422; a success redirects (303) with a flash message.
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.cases import case_summaries
from fengqiao.sdk.errors import Conflict, DomainError, not_found
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import display_names, org_in_scope, org_scope_clause, scope_for
from fengqiao.sdk.privacy import mask_text
from fengqiao.sdk.web import current_user, parse_int, render, requires
from fengqiao.sdk.workdays import today_local
from flask import Response, flash, redirect, request, url_for

from fengqiao_grid import metrics, visits
from fengqiao_grid.access import MANAGE, VIEW, address_in_scope, addresses_in_scope, my_grids
from fengqiao_grid.models import CARE_TAGS, GridAddress, GridEstablishment
from fengqiao_grid.models_visits import PURPOSES, GridVisit, GridVisitPhoto
from fengqiao_grid.pages import Form, _posted, pages

DUE_SHOWN = 30  # households listed on 今天 (the most overdue first)


def _grid_choice(grids) -> str:
    codes = [g.code for g in grids]
    grid = (request.args.get("grid") or request.form.get("grid") or "").strip()
    if grid and grid not in codes:
        raise not_found()
    return grid or (codes[0] if codes else "")


def _open_cases(grid: str, limit: int = 20) -> list:
    """The grid's open cases the caller may see (the core's scoped list, newest first)."""
    return case_summaries(scope_for(current_user, "cases.view"), org=grid, open_only=True,
                          limit=limit, cursor="").items


def _overdue_units(grid: str, day) -> list:
    return list(db.execute(
        sa.select(GridEstablishment.id, GridEstablishment.name, GridEstablishment.safety_due, GridAddress.label)
        .join(GridAddress, GridAddress.id == GridEstablishment.address_id)
        .where(GridAddress.grid_code == grid, GridEstablishment.safety_due.is_not(None),
               GridEstablishment.safety_due < day)
        .order_by(GridEstablishment.safety_due).limit(30)))


def _today(form: Form | None = None, status: int = 200):
    grids = my_grids(VIEW)
    grid = _grid_choice(grids)
    day = today_local()
    month = visits.month_of(day)
    due, cases, units, figures, filed, mine = [], [], [], None, None, []
    if grid:
        due = [h for h in metrics.households_on(grid, day) if h.due(day)][:DUE_SHOWN]
        cases = _open_cases(grid)
        units = _overdue_units(grid, day)
        figures = metrics.grid_metrics(grid, month)
        filed = visits.dispute_return(grid, month)
        mine = list(db.execute(
            sa.select(GridVisit, GridAddress.label).join(GridAddress, GridAddress.id == GridVisit.address_id)
            .where(GridVisit.grid_code == grid, GridVisit.worker == current_user.username)
            .order_by(GridVisit.visited_on.desc(), GridVisit.id.desc()).limit(10)))
    return render("grid/today.html", grids=grids, grid=grid, names=display_names([g.code for g in grids]),
                  day=day, month=month, due=due, cases=cases, units=units, mine=mine, purposes=PURPOSES, figures=figures, filed=filed,
                  care_labels=CARE_TAGS, form=form or Form("return"),
                  can_manage=bool(grid) and org_in_scope(grid, MANAGE), opened=request.args.get("open")), status


@pages.get("/today")
@requires(VIEW)
def today():
    return _today()


@pages.post("/returns")
@requires(MANAGE)
def add_return():
    values = _posted()
    data = {"grid": values.get("grid", ""), "month": values.get("month", ""),
            "zero_report": values.get("zero_report") == "1", "confirmed": values.get("confirmed") == "1"}
    if not data["zero_report"]:
        count = values.get("items_count", "")
        if count:
            data["items_count"] = parse_int(count) if parse_int(count) is not None else count  # text: the schema says so
        data["items_text"] = values.get("items_text", "")
    try:
        visits.record_return(data, current_user.username)
    except DomainError as err:
        return _today(Form.refused("return", values, err), 409 if isinstance(err, Conflict) else 422)
    flash("本月矛盾纠纷排查情况已填报" + ("（零报告）" if data["zero_report"] else ""), "success")
    return redirect(url_for(".today", grid=data["grid"]), 303)


@pages.post("/patrols")
@requires(MANAGE)
def add_patrol():
    values = _posted()
    try:
        visits.record_patrol({k: values.get(k, "") for k in ("grid", "route", "findings")}
                             | ({"date": values["date"]} if values.get("date") else {}), current_user.username)
    except DomainError as err:
        return _today(Form.refused("patrol", values, err), 422)
    flash("巡查日志已保存", "success")
    return redirect(url_for(".today", grid=values.get("grid", "")), 303)


@pages.post("/diary")
@requires(MANAGE)
def add_diary():
    values = _posted()
    try:
        visits.record_diary({k: values.get(k, "") for k in ("grid", "text")}
                            | ({"date": values["date"]} if values.get("date") else {}), current_user.username)
    except DomainError as err:
        return _today(Form.refused("diary", values, err), 422)
    flash("民情日记已保存", "success")
    return redirect(url_for(".today", grid=values.get("grid", "")), 303)


# --- a visit


def _visit_form(address: GridAddress, form: Form | None = None, status: int = 200):
    units = list(db.scalars(sa.select(GridEstablishment).where(GridEstablishment.address_id == address.id)
                            .order_by(GridEstablishment.id)))
    form = form or Form("visit", {"date": today_local().isoformat(), "purpose": "home_visit"})
    return render("grid/visit_new.html", address=address, units=units, purposes=PURPOSES, form=form,
                  max_photos=visits.MAX_PHOTOS, max_photo=visits.MAX_PHOTO, visit_body=visits.VISIT_BODY), status


@pages.route("/addresses/<int:address_id>/visit", methods=["GET", "POST"])
@requires(MANAGE)
def visit_new(address_id: int):
    address = address_in_scope(address_id, MANAGE)
    if request.method == "GET":
        return _visit_form(address)
    values = _posted()
    data: dict = {"address": address.id, "purpose": values.get("purpose", ""), "findings": values.get("findings", ""),
                  "spawn_case": values.get("spawn_case") == "1"}
    if values.get("date"):
        data["date"] = values["date"]
    if values.get("unit"):
        unit = values["unit"]
        data["unit"] = parse_int(unit) if parse_int(unit) is not None else unit
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    raw = [f.read(visits.MAX_PHOTO + 1) for f in files[:visits.MAX_PHOTOS + 1]]  # never more than the limit read
    try:
        visit = visits.record_visit(data, current_user.username, raw)
    except DomainError as err:
        return _visit_form(address, Form.refused("visit", values, err), 422)
    flash(f"走访已登记，已上报网格事件 {visit.case_number}" if visit.case_number else "走访已登记", "success")
    return redirect(url_for(".visit", visit_id=visit.id), 303)


def _visit_in_scope(visit_id: int) -> GridVisit:
    visit = db.get(GridVisit, visit_id)
    if visit is None or not org_in_scope(visit.grid_code, VIEW):
        raise not_found()
    return visit


@pages.get("/visits/<int:visit_id>")
@requires(VIEW)
def visit(visit_id: int):
    found = _visit_in_scope(visit_id)
    address = db.get(GridAddress, found.address_id)
    unit = db.get(GridEstablishment, found.establishment_id) if found.establishment_id else None
    photos = db.scalars(sa.select(GridVisitPhoto.id).where(GridVisitPhoto.visit_id == found.id)
                        .order_by(GridVisitPhoto.id)).all()
    return render("grid/visit.html", visit=found, address=address, unit=unit, photos=photos,
                  purposes=PURPOSES, findings=mask_text(found.findings),
                  address_visible=db.scalar(sa.select(GridAddress.id).where(
                      GridAddress.id == found.address_id, addresses_in_scope(VIEW))) is not None)


@pages.get("/visits/<int:visit_id>/photos/<int:photo_id>")
@requires(VIEW)
def visit_photo(visit_id: int, photo_id: int):
    found = _visit_in_scope(visit_id)
    photo = db.get(GridVisitPhoto, photo_id)
    if photo is None or photo.visit_id != found.id:
        raise not_found()
    response = Response(photo.data, mimetype=photo.content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- what other pages of the plugin show of the worker's day (template globals)


@pages.app_template_global("grid_month_figures")
def month_figures(grid: str) -> dict | None:
    """This month's figures of ``grid`` for the index page (None outside the caller's scope)."""
    if not grid or not org_in_scope(grid, VIEW):
        return None
    return metrics.grid_metrics(grid, visits.month_of(today_local()))


@pages.app_template_global("grid_recent_visits")
def recent_visits(address_id: int, limit: int = 5) -> list[dict]:
    """The latest visits at an address the caller already sees (the address page), masked."""
    rows = db.scalars(sa.select(GridVisit).where(GridVisit.address_id == address_id,
                                                 org_scope_clause(GridVisit.grid_code, VIEW))
                      .order_by(GridVisit.visited_on.desc(), GridVisit.id.desc()).limit(limit))
    return [{"id": v.id, "date": v.visited_on, "purpose": PURPOSES[v.purpose], "findings": mask_text(v.findings),
             "case_number": v.case_number, "worker": v.worker} for v in rows]
