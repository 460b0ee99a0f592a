"""Admin pages for case types: list, new type, workflow diagram, draft (publish / discard /
restore a version), JSON editor, history, migration.

Every decision lives in ``fengqiao.cases.case_types``; these views parse the request, call
it and render. A refused save or migration re-shows exactly what the admin posted.
"""

from __future__ import annotations

import json

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from fengqiao.access import requires
from fengqiao.cases import case_types as service
from fengqiao.cases.diagram import workflow_svg
from fengqiao.cases.jurisdiction import holds_root
from fengqiao.cases.workflow_labels import EFFECT_LABELS, GUARD_LABELS, LABELS, LEVEL_LABELS  # noqa: F401
from fengqiao.db import db
from fengqiao.errors import http_status
from fengqiao.exceptions import Conflict, DomainError, Invalid
from fengqiao.forms import case_link
from fengqiao.orgs import service as orgs
from fengqiao.orgs.scope import scope_for
from fengqiao.params import parse_int
from fengqiao.web.blueprint import web_bp
from fengqiao.web.forms import options
from fengqiao.web.validation import apply_problems

MANAGE = service.MANAGE

# The workflow vocabulary's Chinese labels live in fengqiao.cases.workflow_labels (the designer
# shares them); re-exported here for the pages and tests that import them from this module.


def _view_or_404(key: str, number: int | None = None) -> service.VersionView:
    """The version, if the admin may see the type at all (another jurisdiction's: 404)."""
    if service.type_access(current_user, key) is None:
        abort(404)
    found = service.version_view(key, number)
    if found is None:
        abort(404)
    return found


def _editable_or_abort(key: str) -> None:
    """Writes need the type in the admin's own scope: another jurisdiction's type is 404, a
    county-wide (or a higher unit's) type that they may only read is 403."""
    access = service.type_access(current_user, key)
    if access is None:
        abort(404)
    if access != service.EDIT:
        abort(403)


def design_url(key: str) -> str:
    """The table designer for the key's draft (web/admin_workflow_designer.py), or the detail
    page where the designer is not installed."""
    if "web.workflow_admin_design" in current_app.view_functions:
        return url_for("web.workflow_admin_design", key=key)
    return url_for("web.workflow_admin_detail", key=key)


def _int_arg(source, name: str) -> tuple[int | None, str | None]:
    """An optional positive integer argument, or the Chinese reason it is not one."""
    raw = (source.get(name) or "").strip()
    if not raw:
        return None, None
    value = parse_int(raw, minimum=1)
    if value is None:
        return None, f"版本号应为正整数：{raw}"
    return value, None


@web_bp.get("/admin/workflows")
@requires(MANAGE)
def workflow_admin_list():
    page = service.type_page(current_user, request.args.get("cursor"))
    return render_template("admin/workflows.html", page=page, design_url=design_url)


@web_bp.get("/admin/workflows/<key>")
@web_bp.get("/admin/workflows/<key>/versions/<int:number>")
@requires(MANAGE)
def workflow_admin_detail(key: str, number: int | None = None):
    return _detail_page(key, number)


def _detail_page(key: str, number: int | None = None, problems=(), status: int = 200, note: str = ""):
    """The diagram page, with the draft banner; a refused publish shows its problems here."""
    view = _view_or_404(key, number)
    counts = service.open_counts(current_user, [key]).get(key, {})
    draft = service.get_draft(key)
    author = service.draft_author(draft)
    return render_template("admin/workflows_detail.html", key=key, view=view, counts=counts,
                           diagram=workflow_svg(view.ctype), labels=LABELS, draft=draft, draft_author=author,
                           editable=service.type_access(current_user, key) == service.EDIT,
                           design_url=design_url(key), org_name=_unit_name(view.definition.get("org")),
                           problems=list(problems), note=note, forms=case_link.forms_opening(key)), status


def _unit_name(code: str | None) -> str:
    if not code:
        return ""
    unit = orgs.get_by_code(code)
    return f"{unit.name}（{code}）" if unit else code


@web_bp.get("/admin/workflows/<key>/versions")
@requires(MANAGE)
def workflow_admin_history(key: str):
    view = _view_or_404(key)
    page = service.history_page(key, request.args.get("cursor"))
    return render_template("admin/workflows_history.html", key=key, view=view, page=page,
                           users=service.author_labels(page.items), draft=service.get_draft(key),
                           editable=service.type_access(current_user, key) == service.EDIT)


