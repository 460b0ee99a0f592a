"""The plugin itself: its base class, the API version, its settings and its switch."""

from __future__ import annotations

from fengqiao.plugins.base import API_VERSION, Plugin

__all__ = ["API_CHANGELOG", "API_VERSION", "Plugin", "cli_app", "is_active", "plugin_settings"]

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
    "1.5": "The sdk is a package of submodules (plugin, models, web, errors, orgs, cases, forms, events, "
    "privacy, workdays, files, testing); `from fengqiao.sdk import X` keeps working for the names of 1.4. "
    "models.declarative_base_for(plugin): a plugin's tables on a metadata of its own (Model is now a base "
    "shared by plugins, no longer the core's). cases.case_summaries (plain CaseSummary rows, keyset pages) "
    "replaces cases_in; web.paginate and Page (keyset pagination). Intake-only forms (\"opens_case\": false: "
    "a plugin's own record, no case); submission_received carries org, and case_number None for those; "
    "forms.submission_data. orgs.org_in_scope, orgs.org_scope_clause and get_in_scope(org=…) scope a "
    "plugin's table by unit code; orgs.my_units, orgs.display_name(s); signals org_moved and org_renamed; "
    "orgs.rewrite_paths. privacy.audit_history reads the audit log back; audit() never commits. Domain "
    "errors DomainError, NotFound, Forbidden, Conflict, Invalid; every sdk function raises APIError / "
    "ValidationFailed. <int:…> path parameters are integers in the OpenAPI document. The test kit as "
    "fengqiao.sdk.testing (migration_drift compares a plugin's own metadata).",
    "1.6": "orgs.org_units(kind=…): only territorial units or only departments (default: every kind, as "
    "before). A level is not a kind: departments have levels too, so a list of communities asks for "
    "kind=\"territorial\".",
    "1.7": "Notification channels (fengqiao.sdk.channels): Channel, Message, Recipient and the results Delivered, "
    "Failed, RetryAfter; ctx.register_channel(channel); channels.notify(event_key, usernames, …) tells users of a "
    "plugin's own event in their inbox and chosen channels. Outbound HTTP for channels: post_json, Answer, "
    "url_problem (private and loopback addresses refused unless in FENGQIAO_WEBHOOK_ALLOW_HOSTS), http_failure, "
    "retry_after_seconds, EXCERPT.",
    "1.8": "ctx.add_menu_item(…, group=None): the staff sidebar groups entries; a plugin's entries go into a "
    "group titled after the plugin unless group names another (工作台, 事项, 统计, 系统管理 or any title). "
    "ctx.add_public_link(endpoint, label, description): a public page of the plugin on the residents' home (/).",
    "1.9": "web.id_card_problem (a resident ID-card number checked by GB 11643: shape, province-level area code, "
    "birth date, check character; the Chinese message of the first problem) and web.credit_code_problem "
    "(统一社会信用代码, GB 32100), for plugins that keep such numbers outside a form's schema. "
    "ctx.add_permission(…, admin=False): a permission admins do not get (sensitive residents' data).",
    "1.10": "cases.case_summaries(…, org=None, open_only=False): narrow to the cases one unit owns and to open "
    "ones in the query, so a page holds only those (the grid plugin's 今天 lists a grid's open cases).",
    "1.11": "Standard addresses (fengqiao.sdk.addresses): AddressHit(code, label, org_code, org_name), the "
    "AddressProvider protocol (search(text, limit), resolve(text)), search_addresses and resolve_address (empty "
    "without a provider or with its plugin off); ctx.provide_addresses(provider) makes a plugin the address book "
    "(one at most). Forms' ui.widgets \"address\" (the address picker, GET /api/v1/addresses/search); a submission "
    "naming no unit whose address field resolves is accepted by the address's grid. ctx.add_case_panel(name, title, "
    "render, permission=None): a plugin's tab on the staff case page (render(case) gets a CaseSummary, returns HTML "
    "or None; a failing panel shows 「该部分暂时无法显示」); case_summaries(…, numbers=…); CaseSummary.state_title. "
    "web.idempotent: a plugin write route honours Idempotency-Key (first 2xx kept per caller and route, replayed "
    "with Idempotent-Replayed: true; another body under the same key is 422 idempotency_mismatch); a plugin page "
    "declaring data-offline-endpoint on its form is filled offline into the core's 待上传 (docs/offline.md).",
}
"""``{version: what changed}``: what each plugin API version added."""


def is_active(name: str) -> bool:
    """Whether the plugin ``name`` is loaded in this process and switched on."""
    from fengqiao.plugins.state import is_active as active

    return active(name)


def plugin_settings(name: str) -> dict:
    """A plugin's saved settings over its schema's defaults (inside an app context)."""
    from flask import current_app

    return current_app.extensions["fengqiao.plugin_contexts"][name].settings()


def cli_app():
    """The configured app for a plugin's CLI command: ``with cli_app().app_context(): …``."""
    from fengqiao.cli import make_app

    return make_app()
