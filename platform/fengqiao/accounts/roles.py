"""Built-in roles and the permissions each grants (plugins may add permissions later).

A permission granted through a membership applies to that unit's whole subtree.
"""

from __future__ import annotations

from flask import current_app, has_app_context

ROLE_LABELS = {
    "admin": "系统管理员",
    "supervisor": "督查/主管",
    "staff": "工作人员",
    "grid_worker": "网格员",
    "department": "职能部门",
    "viewer": "只读查看",
}

PERMISSION_LABELS = {
    "orgs.view": "查看组织机构",
    "orgs.manage": "管理组织机构",
    "users.view": "查看用户",
    "users.manage": "管理用户",
    "cases.view": "查看事项",
    "cases.act": "办理事项",
    "cases.report": "上报事项",
    "metrics.view": "查看统计",
    "forms.manage": "设计表单",
    "plugins.manage": "管理插件",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSION_LABELS),
    "supervisor": frozenset(
        {"orgs.view", "users.view", "cases.view", "cases.act", "metrics.view"}
    ),
    "staff": frozenset({"orgs.view", "users.view", "cases.view", "cases.act", "cases.report", "metrics.view"}),
    "grid_worker": frozenset({"orgs.view", "cases.view", "cases.act", "cases.report"}),
    "department": frozenset({"orgs.view", "cases.view", "cases.act"}),
    "viewer": frozenset({"orgs.view", "cases.view", "metrics.view"}),
}


def permissions_for(role: str) -> frozenset[str]:
    """The role's built-in permissions plus those plugins granted it in this app."""
    base = ROLE_PERMISSIONS.get(role, frozenset())
    if has_app_context():
        registry = current_app.extensions.get("fengqiao.permissions")
        if registry is not None and role in registry.extra:
            return base | registry.extra[role]
    return base