@web_bp.route("/admin/workflows/<key>/edit", methods=["GET", "POST"])
@requires(MANAGE)
def workflow_admin_edit(key: str):
    """The JSON editor: the "advanced" path that saves straight as the next version (the
    designer's drafts are the usual one). A type never published has only its draft."""
    view = _view_or_404(key)
    _editable_or_abort(key)
    if view.unpublished:
        flash("该事项类型尚未发布：请在设计页编辑草稿并发布。", "info")
        return redirect(design_url(key))
    if request.method == "GET":
        text = json.dumps(view.definition, ensure_ascii=False, indent=2)
        return render_template("admin/workflows_edit.html", key=key, view=view, text=text, note="",
                               base_version=view.latest, problems=[], draft=service.get_draft(key))
    text, note = request.form.get("definition", ""), request.form.get("note", "")
    base_version, _bad = _int_arg(request.form, "base_version")
    try:
        row = service.save_version(key, text, note, current_user, base_version)
    except (Invalid, Conflict) as err:  # the typed text is shown again with the problems
        return _edit_again(key, view, text, note, base_version, err, http_status(err))
    flash(f"已保存为第 {row.number} 版：新事项按此版本办理，在办事项仍按原版本，可在「迁移在办事项」中迁移。",
          "success")
    return redirect(url_for("web.workflow_admin_detail", key=key))


def _edit_again(key, view, text, note, base_version, err: DomainError, status: int):
    problems = [(p, m) for p, m, _ in err.problems]
    return render_template("admin/workflows_edit.html", key=key, view=view, text=text, note=note,
                           base_version=base_version, problems=problems, draft=service.get_draft(key)), status


@web_bp.route("/admin/workflows/<key>/migrate", methods=["GET", "POST"])
@requires(MANAGE)
def workflow_admin_migrate(key: str):
    view = _view_or_404(key)
    _editable_or_abort(key)
    counts = service.open_counts(current_user, [key]).get(key, {})
    args = request.form if request.method == "POST" else request.args
    source, bad_from = _int_arg(args, "from_version")
    target, bad_to = _int_arg(args, "to_version")
    problems = [("/from_version", m) for m in [bad_from] if m] + [("/to_version", m) for m in [bad_to] if m]
    if source is None and not bad_from:
        source = min((v for v in counts if v != view.latest), default=None)
    if target is None and not bad_to:
        target = view.latest
    if request.method == "POST" and not problems and (source is None or target is None):
        problems = [("/from_version", "请选择原版本和目标版本")]
    chosen = {k[4:]: v for k, v in args.items() if k.startswith("map-")}
    status = 200 if not problems else 422
    if request.method == "POST" and not problems:
        try:
            moved = service.migrate_open_cases(key, source, target, chosen, current_user,
                                               request.form.get("note", ""))
        except (Invalid, Conflict) as err:
            problems, status = [(p, m) for p, m, _ in err.problems], http_status(err)
        else:
            flash(f"已将 {moved} 件在办事项从第 {source} 版迁移到第 {target} 版，每件事项都记录了迁移历史。", "success")
            return redirect(url_for("web.workflow_admin_detail", key=key))
    plan = _plan(key, source, target, chosen) if source and target and source != target else None
    return render_template("admin/workflows_migrate.html", key=key, view=view, counts=counts,
                           source=source, target=target, plan=plan, problems=problems,
                           note=request.form.get("note", "")), status


def _plan(key: str, source: int, target: int, chosen: dict[str, str]):
    """What the mapping form needs: per open state, its count, the choices and the pick."""
    old, new = service.version_view(key, source), service.version_view(key, target)
    if old is None or new is None:
        return None
    choices = [s for s in new.ctype.states.values() if not s.final]
    clocks = service.clock_preview(current_user, key, source, target)  # the deadlines the move recomputes
    rows = []
    for state, count in service.open_states(current_user, key, source).items():
        default = state if state in new.ctype.states and not new.ctype.is_final(state) else ""
        rows.append({"key": state, "title": old.ctype.state_title(state), "count": count,
                     "clock": clocks.get(state) or service.ClockPreview(count),
                     "picked": chosen.get(state, "") if request.method == "POST" else default})
    total = service.ClockPreview(sum(r["clock"].count for r in rows), sum(r["clock"].earlier for r in rows),
                                 sum(r["clock"].later for r in rows))
    return {"old": old, "new": new, "choices": choices, "rows": rows, "clock": total}


# ---- new types and drafts ------------------------------------------------------------------


