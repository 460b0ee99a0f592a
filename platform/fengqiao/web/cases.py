"""Staff pages for cases: the queue and a case's detail with its actions and history."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.cases import engine, queries
from fengqiao.cases.workflow import case_type
from fengqiao.errors import APIError, ValidationFailed
from fengqiao.forms import store
from fengqiao.forms.display import display_sections
from fengqiao.models import Case
from fengqiao.orgs.scope import scope_for
from fengqiao.pagination import keyset_page
from fengqiao.web.blueprint import web_bp

PAGE_SIZE = 50


@web_bp.get("/queues")
@requires("cases.view")
def queue():
    scope = scope_for(current_user, "cases.view")
    view = request.args.get("view", "all")
    stmt = queries.filtered(queries.cases_in(scope), state=request.args.get("state") or None,
                            type_=request.args.get("type") or None)
    if view == "mine":
        stmt = stmt.where(Case.assignee_id == current_user.id)
    elif view == "unclaimed":
        stmt = stmt.where(Case.assignee_id.is_(None))
    page = keyset_page(stmt, Case.id, request.args.get("cursor"), PAGE_SIZE)
    return render_template("cases/queue.html", page=page, view=view, case_type=case_type)


@web_bp.route("/cases/<number>", methods=["GET", "POST"])
@requires("cases.view")
def case_detail(number: str):
    case = queries.visible_case(number, scope_for(current_user, "cases.view"))
    if case is None:
        abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.form.get("action", "")
        fields = {k[len("field_"):]: v for k, v in request.form.items() if k.startswith("field_") and v}
        payload = {"version": int(request.form.get("version", "0") or 0),
                   "comment": request.form.get("comment", ""), "fields": fields}
        try:
            updated = engine.perform(number, action, current_user._get_current_object(), payload)
        except ValidationFailed as failed:
            errors = {p: m for p, m, _c in failed.problems}
        except APIError as err:
            errors = {"": err.problems[0][1]}
        else:
            title = case_type(updated.type).state_title(updated.state)
            flash(f"已办理，当前状态：{title}", "success")
            return redirect(url_for("web.case_detail", number=number))
    found = store.published(case.form_key, case.form_version) if case.form_key else None
    sections = display_sections(found[1].definition, case.data) if found and found[1] else []
    return render_template(
        "cases/detail.html", case=case, ctype=case_type(case.type), sections=sections,
        actions=engine.allowed_actions(case, current_user), history=engine.history(case),
        targets=engine.dispatch_targets(),
        errors=errors, posted=request.form if errors else {},
    ), 422 if errors else 200
