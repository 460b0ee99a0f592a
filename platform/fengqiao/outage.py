"""A database outage answers 503 with a Chinese message, never a 500, and heals by itself.

When PostgreSQL goes away, SQLAlchemy raises ``OperationalError`` (cannot connect, or the
server closed a pooled connection mid-request) and invalidates the whole pool, so the first
requests after the server returns open fresh connections; ``pool_pre_ping`` catches any
connection that died while idle. Nothing has to restart.
"""

from __future__ import annotations

import logging

from flask import Flask, g, request
from sqlalchemy import exc as sa_exc

from fengqiao.db import db

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
MESSAGE = "数据库暂时无法访问，请稍后再试"
CODE = "database_unavailable"


# "The database is not there right now" (refused, closed mid-request, pool exhausted, SQLite
# locked), as opposed to "the query is wrong", which stays a logged 500.
OUTAGES = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def register_outage_handler(app: Flask) -> None:
    from fengqiao.errors import _html_error, json_error, wants_json

    def _database_unavailable(err: sa_exc.SQLAlchemyError):
        # The class names only: the exception text carries SQL parameters (personal data).
        cause = getattr(err, "orig", None)
        log.warning("database unavailable on %s %s: %s (%s)", request.method, request.path,
                    err.__class__.__name__, cause.__class__.__name__ if cause else "-")
        try:
            db.rollback()  # the error page may ask for the signed-in user again
        except Exception:
            log.debug("rollback after a database outage failed", exc_info=True)
        if wants_json():
            response = json_error(503, [("", MESSAGE, CODE)])
        else:
            g._login_user = app.login_manager.anonymous_user()  # the page must not load the user
            body, status = _html_error(503, MESSAGE)
            response = app.make_response((body, status))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    for outage in OUTAGES:
        app.register_error_handler(outage, _database_unavailable)
