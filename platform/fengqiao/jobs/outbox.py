"""The outbox: ``enqueue`` writes a row in the caller's transaction; commit hands it over."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.db import db, utcnow
from fengqiao.jobs.registry import spec_for
from fengqiao.models import JobRecord

PENDING_KEY = "fengqiao.outbox"


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
        dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
        job_id = db.execute(
            dialect.insert(JobRecord).values(values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(JobRecord.id)
        ).scalar()
        if job_id is None:
            return db.scalar(sa.select(JobRecord.id).where(JobRecord.dedupe_key == dedupe_key))
    db.info.setdefault(PENDING_KEY, []).append((job_id, values["queue"]))
    return job_id


def watch_commits(app, factory: sessionmaker) -> None:
    """Dispatch a session's new outbox rows once it commits; forget them on rollback."""

    @event.listens_for(factory, "after_commit")
    def _committed(session: Session) -> None:
        pending = session.info.pop(PENDING_KEY, None)
        if pending:
            app.extensions["fengqiao.dispatcher"].dispatch(pending)

    @event.listens_for(factory, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(PENDING_KEY, None)
