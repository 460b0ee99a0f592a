"""The audit log: one append-only row per access to personal data and per account change
(PIPL, 等保 2.0).

Reveals (and refused reveal attempts), exports of case data and of the audit log itself,
anonymisation by the retention job, and account changes (accounts created, roles granted
or revoked, passwords, second factors, API tokens issued or revoked: see
``accounts/audit_trail.py``) are written here: who, what, which field, why, when, from
which address. There is deliberately no function to change or remove a row,
and the database refuses UPDATE and DELETE on ``audit_log`` (migration ``0009_audit_log``).
Rows never hold the personal value itself.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from fengqiao.db import db, utcnow
from fengqiao.models import AuditEntry, OrgUnit, User
from fengqiao.orgs.scope import Scope, scope_for
from fengqiao.transaction import write_apart

REVEAL_PERMISSION = "cases.reveal"
AUDIT_PERMISSION = "audit.view"

ACTION_LABELS = {
    "case.reveal": "查看完整个人信息",
    "export.cases": "导出事项台账",
    "export.submissions": "导出表单提交记录",
    "export.audit": "导出审计日志",
    "export.metrics": "导出统计指标",
    "case.anonymise": "到期匿名化",
    # accounts and tokens (fengqiao.accounts.audit_trail)
    "account.create": "创建账户",
    "account.role_grant": "授予角色",
    "account.role_change": "变更角色",
    "account.role_revoke": "撤销角色",
    "account.disable": "停用账户",
    "account.enable": "启用账户",
    "account.delete": "删除账户",
    "account.password": "修改密码",
    "account.totp_on": "开启两步验证",
    "account.totp_off": "关闭两步验证",
    "account.sessions_end": "强制退出所有登录",
    "account.unlock": "解除登录锁定",
    "token.issue": "签发访问令牌",
    "token.revoke": "吊销访问令牌",
    # notification settings and deliveries (fengqiao.notifications.settings)
    "notify.prefs": "修改个人通知设置",
    "notify.unit_settings": "修改单位通知设置",
    "notify.channel_config": "修改单位通知渠道配置",
    "notify.test": "发送测试通知",
    "notify.resend": "重新发送通知",
    # webhook endpoints (fengqiao.webhooks.service)
    "webhook.create": "新建 Webhook 推送地址",
    "webhook.update": "修改 Webhook 推送地址",
    "webhook.personal_grant": "授权 Webhook 推送个人信息",
    "webhook.personal_revoke": "撤销 Webhook 个人信息授权",
    "webhook.secret_rotate": "重新生成 Webhook 密钥",
    "webhook.delete": "删除 Webhook 推送地址",
    "webhook.deactivate": "停用 Webhook 推送地址（接收方返回 410）",
    "webhook.resend": "重新发送 Webhook 推送",
    "webhook.ping": "发送 Webhook 测试事件",
}
OUTCOME_LABELS = {"ok": "成功", "denied": "被拒绝"}


def _client() -> tuple[str, str]:
    if not has_request_context():
        return "", ""
    return (request.remote_addr or "")[:64], (request.user_agent.string or "")[:300]


def _actor(user) -> User | None:
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()
    return user if isinstance(user, User) else None


def record(action: str, *, user=None, outcome: str = "ok", case_number: str | None = None,
           org: OrgUnit | None = None, record_ref: str = "", field: str = "", reason: str = "",
           detail: dict | None = None) -> AuditEntry:
    """Append one row to the caller's transaction: it commits (or rolls back) with the change
    or the access it records.

    A refusal (``outcome="denied"``) is the exception: the request that was refused answers
    with an error and rolls back, yet the attempt must stay on record, so its row is written
    in a transaction of its own once the caller's has ended (``transaction.write_apart``)."""
    actor = _actor(user)
    addr, agent = _client()
    values = dict(
        at=utcnow(), actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else "system", action=action, outcome=outcome,
        case_number=case_number, record=record_ref[:200], field=field[:200], reason=reason,
        org_id=org.id if org else None, detail=detail or {}, client_addr=addr, user_agent=agent,
    )
    entry = AuditEntry(**values)
    if outcome == "denied":
        write_apart(AuditEntry.__table__, values)
    else:
        db.add(entry)
    return entry


def may_reveal(user, org_path: str) -> bool:
    """Whether ``user`` holds the reveal permission for the unit at ``org_path``."""
    return scope_for(user, REVEAL_PERMISSION).contains(org_path)


# --- reading ---------------------------------------------------------------------------------


def visible_entries(user) -> sa.Select:
    """Rows ``user`` may read: those about units in their audit scope; rows tied to no unit
    (exports) only for holders of the permission at a top-level unit."""
    scope: Scope = scope_for(user, AUDIT_PERMISSION)
    top_level = any(p.count("/") == 2 for p in scope.paths)
    stmt = sa.select(AuditEntry).outerjoin(OrgUnit, AuditEntry.org_id == OrgUnit.id)
    unit_rows = sa.and_(AuditEntry.org_id.is_not(None), scope.clause(OrgUnit.path))
    return stmt.where(sa.or_(unit_rows, AuditEntry.org_id.is_(None)) if top_level else unit_rows)


def search(stmt: sa.Select, *, user: str | None = None, case: str | None = None,
           action: str | None = None, since: datetime | None = None,
           until: datetime | None = None) -> sa.Select:
    if user:
        stmt = stmt.where(AuditEntry.actor_name == user)
    if case:
        stmt = stmt.where(AuditEntry.case_number == case)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    return stmt
