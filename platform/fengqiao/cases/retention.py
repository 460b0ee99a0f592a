"""Retention (PIPL: keep personal data no longer than needed): anonymise closed cases.

A case type may set ``"retention": {"closed_days": N}``; a case of that type closed more
than N days ago gets its personal data replaced, once:

- form data: every string that is not a coded choice or a date becomes ``（已匿名化）``
  (names, ID and phone numbers, addresses, descriptions), attachment references are
  dropped and the uploaded files deleted (after the commit); numbers, booleans, choices and dates stay (statistics by category and amount);
- the same for the case's submissions; the title becomes ``<类型>（已匿名化）``; the phone
  tail is cleared; history comments are replaced and numbers in other history text masked;
- kept: number, type, unit, state, dates, deadline and SLA status, rating, counters — the
  columns statistics and ledgers read.

Each anonymised case gets a ``case_anonymisations`` row (never processed twice) and an
audit row. :func:`report` counts what a run would change without changing anything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from fengqiao import audit
from fengqiao.cases.case_types import case_type, known_keys, latest_row
from fengqiao.db import db, utcnow
from fengqiao.forms.display import masking_definition
from fengqiao.forms.uploads import delete_stored
from fengqiao.masking import mask_text
from fengqiao.models import Attachment, Case, CaseAnonymisation, CaseEvent, Submission
from fengqiao.transaction import after_commit

ANONYMISED = "（已匿名化）"
KEPT_FORMATS = {"date", "date-time", "time"}
BATCH = 200


def policies() -> dict[str, int]:
    """``{case type key: closed_days}`` from each type's latest version."""
    from flask import current_app

    found: dict[str, int] = {}
    registry = current_app.extensions.get("fengqiao.case_types")
    for key in known_keys():
        row = latest_row(key)
        definition = row.definition if row else (registry.definitions.get(key, ({},))[0] if registry else {})
        days = (definition.get("retention") or {}).get("closed_days")
        if isinstance(days, int) and days > 0:
            found[key] = days
    return found


def _expired(key: str, days: int, now: datetime) -> sa.Select:
    done = sa.select(CaseAnonymisation.case_id)
    return sa.select(Case).where(Case.type == key, Case.closed_at.is_not(None),
                                 Case.closed_at < now - timedelta(days=days), Case.id.not_in(done))


def _keeps(schema: dict, value: str) -> bool:
    """Coded choices and dates are statistics, not personal data."""
    if schema.get("format") in KEPT_FORMATS:
        return True
    if "enum" in schema:
        return value in schema["enum"]
    options = schema.get("oneOf") or []
    return any(isinstance(o, dict) and o.get("const") == value for o in options)


def anonymised(schema: dict, value: Any) -> Any:
    """``value`` with every free string replaced; numbers, booleans, choices and dates kept."""
    schema = schema if isinstance(schema, dict) else {}
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        return {k: anonymised(props.get(k, {}), v) for k, v in value.items()}
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if items.get("format") == "attachment":
            return []
        return [anonymised(items, v) for v in value]
    if isinstance(value, str) and value and not _keeps(schema, value):
        return ANONYMISED
    return value


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def _schema_of(case: Case) -> dict:
    definition = masking_definition(case.form_key, case.form_version)
    return definition["schema"] if definition else {}


def anonymise_case(case: Case, days: int) -> None:
    """Replace ``case``'s personal data and drop its attachment rows (in the current
    transaction); the stored files are deleted once that transaction committed."""
    schema = _schema_of(case)
    case.data = anonymised(schema, case.data or {})
    case.title = f"{case_type(case.type, case.workflow_version).title}{ANONYMISED}"
    case.phone_tail = ""
    if case.pending_extension:
        case.pending_extension = {**case.pending_extension, "reason": ANONYMISED}
    for submission in db.scalars(sa.select(Submission).where(Submission.case_id == case.id)):
        submission.data = anonymised(submission.form_version.definition.get("schema", {}), submission.data or {})
    for event in db.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case.id)):
        if event.comment:
            event.comment = ANONYMISED
        event.changes = _scrubbed(event.changes or {})
    files = list(db.scalars(sa.select(Attachment).join(Submission, Attachment.submission_id == Submission.id)
                            .where(Submission.case_id == case.id)))
    for attachment in files:
        db.delete(attachment)
    db.add(CaseAnonymisation(case_id=case.id, anonymised_at=utcnow(), closed_days=days))
    audit.record("case.anonymise", case_number=case.number, org=case.org, record_ref=f"case:{case.number}",
                 reason=f"办结超过 {days} 天（保存期限）", detail={"closed_days": days, "files": len(files)})
    after_commit(delete_stored, [a.storage_key for a in files])  # only once the rows are gone for good


@dataclass
class Report:
    counts: Counter = field(default_factory=Counter)  # type key -> cases
    dry_run: bool = True

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_json(self) -> dict:
        return {"dry_run": self.dry_run, "total": self.total, "by_type": dict(sorted(self.counts.items()))}


def report(now: datetime | None = None) -> Report:
    """What :func:`anonymise_expired` would anonymise now, per case type; changes nothing."""
    now = now or utcnow()
    result = Report(dry_run=True)
    for key, days in policies().items():
        count = db.scalar(sa.select(sa.func.count()).select_from(_expired(key, days, now).subquery()))
        if count:
            result.counts[key] = count
    return result


def anonymise_expired(now: datetime | None = None) -> Report:
    """Anonymise every case past its type's retention, in batches (idempotent; the caller
    commits: the daily job finds a day's worth)."""
    now = now or utcnow()
    result = Report(dry_run=False)
    for key, days in policies().items():
        while True:
            batch = list(db.scalars(_expired(key, days, now).order_by(Case.id).limit(BATCH)).unique())
            if not batch:
                break
            for case in batch:
                anonymise_case(case, days)
                result.counts[key] += 1
            db.flush()  # the next batch's query no longer finds these
    return result
