"""``/healthz``: is the database reachable, and how do jobs run."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app

from fengqiao.db import db

log = logging.getLogger(__name__)


def health_report() -> tuple[dict, int]:
    settings = current_app.extensions["fengqiao.settings"]
    body = {"status": "ok", "database": "ok", "jobs": settings.jobs_backend}
    try:
        db.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any driver error means "down" to a load balancer
        log.warning("health check: database unreachable: %s", exc.__class__.__name__)
        db.rollback()
        body.update(status="error", database="unreachable")
        return body, 503
    return body, 200
