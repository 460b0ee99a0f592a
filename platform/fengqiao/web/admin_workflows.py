"""Admin pages for case types: list, workflow diagram, JSON editor, history, migration.

Every decision lives in ``fengqiao.cases.case_types``; these views parse the request, call
it and render. A refused save or migration re-shows exactly what the admin posted.
"""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.accounts.roles import ROLE_LABELS
from fengqiao.cases import case_types as service
from fengqiao.cases.diagram import workflow_svg
from fengqiao.errors import http_status
from fengqiao.exceptions import Conflict, DomainError, Invalid
from fengqiao.params import parse_int
from fengqiao.web.blueprint import web_bp

MANAGE = service.MANAGE

GUARD_LABELS = {
    "comment_required": "须填写意见",
    "assignee_required": "须已认领",
    "attachment_required": "须有附件",
    "all_checked_in": "被召集部门均已报到",
    "four_eyes": "须由提交人、上一步办理人以外的人办理",
}
EFFECT_LABELS = {
    "assign_actor": "操作人成为承办人",
    "unassign": "取消承办人",
    "dispatch": "分派承办单位",
    "summon": "吹哨召集部门",
    "pause_sla": "暂停计时",
    "resume_sla": "恢复计时",
    "notify": "通知上报人",
}
LEVEL_LABELS = {"county": "县级", "street": "街道", "community": "社区", "grid": "网格", "building": "楼栋"}
LABELS = {"roles": {**ROLE_LABELS, "assignee": "当前承办人"}, "guards": GUARD_LABELS,
          "effects": EFFECT_LABELS, "levels": LEVEL_LABELS}


def _view_or_404(key: str, number: int | None = None) -> service.VersionView:
    if not service.is_known(key):
        abort(404)
    found = service.version_view(key, number)
    if found is None:
        abort(404)
    return found


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
    return render_template("admin/workflows.html", page=page)


@web_bp.get("/admin/workflows/<key>")
@web_bp.get("/admin/workflows/<key>/versions/<int:number>")
@requires(MANAGE)
def workflow_admin_detail(key: str, number: int | None = None):
    view = _view_or_404(key, number)
    counts = service.open_counts(current_user, [key]).get(key, {})
    return render_template("admin/workflows_detail.html", key=key, view=view, counts=counts,
                           diagram=workflow_svg(view.ctype), labels=LABELS)


@web_bp.get("/admin/workflows/<key>/versions")
@requires(MANAGE)
def workflow_admin_history(key: str):
    view = _view_or_404(key)
    page = service.history_page(key, request.args.get("cursor"))
    return render_template("admin/workflows_history.html", key=key, view=view, page=page,
                           users=service.author_labels(page.items))


@web_bp.route("/admin/workflows/<key>/edit", methods=["GET", "POST"])
@requires(MANAGE)
def workflow_admin_edit(key: str):
    view = _view_or_404(key)
    if request.method == "GET":
        text = json.dumps(view.definition, ensure_ascii=False, indent=2)
        return render_template("admin/workflows_edit.html", key=key, view=view, text=text, note="",
                               base_version=view.latest, problems=[])
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
                           base_version=base_version, problems=problems), status


@web_bp.route("/admin/workflows/<key>/migrate", methods=["GET", "POST"])
@requires(MANAGE)
def workflow_admin_migrate(key: str):
    view = _view_or_404(key)
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
    rows = []
    for state, count in service.open_states(current_user, key, source).items():
        default = state if state in new.ctype.states and not new.ctype.is_final(state) else ""
        rows.append({"key": state, "title": old.ctype.state_title(state), "count": count,
                     "picked": chosen.get(state, "") if request.method == "POST" else default})
    return {"old": old, "new": new, "choices": choices, "rows": rows}
