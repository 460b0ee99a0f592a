"""The transactional outbox: a job runs only when its change committed, once, and a sweep
catches whatever the dispatcher lost."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from fengqiao.db import db
from fengqiao.jobs import enqueue, set_progress
from fengqiao.jobs.runner import run_record
from fengqiao.jobs.sweep import enqueue_periodic, redispatch_stale
from fengqiao.models import JobRecord
from fengqiao.testing.plugin import app_settings_for_tests

CALLS: list[dict] = []


def _record(**kwargs):
    CALLS.append(kwargs)
    set_progress(1, 2)
    return {"seen": kwargs}


def _explode(**kwargs):
    raise RuntimeError("boom")


@pytest.fixture
def jobs_app(app):
    app.extensions["fengqiao.jobs"].update({"test.record": _record, "test.explode": _explode})
    CALLS.clear()
    return app


def _row(job_id: int) -> JobRecord:
    db.expire_all()
    return db.get(JobRecord, job_id)


def test_a_job_runs_after_commit_with_its_arguments(jobs_app):
    with jobs_app.app_context():
        job_id = enqueue("test.record", case_id=7)
        assert CALLS == []  # nothing runs before the commit
        db.commit()
        assert CALLS == [{"case_id": 7}]
        row = _row(job_id)
        assert row.status == "done" and row.attempts == 1 and row.result == {"seen": {"case_id": 7}}
        assert (row.progress, row.total) == (1, 2)


def test_a_rolled_back_change_never_runs_its_job(jobs_app):
    with jobs_app.app_context():
        enqueue("test.record", case_id=8)
        db.rollback()
        db.commit()  # a later commit must not pick up the forgotten job
        assert CALLS == []
        assert db.scalar(sa.select(sa.func.count()).select_from(JobRecord)) == 0


def test_running_a_delivered_job_twice_runs_it_once(jobs_app):
    with jobs_app.app_context():
        job_id = enqueue("test.record", case_id=9)
        db.commit()
        assert run_record(job_id) == "skipped"  # a second RQ delivery, or the sweep, finds it done
        assert len(CALLS) == 1


def test_dedupe_key_adds_a_job_once(jobs_app):
    with jobs_app.app_context():
        first = enqueue("test.record", dedupe_key="once", n=1)
        again = enqueue("test.record", dedupe_key="once", n=2)
        db.commit()
        assert first == again and CALLS == [{"n": 1}]


def test_unknown_job_names_are_refused_at_enqueue(jobs_app):
    with jobs_app.app_context(), pytest.raises(LookupError):
        enqueue("test.nothing")


def test_a_failing_job_is_retried_then_marked_failed(jobs_app):
    with jobs_app.app_context():
        job_id = enqueue("test.explode")
        db.commit()
        assert _row(job_id).status == "pending" and "boom" in _row(job_id).error
        assert run_record(job_id) == "pending"
        assert run_record(job_id) == "failed"
        assert _row(job_id).attempts == 3


def test_the_sweep_dispatches_what_was_lost(jobs_app):
    """A row committed but never dispatched (the web process died right after commit)."""
    with jobs_app.app_context():
        job_id = db.execute(sa.insert(JobRecord).returning(JobRecord.id).values(
            name="test.record", args={"lost": True}, queue="fengqiao", status="pending", attempts=0,
            created_at=_long_ago(), progress=0, error="")).scalar_one()
        db.commit()  # written without enqueue(): nobody dispatches it
        assert CALLS == []
        assert redispatch_stale() == 1
        assert CALLS == [{"lost": True}] and _row(job_id).status == "done"


def test_a_job_left_running_by_a_dead_worker_runs_again_after_its_lease(jobs_app):
    with jobs_app.app_context():
        job_id = db.execute(sa.insert(JobRecord).returning(JobRecord.id).values(
            name="test.record", args={"again": True}, queue="fengqiao", status="running", attempts=1,
            created_at=_long_ago(), started_at=_long_ago(), progress=0, error="")).scalar_one()
        db.commit()
        assert redispatch_stale() == 1
        assert CALLS == [{"again": True}] and _row(job_id).attempts == 2


def test_periodic_jobs_are_enqueued_once_per_slot(jobs_app):
    with jobs_app.app_context():
        first = enqueue_periodic()
        second = enqueue_periodic()
        assert first == second  # a second worker ticking in the same slot adds nothing
        names = set(db.scalars(sa.select(JobRecord.name)))
        assert {"cases.sla_sweep", "jobs.prune"} <= names


def _long_ago():
    from datetime import timedelta

    from fengqiao.db import utcnow

    return utcnow() - timedelta(hours=1)


# ---- Redis / RQ -------------------------------------------------------------------------


def test_with_redis_down_the_change_commits_and_the_job_waits(database_url, tmp_path):
    from fengqiao.app import create_app

    app = create_app(app_settings_for_tests(database_url, tmp_path, redis_url="redis://127.0.0.1:1/0"))
    try:
        with app.app_context():
            job_id = enqueue("jobs.prune")
            db.commit()  # Redis refuses: logged, the row stays for the sweep
            assert _row(job_id).status == "pending"
    finally:
        app.extensions["fengqiao.db"].dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_rq_worker_runs_outbox_jobs(database_url, tmp_path, redis_server):
    import redis

    from fengqiao.app import create_app

    redis_url = redis_server.url
    queue = redis.Redis.from_url(redis_url)
    queue.flushdb()
    settings = app_settings_for_tests(database_url, tmp_path, redis_url=redis_url)
    app = create_app(settings)
    try:
        with app.app_context():
            job_id = enqueue("jobs.prune")
            db.commit()
            assert _row(job_id).status == "pending"  # on Redis, waiting for a worker
            app.extensions["fengqiao.dispatcher"].flush()  # the push runs on its own thread
            assert queue.llen("rq:queue:fengqiao-low") == 1
        env = {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_REDIS_URL": redis_url,
               "FENGQIAO_PLUGINS": "", "FENGQIAO_SECRET_KEY": "x" * 32,
               "FENGQIAO_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin"}
        done = subprocess.run([sys.executable, "-m", "fengqiao.cli", "worker", "--burst"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        with app.app_context():
            row = _row(job_id)
            assert row.status == "done" and row.result == {"deleted": 0}
    finally:
        app.extensions["fengqiao.db"].dispose()
