"""Residents and staff fill in published forms (works without JavaScript)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy.orm import aliased

from fengqiao.access import public
from fengqiao.cases import routing
from fengqiao.csrf import csrf
from fengqiao.db import db
from fengqiao.errors import ValidationFailed
from fengqiao.exceptions import Unauthenticated
from fengqiao.forms import drafts, store
from fengqiao.forms.render import compiled_form, errors_by_pointer, extract
from fengqiao.forms.submit import clean, submit
from fengqiao.forms.uploads import MAX_FILES_PER_REQUEST, save_upload
from fengqiao.models import Attachment, OrgUnit
from fengqiao.orgs.service import get_by_code
from fengqiao.params import int_arg, parse_int
from fengqiao.ratelimit import enforce
from fengqiao.web.blueprint import web_bp

MAX_CHOICES = 500


@web_bp.get("/forms")
@public
def form_index():
    return render_template("forms/index.html", forms=store.usable_forms(current_user))


def _version_for_request(key: str):
    if request.method == "POST":
        number = int_arg("fq_version", source=request.form, minimum=1, message="表单版本号无效，请刷新页面后重新填写")
    else:
        number = int_arg("version", minimum=1, message="表单版本号无效")
    try:
        return store.require_usable(key, current_user, number)
    except Unauthenticated:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))


def _row_request(compiled, form) -> tuple | None:
    """The repeatable-group row to add or remove without JavaScript, when ``_row`` names one:
    ``add:<group>`` or ``remove:<group>-<n>`` (the row's field-name prefix). Anything else
    is not a row action (the form is submitted, and counted, like any other)."""
    verb, _, target = request.form.get("_row", "").partition(":")
    name = target.rsplit("-", 1)[0] if verb == "remove" else target
    group = form._fields.get(name)
    spec = next((s for s in compiled.specs if s.name == name and s.kind == "group"), None)
    if verb not in ("add", "remove") or group is None or spec is None:
        return None
    return verb, target, group, spec


def _row_action(row: tuple) -> None:
    verb, target, group, spec = row
    if verb == "add" and (spec.max_items is None or len(group.entries) < spec.max_items):
        group.append_entry()
    elif verb == "remove":
        group.entries = [e for e in group.entries if e.name != target]
        while len(group.entries) < max(spec.min_items, 1):
            group.append_entry()


def _spec_at(compiled, pointer: str):
    """The field spec an upload pointer names (``/photos``, ``/parties/0/photos``)."""
    specs, spec = compiled.specs, None
    for token in pointer.strip("/").split("/"):
        if parse_int(token) is not None:
            continue  # a row of a repeatable group
        spec = next((s for s in specs if s.name == token), None)
        if spec is None:
            return None
        specs = spec.children
    return spec


def _too_many_files(extracted, compiled) -> list:
    """Problems when a field would hold more files than its ``maxItems`` (kept ones included)
    or the request carries more than MAX_FILES_PER_REQUEST: checked before any is read."""
    found = []
    for pointer, files in extracted.files.items():
        spec = _spec_at(compiled, pointer)
        limit = spec.max_items if spec is not None else None
        if limit is not None and len(extracted.kept.get(pointer, [])) + len(files) > limit:
            found.append((pointer, f"最多上传 {limit} 个文件，请删减后重新选择", "maxItems"))
    new = sum(len(files) for files in extracted.files.values())
    if new > MAX_FILES_PER_REQUEST:
        found.append(("", f"一次最多上传 {MAX_FILES_PER_REQUEST} 个文件，请分几次上传", "maxItems"))
    return found


def _store_files(extracted, compiled) -> None:
    """Save new uploads (even when other fields are wrong, so nothing is lost)."""
    for pointer, files in extracted.files.items():
        spec = _spec_at(compiled, pointer)
        images_only = spec is not None and spec.kind == "image"
        for file in files:
            saved = save_upload(file, pointer, images_only, current_user)
            if isinstance(saved, tuple):
                extracted.problems.append(saved)
            else:
                extracted.data_ref(pointer).append(saved.id)
                extracted.kept.setdefault(pointer, []).append(saved.id)


@web_bp.route("/forms/<key>", methods=["GET", "POST"])
@public
@csrf.exempt  # the FlaskForm checks the token itself and re-shows the input when it fails
def form_fill(key: str):
    version = _version_for_request(key)
    if not hasattr(version, "definition"):
        return version  # a redirect to the login page
    compiled = compiled_form(version)
    org_code = request.values.get("org") or None
    if request.method == "GET":
        # The form's link reopens the user's draft; ?draft=0 starts blank, and a link that
        # prefills fields (a plugin's page, a poster) starts from those, offering the draft.
        prefill, wanted = _prefill(compiled), request.args.get("draft")
        saved = None
        if wanted != "0" and (wanted or not prefill):
            saved = drafts.load(version.form_id, current_user)
        form = compiled.form_class(formdata=saved, data=None if saved else prefill)
        form.fq_version.data = str(version.number)
        state = "restored" if saved else "available" if drafts.exists(version.form_id, current_user) else None
        return _render(version, compiled, form, {}, {}, org_code, draft_state=state)
    form = compiled.form_class()
    if not form.validate_on_submit():  # only CSRF is checked by WTForms; rules are the schema's
        return _render(version, compiled, form,
                       {"": ["页面已过期，请重新提交（您填写的内容已保留）"]}, {}, org_code, 400)
    if request.form.get("_action") == "save_draft" and current_user.is_authenticated:
        drafts.save(version, current_user, request.form)  # committed with the request
        flash("草稿已保存，可稍后继续填写", "success")
        return redirect(url_for("web.form_fill", key=key, draft=1, org=org_code))
    extracted = extract(compiled, form, lambda name: request.form.getlist(f"{name}__kept"))
    row = _row_request(compiled, form)
    # Anonymous callers (staff pass): every request that stores anything counts, files each.
    if row is None or extracted.files:
        enforce("public_submit")
    if too_many := _too_many_files(extracted, compiled):
        return _render(version, compiled, form, errors_by_pointer(too_many), extracted.kept, org_code, 422)
    for _ in range(sum(len(files) for files in extracted.files.values())):
        enforce("public_upload")
    _store_files(extracted, compiled)
    if row is not None:
        _row_action(row)
        return _render(version, compiled, form, {}, extracted.kept, org_code)  # the request commits the uploads
    try:
        if extracted.problems:  # values that could not be read: report them with the rest
            raise ValidationFailed(extracted.problems + _schema_problems(version, extracted))
        result = submit(version, extracted.data, current_user, "web", org_code)
    except ValidationFailed as failed:
        db.commit()  # keep the uploads for the corrected form (submit writes nothing it refuses)
        return _render(version, compiled, form, errors_by_pointer(failed.problems), extracted.kept,
                       org_code, 422)
    if current_user.is_authenticated:
        drafts.discard(version.form_id, current_user)
    # The request commits the uploads, the case and the draft's removal at once; the
    # signals go out after that.
    # The receipt lives in this browser's session (never in the URL, where the tracking code
    # would reach access logs): 303 to a page that shows it on every reload, without resubmitting.
    session["last_submission"] = {"number": result.case_number, "code": result.tracking_code,
                                  "title": version.definition["title"], "key": key}
    return redirect(url_for("web.form_done", key=key), 303)


PREFILLABLE = ("text", "textarea", "select", "radio")


def _prefill(compiled) -> dict:
    """Top-level text and choice fields named in the query string (``?certificate=居住证明``):
    links from a plugin's page or a poster open the form already filled in. Only a start:
    the resident sees and may change every value, and the server validates on submit."""
    return {spec.name: request.args[spec.name][:500] for spec in compiled.specs
            if spec.kind in PREFILLABLE and spec.name in request.args and spec.condition is None
            and spec.relevant is None}


def _schema_problems(version, extracted) -> list:
    unreadable = {p[0] for p in extracted.problems}
    try:
        clean(version, extracted.data)
    except ValidationFailed as failed:
        return [p for p in failed.problems if p[0] not in unreadable]
    return []


def _landing(version, org_code):
    """Who will accept the submission (a unit, shown as 「提交后由 X 受理」), or the communities
    the resident chooses from (narrowed by ``?q=``), as (unit, choices, more)."""
    if org_code:
        unit = get_by_code(org_code)
        if unit is not None and unit.active and unit.kind == "territorial":
            return unit, [], False
    elif current_user.is_authenticated and current_user.memberships:
        return min(current_user.memberships, key=lambda m: -m.org.depth).org, [], False
    elif (unit := routing.accepting_unit(version.definition)) is not None:
        return unit, [], False
    q = request.args.get("q", "").strip()
    if not q:
        return None, _all_communities(), False
    enforce("public_read")
    choices, more = routing.search_communities(q, 1)
    return None, choices, more


def _all_communities():
    """Every active community, street by street (the chooser without a search)."""
    street = aliased(OrgUnit)
    return list(db.scalars(sa.select(OrgUnit).join(street, OrgUnit.parent_id == street.id)
                           .where(OrgUnit.active, OrgUnit.kind == "territorial", OrgUnit.level == "community")
                           .order_by(OrgUnit.path).limit(MAX_CHOICES)))


def _render(version, compiled, form, errors, kept, org_code, status=200, draft_state=None):
    ids = [i for values in kept.values() for i in values]
    names = {}
    if ids:
        names = dict(db.execute(
            sa.select(Attachment.id, Attachment.filename).where(Attachment.id.in_(ids))).all())
    landing, choices, more = _landing(version, org_code)
    return render_template("forms/fill.html", version=version, compiled=compiled, form=form,
                           errors=errors, kept=kept, names=names, org=org_code if landing else None,
                           landing=landing, choices=choices, more_choices=more,
                           q=request.args.get("q", ""), draft_state=draft_state), status


@web_bp.get("/forms/<key>/done")
@public
def form_done(key: str):
    last = session.get("last_submission")
    if not last or last.get("key", key) != key:  # another form's receipt is not this one's
        abort(404)
    return render_template("forms/done.html", key=key, last=last, outcome=_outcome(last.get("number")))


def _outcome(number: str | None) -> tuple[str, bool] | None:
    """(state title, closed) of the case just submitted: a request decided at once (a
    certificate refused by the list) must not read 已受理."""
    from fengqiao.cases.case_types import case_type
    from fengqiao.models import Case

    case = db.scalar(sa.select(Case).where(Case.number == number)) if number else None
    if case is None:
        return None
    ctype = case_type(case.type, case.workflow_version)
    return ctype.state_title(case.state), ctype.is_final(case.state)
