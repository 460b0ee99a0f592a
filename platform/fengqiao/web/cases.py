"""Staff page of one case: its facts, the actions the user may take, and its history.

Personal fields show masked for every role; a user with ``cases.reveal`` for the case's
unit sees a 查看 button per masked field, which posts a reason and shows the full value in
that one response only (``Cache-Control: no-store``; the reveal is audited). Fields the form
hides from the handling unit show ``******`` without a button there (``cases.visibility``).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from fengqiao import audit
from fengqiao.access import requires
from fengqiao.cases import engine, photos, queries, sla, steps
from fengqiao.cases.case_types import case_type
from fengqiao.cases.facts import participants
from fengqiao.cases.related import related
from fengqiao.cases.reveal import MAX_REASON, Revealed, reveal
from fengqiao.cases.visibility import case_definition, withheld_attachments
from fengqiao.db import db, utcnow
from fengqiao.exceptions import DomainError, Invalid
from fengqiao.forms.display import display_sections
from fengqiao.forms.uploads import MAX_FILES_PER_REQUEST
from fengqiao.labels import change_rows, tier_label
from fengqiao.masking import mask_text
from fengqiao.models import Attachment, Submission, User
from fengqiao.orgs.scope import scope_for
from fengqiao.params import finite_float, parse_int
from fengqiao.web.blueprint import web_bp
from fengqiao.web.case_panels import case_panels

# ``{{ text|mask_text }}`` in any template: free text with phone and ID numbers masked.
web_bp.add_app_template_filter(mask_text, "mask_text")


def posted_fields(info: engine.ActionInfo | None, form: MultiDict) -> dict:
    """The action's ``field_*`` inputs typed as its schema says (validation judges them)."""
    if info is None or not info.fields:
        return {}
    values: dict = {}
    for key, prop in info.fields.get("properties", {}).items():
        name, kind = f"field_{key}", prop.get("type")
        if kind == "array":
            # checkboxes send one value each; a textarea (e.g. 协议当事人) one item per line
            chosen = [line.strip() for v in form.getlist(name) for line in v.splitlines() if line.strip()]
            if chosen:
                values[key] = chosen
        elif kind == "boolean":
            if form.get(name):
                values[key] = True
        elif form.get(name, "").strip():
            raw = form[name].strip()
            try:
                values[key] = int(raw) if kind == "integer" else finite_float(raw) if kind == "number" else raw
            except ValueError:
                values[key] = raw  # the schema reports the wrong type in Chinese
    return values


def posted_photos(case, user, info: engine.ActionInfo | None) -> dict:
    """Files chosen for the action's photo/file fields (e.g. 自行处置's after photos, 整改照片),
    stored through the upload checks; their ids become the field's value
    (``fengqiao.cases.photos``). ``info`` is an action offered to ``user`` now, so the step
    wants them; too many files (per field, or per request) are refused before any is read."""
    chosen = {key: (prop, [f for f in request.files.getlist(f"field_{key}") if f and f.filename])
              for key, prop in photos.file_fields(info.fields if info else None)}
    too_many = [(f"/fields/{key}", f"最多上传 {photos.max_files(prop)} 个文件，请删减后重新选择", "maxItems")
                for key, (prop, files) in chosen.items() if len(files) > photos.max_files(prop)]
    if sum(len(files) for _prop, files in chosen.values()) > MAX_FILES_PER_REQUEST:
        too_many.append(("", f"一次最多上传 {MAX_FILES_PER_REQUEST} 个文件，请分几次上传", "maxItems"))
    if too_many:
        raise Invalid(too_many)
    values: dict = {}
    for key, (prop, files) in chosen.items():
        if not files:
            continue
        ids = [photos.store(user, f, f"/fields/{key}", documents=photos.takes_documents(prop)).id for f in files]
        values[key] = ids if prop.get("type") == "array" else ids[0]
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
        payload = {"version": parse_int(version),
                   "comment": request.form.get("comment", ""), "fields": posted_fields(info, request.form)}
        try:
            payload["fields"].update(posted_photos(case, user, info))
            with db.begin_nested():
                updated = engine.perform(number, action, user, payload)
        except DomainError as err:
            errors = ({p: m for p, m, _c in err.problems} if isinstance(err, Invalid)
                      else {"": err.problems[0][1]})
            db.commit()  # the photos uploaded so far are kept while the rest of the step is fixed
        else:
            title = case_type(updated.type, updated.workflow_version).state_title(updated.state)
            flash(f"已认领，由您办理（当前状态：{title}）" if action == "claim" else f"已办理，当前状态：{title}",
                  "success")
            return redirect(url_for("web.case_detail", number=number))
    return _page(case, user, errors, posted=request.form if errors else {})


