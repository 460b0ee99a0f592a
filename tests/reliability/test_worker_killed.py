"""A worker killed with SIGKILL in the middle of a job: the lease expires, another worker's
sweep dispatches the job again, and its effect still happens exactly once."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from worker_app import DROP, SCHEMA

from fengqiao.db import db
from fengqiao.jobs import enqueue
from fengqiao.models import JobRecord
from fengqiao.testing.plugin import app_settings_for_tests

LEASE_SECONDS = 3
STATUS = "SELECT status FROM job_outbox WHERE id = :job"
WORKER = Path(__file__).with_name("worker_app.py")


def _wait_for(predicate, timeout: float, what: str, logs: list[Path]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{tails}")


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped no longer runs anything)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.fixture
def scratch_tables(database_url):
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        for statement in SCHEMA:
            conn.execute(sa.text(statement))
    yield engine
    with engine.begin() as conn:
        conn.execute(sa.text(DROP))
    engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("fork", [False, True], ids=["in-process", "work-horse"])
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_sigkilled_worker_job_is_retried_and_its_effect_happens_once(
        database_url, tmp_path, redis_proc, processes, scratch_tables, fork):
    from fengqiao.app import create_app

    app = create_app(app_settings_for_tests(database_url, tmp_path, redis_url=redis_proc.url))
    app.extensions["fengqiao.jobs"]["test.effect_once"] = lambda **_: None  # enqueue checks the name
    try:
        with app.app_context():
            job_id = enqueue("test.effect_once", key="case-42-notified", first_attempt_sleeps=120)
            db.commit()
            app.extensions["fengqiao.dispatcher"].flush()
    finally:
        app.extensions["fengqiao.db"].dispose()

    env = {**os.environ, "FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_REDIS_URL": redis_proc.url,
           "FENGQIAO_MODE": "testing", "FENGQIAO_PLUGINS": "", "FENGQIAO_SECRET_KEY": "x" * 32,
           "FENGQIAO_INSTANCE_PATH": str(tmp_path / "worker-instance"),
           "JOBS_LEASE_SECONDS": str(LEASE_SECONDS), "JOBS_TICK_SECONDS": "1", "WORKER_FORK": "1" if fork else "0"}
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    with scratch_tables.connect() as conn:
        def query(sql: str):
            conn.rollback()  # a fresh snapshot each time
            return conn.execute(sa.text(sql), {"job": job_id}).all()

        first = processes.spawn([sys.executable, str(WORKER)], env, logs[0])
        attempts = _wait_for(lambda: query("SELECT attempt, pid FROM reliability_attempt"), 30,
                             "the first attempt to start", logs)
        assert [a.attempt for a in attempts] == [1]
        horse = attempts[0].pid  # the process running the job
        assert (horse != first.pid) == fork and _alive(horse)  # a forked work horse, or the worker
        _wait_for(lambda: query("SELECT count(*) FROM reliability_effect")[0][0] == 1, 10,
                  "the first attempt's effect to be committed", logs)  # it commits just after

        processes.kill_tree(first)  # the worker (and its work horse), mid-job
        assert first.returncode == -signal.SIGKILL
        _wait_for(lambda: not _alive(horse), 10, "the job's process to die", logs)
        assert query(STATUS)[0][0] == "running"

        processes.spawn([sys.executable, str(WORKER)], env, logs[1])
        _wait_for(lambda: query(STATUS)[0][0] == "done",
                  30, "the second worker to finish the job", logs)
        attempts = query("SELECT attempt, pid FROM reliability_attempt ORDER BY attempt")
        assert [a.attempt for a in attempts] == [1, 2] and attempts[1].pid != horse
        assert query("SELECT count(*) FROM reliability_effect")[0][0] == 1

    with app.app_context():
        row = db.get(JobRecord, job_id)
        assert (row.status, row.attempts, row.result) == ("done", 2, {"attempt": 2})
        app.extensions["fengqiao.db"].dispose()
