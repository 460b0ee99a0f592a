"""``/cases/<number>/print``: one case on an A4 sheet (打印), for the paper file a street
office keeps or hands over: the unit's name (the handling unit under its county and street),
the summary, the form data, the history as a table, and a QR code of the case page.

Same scope as the case page (404 for a case the user may not see); personal data stays
masked exactly as on the page (fields hidden from the handling unit show ``******``). The
QR code is a ``data:`` PNG (``fengqiao.documents``), which the CSP allows for images; the
打印 button calls ``window.print()`` from ``static/case-page.js`` (no inline script).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, url_for
from flask_login import current_user

from fengqiao.access import requires
from fengqiao.cases import engine, queries, sla
from fengqiao.cases.case_types import case_type
from fengqiao.cases.facts import participants
from fengqiao.cases.visibility import case_definition
from fengqiao.db import db, utcnow
from fengqiao.documents import qr_data_uri
from fengqiao.forms.display import display_sections
from fengqiao.labels import tier_label
from fengqiao.models import OrgUnit
from fengqiao.models.orgs import OrgLevel
from fengqiao.orgs.scope import scope_for
from fengqiao.web.blueprint import web_bp
from fengqiao.web.cases import changes_reader, handling_unit

HEADING_LEVELS = (OrgLevel.county.value, OrgLevel.street.value)  # named above the unit


def units_above(unit: OrgUnit) -> list[OrgUnit]:
    """The county and street ``unit`` lies in, top first (its path names their codes)."""
    codes = [c for c in unit.path.strip("/").split("/") if c and c != unit.code]
    if not codes:
        return []
    return list(db.scalars(sa.select(OrgUnit).where(OrgUnit.code.in_(codes), OrgUnit.level.in_(HEADING_LEVELS))
                           .order_by(OrgUnit.depth)))


@web_bp.get("/cases/<number>/print")
@requires("cases.view")
def case_print(number: str):
    user = current_user._get_current_object()
    case = queries.visible_case(number, scope_for(user, "cases.view"))
    if case is None:
        abort(404)
    definition = case_definition(case, user)  # fields hidden from this user's unit marked hidden
    ctype = case_type(case.type, case.workflow_version)
    history = engine.history(case)
    unit = handling_unit(case, participants(case))
    page_url = url_for("web.case_detail", number=case.number, _external=True)
    return render_template(
        "cases/print.html", case=case, ctype=ctype, unit=unit, above=units_above(unit),
        sections=display_sections(definition, case.data) if definition else [],
        tier=tier_label(ctype, case.priority, definition), history=history,
        action_title=lambda name: engine.action_title(ctype, name),
        changes_of=changes_reader(ctype, definition, history),
        flag=queries.deadline_flag(case), sla_titles=sla.STATUS_TITLES,
        qr=qr_data_uri(page_url, box_size=4), page_url=page_url, printed_at=utcnow())