class CaseTypeForm(FlaskForm):
    """新建事项类型. No validators here: ``case_types.create_type`` checks every field at once."""

    title = StringField("名称", description="例如：电动车违规充电隐患（最多 100 个字符）")
    prefix = StringField("编号前缀", description="2–4 个大写英文字母，事项编号以它开头，例如 DC；不能与其他事项类型相同")
    org = SelectField("适用范围", choices=[], validate_choice=False,
                      description="只有该单位及其下级单位可以使用此事项类型；「全县」仅限管理全县的管理员")
    template = SelectField("从模板开始", choices=[], validate_choice=False,
                           description="复制所选事项类型的流程和办理时限，之后可在设计页修改；「空白流程」只有 已上报 → 已办结")
    key = StringField("标识", description="英文标识，用于表单定义和接口：小写字母开头，只含小写字母、数字和下划线，"
                                         "例如 ebike_charging；创建后不能修改")


@web_bp.route("/admin/workflows/new", methods=["GET", "POST"])
@requires(MANAGE)
def workflow_admin_new():
    form = CaseTypeForm()
    scope = scope_for(current_user, MANAGE)
    units = db.scalars(orgs.units_in(scope, include_inactive=False))
    county = [("", "全县（所有单位）")] if holds_root(scope) else []
    form.org.choices = options(county + [(u.code, f"{'　' * u.depth}{u.name}（{u.code}）") for u in units])
    form.template.choices = options([("", "空白流程（已上报 → 已办结）")]
                                    + [(k, f"{t}（{k}）") for k, t in service.types_for_scope(current_user)])
    if form.validate_on_submit():
        try:
            draft = service.create_type(current_user, form.key.data, form.title.data, form.prefix.data,
                                        form.org.data, form.template.data)
        except (Invalid, Conflict) as failed:
            apply_problems(form, failed)
        else:
            flash(f"已新建事项类型「{draft.definition['title']}」（草稿）：设计好流程后发布，即可在表单中使用。", "success")
            return redirect(design_url(draft.key))
    return render_template("admin/workflows_new.html", form=form), 422 if form.errors else 200


@web_bp.post("/admin/workflows/<key>/draft/discard")
@requires(MANAGE)
def workflow_admin_discard(key: str):
    _editable_or_abort(key)
    if request.form.get("confirm") != "1":
        return _detail_page(key, problems=[("/confirm", "请勾选「确认放弃草稿」后再提交")], status=422)
    view = service.version_view(key)
    never_published = view is not None and view.unpublished
    try:
        service.discard_draft(key, current_user)
    except DomainError as err:
        return _detail_page(key, problems=[(p, m) for p, m, _ in err.problems], status=http_status(err))
    if never_published:
        flash(f"已放弃草稿：尚未发布的事项类型 {key} 已删除。", "success")
        return redirect(url_for("web.workflow_admin_list"))
    flash("已放弃草稿，当前版本不变。", "success")
    return redirect(url_for("web.workflow_admin_detail", key=key))


@web_bp.post("/admin/workflows/<key>/draft/publish")
@requires(MANAGE)
def workflow_admin_publish(key: str):
    """Publish the draft; when older versions still have open cases, go on to migrating them."""
    _editable_or_abort(key)
    note = request.form.get("note", "")
    try:
        row = service.publish_draft(key, current_user, note)
    except DomainError as err:
        return _detail_page(key, problems=[(p, m) for p, m, _ in err.problems], status=http_status(err), note=note)
    counts = service.open_counts(current_user, [key]).get(key, {})
    older = sorted(v for v, n in counts.items() if v != row.number and n)
    if older:
        waiting = sum(counts[v] for v in older)
        flash(f"已发布为第 {row.number} 版：新事项按此版本办理。旧版本还有 {waiting} 件在办事项仍按原版本办理，"
              "可在下方把它们迁移到新版本。", "success")
        return redirect(url_for("web.workflow_admin_migrate", key=key, from_version=older[0], to_version=row.number))
    flash(f"已发布为第 {row.number} 版：新事项按此版本办理。", "success")
    return redirect(url_for("web.workflow_admin_detail", key=key))


@web_bp.post("/admin/workflows/<key>/versions/<int:number>/restore")
@requires(MANAGE)
def workflow_admin_restore(key: str, number: int):
    _editable_or_abort(key)
    try:
        service.restore_version(key, number, current_user)
    except DomainError as err:
        return _detail_page(key, problems=[(p, m) for p, m, _ in err.problems], status=http_status(err))
    flash(f"已将第 {number} 版恢复为草稿：核对后发布，即成为新的版本（历史版本不变）。", "success")
    return redirect(design_url(key))
