"""HTML pages for staff, admins and residents (Chinese UI)."""

from __future__ import annotations

from flask import Flask

from fengqiao.accounts.roles import ROLE_LABELS
from fengqiao.db import LOCAL_TZ
from fengqiao.labels import span_text
from fengqiao.web.menu import ADMIN, CASES, STATS, WORKBENCH, MenuItem, menu_groups, visible_menu

# The staff sidebar (fengqiao.web.menu): MenuItem(endpoint, label, permission or None for any
# signed-in user, group, icon); plugins append theirs with ctx.add_menu_item.
CORE_MENU = [
    MenuItem("web.dashboard", "工作台", None, WORKBENCH),
    MenuItem("web.inbox", "消息中心", None, WORKBENCH),
    MenuItem("web.drafts_list", "我的草稿", None, WORKBENCH, "稿"),
    MenuItem("web.outbox", "待上传", "cases.report", WORKBENCH, "传"),
    MenuItem("web.queue", "事项队列", "cases.view", CASES),
    MenuItem("web.form_index", "办事表单", None, CASES),
    MenuItem("web.board", "回音壁", None, CASES),
    MenuItem("web.metrics_page", "统计分析", "metrics.view", STATS),
    MenuItem("web.ledger_page", "导出台账", "metrics.view", STATS, "账"),
    MenuItem("web.org_list", "组织机构", "orgs.view", ADMIN),
    MenuItem("web.user_list", "用户管理", "users.view", ADMIN),
    MenuItem("web.form_admin_list", "表单设计", "forms.manage", ADMIN),
    MenuItem("web.workflow_admin_list", "流程设计", "forms.manage", ADMIN),
    MenuItem("web.plugin_admin_list", "插件管理", "plugins.manage", ADMIN),
    MenuItem("web.calendar_admin", "工作日历", "orgs.manage", ADMIN, "历"),
    MenuItem("web.audit_log", "审计日志", "audit.view", ADMIN),
    MenuItem("web.notification_admin", "通知设置", "orgs.manage", ADMIN),
    MenuItem("web.webhook_list", "Webhook 推送", "orgs.manage", ADMIN, "推"),
    MenuItem("web.account_notifications", "我的通知", None, ADMIN, "铃"),
    MenuItem("web.account_password", "账户安全", None, ADMIN, "密"),
]


def init_web(app: Flask) -> None:
    from fengqiao.web import (  # noqa: F401  (routes)
        account,
        admin_audit,
        admin_calendar,
        admin_forms,
        admin_forms_xlsx,
        admin_orgs,
        admin_plugins,
        admin_users,
        admin_webhooks,
        admin_workflow_designer,
        admin_workflow_versions,
        admin_workflows,
        attachments,
        board,
        case_print,
        cases,
        drafts,
        fill,
        form_exports,
        inbox,
        jobs,
        metrics,
        notification_settings,
        offline,
        queue_filters,
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
        # menu_groups is called by base.html only where the sidebar is drawn (signed in)
        return {"menu": visible_menu(), "menu_groups": menu_groups, "role_labels": ROLE_LABELS, "app_title": "枫桥"}

    app.add_template_filter(span_text, "span_text")  # {"working_days": 3} → 「3 个工作日」
    from fengqiao.addresses import providing

    app.add_template_global(providing, "addresses_provided")  # the forms' address picker searches

    @app.template_filter("localtime")
    def _localtime(value, fmt: str = "%Y-%m-%d %H:%M"):
        return value.astimezone(LOCAL_TZ).strftime(fmt) if value else ""


__all__ = ["CORE_MENU", "init_web", "visible_menu"]
