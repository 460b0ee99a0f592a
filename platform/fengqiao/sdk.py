"""The stable facade for plugin authors: import only from here.

Everything else in ``fengqiao`` is internal and may change between releases; names here
change only with a new ``API_VERSION`` and a changelog entry.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import sqlalchemy as sa
from blinker import NamedSignal
from blinker import signal as blinker_signal
from flask import render_template as render
from flask_login import current_user

from fengqiao.access import login_required, public, requires
from fengqiao.api import json_body
from fengqiao.api.openapi import document, query
from fengqiao.cases.queries import cases_in
from fengqiao.db import LOCAL_TZ, UTCDateTime, db, utcnow
from fengqiao.db import Base as Model
from fengqiao.documents import Certificate, FontMissing, certificate_pdf, qr_data_uri, qr_png
from fengqiao.errors import APIError, ValidationFailed
from fengqiao.exports import safe_cell, workbook_bytes, xlsx_response
from fengqiao.forms.uploads import safe_image
from fengqiao.jobs import current_job_id, enqueue, files_dir, set_progress
from fengqiao.masking import (
    marked_schema,
    mask_address,
    mask_data,
    mask_id_card,
    mask_mobile,
    mask_name,
    mask_text,
    mask_value,
)
from fengqiao.orgs.info import OrgInfo, org_ancestors, org_unit, org_units
from fengqiao.orgs.scope import Scope, scope_for
from fengqiao.params import MAX_INT, int_arg, parse_int
from fengqiao.plugins.base import API_VERSION, Plugin
from fengqiao.plugins.state import is_active
from fengqiao.ratelimit import rate_limited
from fengqiao.signals import (
    calendar_changed,
    case_assigned,
    case_closed,
    case_created,
    case_escalated,
    case_notification,
    case_rated,
    case_transitioned,
    form_published,
    submission_received,
    user_created,
)
from fengqiao.tabular import read_table
from fengqiao.validation import validate

API_CHANGELOG = {
    "1.0": "First plugin API: Plugin (blueprint, api_blueprint, cli, setup(ctx), "
    "form_definitions, templates, static, migrations, settings_schema), access decorators, "
    "signals, scoping, db/Model, render, document, masking.",
    "1.1": "Jobs through the transactional outbox (enqueue, set_progress, current_job_id, "
    "files_dir); signals case_escalated and case_notification.",
    "1.2": "perform_action, case_info, submit_form; working days (add_working_days, "
    "working_days_between, is_working_day, today_local); org_unit, org_ancestors, org_units; "
    "certificate_pdf, qr_png, qr_data_uri; external_url; plugin_signal, send_signal; write_lock; "
    "ctx.register_job(..., every=seconds) for periodic jobs; ctx.add_demo_data.",
    "1.3": "Personal data: audit (append to the audit log), may_reveal (the reveal permission for a "
    "unit), mask_value, mask_text, mask_address, marked_schema; form definitions mark personal fields in "
    "ui.personal; permissions cases.reveal and audit.view. rate_limited (anonymous requests to public "
    "routes), safe_image (uploaded pictures checked by content and re-encoded).",
    "1.4": "Scoped writes: get_in_scope (load a row in the caller's scope or 404), in_scope, not_found and "
    "NOT_FOUND_MESSAGE (one answer for missing and out-of-scope objects). Plugin API blueprints get the "
    "core API's CSRF rule (cookie-authenticated writes need X-CSRFToken). read_table (the bounded "
    ".xlsx/.csv reader every import uses: rows, columns, cells and seconds capped). parse_int, int_arg "
    "and MAX_INT (the one strict integer parser: ASCII digits in range, 4xx otherwise); <int:…> path "
    "parameters accept ASCII digits up to MAX_INT only; Plugin.demo_only (loaded only in demo and testing).",
}

def cli_app():
    """The configured app for a plugin's CLI command: ``with cli_app().app_context(): …``."""
    from fengqiao.cli import make_app

    return make_app()


def case_data(case_number: str) -> dict | None:
    """A case's submitted data (unmasked: for receivers and jobs, never for display)."""
    from fengqiao.models import Case

    return db.scalar(Case.__table__.select().with_only_columns(Case.data).where(Case.number == case_number))


def audit(action: str, *, case_number: str | None = None, record: str = "", field: str = "",
          reason: str = "", detail: dict | None = None, outcome: str = "ok", actor: str | None = None) -> None:
    """Append a row to the audit log (committed at once): call it when your plugin shows or
    exports personal data in full. ``action`` like ``"<plugin>.export"``; the signed-in user
    (or ``actor``, a username) is recorded with the request's address. Never pass the value."""
    from fengqiao import audit as audit_log
    from fengqiao.models import Case, User

    user = db.scalar(sa.select(User).where(User.username == actor)) if actor else None
    case = db.scalar(sa.select(Case).where(Case.number == case_number)) if case_number else None
    audit_log.record(action[:48], user=user, outcome=outcome, case_number=case_number,
                     org=case.org if case else None, record_ref=record, field=field, reason=reason,
                     detail=detail)


