"""The stable facade for plugin authors: import only from here.

Everything else in ``fengqiao`` is internal and may change between releases; names here
change only with a new ``API_VERSION`` and a changelog entry.
"""

from __future__ import annotations

from flask import render_template as render
from flask_login import current_user

from fengqiao.access import login_required, public, requires
from fengqiao.api import json_body
from fengqiao.api.openapi import document, query
from fengqiao.cases.queries import cases_in
from fengqiao.db import Base as Model
from fengqiao.db import UTCDateTime, db, utcnow
from fengqiao.errors import APIError, ValidationFailed
from fengqiao.exports import safe_cell, workbook_bytes, xlsx_response
from fengqiao.jobs import current_job_id, enqueue, files_dir, set_progress
from fengqiao.masking import mask_data, mask_id_card, mask_mobile, mask_name
from fengqiao.orgs.scope import Scope, scope_for
from fengqiao.plugins.base import API_VERSION, Plugin
from fengqiao.plugins.state import is_active
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
from fengqiao.validation import validate

API_CHANGELOG = {
    "1.0": "First plugin API: Plugin (blueprint, api_blueprint, cli, setup(ctx), "
    "form_definitions, templates, static, migrations, settings_schema), access decorators, "
    "signals, scoping, db/Model, render, document, masking.",
    "1.1": "Jobs through the transactional outbox (enqueue, set_progress, current_job_id, "
    "files_dir); signals case_escalated and case_notification.",
}

def cli_app():
    """The configured app for a plugin's CLI command: ``with cli_app().app_context(): …``."""
    from fengqiao.cli import make_app

    return make_app()


def case_data(case_number: str) -> dict | None:
    """A case's submitted data (unmasked: for receivers and jobs, never for display)."""
    from fengqiao.models import Case

    return db.scalar(Case.__table__.select().with_only_columns(Case.data).where(Case.number == case_number))


def plugin_settings(name: str) -> dict:
    """A plugin's saved settings over its schema's defaults (inside an app context)."""
    from flask import current_app

    return current_app.extensions["fengqiao.plugin_contexts"][name].settings()


__all__ = [
    "calendar_changed", "case_data", "cli_app", "plugin_settings",
    "API_CHANGELOG", "API_VERSION", "APIError", "Model", "Plugin", "Scope", "UTCDateTime",
    "ValidationFailed", "case_assigned", "case_closed", "case_created", "case_escalated",
    "case_notification", "case_rated", "current_job_id", "enqueue", "files_dir", "set_progress",
    "case_transitioned", "cases_in", "current_user", "db", "document", "form_published",
    "is_active", "json_body", "login_required", "mask_data", "mask_id_card", "mask_mobile",
    "mask_name", "public", "query", "render", "requires", "safe_cell", "scope_for",
    "submission_received", "user_created", "utcnow", "validate", "workbook_bytes",
    "xlsx_response",
]
