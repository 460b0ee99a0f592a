"""One transaction per request, command or job: services flush, the caller commits once.

Services add, change and ``flush`` but never commit nor roll back: they cannot know whether
their caller has more to write in the same unit of work (an audit row, a second case, a
history row). The caller that owns the unit commits once at its end:

- a web request: :func:`init_transactions` commits when the response is a success (status
  below 400) and rolls back otherwise, so a view raising a domain error leaves nothing behind;
  a view that must keep a write even though it answers with an error (photos uploaded for a
  step that is shown again to be fixed) commits explicitly before returning;
- a CLI command: ``db.commit()`` once at the end of the command;
- a job: the runner (``jobs/runner.py``) commits the job's work together with its status.

Work that must see the committed state — signals to plugins, deleting stored files, dropping
caches — is queued with :func:`after_commit` and runs right after the commit, outside the
transaction (the session is usable again), or never when the transaction rolls back. A
rolled-back SAVEPOINT drops only what was queued inside it.

The one record that must outlive a rollback — the audit row of a refused attempt, whose
request answers with an error — is written with :func:`write_apart`: in a transaction of its
own once the current one has ended, so it never waits for that transaction's write lock.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app
from sqlalchemy import event, orm

log = logging.getLogger(__name__)
PENDING_KEY = "fengqiao.after_commit"
APART_KEY = "fengqiao.write_apart"


class Session(orm.Session):
    """The app's session: ``commit()`` then runs the callbacks queued with :func:`after_commit`."""

    def commit(self) -> None:
        super().commit()
        callbacks = self.info.pop(PENDING_KEY, None)
        for _savepoint, callback in callbacks or ():
            try:
                callback()
            except Exception:  # the data is committed: a failing follow-up must not undo the answer
                log.exception("after-commit callback %r failed", callback)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: orm.Session, transaction: orm.SessionTransaction) -> None:
    """Forget what was queued inside the transaction or SAVEPOINT that was rolled back."""
    pending = session.info.get(PENDING_KEY)
    if not pending:
        return
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)
    elif transaction.nested:
        session.info[PENDING_KEY] = [(sp, cb) for sp, cb in pending if not _inside(sp, transaction)]


def _inside(savepoint: orm.SessionTransaction | None, transaction: orm.SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is transaction:
            return True
        savepoint = savepoint.parent
    return False


def _current_session() -> orm.Session:
    return current_app.extensions["fengqiao.db"].session()


def after_commit(callback: Callable[..., Any], *args: Any, session: orm.Session | None = None,
                 **kwargs: Any) -> None:
    """Run ``callback(*args, **kwargs)`` once the current transaction commits (never if it
    rolls back). Without an open transaction there is nothing to wait for: it runs now."""
    session = session if session is not None else _current_session()
    call = functools.partial(callback, *args, **kwargs)
    if not session.in_transaction():
        call()
        return
    session.info.setdefault(PENDING_KEY, []).append((session.get_nested_transaction(), call))


def write_apart(table: sa.Table, values: dict[str, Any], *, session: orm.Session | None = None) -> None:
    """Insert ``values`` into ``table`` in a transaction of its own, right after the current
    transaction ends, committed or rolled back (now when none is open)."""
    session = session if session is not None else _current_session()
    if session.in_transaction():
        session.info.setdefault(APART_KEY, []).append((table, values))
    else:
        _insert_apart(session, [(table, values)])


@event.listens_for(Session, "after_transaction_end")
def _write_apart_rows(session: orm.Session, transaction: orm.SessionTransaction) -> None:
    if transaction.parent is None and (rows := session.info.pop(APART_KEY, None)):
        _insert_apart(session, rows)


def _insert_apart(session: orm.Session, rows: list[tuple[sa.Table, dict[str, Any]]]) -> None:
    try:
        with session.get_bind().begin() as connection:  # the session's own transaction is over
            for table, values in rows:
                connection.execute(table.insert().values(**values))
    except Exception:  # the caller's answer stands; the loss is logged loudly
        log.exception("could not write %d row(s) apart from the transaction", len(rows))


def init_transactions(app: Flask) -> None:
    """Commit each request's unit of work once, at its end, when the answer is a success."""
    database = app.extensions["fengqiao.db"]

    @app.after_request
    def _commit_or_roll_back(response: Response) -> Response:
        if not database.session.registry.has():
            return response  # the request never touched the database
        session = database.session()
        if not session.in_transaction():
            return response
        if response.status_code >= 400:
            session.rollback()
            return response
        try:
            session.commit()
        except Exception as err:  # not saved: the answer must not say it was (an outage: 503)
            with contextlib.suppress(Exception):  # a dead connection cannot roll back either
                session.rollback()
            return app.make_response(app.handle_user_exception(err))
        return response
