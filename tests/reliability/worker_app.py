"""A real RQ worker process (``fengqiao.jobs.worker.run_worker``) for the fault tests.

It builds the app from ``FENGQIAO_*`` like ``fengqiao worker`` does, with a short lease and
tick (``JOBS_LEASE_SECONDS``/``JOBS_TICK_SECONDS`` from the environment; ``WORKER_FORK=1`` for
a work horse per job, as ``fengqiao worker --fork``), and registers
``test.effect_once``: a job that records each attempt, performs an idempotent effect, and on
its first attempt then sleeps long enough to be killed before it is marked done.
"""

from __future__ import annotations

import os
import time

import sqlalchemy as sa

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS reliability_attempt (job_id integer, attempt integer, pid integer)",
    "CREATE TABLE IF NOT EXISTS reliability_effect (key varchar(64) PRIMARY KEY)",
]
DROP = "DROP TABLE IF EXISTS reliability_attempt, reliability_effect"


def effect_once(key: str, first_attempt_sleeps: float) -> dict:
    from fengqiao.db import database, db
    from fengqiao.jobs import current_job_id
    from fengqiao.models import JobRecord

    job_id = current_job_id()
    attempt = db.scalar(sa.select(JobRecord.attempts).where(JobRecord.id == job_id))
    with database().engine.begin() as conn:  # visible to the test at once, whatever follows
        conn.execute(sa.text("INSERT INTO reliability_attempt VALUES (:job, :attempt, :pid)"),
                     {"job": job_id, "attempt": attempt, "pid": os.getpid()})
    db.execute(sa.text("INSERT INTO reliability_effect (key) VALUES (:key) ON CONFLICT DO NOTHING"),
               {"key": key})
    db.commit()  # the effect is done; "done" is not recorded yet
    if attempt == 1:
        time.sleep(first_attempt_sleeps)
    return {"attempt": attempt}


def main() -> None:
    from fengqiao.app import create_app
    from fengqiao.jobs.worker import run_worker

    app = create_app({"jobs_lease_seconds": float(os.environ["JOBS_LEASE_SECONDS"]),
                      "jobs_tick_seconds": float(os.environ["JOBS_TICK_SECONDS"])})
    app.extensions["fengqiao.jobs"]["test.effect_once"] = effect_once
    run_worker(app, fork=os.environ.get("WORKER_FORK") == "1")


if __name__ == "__main__":
    main()