def case_attachments(case, user=None) -> list[Attachment]:
    """The files submitted with the case, oldest first (downloaded through the checked route),
    without those in fields hidden from ``user``'s unit."""
    hidden = withheld_attachments(case, user) if user is not None else set()
    return [a for a in db.scalars(sa.select(Attachment).join(Submission, Attachment.submission_id == Submission.id)
                                  .where(Submission.case_id == case.id).order_by(Attachment.id))
            if a.id not in hidden]


def _page(case, user, errors: dict[str, str], posted=None, revealed: Revealed | None = None,
          reveal_errors: dict[str, str] | None = None):
    definition = case_definition(case, user)  # fields hidden from this user's unit marked hidden
    sections = display_sections(definition, case.data) if definition else []
    ctype = case_type(case.type, case.workflow_version)
    actions = engine.allowed_actions(case, user, choices=True)
    failed = errors or reveal_errors
    history = engine.history(case)
    hidden = withheld_attachments(case, user)
    units = participants(case)
    response = make_response(render_template(
        "cases/detail.html", case=case, ctype=ctype, sections=sections,
        actions=[a for a in actions if not a.builtin or a.name == "claim"],
        more_actions=[a for a in actions if a.builtin and a.name != "claim"],
        history=history, action_title=lambda name: engine.action_title(ctype, name),
        changes_of=changes_reader(ctype, definition, history), step_files=_step_files(case, ctype, history, hidden),
        tier=tier_label(ctype, case.priority, definition), form_title=(definition or {}).get("title"),
        units=units, sla_titles=sla.STATUS_TITLES, flag=queries.deadline_flag(case),
        handling_unit=handling_unit(case, units),
        related=related(case, history, scope_for(user, "cases.view"), units), targets=engine.dispatch_targets(user),
        unit_actions=engine.routing_actions(ctype, actions),
        clock=sla.clock_parts(case), step=steps.step_view(case, utcnow()), step_records=steps.records(ctype, case),
        errors=errors, posted=posted or {},
        may_reveal=audit.may_reveal(user, case.org.path), revealed=revealed,
        reveal_errors=reveal_errors or {}, max_reason=MAX_REASON,
        attachments=[a for a in case_attachments(case) if a.id not in hidden],
        panels=case_panels(case, user),  # plugins' tabs (ctx.add_case_panel), after the scope check
    ), 422 if failed else 200)
    if revealed:
        response.headers["Cache-Control"] = "no-store"
    return response


def handling_unit(case, units):
    """The unit handling the case now: the last unit it was dispatched to as lead handler, else
    its own unit (a community's case it handles itself)."""
    leads = [p.org for p in units if p.role == "handler"]
    return leads[-1] if leads else case.org


def _step_files(case, ctype, history, hidden: set) -> dict[int, list[Attachment]]:
    """The files each history row's step took through its photo/file fields, by event id
    (only this case's, none the caller's unit may not see; served by the checked route)."""
    named: dict[int, list[str]] = {}
    for event in history:
        transition = ctype.transitions.get(event.action)
        if transition is None or not isinstance(event.changes, dict):
            continue
        ids = []
        for key, _prop in photos.file_fields(transition.fields):
            value = event.changes.get(key)
            ids += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
        if ids:
            named[event.id] = ids
    wanted = {i for ids in named.values() for i in ids} - hidden
    if not wanted:
        return {}
    found = {a.id: a for a in db.scalars(sa.select(Attachment).join(Submission, Attachment.submission_id == Submission.id)
                                         .where(Submission.case_id == case.id, Attachment.id.in_(wanted)))}
    return {event_id: [found[i] for i in ids if i in found] for event_id, ids in named.items()}


def changes_reader(ctype, definition, history):
    """``changes_of(event)`` for the history: titled, labelled rows (no field keys or codes),
    with usernames as people's names (one query for the page)."""
    names = {str(e.changes.get("assignee")) for e in history if isinstance(e.changes, dict) and e.changes.get("assignee")}
    people = {u.username: u.label for u in db.scalars(sa.select(User).where(User.username.in_(names)))} if names else {}

    def changes_of(event):
        transition = ctype.transitions.get(event.action)
        return change_rows(event.changes, transition.fields if transition else None, definition, people)

    return changes_of


@web_bp.post("/cases/<number>/reveal")
@requires("cases.view")
def case_reveal(number: str):
    """Show one personal field in full, once, after a reason (audited)."""
    user = current_user._get_current_object()
    case = queries.visible_case(number, scope_for(user, "cases.view"))
    if case is None:
        abort(404)
    field, reason = request.form.get("field", ""), request.form.get("reason", "")
    try:
        shown = reveal(number, user, field, reason)
    except Invalid as failed:
        problems = {p: m for p, m, _c in failed.problems}
        return _page(case, user, {}, reveal_errors={"field": field, **problems})
    return _page(case, user, {}, revealed=shown)
