"""Admin pages for the org hierarchy: list, create, rename, move, deactivate."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.models import OrgUnit
from fengqiao.orgs import service
from fengqiao.orgs.scope import scope_for
from fengqiao.pagination import keyset_page
from fengqiao.web.blueprint import web_bp
from fengqiao.web.forms import OrgEditForm, OrgUnitForm, option_values, options
from fengqiao.web.validation import apply_problems

PAGE_SIZE = 50


def _parent_choices(exclude: OrgUnit | None = None) -> list[tuple[str, str]]:
    units = db.scalars(service.units_in(scope_for(current_user, "orgs.manage"), include_inactive=False))
    return [
        (u.code, f"{'　' * u.depth}{u.name}（{u.code}）")
        for u in units
        if exclude is None or not u.path.startswith(exclude.path)
    ]


@web_bp.get("/admin/orgs")
@requires("orgs.view")
def org_list():
    scope = scope_for(current_user, "orgs.view")
    page = keyset_page(service.units_in(scope).order_by(None), OrgUnit.path,
                       request.args.get("cursor"), PAGE_SIZE, descending=False)
    can_manage = scope_for(current_user, "orgs.manage")
    return render_template("admin/orgs.html", page=page, can_manage=can_manage)


@web_bp.route("/admin/orgs/new", methods=["GET", "POST"])
@requires("orgs.manage")
def org_new():
    form = OrgUnitForm()
    form.parent.choices = options(_parent_choices())
    if request.method == "GET" and request.args.get("parent"):
        form.parent.data = request.args["parent"]
    if form.validate_on_submit():
        if form.parent.data not in option_values(form.parent):
            form.parent.errors = ["请选择有权限管理的上级单位"]
        else:
            try:
                unit = service.create_unit(form.code.data, form.name.data, form.level.data,
                                           form.parent.data, form.kind.data)
            except Invalid as failed:
                apply_problems(form, failed)
            else:
                flash(f"已新建单位：{unit.name}", "success")
                return redirect(url_for("web.org_list"))
    status = 422 if form.errors else 200
    return render_template("admin/org_form.html", form=form, unit=None), status


@web_bp.route("/admin/orgs/<code>", methods=["GET", "POST"])
@requires("orgs.view")
def org_edit(code: str):
    unit = service.get_by_code(code)
    if unit is None or not scope_for(current_user, "orgs.view").contains(unit.path):
        abort(404)
    manage_scope = scope_for(current_user, "orgs.manage")
    can_edit = manage_scope.contains(unit.path)
    form = OrgEditForm(obj=None if request.method == "POST" else unit)
    form.parent.choices = options([("", "（无上级）"), *_parent_choices(exclude=unit)])
    if request.method == "GET":
        form.parent.data = unit.parent.code if unit.parent else ""
        form.active.data = unit.active
    if request.method == "POST":
        if not can_edit:
            abort(403)
        if form.validate_on_submit():
            try:
                _apply_edit(unit, form)
            except Invalid as failed:
                db.rollback()  # the page shows the unit as it was, not half-edited
                apply_problems(form, failed)
            else:
                flash("已保存", "success")
                return redirect(url_for("web.org_edit", code=unit.code))
    children = db.scalars(
        service.units_in(scope_for(current_user, "orgs.view")).where(OrgUnit.parent_id == unit.id)
    ).all()
    status = 422 if form.errors else 200
    return render_template("admin/org_form.html", form=form, unit=unit, can_edit=can_edit,
                           children=children), status


def _apply_edit(unit: OrgUnit, form: OrgEditForm) -> None:
    service.rename_unit(unit, form.name.data)
    new_parent_code = form.parent.data or None
    current_parent = unit.parent.code if unit.parent else None
    if new_parent_code != current_parent:
        if new_parent_code is None or new_parent_code not in option_values(form.parent):
            raise Invalid.field("/parent", "请选择有权限管理的上级单位", "forbidden")
        service.move_unit(unit, service.get_by_code(new_parent_code))
    if bool(form.active.data) != unit.active:
        service.set_active(unit, bool(form.active.data))
