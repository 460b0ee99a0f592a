"""``/healthz`` (is the process alive and the database reachable) and ``/readyz`` (may a load
balancer send this process traffic: database answers, schema at the migrations' head, Redis
answers when configured).

``/healthz`` is served from ``fengqiao.web.views``; ``/readyz`` is registered here, on the
same blueprint, so both checks live in one module.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app, jsonify

from fengqiao.access import public
from fengqiao.db import db
from fengqiao.web.blueprint import web_bp

log = logging.getLogger(__name__)
HEADS_KEY = "fengqiao.migration_heads"


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


def _migration_heads() -> set[str]:
    """The heads of every installed migration branch; they cannot change while we run."""
    heads = current_app.extensions.get(HEADS_KEY)
    if heads is None:
        from alembic.script import ScriptDirectory

        from fengqiao.migrate import alembic_config

        heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
        current_app.extensions[HEADS_KEY] = heads
    return heads


def _check_database() -> tuple[str, str]:
    """(database, migrations): "ok", or why not."""
    from fengqiao.migrate import current_revisions

    engine = current_app.extensions["fengqiao.db"].engine
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:
        log.warning("readiness: database unreachable: %s", exc.__class__.__name__)
        return "unreachable", "unknown"
    try:
        applied = current_revisions(engine)
    except Exception as exc:
        log.warning("readiness: migration state unreadable: %s", exc.__class__.__name__)
        return "ok", "unknown"
    return "ok", "ok" if applied == _migration_heads() else "pending"


def _check_redis() -> str:
    dispatcher = current_app.extensions.get("fengqiao.dispatcher")
    connection = getattr(dispatcher, "connection", None)
    if connection is None:
        return "not_configured"  # jobs run in-process: nothing to wait for
    try:
        connection.ping()
    except Exception as exc:
        log.warning("readiness: Redis unreachable: %s", exc.__class__.__name__)
        return "unreachable"
    return "ok"


def readiness_report() -> tuple[dict, int]:
    """Every check by name; 503 with the failing ones listed when any is not satisfied."""
    database, migrations = _check_database()
    checks = {"database": database, "migrations": migrations, "redis": _check_redis()}
    failing = [name for name, state in checks.items() if state not in ("ok", "not_configured")]
    body = {"status": "not_ready" if failing else "ready", "checks": checks, "failing": failing}
    return body, 503 if failing else 200


@web_bp.get("/readyz")
@public
def readyz():
    body, status = readiness_report()
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
