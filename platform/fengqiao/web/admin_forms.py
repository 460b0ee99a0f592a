"""Low-code form designer for admins: edit drafts, preview, publish, archive, export, compare.

The JSON text of a definition is what gets saved. The field editor (``static/designer.js``)
only rewrites that text, so the page also works without JavaScript, and the server checks
every save with the same rules as ``fengqiao forms check`` (through ``store.save_draft``).
Never is anything the admin typed thrown away: a refused save re-shows the posted text.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.db import db
from fengqiao.exceptions import Invalid
from fengqiao.forms import case_link, store
from fengqiao.forms.definition import (
    check_definition,
    parse_definition_bytes,
    parse_definition_text,
)
from fengqiao.forms.diff import diff_definitions
from fengqiao.forms.render import compile_definition
from fengqiao.models import Form, FormVersion, Submission
from fengqiao.params import parse_int
from fengqiao.web.blueprint import web_bp

Problem = tuple[str, str]  # (JSON pointer, Chinese message)

# What "新建表单" starts from: valid apart from the key and title the admin must choose.
NEW_DEFINITION: dict[str, Any] = {
    "key": "",
    "title": "",
    "access": "staff",
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    },
    "ui": {"order": []},
}
# Stand-ins so the preview renders before the admin has chosen a key and title.
PREVIEW_KEY, PREVIEW_TITLE = "preview-draft", "（未命名表单）"


def _as_text(definition: dict[str, Any]) -> str:
    return json.dumps(definition, ensure_ascii=False, indent=2)


def _form_or_404(key: str) -> Form:
    form = store.get_form(key)
    if form is None:
        abort(404)
    return form


def _submission_counts(group_by, *where) -> dict[int, int]:
    """Submissions per form (``FormVersion.form_id``) or per version (``FormVersion.id``)."""
    stmt = (
        sa.select(group_by, sa.func.count(Submission.id))
        .join(Submission, Submission.form_version_id == FormVersion.id)
        .where(*where)
        .group_by(group_by)
    )
    return {group: count for group, count in db.execute(stmt)}


def _parse(text: str) -> tuple[Any, list[Problem]]:
    data, problem = parse_definition_text(text, "designer")
    return data, [(problem.pointer, problem.message)] if problem else []


def _checked(data: Any) -> list[Problem]:
    return [(p.pointer, p.message) for p in check_definition(data, "designer")]


def _case_type_problems(data: Any) -> list[Problem]:
    """The form's case type must exist, be published and apply in the admin's scope (saving a
    definition here, unlike the start-up sync of shipped files, is an admin's choice)."""
    return [(p, m) for p, m, _c in case_link.problems(data, current_user._get_current_object())]


# ---- list and import -------------------------------------------------------------------


def _list_page(problems: list[Problem] = (), filename: str | None = None, status: int = 200):
    forms = db.scalars(sa.select(Form).order_by(Form.key)).all()
    counts = _submission_counts(FormVersion.form_id)
    return render_template("admin/forms.html", forms=forms, counts=counts,
                           problems=problems, filename=filename), status


@web_bp.get("/admin/forms")
@requires("forms.manage")
def form_admin_list():
    return _list_page()


@web_bp.post("/admin/forms/import")
@requires("forms.manage")
def form_admin_import():
    """Load a definition file as a draft (the same checks as saving from the editor)."""
    upload = request.files.get("definition_file")
    if upload is None or not upload.filename:
        return _list_page([("", "请选择要导入的 .json 定义文件")], status=422)
    data, problem = parse_definition_bytes(upload.read(), upload.filename)
    if problem is not None:
        return _list_page([(problem.pointer, problem.message)], upload.filename, 422)
    if not isinstance(data, dict):
        return _list_page(_checked(data), upload.filename, 422)
    refused = _case_type_problems(data)
    if refused:
        return _list_page(refused + [p for p in _checked(data) if p not in refused], upload.filename, 422)
    try:
        result = store.import_definition(data, source="admin")
    except Invalid as failed:
        return _list_page([(p, m) for p, m, _ in failed.problems], upload.filename, 422)
    if result.unchanged:
        form = store.get_form(result.key)
        flash(f"「{form.title}」与当前第 {form.latest_version} 版完全相同，无需导入", "info")
        return redirect(url_for("web.form_admin_detail", key=result.key))
    flash(f"已导入「{data['title']}」为草稿，请检查后发布", "success")
    return redirect(url_for("web.form_admin_edit", key=result.key))


# ---- editing ---------------------------------------------------------------------------


def _preview_context(text: str) -> dict[str, Any]:
    """What ``_form_preview.html`` needs: the rendered form, or why it cannot be shown."""
    data, problems = _parse(text)
    if not problems and isinstance(data, dict):
        data = {**data, "key": data.get("key") or PREVIEW_KEY, "title": data.get("title") or PREVIEW_TITLE}
    if not problems:
        problems = _checked(data)
    if problems:
        return {"preview_problems": problems}
    try:
        compiled = compile_definition(data)
        form = compiled.form_class(formdata=None, prefix="preview", meta={"csrf": False})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # valid, yet not renderable
        return {"preview_problems": [("", f"无法生成预览：{exc}（字段标识是否用了 meta、process 等系统保留名称？）")]}
    return {"preview_problems": [], "compiled": compiled, "preview_form": form, "preview": data}


def _current_definition(form: Form) -> dict[str, Any]:
    if form.draft is not None:
        return form.draft
    latest = store.get_version(form.key)
    return latest.definition if latest else {**NEW_DEFINITION, "key": form.key, "title": form.title}


def _edit_page(form: Form | None, text: str, problems: list[Problem] = (), status: int = 200,
               publish_problems: list[Problem] = (), breaking=None):
    return render_template(
        "admin/form_edit.html",
        form=form,
        text=text,
        problems=problems,
        diff=store.pending_diff(form, case_link.type_title) if form is not None else None,
        publish_problems=publish_problems,
        breaking=breaking,
        case_type_choices=case_link.choices(current_user._get_current_object()),
        intake_only=case_link.INTAKE_ONLY,
        **_preview_context(text),
    ), status


def _key_problems(form: Form | None, data: Any) -> list[Problem]:
    """The posted key must name the form being edited (or a new one), never another form."""
    key = data.get("key") if isinstance(data, dict) else None
    if not isinstance(key, str) or not key:
        return []  # check_definition reports it
    if form is None and key == "new":
        return [("/key", "new 是系统保留的标识（用于「新建表单」页面），请换一个")]
    if form is None and store.get_form(key) is not None:
        return [("/key", f"表单标识 {key} 已被使用，请换一个；要修改该表单请到它的编辑页")]
    if form is not None and key != form.key:
        return [("/key", f"表单标识不能修改（应为 {form.key}）；如需另建表单，请使用「新建表单」")]
    return []


def _save(form: Form | None):
    text = request.form.get("definition", "")
    data, problems = _parse(text)
    if not problems:
        problems = _key_problems(form, data) + _case_type_problems(data)
        if problems:
            problems += [p for p in _checked(data) if p not in problems]
    saved = None
    if not problems:
        try:
            saved = store.save_draft(data)
        except Invalid as failed:
            problems = [(p, m) for p, m, _ in failed.problems]
    if problems:
        return _edit_page(form, text, problems, 422)
    latest = store.get_version(saved.key)
    if latest is not None and latest.definition == saved.draft:
        flash(f"草稿已保存，内容与第 {latest.number} 版相同，无需发布", "info")
    else:
        flash("草稿已保存，确认无误后可发布", "success")
    return redirect(url_for("web.form_admin_edit", key=saved.key))


@web_bp.route("/admin/forms/new", methods=["GET", "POST"])
@requires("forms.manage")
def form_admin_new():
    if request.method == "POST":
        return _save(None)
    chosen = (request.args.get("case_type") or "").strip()  # 新建上报表单 on a case type's page
    usable = dict(case_link.usable_types(current_user))
    return _edit_page(None, _as_text({**NEW_DEFINITION, "case_type": chosen} if chosen in usable else NEW_DEFINITION))


@web_bp.route("/admin/forms/<key>/edit", methods=["GET", "POST"])
@requires("forms.manage")
def form_admin_edit(key: str):
    form = _form_or_404(key)
    if request.method == "POST":
        return _save(form)
    return _edit_page(form, _as_text(_current_definition(form)))


@web_bp.post("/admin/forms/preview")
@requires("forms.manage")
def form_admin_preview():
    """The form as residents would see it, rendered from unsaved JSON (an HTML fragment)."""
    text = request.get_data(as_text=True) if request.is_json else request.form.get("definition", "")
    context = _preview_context(text)
    return render_template("admin/_form_preview.html", **context), 422 if context["preview_problems"] else 200


@web_bp.post("/admin/forms/<key>/publish")
@requires("forms.manage")
def form_admin_publish(key: str):
    """Freeze the saved draft; a breaking change needs the confirmation box ticked."""
    form = _form_or_404(key)
    confirmed = request.form.get("confirm_breaking") == "1"
    refused = _case_type_problems(form.draft) if form.draft is not None else []
    if refused:  # e.g. a draft saved before its case type was withdrawn
        return _edit_page(form, _as_text(_current_definition(form)), status=422, publish_problems=refused)
    try:
        version = store.publish(form, current_user._get_current_object(), allow_breaking=confirmed,
                                type_title=case_link.type_title)
    except store.BreakingChange as err:
        return _edit_page(form, _as_text(_current_definition(form)), status=409, breaking=err.diff)
    except Invalid as failed:
        return _edit_page(form, _as_text(_current_definition(form)), status=422,
                          publish_problems=[(p, m) for p, m, _ in failed.problems])
    store.announce_published(version)
    flash(f"已发布第 {version.number} 版", "success")
    return redirect(url_for("web.form_admin_detail", key=key))


# ---- versions --------------------------------------------------------------------------


@web_bp.get("/admin/forms/<key>")
@requires("forms.manage")
def form_admin_detail(key: str):
    form = _form_or_404(key)
    counts = _submission_counts(FormVersion.id, FormVersion.form_id == form.id)
    return render_template("admin/form_detail.html", form=form, versions=list(reversed(form.versions)),
                           counts=counts)


@web_bp.post("/admin/forms/<key>/archive")
@requires("forms.manage")
def form_admin_archive(key: str):
    """Stop (or resume) accepting submissions; versions and submissions stay as they are."""
    form = _form_or_404(key)
    archived = request.form.get("archived")
    if archived not in ("0", "1"):
        abort(400)
    store.set_archived(form, archived == "1")
    if archived == "1":
        flash(f"已停用「{form.title}」，不再接受新的提交", "success")
    else:
        flash(f"已重新启用「{form.title}」", "success")
    return redirect(url_for("web.form_admin_detail", key=key))


def _version_arg(name: str, default: int | None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_int(raw)
    if value is None:
        abort(404)
    return value


@web_bp.get("/admin/forms/<key>/definition.json")
@requires("forms.manage")
def form_admin_export(key: str):
    """A published version as a definition file, ready for ``forms import`` or 导入."""
    _form_or_404(key)
    version = store.get_version(key, _version_arg("version", None))
    if version is None:
        abort(404)
    body = json.dumps(version.definition, ensure_ascii=False, indent=2) + "\n"
    response = Response(body, content_type="application/json; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{key}-v{version.number}.json"'
    return response


@web_bp.get("/admin/forms/<key>/diff")
@requires("forms.manage")
def form_admin_diff(key: str):
    form = _form_or_404(key)
    if form.latest_version is None:
        abort(404)
    old = store.get_version(key, _version_arg("from", max(form.latest_version - 1, 1)))
    new = store.get_version(key, _version_arg("to", form.latest_version))
    if old is None or new is None:
        abort(404)
    return render_template("admin/form_diff.html", form=form, old=old, new=new,
                           diff=diff_definitions(old.definition, new.definition, case_link.type_title))
