"""Staff pages for editing lists: versions per unit, a draft editor, publish, Excel."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from fengqiao.sdk.errors import APIError, ValidationFailed
from fengqiao.sdk.files import xlsx_response
from fengqiao.sdk.models import db
from fengqiao.sdk.web import current_user, render, requires
from flask import flash, redirect, request, url_for
from sqlalchemy.exc import IntegrityError

from fengqiao_certificates.access import managed_units, may_manage, require_manage, roots
from fengqiao_certificates.excel import export_list, import_items, read_items
from fengqiao_certificates.lists import (
    add_item,
    chain,
    draft_of,
    in_force,
    jurisdiction_name,
    open_draft,
    publish,
    remove_item,
    update_item,
    versions,
)
from fengqiao_certificates.models import KINDS, NATIONAL, CertificateList
from fengqiao_certificates.national import ensure_seeded
from fengqiao_certificates.views import pages


@pages.get("/admin")
@requires("certificates.view")
def admin_index():
    ensure_seeded()
    units = [(NATIONAL, "全国（国务院部门清单）")] if may_manage(NATIONAL) else []
    units += [(u.code, u.name) for u in managed_units()]
    rows = [(code, name, in_force(code), draft_of(code)) for code, name in units]
    return render("certificates/admin_index.html", rows=rows, has_roots=bool(roots()))


def _listing(org_code: str, version: int | None = None) -> CertificateList:
    require_manage(org_code)
    if version is None:
        return draft_of(org_code)
    found = db.scalar(sa.select(CertificateList).where(CertificateList.org_code == org_code,
                                                       CertificateList.version == version))
    if found is None:
        raise APIError(404)
    return found


def _editor(org_code: str, errors: ValidationFailed | None = None, form: dict | None = None, status: int = 200):
    above = chain(org_code)[:-1] if org_code != NATIONAL else []
    inherited = [(jurisdiction_name(c), v) for c in above if (v := in_force(c)) is not None]
    return render("certificates/admin_list.html", org_code=org_code, unit_name=jurisdiction_name(org_code),
                  inherited=inherited,
                  draft=draft_of(org_code), current=in_force(org_code), versions=versions(org_code), kinds=KINDS,
                  errors={p: m for p, m, _ in (errors.problems if errors else [])}, form=form or {},
                  today=date.today().isoformat()), status


@pages.get("/admin/<org_code>")
@requires("certificates.manage")
def admin_list(org_code: str):
    require_manage(org_code)
    return _editor(org_code)


@pages.post("/admin/<org_code>/draft")
@requires("certificates.manage")
def admin_new_draft(org_code: str):
    require_manage(org_code)
    open_draft(org_code, current_user.username)
    db.commit()
    flash("已新建草稿，可在下方编辑后发布", "success")
    return redirect(url_for(".admin_list", org_code=org_code))


def _item_form() -> dict:
    keys = ("kind", "name", "applicants", "materials", "time_limit_days", "template", "reason", "referral")
    return {k: request.form.get(k, "") for k in keys}


@pages.post("/admin/<org_code>/items")
@requires("certificates.manage")
def admin_add_item(org_code: str):
    draft = _listing(org_code)
    if draft is None:
        return _editor(org_code, ValidationFailed([("", "请先新建草稿", "no_draft")]), status=409)
    form = _item_form()
    try:
        add_item(draft, form)
    except ValidationFailed as exc:
        db.rollback()
        return _editor(org_code, exc, form, 422)
    db.commit()
    flash(f"已添加「{form['name'].strip()}」", "success")
    return redirect(url_for(".admin_list", org_code=org_code))


@pages.post("/admin/<org_code>/items/<int:item_id>")
@requires("certificates.manage")
def admin_update_item(org_code: str, item_id: int):
    draft = _listing(org_code)
    if draft is None:
        return _editor(org_code, ValidationFailed([("", "请先新建草稿", "no_draft")]), status=409)
    form = _item_form()
    try:
        update_item(draft, item_id, form)
    except ValidationFailed as exc:
        db.rollback()
        return _editor(org_code, exc, {**form, "id": item_id}, 422)
    db.commit()
    flash("已保存修改", "success")
    return redirect(url_for(".admin_list", org_code=org_code))


@pages.post("/admin/<org_code>/items/<int:item_id>/delete")
@requires("certificates.manage")
def admin_remove_item(org_code: str, item_id: int):
    draft = _listing(org_code)
    try:
        if draft is None:
            raise ValidationFailed([("", "请先新建草稿", "no_draft")])
        remove_item(draft, item_id)
    except ValidationFailed as exc:
        db.rollback()
        return _editor(org_code, exc, status=422)
    db.commit()
    flash("已从草稿中删除", "success")
    return redirect(url_for(".admin_list", org_code=org_code))


@pages.post("/admin/<org_code>/publish")
@requires("certificates.manage")
def admin_publish(org_code: str):
    draft = _listing(org_code)
    raw = (request.form.get("effective_from") or "").strip()
    try:
        if draft is None:
            raise ValidationFailed([("", "没有可发布的草稿", "no_draft")])
        try:
            effective = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise ValidationFailed([("/effective_from", "生效日期格式应为 YYYY-MM-DD", "format")]) from None
        publish(draft, current_user.username, effective, request.form.get("source_document"),
                request.form.get("title"))
    except ValidationFailed as exc:
        db.rollback()
        return _editor(org_code, exc, dict(request.form), 422)
    db.commit()
    flash(f"已发布第 {draft.version} 版", "success")
    return redirect(url_for(".admin_list", org_code=org_code))


@pages.get("/admin/<org_code>/v/<int:version>")
@requires("certificates.manage")
def admin_version(org_code: str, version: int):
    listing = _listing(org_code, version)
    return render("certificates/admin_version.html", listing=listing, unit_name=jurisdiction_name(org_code),
                  kinds=KINDS)


@pages.get("/admin/<org_code>/v/<int:version>/export.xlsx")
@requires("certificates.manage")
def admin_export(org_code: str, version: int):
    listing = _listing(org_code, version)
    return xlsx_response(f"证明事项清单-{jurisdiction_name(org_code)}-第{version}版.xlsx", export_list(listing))


@pages.post("/admin/<org_code>/import")
@requires("certificates.manage")
def admin_import(org_code: str):
    require_manage(org_code)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed([("/file", "请选择要导入的 Excel 文件（.xlsx）", "required")])
        items = read_items(upload.read(), upload.filename)  # the whole file first, then a short write
        draft = open_draft(org_code, current_user.username)
        count = import_items(draft, items)
    except ValidationFailed as exc:
        db.rollback()
        return _editor(org_code, exc, status=422)
    db.commit()
    flash(f"已导入 {count} 项，草稿原有事项已被替换", "success")
    return redirect(url_for(".admin_list", org_code=org_code))


@pages.errorhandler(IntegrityError)
def concurrent_edit(_error):
    """Two people opened a draft (or listed an item) at the same moment: one wins, the other
    gets a clear message instead of a 500."""
    db.rollback()
    return render("error.html", status=409, message="该清单刚被他人修改，请刷新页面后重试"), 409
