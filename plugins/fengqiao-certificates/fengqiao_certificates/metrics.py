"""Per-unit counts for a period: requests, issued, refused by reason, referred to the street,
average working days to issue, and proofs avoided (requests refused as must-not-issue)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.orgs import Scope, org_units
from fengqiao.sdk.web import render
from fengqiao.sdk.workdays import LOCAL_TZ, today_local, working_days_between

from fengqiao_certificates.access import view_scope
from fengqiao_certificates.models import CertificateRequest


@dataclass
class Row:
    code: str
    name: str
    requests: int = 0
    issued: int = 0
    refused_listed: int = 0
    refused_street: int = 0
    refused_staff: int = 0
    referred: int = 0
    pending: int = 0
    days: list[int] = field(default_factory=list)

    @property
    def avoided(self) -> int:
        return self.refused_listed

    @property
    def average_days(self) -> float | None:
        return round(sum(self.days) / len(self.days), 1) if self.days else None


def codes_in(scope: Scope) -> dict[str, str]:
    return {u.code: u.name for u in org_units(active_only=False) if scope.contains(u.path)}


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local days [start, end] as UTC instants."""
    low = datetime.combine(start, time.min, LOCAL_TZ).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, LOCAL_TZ).astimezone(UTC)
    return low, high


def month_start(day: date) -> date:
    return day.replace(day=1)


def by_unit(scope: Scope, start: date, end: date) -> list[Row]:
    names = codes_in(scope)
    if not names:
        return []
    low, high = period_bounds(start, end)
    rows: dict[str, Row] = {}
    found = db.scalars(sa.select(CertificateRequest).where(
        CertificateRequest.org_code.in_(list(names)), CertificateRequest.created_at >= low,
        CertificateRequest.created_at < high).order_by(CertificateRequest.id))
    for r in found:
        row = rows.setdefault(r.org_code, Row(r.org_code, names[r.org_code]))
        row.requests += 1
        row.referred += r.match == "unlisted"
        if r.outcome == "issued":
            row.issued += 1
            if r.closed_at:
                row.days.append(working_days_between(r.created_at, r.closed_at, r.org_code))
        elif r.outcome == "refused":
            setattr(row, f"refused_{r.refused_by or 'staff'}", getattr(row, f"refused_{r.refused_by or 'staff'}") + 1)
        else:
            row.pending += 1
    return [rows[c] for c in names if c in rows]


def total(rows: list[Row]) -> Row:
    out = Row("", "合计")
    for r in rows:
        for key in ("requests", "issued", "refused_listed", "refused_street", "refused_staff", "referred", "pending"):
            setattr(out, key, getattr(out, key) + getattr(r, key))
        out.days += r.days
    return out


HEADERS = ("单位", "单位代码", "申请数", "已出具", "不应出具（已告知替代途径）", "街道研判不予出具", "审核不予出具",
           "清单外报街道研判", "办理中", "平均办理工作日", "减少证明（件）")


def ledger_rows(rows: list[Row]) -> list[list]:
    return [[r.name, r.code, r.requests, r.issued, r.refused_listed, r.refused_street, r.refused_staff,
             r.referred, r.pending, "" if r.average_days is None else r.average_days, r.avoided]
            for r in [*rows, total(rows)]]


def widget() -> str:
    today = today_local()
    summary = total(by_unit(view_scope(), month_start(today), today))
    return render("certificates/widget.html", s=summary, month=today.strftime("%Y-%m"))


def demanding_agencies(scope: Scope, start: date, end: date, limit: int = 10) -> list[tuple[str, int]]:
    """Agencies that most often asked residents for certificates communities should not (or
    need not) issue — the ones to report back to (docs/domain.md, "Certificate list")."""
    names = codes_in(scope)
    if not names:
        return []
    low, high = period_bounds(start, end)
    count = sa.func.count(CertificateRequest.id)
    rows = db.execute(
        sa.select(CertificateRequest.demanding_agency, count)
        .where(CertificateRequest.org_code.in_(list(names)), CertificateRequest.created_at >= low,
               CertificateRequest.created_at < high, CertificateRequest.demanding_agency != "",
               CertificateRequest.match != "may_issue")
        .group_by(CertificateRequest.demanding_agency).order_by(count.desc(), CertificateRequest.demanding_agency)
        .limit(limit))
    return [(agency, n) for agency, n in rows]