def may_reveal(user, org_code: str) -> bool:
    """Whether ``user`` may see personal data in full for the unit ``org_code`` (its
    ``cases.reveal`` scope); show masked values otherwise, and audit() what you reveal."""
    from fengqiao.audit import may_reveal as allowed
    from fengqiao.models import OrgUnit

    path = db.scalar(sa.select(OrgUnit.path).where(OrgUnit.code == org_code))
    return bool(path) and allowed(user, path)


NOT_FOUND_MESSAGE = "未找到该页面或记录"
"""The one answer for an object that is missing or outside the caller's scope: it names
nothing about the object (no "minor", no "other community"), so answers cannot be probed."""


def not_found(pointer: str = "") -> APIError:
    """The uniform 404 (``raise not_found()``; ``pointer`` names a body field that referred to it).
    Pages get the Chinese error page, the API the JSON error shape."""
    return APIError(404, [(pointer, NOT_FOUND_MESSAGE, "not_found")])


def in_scope(path: str | None, permission: str, user=None) -> bool:
    """Whether ``user`` (default: the signed-in one) holds ``permission`` over the unit at
    materialized ``path`` (e.g. a row's ``org_path``)."""
    return bool(path) and scope_for(current_user if user is None else user, permission).contains(path)


def get_in_scope(model, ident, permission: str, *, path=None, pointer: str = ""):
    """The row ``ident`` of ``model`` when the signed-in user holds ``permission`` over its
    unit, else ``raise not_found(pointer)``: the one way to load an object for a read or a
    write, so another community's object answers 404 exactly like a missing one.

    ``path`` gives the row's unit path: an attribute name (default ``"org_path"``) or a
    function of the row (e.g. ``lambda entry: db.get(Volunteer, entry.volunteer_id).org_path``)."""
    row = db.get(model, ident) if isinstance(ident, int) and not isinstance(ident, bool) and 0 < ident <= MAX_INT else None
    if row is None:
        raise not_found(pointer)
    where = path(row) if callable(path) else getattr(row, path or "org_path", None)
    if not in_scope(where, permission):
        raise not_found(pointer)
    return row


def plugin_settings(name: str) -> dict:
    """A plugin's saved settings over its schema's defaults (inside an app context)."""
    from flask import current_app

    return current_app.extensions["fengqiao.plugin_contexts"][name].settings()


def case_info(case_number: str) -> dict | None:
    """A case's summary: number, type, state, org (code), assignee, deadline, created_at,
    closed_at, version, title (no data: use ``case_data``). None for an unknown number."""
    from fengqiao.models import Case

    case = db.scalar(sa.select(Case).where(Case.number == case_number))
    if case is None:
        return None
    return {"number": case.number, "type": case.type, "state": case.state, "org": case.org.code,
            "assignee": case.assignee.username if case.assignee else None, "deadline": case.deadline,
            "created_at": case.created_at, "closed_at": case.closed_at, "version": case.version,
            "title": case.title}


def tracking_matches(case_number: str, code: str) -> bool:
    """Whether ``code`` is the resident's 查询码 of the case (constant-time; residents have no
    account, so number + code is what lets one download their own certificate)."""
    from fengqiao.cases.tracking import find_for_resident

    try:
        find_for_resident(case_number, code)
    except APIError:
        return False
    return True


def perform_action(case_number: str, action: str, *, actor: str | None = None, comment: str = "",
                   fields: dict | None = None, deadline_days: int | None = None) -> dict:
    """Act on a case and return its ``case_info``.

    With ``actor`` (a username) the action runs exactly as if that person clicked it: their
    scope, role and guards apply. Without, the workflow transition ``action`` is taken by the
    system (history shows no person); ``deadline_days`` then restarts the clock with that many
    working days. Raises ``APIError`` (404 unknown, 403/409 not allowed now, 422 guards).
    """
    from fengqiao.models import Case, User

    if actor is None:
        from fengqiao.cases.system import perform_as_system

        perform_as_system(case_number, action, comment, fields, deadline_days)
    else:
        from fengqiao.cases.engine import perform

        user = db.scalar(sa.select(User).where(User.username == actor, User.active))
        if user is None:
            raise APIError(404, [("/actor", f"用户 {actor} 不存在或已停用", "unknown_user")])
        version = db.scalar(sa.select(Case.version).where(Case.number == case_number))
        perform(case_number, action, user, {"version": version, "comment": comment, "fields": fields or {}})
    return case_info(case_number)  # type: ignore[return-value]


