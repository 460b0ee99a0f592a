"""The case engine's facts about a case beyond the list fields: its clock, escalation,
pending extension, links and the units taking part — shared by the API and the detail page."""

from __future__ import annotations

import sqlalchemy as sa

from fengqiao.cases import sla
from fengqiao.db import db
from fengqiao.models import Case, CaseParticipant


def _iso(value):
    return value.isoformat() if value else None


def participants(case: Case) -> list[CaseParticipant]:
    return list(db.scalars(sa.select(CaseParticipant).where(CaseParticipant.case_id == case.id)
                           .order_by(CaseParticipant.id)))


def case_facts(case: Case) -> dict:
    merged_into = db.scalar(sa.select(Case.number).where(Case.id == case.merged_into_id)) \
        if case.merged_into_id else None
    merged = list(db.scalars(sa.select(Case.number).where(Case.merged_into_id == case.id).order_by(Case.id)))
    pending = case.pending_extension
    return {
        "sla": {"status_title": sla.STATUS_TITLES.get(case.sla_status, case.sla_status),
                "limit": case.sla_limit, "credit": case.sla_credit, "started_at": _iso(case.sla_start),
                "paused_at": _iso(case.paused_at)},
        "clock": sla.clock_json(case),  # what the deadline is made of (start, limit, pauses, 延期 …)
        "escalation": {"level": case.escalation_level,
                       "org": case.escalated_to.code if case.escalated_to else None},
        "pending_extension": {"amount": pending["amount"], "unit": pending["unit"], "reason": pending["reason"]}
        if pending else None,
        "urge_count": case.urge_count,
        "reopen_count": case.reopen_count,
        "links": {"merged_into": merged_into, "merged": merged},
        "units": [{"org": p.org.code, "name": p.org.name, "role": p.role, "checkin_due": _iso(p.checkin_due),
                   "checked_in_at": _iso(p.checked_in_at), "rating": p.rating}
                  for p in participants(case)],
        "responded_at": _iso(case.responded_at),
        "closed_at": _iso(case.closed_at),
        "rating": case.rating,
    }
