"""Staff page of one case: its facts, the actions the user may take, and its history."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from fengqiao.access import requires
from fengqiao.cases import engine, queries, sla
from fengqiao.cases.facts import participants
from fengqiao.cases.workflow import case_type
from fengqiao.errors import APIError, ValidationFailed
from fengqiao.forms import store
from fengqiao.forms.display import display_sections
from fengqiao.orgs.scope import scope_for
from fengqiao.web.blueprint import web_bp


def posted_fields(info: engine.ActionInfo | None, form: MultiDict) -> dict:
    """The action's ``field_*`` inputs typed as its schema says (validation judges them)."""
    if info is None or not info.fields:
        return {}
    values: dict = {}
    for key, prop in info.fields.get("properties", {}).items():
        name, kind = f"field_{key}", prop.get("type")
        if kind == "array":
            chosen = [v for v in form.getlist(name) if v]
            if chosen:
                values[key] = chosen
        elif kind == "boolean":
            if form.get(name):
                values[key] = True
        elif form.get(name, "").strip():
            raw = form[name].strip()
            try:
                values[key] = int(raw) if kind == "integer" else float(raw) if kind == "number" else raw
            except ValueError:
                values[key] = raw  # the schema reports the wrong type in Chinese
    return values


@web_bp.route("/cases/<number>", methods=["GET", "POST"])
@requires("cases.view")
def case_detail(number: str):
    case = queries.visible_case(number, scope_for(current_user, "cases.view"))
    if case is None:
        abort(404)
    user = current_user._get_current_object()
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.form.get("action", "")
        info = next((a for a in engine.allowed_actions(case, user) if a.name == action), None)
        version = request.form.get("version", "")
        payload = {"version": int(version) if version.isdigit() else None,
                   "comment": request.form.get("comment", ""), "fields": posted_fields(info, request.form)}
        try:
            updated = engine.perform(number, action, user, payload)
        except ValidationFailed as failed:
            errors = {p: m for p, m, _c in failed.problems}
        except APIError as err:
            errors = {"": err.problems[0][1]}
        else:
            title = case_type(updated.type, updated.workflow_version).state_title(updated.state)
            flash(f"已办理，当前状态：{title}", "success")
            return redirect(url_for("web.case_detail", number=number))
    found = store.published(case.form_key, case.form_version) if case.form_key else None
    sections = display_sections(found[1].definition, case.data) if found and found[1] else []
    ctype = case_type(case.type, case.workflow_version)
    actions = engine.allowed_actions(case, user, choices=True)
    return render_template(
        "cases/detail.html", case=case, ctype=ctype, sections=sections,
        actions=[a for a in actions if not a.builtin or a.name == "claim"],
        more_actions=[a for a in actions if a.builtin and a.name != "claim"],
        history=engine.history(case), action_title=lambda name: engine.action_title(ctype, name),
        units=participants(case), sla_titles=sla.STATUS_TITLES, targets=engine.dispatch_targets(),
        errors=errors, posted=request.form if errors else {},
    ), 422 if errors else 200
