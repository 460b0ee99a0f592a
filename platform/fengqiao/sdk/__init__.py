"""The stable facade for plugin authors: import from ``fengqiao.sdk``'s submodules only.

Everything else in ``fengqiao`` is internal and may change between releases; names here
change only with a new ``API_VERSION`` and an entry in ``API_CHANGELOG``. One submodule per
topic, each importing only what it needs (plugins/AUTHORING.md, "The sdk"):

- ``plugin``   the ``Plugin`` base class, API version, settings, switch, CLI app
- ``models``   a plugin's own tables: ``declarative_base_for``, ``db``, column types
- ``web``      pages and API routes: access decorators, input, OpenAPI entries, pagination
- ``errors``   errors to raise and catch; the one not-found answer
- ``orgs``     units, people, scope
- ``cases``    the core's cases as plain summaries; acting on them
- ``forms``    submitting to forms (intake-only forms), reading submissions
- ``events``   signals and jobs
- ``privacy``  masking, the reveal permission, the audit log
- ``workdays`` the working-day calendar and local time
- ``files``    PDFs, QR codes, Excel, uploaded tables and pictures
- ``channels`` notification channels and telling users of a plugin's own events
- ``addresses`` standard addresses: search and resolve, whoever provides them
- ``testing``  helpers for a plugin's tests

``from fengqiao.sdk import X`` still works for every name of API 1.4 (loaded on first use
from its submodule); names added since exist only in their submodule.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_SUBMODULE_OF = {
    **dict.fromkeys(("API_CHANGELOG", "API_VERSION", "Plugin", "cli_app", "is_active", "plugin_settings"),
                    "plugin"),
    **dict.fromkeys(("Model", "UTCDateTime", "db", "utcnow", "write_lock"), "models"),
    **dict.fromkeys(("MAX_INT", "current_user", "document", "external_url", "int_arg", "json_body",
                     "login_required", "parse_int", "public", "query", "rate_limited", "render", "requires",
                     "validate"), "web"),
    **dict.fromkeys(("APIError", "NOT_FOUND_MESSAGE", "ValidationFailed", "not_found"), "errors"),
    **dict.fromkeys(("OrgInfo", "Scope", "get_in_scope", "in_scope", "org_ancestors", "org_unit", "org_units",
                     "scope_for"), "orgs"),
    **dict.fromkeys(("case_data", "case_info", "cases_in", "perform_action", "tracking_matches"), "cases"),
    **dict.fromkeys(("submit_form",), "forms"),
    **dict.fromkeys(("calendar_changed", "case_assigned", "case_closed", "case_created", "case_escalated",
                     "case_notification", "case_rated", "case_transitioned", "current_job_id", "enqueue",
                     "files_dir", "form_published", "plugin_signal", "send_signal", "set_progress",
                     "submission_received", "user_created"), "events"),
    **dict.fromkeys(("audit", "marked_schema", "mask_address", "mask_data", "mask_id_card", "mask_mobile",
                     "mask_name", "mask_text", "mask_value", "may_reveal"), "privacy"),
    **dict.fromkeys(("LOCAL_TZ", "add_working_days", "is_working_day", "today_local", "working_days_between"),
                    "workdays"),
    **dict.fromkeys(("Certificate", "FontMissing", "certificate_pdf", "qr_data_uri", "qr_png", "read_table",
                     "safe_cell", "safe_image", "workbook_bytes", "xlsx_response"), "files"),
}

SUBMODULES = ("plugin", "models", "web", "errors", "orgs", "cases", "forms", "events", "privacy", "workdays",
              "files", "channels", "addresses", "testing")

__all__ = sorted(_SUBMODULE_OF)  # the names of API 1.4, kept for plugins written against it


def __getattr__(name: str) -> Any:
    """A 1.4 name, imported from its submodule on first use."""
    submodule = _SUBMODULE_OF.get(name)
    if submodule is None:
        raise AttributeError(f"module 'fengqiao.sdk' has no attribute {name!r}")
    value = getattr(import_module(f"fengqiao.sdk.{submodule}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
