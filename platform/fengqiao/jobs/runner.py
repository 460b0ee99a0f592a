"""Run one outbox row: claim it, call its function, record the outcome.

The claim is a conditional UPDATE, so two deliveries of the same job (RQ is at-least-once,
and the sweep may re-dispatch) never run it side by side; a row left ``running`` by a dead
worker becomes claimable again when its lease expires. Job functions stay idempotent anyway:
a worker killed after the effect but before ``done`` runs them once more.

A job function flushes and never commits (a long job may commit a checkpoint per batch and
says why): the runner commits its work together with the ``done`` status, once, and only
then are its signals sent and the jobs it enqueued dispatched (``fengqiao/transaction.py``).
"""

from __future__ import annotations

import contextvars
import logging
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from fengqiao.db import database, db, utcnow
from fengqiao.jobs.registry import spec_for
from fengqiao.models import JobRecord

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
DEFAULT_LEASE = timedelta(minutes=10)
_current: contextvars.ContextVar[int | None] = contextvars.ContextVar("fengqiao_job", default=None)


def lease() -> timedelta:
    return timedelta(seconds=current_app.config.get("JOBS_LEASE_SECONDS", DEFAULT_LEASE.total_seconds()))


def _claim(job_id: int) -> sa.Row | None:
    """Mark the row running (one statement: the claim also reads what to run); None if taken."""
    now = utcnow()
    claimable = sa.or_(
        JobRecord.status == "pending",
        sa.and_(JobRecord.status == "running", JobRecord.started_at < now - lease()),
    )
    claimed = db.execute(
        sa.update(JobRecord).where(JobRecord.id == job_id, claimable)
        .values(status="running", attempts=JobRecord.attempts + 1, started_at=now)
        .returning(JobRecord.name, JobRecord.args, JobRecord.attempts)
    ).first()
    db.commit()  # a transaction of its own: other deliveries must see the claim before the job runs
    return claimed


def _finish(job_id: int, **values: Any) -> None:
    db.execute(sa.update(JobRecord).where(JobRecord.id == job_id).values(finished_at=utcnow(), **values))


def run_record(job_id: int) -> str:
    """Run outbox row ``job_id`` if it is claimable; returns its status afterwards."""
    record = _claim(job_id)
    if record is None:
        return "skipped"
    spec = spec_for(current_app, record.name)
    if spec is None:
        _finish(job_id, status="failed", error=f"no job named {record.name!r} in this process")
        db.commit()
        return "failed"
    token = _current.set(job_id)
    try:
        result = spec.func(**record.args)
        done = {"status": "done", "error": ""}
        if isinstance(result, dict):
            done["result"] = result
        _finish(job_id, **done)
        db.commit()  # the job's work and its "done" in one transaction; then its signals and jobs
    except Exception:
        db.rollback()
        log.exception("job %s (%s) failed", job_id, record.name)
        status = "failed" if record.attempts >= MAX_ATTEMPTS else "pending"
        _finish(job_id, status=status, error=traceback.format_exc()[-4000:])
        db.commit()
        return status
    finally:
        _current.reset(token)
    return "done"


def run_from_rq(job_id: int) -> str:
    """The function RQ calls (the worker provides the app context)."""
    return run_record(job_id)


def current_job_id() -> int | None:
    return _current.get()


def set_progress(done: int, total: int | None = None) -> None:
    """Record progress of the running job on its own connection, so watchers see it now."""
    job_id = _current.get()
    if job_id is None:
        return
    values: dict[str, Any] = {"progress": done}
    if total is not None:
        values["total"] = total
    try:
        with database().engine.begin() as conn:
            conn.execute(sa.update(JobRecord).where(JobRecord.id == job_id).values(**values))
    except sa.exc.OperationalError:  # SQLite busy: progress is best effort
        log.debug("progress of job %s not recorded", job_id)


def files_dir() -> Path:
    """Where jobs leave files for download (exports); inside the instance folder."""
    folder = Path(current_app.instance_path) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
