"""Personal data: mask it by default, reveal it only with the permission, and audit the access.

Personal data is masked for every role; a page shows a value in full only after an explicit
action with a reason, by someone who ``may_reveal`` it for the unit, and records that with
``audit``. ``audit`` adds its row to the current transaction and never commits: the request
commits it with the rest (a success), a job when it returns, a CLI command or receiver with its
own ``db.commit()`` — so a rolled-back change leaves no row claiming it happened. A refusal
(``outcome="denied"``) is the exception: it is committed at once, since the refused request
rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from fengqiao.db import db
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

__all__ = [
    "AuditRecord", "audit", "audit_history", "marked_schema", "mask_address", "mask_data", "mask_id_card",
    "mask_mobile", "mask_name", "mask_text", "mask_value", "may_reveal",
]


def may_reveal(user, org_code: str) -> bool:
    """Whether ``user`` may see personal data in full for the unit ``org_code`` (its
    ``cases.reveal`` scope); show masked values otherwise, and ``audit`` what you reveal."""
    from fengqiao.audit import may_reveal as allowed
    from fengqiao.models import OrgUnit

    path = db.scalar(sa.select(OrgUnit.path).where(OrgUnit.code == org_code))
    return bool(path) and allowed(user, path)


def audit(action: str, *, case_number: str | None = None, record: str = "", field: str = "",
          reason: str = "", detail: dict | None = None, outcome: str = "ok", actor: str | None = None,
          org: str | None = None) -> None:
    """Append a row to the audit log — who (the signed-in user, or ``actor``, a username), when,
    from which address, what (``action`` like ``"<plugin>.export"``), about which ``record``
    (your reference, e.g. ``"agenda:12"``) or case, which ``field``, why. Never pass the value.
    ``org`` (a unit code; else the case's unit) lets the unit's auditors see the row. Joins the
    current transaction (see the module's note on commits)."""
    from fengqiao import audit as audit_log
    from fengqiao.models import Case, OrgUnit, User

    user = db.scalar(sa.select(User).where(User.username == actor)) if actor else None
    unit = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == org)) if org else None
    if unit is None and case_number:
        unit = db.scalar(sa.select(OrgUnit).join(Case, Case.org_id == OrgUnit.id).where(Case.number == case_number))
    audit_log.record(action[:48], user=user, outcome=outcome, case_number=case_number, org=unit,
                     record_ref=record, field=field, reason=reason, detail=detail)


@dataclass(frozen=True)
class AuditRecord:
    """One row of the audit log, as a record's history shows it."""

    at: datetime
    actor: str  # username as it was then; "system" for jobs and commands
    action: str
    outcome: str  # ok | denied
    field: str
    reason: str
    detail: dict


def audit_history(record: str, *, limit: int = 50) -> list[AuditRecord]:
    """The audit rows about ``record`` (the reference you passed to ``audit``), newest first:
    a record's history on its page. Show it to people who may see the record."""
    from fengqiao.models import AuditEntry

    rows = db.scalars(sa.select(AuditEntry).where(AuditEntry.record == record[:200])
                      .order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 500))))
    return [AuditRecord(r.at, r.actor_name, r.action, r.outcome, r.field, r.reason, dict(r.detail or {}))
            for r in rows]
