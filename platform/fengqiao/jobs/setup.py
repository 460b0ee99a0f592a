"""Wire jobs into an app: its registry, its dispatcher, and the commit hook of its sessions."""

from __future__ import annotations

from flask import Flask

from fengqiao.db import Database
from fengqiao.jobs.dispatch import init_dispatcher
from fengqiao.jobs.outbox import watch_commits
from fengqiao.jobs.registry import CORE_JOBS


def init_jobs(app: Flask, database: Database) -> None:
    import fengqiao.jobs.core_jobs  # noqa: F401  (registers the core's jobs)

    app.extensions["fengqiao.jobs"] = dict(CORE_JOBS)  # plugins add theirs while loading
    init_dispatcher(app)
    watch_commits(app, database.session_factory)
