"""Forms designed in Excel, in ``/admin/forms``: upload a workbook, download one, the template.

An upload goes the way a JSON definition does (``admin_forms.form_admin_import``): checked,
saved as the form's draft, and the admin lands on the edit page, which shows the draft's
difference from the published version and publishes it under the usual breaking-change
rule. A workbook with problems is refused as a whole (422) with each problem's sheet, row
and column listed on the page.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for

from fengqiao.access import requires
from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.forms import store
from fengqiao.forms.xlsform import (
    MAX_BYTES,
    ExportFailed,
    XlsformInvalid,
    export_workbook,
    import_workbook,
    template_workbook,
    too_big,
)
from fengqiao.models import Form, FormVersion
from fengqiao.params import parse_int
from fengqiao.web.admin_forms import _case_type_problems, _submission_counts
from fengqiao.web.blueprint import web_bp

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(problems: list[tuple[str, str]], filename: str | None, status: int):
    forms = db.scalars(sa.select(Form).order_by(Form.key)).all()
    return render_template("admin/forms.html", forms=forms, counts=_submission_counts(FormVersion.form_id),
                           problems=[], xlsx_problems=problems, xlsx_filename=filename), status


def _download(body: bytes, filename: str) -> Response:
    response = Response(body, content_type=XLSX_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@web_bp.post("/admin/forms/import-xlsx")
@requires("forms.manage")
def form_admin_import_xlsx():
    """A workbook → the form's draft (nothing is saved when any problem is found)."""
    upload = request.files.get("workbook")
    if upload is None or not upload.filename:
        return _page([("", "请选择要导入的 .xlsx 工作簿")], None, 422)
    data = upload.stream.read(MAX_BYTES + 1)  # never more than the limit plus one byte
    refusal = too_big(len(data))
    if refusal:
        return _page([("", refusal)], upload.filename, 422)
    try:
        definition = import_workbook(data)
    except XlsformInvalid as failed:
        return _page([(_where(p), p.message) for p in failed.problems], upload.filename, 422)
    refused = _case_type_problems(definition)
    if refused:
        return _page(refused, upload.filename, 422)
    try:
        result = store.import_definition(definition, source="admin")
    except Invalid as failed:
        return _page([(p, m) for p, m, _ in failed.problems], upload.filename, 422)
    if result.unchanged:
        form = store.get_form(result.key)
        flash(f"「{form.title}」与当前第 {form.latest_version} 版完全相同，无需导入", "info")
        return redirect(url_for("web.form_admin_detail", key=result.key))
    flash(f"已从工作簿导入「{definition['title']}」为草稿：请查看与已发布版本的差异后发布", "success")
    return redirect(url_for("web.form_admin_edit", key=result.key))


def _where(problem) -> str:
    text = str(problem)
    return text[: -len(problem.message) - 1] if problem.sheet else ""


@web_bp.get("/admin/forms/xlsform-template.xlsx")
@requires("forms.manage")
def form_admin_xlsform_template():
    return _download(template_workbook(), "form-template.xlsx")


@web_bp.get("/admin/forms/<key>/definition.xlsx")
@requires("forms.manage")
def form_admin_export_xlsx(key: str):
    """A published version (``?version=``, the latest by default) as a workbook."""
    if store.get_form(key) is None:
        abort(404)
    raw = request.args.get("version")
    number = parse_int(raw) if raw not in (None, "") else None
    if raw not in (None, "") and number is None:
        abort(404)
    version = store.get_version(key, number)
    if version is None:
        abort(404)
    try:
        body = export_workbook(version.definition, version.number)
    except ExportFailed as failed:
        flash(f"无法导出为工作簿：{failed}", "error")
        return redirect(url_for("web.form_admin_detail", key=key))
    return _download(body, f"{key}-v{version.number}.xlsx")
