"""``fengqiao worker``: an RQ worker that runs outbox jobs inside the configured app.

The app (and its plugins) loads once per worker process. By default each job runs in the
worker process itself (RQ's ``SimpleWorker``): it keeps its pooled database connections
between jobs. A forked work horse per job (``--fork``, RQ's default ``Worker``) isolates each
job's memory and crashes from the worker, at the price of a fork, a fresh database connection
and a fresh PostgreSQL backend per job — several milliseconds of CPU each, more than a short
job itself (see bench/bench_jobs.py). The outbox makes both equally safe: a worker killed
mid-job leaves its row leased until another worker runs it again. The worker also ticks:
periodic jobs and the outbox sweep, in a thread.
"""

from __future__ import annotations

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from sqlalchemy.orm import configure_mappers

from fengqiao.jobs.registry import QUEUES
from fengqiao.jobs.sweep import Ticker, redispatch_stale

QUEUE_NAMES = QUEUES


class _InApp:
    """Runs every job inside an app context."""

    flask_app: Flask | None = None

    def perform_job(self, *args, **kwargs):  # noqa: D401 - RQ hook
        with self.flask_app.app_context():
            return super().perform_job(*args, **kwargs)

    def unsubscribe(self):
        """Stop the pub/sub listener before unsubscribing, so the reply ends its loop.

        RQ unsubscribes first and then stops the thread, which waits in a 60-second read:
        when the reply reaches the thread before the stop flag is cleared, it reads again
        and the worker's exit on SIGTERM waits up to a minute (redis-py's ``stop()`` joins).
        """
        listener = getattr(self, "pubsub_thread", None)
        if listener is not None:
            try:
                listener.stop(timeout=0)  # redis-py >= 8: clear the flag, do not wait yet
            except TypeError:
                listener.stop()  # older redis-py: stop() only clears the flag
        return super().unsubscribe()


class AppWorker(_InApp, SimpleWorker):
    """Jobs run in this process, one after another, on its connection pool."""


class ForkingAppWorker(_InApp, Worker):
    """Each job runs in a forked work horse."""

    def main_work_horse(self, *args, **kwargs):  # runs in the forked child
        # Sharing a pooled socket across a fork corrupts it: the child opens its own.
        self.flask_app.extensions["fengqiao.db"].engine.dispose(close=False)
        return super().main_work_horse(*args, **kwargs)


def run_worker(app: Flask, burst: bool = False, fork: bool = False) -> bool:
    # Configure every mapper (core and plugins) now, before the ticker thread starts: a work
    # horse forked while that thread held SQLAlchemy's configure lock would wait forever.
    configure_mappers()
    settings = app.extensions["fengqiao.settings"]
    connection = Redis.from_url(settings.redis_url)
    connection.ping()
    worker_class = ForkingAppWorker if fork else AppWorker
    worker_class.flask_app = app
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    worker = worker_class(queues, connection=connection)
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
