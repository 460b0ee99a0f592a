"""Built-in roles and the permissions each grants (plugins may add permissions later).

A permission granted through a membership applies to that unit's whole subtree.

Personal data (docs/domain.md, "Personal data"): ``cases.reveal`` (see one personal field
in full, with a reason, audited) belongs to the roles that handle residents directly and
answer for it: staff of a unit (community secretaries, street dispatchers call residents
back) and supervisors. The system administrator configures the platform but does not read
residents' data (等保 2.0 separation of system and audit duties), so ``admin`` lacks it;
grid workers, departments and viewers work with masked data. ``audit.view`` (read the audit
log) is for admins and supervisors.

``leader`` (领导/书记: the head of a street or community) approves what the level's staff ask
for — 延期, 挂账, 吹哨, the first review of a points claim — and answers to residents for
the unit, so it holds ``cases.reveal`` like staff. ``mediator`` (调解员) works dispute cases
with masked data; its ``cases.act`` is *type-bound*: it counts only on case types whose
workflow names the role in a transition (``TYPE_BOUND_ROLES``), so a mediator cannot claim
or handle a grid incident. Who may approve is declared per transition in the case types,
and nobody approves their own request (``four_eyes``).
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
    "leader": "领导/书记",
    "mediator": "调解员",
    "integration": "系统对接",
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
    "cases.reveal": "查看完整个人信息",
    "audit.view": "查看审计日志",
    "cases.inbound": "接收外部工单",
}

# The administrator's duty is the system, not residents' data.
# ``cases.inbound`` (cases pushed by an external 12345 platform) belongs to the integration
# account alone (role ``integration``, member of the unit whose subtree it may send to).
ADMIN_EXCLUDED = frozenset({"cases.reveal", "cases.inbound"})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSION_LABELS) - ADMIN_EXCLUDED,
    "supervisor": frozenset(
        {"orgs.view", "users.view", "cases.view", "cases.act", "metrics.view", "cases.reveal", "audit.view"}
    ),
    "staff": frozenset({"orgs.view", "users.view", "cases.view", "cases.act", "cases.report", "metrics.view",
                        "cases.reveal"}),
    "grid_worker": frozenset({"orgs.view", "cases.view", "cases.act", "cases.report"}),
    "department": frozenset({"orgs.view", "cases.view", "cases.act"}),
    "viewer": frozenset({"orgs.view", "cases.view", "metrics.view"}),
    "leader": frozenset({"orgs.view", "users.view", "cases.view", "cases.act", "cases.report", "metrics.view",
                         "cases.reveal"}),
    "mediator": frozenset({"orgs.view", "cases.view", "cases.act"}),
    "integration": frozenset({"cases.inbound"}),
}

# Roles whose case permissions apply only on case types whose workflow lists them.
TYPE_BOUND_ROLES = frozenset({"mediator"})


def permissions_for(role: str) -> frozenset[str]:
    """The role's built-in permissions plus those plugins granted it in this app."""
    base = ROLE_PERMISSIONS.get(role, frozenset())
    if has_app_context():
        registry = current_app.extensions.get("fengqiao.permissions")
        if registry is not None and role in registry.extra:
            return base | registry.extra[role]
    return base
