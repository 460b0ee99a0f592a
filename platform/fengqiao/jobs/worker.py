"""``fengqiao worker``: an RQ worker that runs jobs inside the configured app."""

from __future__ import annotations

from flask import Flask
from redis import Redis
from rq import Queue, Worker

QUEUE_NAMES = ("fengqiao-high", "fengqiao", "fengqiao-low")


class AppWorker(Worker):
    """Runs every job inside an app context; the app (and its plugins) loads once per process."""

    flask_app: Flask | None = None

    def perform_job(self, job, queue):  # noqa: D401 - RQ hook
        with self.flask_app.app_context():
            return super().perform_job(job, queue)


def run_worker(app: Flask, burst: bool = False) -> bool:
    settings = app.extensions["fengqiao.settings"]
    connection = Redis.from_url(settings.redis_url)
    connection.ping()
    # Forking workers must not share the parent's pooled DB connections.
    app.extensions["fengqiao.db"].dispose()
    AppWorker.flask_app = app
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    worker = AppWorker(queues, connection=connection)
    return worker.work(burst=burst, with_scheduler=False)
