"""Wire jobs into an app: its registry and its dispatcher (outbox rows are handed to it after
each commit: ``jobs/outbox.py``)."""

from __future__ import annotations

from flask import Flask

from fengqiao.jobs.dispatch import init_dispatcher
from fengqiao.jobs.registry import CORE_JOBS


def init_jobs(app: Flask) -> None:
    import fengqiao.jobs.core_jobs  # noqa: F401  (registers the core's jobs)

    app.extensions["fengqiao.jobs"] = dict(CORE_JOBS)  # plugins add theirs while loading
    init_dispatcher(app)
