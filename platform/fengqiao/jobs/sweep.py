"""The database sweep: what Redis lost or a dead worker left is dispatched again, and
periodic jobs are enqueued once per time slot however many workers tick."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from fengqiao.db import db, utcnow
from fengqiao.jobs.outbox import enqueue
from fengqiao.jobs.registry import PERIODIC
from fengqiao.jobs.runner import lease
from fengqiao.models import JobRecord

log = logging.getLogger(__name__)
GRACE = timedelta(seconds=30)  # a pending row younger than this is probably still on its way
TICK_SECONDS = 15


def redispatch_stale(now=None, grace: timedelta = GRACE) -> int:
    """Dispatch again pending rows older than ``grace`` and running rows whose lease expired."""
    now = now or utcnow()
    rows = db.execute(
        sa.select(JobRecord.id, JobRecord.queue).where(sa.or_(
            sa.and_(JobRecord.status == "pending", JobRecord.created_at < now - grace),
            sa.and_(JobRecord.status == "running", JobRecord.started_at < now - lease()),
        )).order_by(JobRecord.id).limit(1000)
    ).all()
    if rows:
        current_app.extensions["fengqiao.dispatcher"].dispatch([(r.id, r.queue) for r in rows])
    return len(rows)


def periodic_jobs() -> list:
    """The core's periodic jobs and those of plugins that are switched on."""
    from flask import current_app

    from fengqiao.plugins.state import is_active

    plugins = current_app.extensions.get("fengqiao.periodic", {}).values()
    return [*PERIODIC.values(), *(p for plugin, p in plugins if is_active(plugin))]


def enqueue_periodic(now=None) -> list[int]:
    """Enqueue each periodic job for the current slot (a dedupe key makes it once per slot)."""
    stamp = int((now or utcnow()).timestamp())
    ids = [enqueue(p.name, dedupe_key=f"{p.name}@{stamp // p.every}") for p in periodic_jobs()]
    db.commit()
    return ids


def tick() -> None:
    enqueue_periodic()
    redispatch_stale()


class Ticker:
    """A daemon thread that ticks every ``every`` seconds inside an app context."""

    def __init__(self, app: Flask, every: float | None = None):
        self.app = app  # JOBS_TICK_SECONDS shortens the tick (fault tests)
        self.every = every or float(app.config.get("JOBS_TICK_SECONDS", TICK_SECONDS))
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="fengqiao-ticker", daemon=True)

    def start(self) -> Ticker:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                with self.app.app_context():
                    tick()
            except Exception:  # a database outage must not kill the ticker
                log.exception("job sweep failed; retrying in %ss", self.every)
            self._stop.wait(max(1.0, self.every - (time.monotonic() - started)))


def start_inline_ticker(app: Flask, on_first_request: bool = False) -> Ticker | None:
    """Without Redis nobody else ticks: the serving process does (``demo``, ``run``, wsgi).

    ``on_first_request`` defers the thread to the first request, so importing the WSGI module
    (a gunicorn master with ``--preload``, a test) starts nothing that would not survive a fork.
    """
    if app.extensions["fengqiao.settings"].redis_url:
        return None
    if not on_first_request:
        return Ticker(app).start()
    started: list[Ticker] = []
    lock = threading.Lock()

    @app.before_request
    def _start_ticker() -> None:
        if not started:
            with lock:
                if not started:
                    started.append(Ticker(app).start())
    return None
