"""HTML pages for staff, admins and residents (Chinese UI)."""

from __future__ import annotations

from flask import Flask, current_app
from flask_login import current_user

from fengqiao.accounts.roles import ROLE_LABELS
from fengqiao.db import LOCAL_TZ
from fengqiao.labels import span_text

# (endpoint, label, permission or None for any signed-in user); plugins append to this.
CORE_MENU = [
    ("web.dashboard", "工作台", None),
    ("web.queue", "事项队列", "cases.view"),
    ("web.metrics_page", "统计分析", "metrics.view"),
    ("web.form_index", "办事表单", None),
    ("web.org_list", "组织机构", "orgs.view"),
    ("web.user_list", "用户管理", "users.view"),
    ("web.form_admin_list", "表单设计", "forms.manage"),
    ("web.workflow_admin_list", "流程设计", "forms.manage"),
    ("web.plugin_admin_list", "插件管理", "plugins.manage"),
    ("web.calendar_admin", "工作日历", "orgs.manage"),
    ("web.audit_log", "审计日志", "audit.view"),
    ("web.notification_admin", "通知设置", "orgs.manage"),
    ("web.account_password", "账户安全", None),
]


def init_web(app: Flask) -> None:
    from fengqiao.web import (  # noqa: F401  (routes)
        account,
        admin_audit,
        admin_calendar,
        admin_forms,
        admin_orgs,
        admin_plugins,
        admin_users,
        admin_webhooks,
        admin_workflow_designer,
        admin_workflow_versions,
        admin_workflows,
        attachments,
        board,
        cases,
        fill,
        form_exports,
        inbox,
        jobs,
        metrics,
        notification_settings,
        queues,
        track,
        views,
    )
    from fengqiao.web.blueprint import web_bp

    app.register_blueprint(web_bp)
    app.extensions.setdefault("fengqiao.menu", list(CORE_MENU))
    from fengqiao.labels import init_labels

    init_labels(app)  # code_label / tier_label / field_title: no raw codes on any page

    @app.context_processor
    def _layout_context():
        return {"menu": visible_menu(), "role_labels": ROLE_LABELS, "app_title": "枫桥"}

    app.add_template_filter(span_text, "span_text")  # {"working_days": 3} → 「3 个工作日」

    @app.template_filter("localtime")
    def _localtime(value, fmt: str = "%Y-%m-%d %H:%M"):
        return value.astimezone(LOCAL_TZ).strftime(fmt) if value else ""


def visible_menu() -> list[tuple[str, str]]:
    """Menu entries the user may open; entries of switched-off plugins are hidden."""
    if not current_user.is_authenticated:
        return []
    from fengqiao.plugins.state import disabled_names

    owners = current_app.extensions.get("fengqiao.menu_owner", {})
    off = disabled_names() if owners else set()
    return [
        (endpoint, label)
        for endpoint, label, perm in current_app.extensions.get("fengqiao.menu", [])
        if (perm is None or current_user.can(perm)) and owners.get(endpoint) not in off
    ]
