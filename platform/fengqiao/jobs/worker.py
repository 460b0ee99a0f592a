"""``fengqiao worker``: an RQ worker that runs outbox jobs inside the configured app.

The app (and its plugins) loads once per worker process; each job runs in a forked work
horse, which first drops the parent's pooled database connections (sharing a socket across a
fork corrupts it). The parent also ticks: periodic jobs and the outbox sweep.
"""

from __future__ import annotations

from flask import Flask
from redis import Redis
from rq import Queue, Worker
from sqlalchemy.orm import configure_mappers

from fengqiao.jobs.registry import QUEUES
from fengqiao.jobs.sweep import Ticker, redispatch_stale

QUEUE_NAMES = QUEUES


class AppWorker(Worker):
    """Runs every job inside an app context."""

    flask_app: Flask | None = None

    def perform_job(self, *args, **kwargs):  # noqa: D401 - RQ hook
        with self.flask_app.app_context():
            return super().perform_job(*args, **kwargs)

    def main_work_horse(self, *args, **kwargs):  # runs in the forked child
        self.flask_app.extensions["fengqiao.db"].engine.dispose(close=False)
        return super().main_work_horse(*args, **kwargs)


def run_worker(app: Flask, burst: bool = False) -> bool:
    # Configure every mapper (core and plugins) now, before the ticker thread starts: a work
    # horse forked while that thread held SQLAlchemy's configure lock would wait forever.
    configure_mappers()
    settings = app.extensions["fengqiao.settings"]
    connection = Redis.from_url(settings.redis_url)
    connection.ping()
    AppWorker.flask_app = app
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    worker = AppWorker(queues, connection=connection)
    if burst:  # drain what the outbox holds, then stop
        from datetime import timedelta

        with app.app_context():
            redispatch_stale(grace=timedelta(0))
        app.extensions["fengqiao.dispatcher"].flush()
        app.extensions["fengqiao.db"].dispose()
        return worker.work(burst=True, with_scheduler=False)
    app.extensions["fengqiao.db"].dispose()
    ticker = Ticker(app).start()
    try:
        return worker.work(burst=False, with_scheduler=False)
    finally:
        ticker.stop()
