"""The outbox: ``enqueue`` writes a row in the caller's transaction; commit hands it over
(``fengqiao.transaction.after_commit``: never before the commit, never after a rollback, and
a rolled-back SAVEPOINT takes its own jobs with it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from fengqiao.db import db, insert, utcnow
from fengqiao.jobs.registry import spec_for
from fengqiao.models import JobRecord
from fengqiao.transaction import after_commit


def enqueue(name: str, *, owner=None, dedupe_key: str | None = None, queue: str | None = None,
            **args: Any) -> int:
    """Add job ``name`` with ``args`` to the current transaction; returns the outbox id.

    Nothing runs until the caller commits. With a ``dedupe_key`` the same job is added at most
    once (the existing row's id is returned).
    """
    app = current_app._get_current_object()
    spec = spec_for(app, name)
    if spec is None:
        raise LookupError(f"no job named {name!r}")
    values = dict(name=name, args=args, queue=queue or spec.queue, status="pending", attempts=0,
                  dedupe_key=dedupe_key, created_at=utcnow(), progress=0, error="",
                  owner_id=getattr(owner, "id", owner))
    if dedupe_key is None:
        job_id = db.execute(sa.insert(JobRecord).returning(JobRecord.id), values).scalar_one()
    else:  # ON CONFLICT DO NOTHING: a concurrent duplicate must not spoil the caller's transaction
        job_id = db.execute(
            insert(JobRecord).values(values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(JobRecord.id)
        ).scalar()
        if job_id is None:
            return db.scalar(sa.select(JobRecord.id).where(JobRecord.dedupe_key == dedupe_key))
    after_commit(app.extensions["fengqiao.dispatcher"].dispatch, [(job_id, values["queue"])])
    return job_id
