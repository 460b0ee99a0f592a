"""Excel export of a form's submissions across all its versions, each row labelled by the
version it was submitted against (fields later removed keep their original label).

Personal fields are masked for every role (``forms.display``); the export is audited."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from fengqiao import audit
from fengqiao.access import requires
from fengqiao.cases import queries
from fengqiao.cases.visibility import withheld
from fengqiao.db import db
from fengqiao.exports import workbook_bytes, xlsx_response
from fengqiao.forms import store
from fengqiao.forms.display import flat_row, with_marks
from fengqiao.masking import hide
from fengqiao.models import Case, FormVersion, OrgUnit, Submission
from fengqiao.orgs.scope import scope_for
from fengqiao.web.blueprint import web_bp


@web_bp.get("/forms/<key>/submissions.xlsx")
@requires("cases.view")
def form_submissions_export(key: str):
    form = store.get_form(key)
    if form is None:
        abort(404)
    visible = queries.cases_in(scope_for(current_user, "cases.view")).with_only_columns(Case.id)
    rows = db.execute(
        sa.select(Submission, Case.number, OrgUnit.path)
        .join(FormVersion, Submission.form_version_id == FormVersion.id)
        .join(Case, Submission.case_id == Case.id)
        .join(OrgUnit, Case.org_id == OrgUnit.id)
        .where(FormVersion.form_id == form.id, Case.id.in_(visible))
        .order_by(Submission.id)
    ).all()
    headers: dict[str, str] = {}  # path -> label, newest version's label wins
    records = []
    found = store.published(form.key)
    latest = found[1].definition if found and found[1] else None  # its personal marks apply to all
    marked: dict[int, dict] = {}  # form version id -> its definition with the marks applied
    user = current_user._get_current_object()
    for submission, number, org_path in rows:
        version = submission.form_version
        if version.id not in marked:
            marked[version.id] = with_marks(version.definition, latest)
        # fields the form hides from this user's unit (ui.hidden_from_handler) export as ******
        hidden = withheld(user, org_path, submission.data, version.definition, latest)
        flat = flat_row(hide(marked[version.id], hidden), submission.data, marked=True)
        for path, (label, _text) in flat.items():
            headers[path] = label
        records.append((number, submission.form_version.number, submission.created_at, flat))
    paths = list(headers)
    table = [
        [number, f"第{version}版", created] + [flat.get(p, ("", ""))[1] for p in paths]
        for number, version, created, flat in records
    ]
    title = f"{form.title} 提交记录"
    data = workbook_bytes(title, ["事项编号", "表单版本", "提交时间"] + [headers[p] for p in paths], table)
    audit.record("export.submissions", record_ref=f"form:{form.key}", detail={"rows": len(table)})
    return xlsx_response(f"{form.title}-提交记录.xlsx", data)
