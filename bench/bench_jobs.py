"""Job throughput: ``fengqiao worker`` draining outbox jobs, in-process vs a work horse per job.

Enqueues ``FENGQIAO_BENCH_JOBS`` (default 400) ``cases.notify`` jobs through the outbox on a
scratch PostgreSQL database, then runs ``fengqiao worker --burst`` (jobs in the worker process,
the default) and ``fengqiao worker --burst --fork`` (RQ's forking worker) on Redis database
``FENGQIAO_BENCH_REDIS`` (default 15). Each mode is also run once with an empty queue, and that
start-up time and CPU are subtracted, so the figures are per job. The PostgreSQL backends'
own CPU is not in the CPU column (a forked horse opens and closes a backend per job, which
makes the fork figure, if anything, an underestimate).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import report
from servers import PG_HOST, PG_PORT, flush_redis, pg_user, redis_ok, scratch_database

JOBS = int(os.environ.get("FENGQIAO_BENCH_JOBS", "400"))
REDIS_URL = os.environ.get("FENGQIAO_BENCH_REDIS", "redis://127.0.0.1:6379/15")
SECRET = "bench-jobs-secret-key-0123456789abcdefghijklmn"
BIN = Path(sys.executable).parent


def _settings(url: str, instance: str) -> dict:
    return {"mode": "testing", "database_url": url, "redis_url": REDIS_URL, "instance_path": instance,
            "secret_key": SECRET, "plugins": []}


def _prepare(url: str, instance: str) -> None:
    from fengqiao.app import create_app
    from fengqiao.migrate import upgrade

    app = create_app(_settings(url, instance))
    upgrade(app.extensions["fengqiao.db"].engine)
    app.extensions["fengqiao.db"].dispose()


def _enqueue(url: str, instance: str, count: int) -> None:
    from fengqiao.app import create_app
    from fengqiao.db import db
    from fengqiao.jobs import enqueue

    app = create_app(_settings(url, instance))
    try:
        with app.app_context():
            for i in range(count):
                enqueue("cases.notify", case_number=f"BENCH-{i:06d}", event="bench",
                        message="压测通知", recipients=["shenli"])
            db.commit()
        app.extensions["fengqiao.dispatcher"].flush()
    finally:
        app.extensions["fengqiao.dispatcher"].close()
        app.extensions["fengqiao.db"].dispose()


def _burst(url: str, instance: str, fork: bool) -> tuple[float, float]:
    """Wall and CPU seconds (the worker and its work horses) of one ``worker --burst``."""
    env = {**os.environ, "FENGQIAO_DATABASE_URL": url, "FENGQIAO_REDIS_URL": REDIS_URL,
           "FENGQIAO_SECRET_KEY": SECRET, "FENGQIAO_MODE": "production", "FENGQIAO_PLUGINS": "",
           "FENGQIAO_INSTANCE_PATH": instance}
    argv = [str(BIN / "fengqiao"), "worker", "--burst", *(["--fork"] if fork else [])]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _per_job(url: str, instance: str, fork: bool) -> tuple[float, float]:
    """Milliseconds of wall time and of CPU per job, start-up subtracted."""
    idle_wall, idle_cpu = _burst(url, instance, fork)
    _enqueue(url, instance, JOBS)
    flush_redis(REDIS_URL)  # the burst dispatches every pending row itself: once each, not twice
    wall, cpu = _burst(url, instance, fork)
    return (wall - idle_wall) * 1000 / JOBS, (cpu - idle_cpu) * 1000 / JOBS


def main() -> None:
    user = pg_user()
    if user is None:
        report.skipped("jobs", f"no PostgreSQL on {PG_HOST}:{PG_PORT}")
        return
    if not redis_ok(REDIS_URL):
        report.skipped("jobs", f"no Redis at {REDIS_URL}")
        return
    with tempfile.TemporaryDirectory(prefix="fq-jobs-") as tmp, scratch_database(user, "fq_jobs") as name:
        url = f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
        _prepare(url, tmp)
        flush_redis(REDIS_URL)
        try:
            figures = {fork: _per_job(url, tmp, fork) for fork in (False, True)}
        finally:
            flush_redis(REDIS_URL)
    (wall, cpu), (fork_wall, fork_cpu) = figures[False], figures[True]
    print(f"{JOBS} cases.notify jobs on PostgreSQL, per job: in-process {wall:.2f} ms wall / {cpu:.2f} ms CPU; "
          f"work horse per job (--fork) {fork_wall:.2f} ms wall / {fork_cpu:.2f} ms CPU")
    print(f"throughput: in-process {1000 / wall:,.0f} jobs/s, forking {1000 / fork_wall:,.0f} jobs/s per worker")
    report.record("jobs", "worker CPU per job: in-process vs --fork", cpu, fork_cpu, cpu / fork_cpu,
                  "(information)", None, unit=" ms")
    report.record("jobs", "worker jobs/s: in-process vs --fork", 1000 / wall, 1000 / fork_wall,
                  fork_wall / wall, "(information)", None, unit="/s")


if __name__ == "__main__":
    main()
