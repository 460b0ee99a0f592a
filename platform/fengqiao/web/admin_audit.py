"""The audit log page: search who revealed or exported personal data (read-only).

For holders of ``audit.view`` (admins, supervisors), limited to their units' subtree.
There is no edit or delete here or anywhere; exporting the log is itself audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import render_template, request
from flask_login import current_user

from fengqiao import audit
from fengqiao.access import requires
from fengqiao.db import LOCAL_TZ, db
from fengqiao.exports import workbook_bytes, xlsx_response
from fengqiao.models import AuditEntry
from fengqiao.pagination import keyset_page
from fengqiao.web.blueprint import web_bp

PAGE_SIZE = 50
ACTION_NAME = re.compile(r"[a-z][a-z0-9_.-]{1,47}")  # core actions and plugins' own
MAX_EXPORT = 50_000


@dataclass(frozen=True)
class AuditFilters:
    user: str = ""
    case: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None

    def args(self) -> dict[str, str]:
        found = {"user": self.user, "case": self.case, "action": self.action,
                 "since": self.since.isoformat() if self.since else "",
                 "until": self.until.isoformat() if self.until else ""}
        return {k: v for k, v in found.items() if v}


def _day(raw: str, label: str, errors: dict[str, str], key: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[key] = f"{label}格式不正确，应为 年-月-日（如 2026-01-31）"
        return None


def parse_filters(args) -> tuple[AuditFilters, dict[str, str]]:
    """The search form's values; every bad one gets a Chinese message."""
    errors: dict[str, str] = {}
    user, case = args.get("user", "").strip()[:150], args.get("case", "").strip()[:40]
    action = args.get("action", "").strip()
    if action and not ACTION_NAME.fullmatch(action):
        errors["action"] = "操作类型无效，请从列表中选择"
        action = ""
    since = _day(args.get("since", "").strip(), "开始日期", errors, "since")
    until = _day(args.get("until", "").strip(), "结束日期", errors, "until")
    if since and until and until < since:
        errors["until"] = "结束日期不能早于开始日期"
    return AuditFilters(user, case, action, since, until), errors


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def _query(filters: AuditFilters):
    return audit.search(
        audit.visible_entries(current_user._get_current_object()), user=filters.user or None,
        case=filters.case or None, action=filters.action or None,
        since=_local_midnight(filters.since) if filters.since else None,
        until=_local_midnight(filters.until + timedelta(days=1)) if filters.until else None,
    )


@web_bp.get("/admin/audit")
@requires(audit.AUDIT_PERMISSION)
def audit_log():
    filters, errors = parse_filters(request.args)
    page = keyset_page(_query(filters), AuditEntry.id, None if errors else request.args.get("cursor"), PAGE_SIZE)
    return render_template("admin/audit.html", page=page, filters=filters, errors=errors,
                           actions=audit.ACTION_LABELS, outcomes=audit.OUTCOME_LABELS), 422 if errors else 200


@web_bp.get("/admin/audit/export.xlsx")
@requires(audit.AUDIT_PERMISSION)
def audit_export():
    filters, errors = parse_filters(request.args)
    if errors:
        return audit_log()
    rows = [
        (e.at, e.actor_name, audit.ACTION_LABELS.get(e.action, e.action), audit.OUTCOME_LABELS.get(e.outcome, e.outcome),
         e.case_number or "", e.record, e.field, e.reason, e.client_addr, e.user_agent)
        for e in db.scalars(_query(filters).order_by(AuditEntry.id.desc()).limit(MAX_EXPORT))
    ]
    data = workbook_bytes("审计日志", ["时间", "用户", "操作", "结果", "事项编号", "对象", "字段", "理由", "来源地址", "浏览器"], rows)
    audit.record("export.audit", record_ref="audit_log", detail={"filters": filters.args(), "rows": len(rows)})
    return xlsx_response("审计日志.xlsx", data)