def submit_form(form_key: str, data: dict, *, org: str | None = None, actor: str | None = None,
                channel: str = "api") -> dict:
    """Submit ``data`` to the latest published version of ``form_key`` as the core's own
    routes do (validation, case, history, signals); returns ``{"case_number","tracking_code"}``.
    Raises ``ValidationFailed`` with Chinese messages, ``APIError`` 404 for an unknown form."""
    from fengqiao.forms.store import published
    from fengqiao.forms.submit import submit
    from fengqiao.models import User

    found = published(form_key)
    if found is None:
        raise APIError(404, [("", f"表单 {form_key} 不存在或未发布", "unknown_form")])
    user = db.scalar(sa.select(User).where(User.username == actor)) if actor else None
    result = submit(found[1], data, user=user, channel=channel, org_code=org)
    return {"case_number": result.case_number, "tracking_code": result.tracking_code}


def _calendar_org(org: str | None):
    from fengqiao.cases.workdays import jurisdiction_of

    return jurisdiction_of(org) if org else None


def add_working_days(start: datetime | date, n: int, org: str | None = None) -> datetime:
    """The close of the Nth working day after ``start`` on the official calendar (with 调休),
    as the unit ``org`` sees it (its local arrangements; national when None)."""
    from fengqiao.cases.workdays import add_working_days as add

    return add(start, n, _calendar_org(org)).at


def working_days_between(start: datetime | date, end: datetime | date, org: str | None = None) -> int:
    """Working days after ``start``'s day up to and including ``end``'s (same day: 0)."""
    from fengqiao.cases.workdays import working_days_between as between

    return between(start, end, _calendar_org(org))


def is_working_day(day: date | datetime, org: str | None = None) -> bool:
    from fengqiao.cases.workdays import is_working_day as working

    return working(day, _calendar_org(org))


def today_local() -> date:
    """Today in 北京时间 (periods, notice windows and ``YYYY-MM`` months count in local time)."""
    from fengqiao.cases.workdays import today_local as today

    return today()


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for ``endpoint`` (QR codes, PDFs): the request's host inside a request,
    else ``FENGQIAO_PUBLIC_URL`` (default ``http://127.0.0.1:5000``) in jobs and commands."""
    from flask import current_app, has_request_context, url_for

    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = current_app.config.get("PUBLIC_URL") or os.environ.get("FENGQIAO_PUBLIC_URL") or "http://127.0.0.1:5000"
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def plugin_signal(name: str) -> NamedSignal:
    """A signal one plugin sends and others may receive, shared by name alone (plugins never
    import each other). Name it ``<plugin>.<event>``; document its kwargs in your README."""
    return blinker_signal(name)


def send_signal(signal: NamedSignal, **kwargs) -> None:
    """Send a plugin signal to receivers connected with ``ctx.connect`` (after your commit)."""
    from fengqiao.signals import send

    send(signal, **kwargs)


def write_lock() -> None:
    """Take the database's write lock before a read-then-write (SQLite: ``BEGIN IMMEDIATE``,
    so concurrent writers queue instead of failing). On PostgreSQL it does nothing: use
    conditional ``UPDATE … WHERE`` or ``SELECT … FOR UPDATE``. Call it first in the transaction."""
    connection = db.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


__all__ = [
    "LOCAL_TZ", "Certificate", "FontMissing", "OrgInfo", "add_working_days", "case_info", "certificate_pdf",
    "external_url", "is_working_day", "org_ancestors", "org_unit", "org_units", "perform_action",
    "plugin_signal", "qr_data_uri", "qr_png", "send_signal", "submit_form", "today_local", "tracking_matches",
    "working_days_between", "write_lock", "rate_limited", "safe_image",
    "NOT_FOUND_MESSAGE", "get_in_scope", "in_scope", "not_found",
    "read_table",
    "MAX_INT", "int_arg", "parse_int",
    "calendar_changed", "case_data", "cli_app", "plugin_settings",
    "API_CHANGELOG", "API_VERSION", "APIError", "Model", "Plugin", "Scope", "UTCDateTime",
    "ValidationFailed", "case_assigned", "case_closed", "case_created", "case_escalated",
    "case_notification", "case_rated", "current_job_id", "enqueue", "files_dir", "set_progress",
    "case_transitioned", "cases_in", "current_user", "db", "document", "form_published",
    "is_active", "json_body", "login_required", "mask_data", "mask_id_card", "mask_mobile",
    "mask_name", "mask_address", "mask_text", "mask_value", "audit", "may_reveal",
    "marked_schema", "public", "query", "render", "requires", "safe_cell", "scope_for",
    "submission_received", "user_created", "utcnow", "validate", "workbook_bytes",
    "xlsx_response",
]
