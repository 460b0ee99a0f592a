"""Housekeeping of the outbox itself: finished rows are not history and are pruned."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from fengqiao.db import db, utcnow
from fengqiao.jobs.registry import job, periodic
from fengqiao.models import JobRecord

KEEP = timedelta(days=7)


@job("jobs.prune", queue="fengqiao-low")
def prune() -> dict:
    """Delete finished outbox rows older than a week (their effects live elsewhere)."""
    deleted = db.execute(
        sa.delete(JobRecord).where(JobRecord.status == "done", JobRecord.finished_at < utcnow() - KEEP)
    ).rowcount
    return {"deleted": deleted}


periodic("jobs.prune", every=6 * 3600)


@job("jobs.prune_idempotency", queue="fengqiao-low")
def prune_idempotency() -> dict:
    """Delete the idempotency keys of plugin write routes older than 30 days (fengqiao.idempotency)."""
    from fengqiao.idempotency import prune_idempotency_keys

    return {"deleted": prune_idempotency_keys()}


periodic("jobs.prune_idempotency", every=24 * 3600)
