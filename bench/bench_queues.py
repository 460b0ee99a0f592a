"""The staff queue at a million cases, on SQLite and PostgreSQL, and the cost of a job.

For each backend a fresh database (a temporary SQLite file; a throwaway ``fq_bench_<pid>``
database on 127.0.0.1:5432, dropped afterwards) is migrated, given the demo county and
``FENGQIAO_BENCH_CASES`` synthetic cases (default 1,000,000), and analysed. Then, as a
community's staff (shenli), the county supervisor (ducha) and a department's liaison
(shuiwu, who sees only what was dispatched to the water company):

- the first queue page and page 200 (its cursor found by walking 199 pages) through
  ``cases.queries.queue_page`` — what /queues, the API list and the export share — with the
  two interleaved, each sample in a fresh session like a request;
- the DB time of those pages: the SQL each call sent, re-run on the driver's own cursor
  (execute + fetchall, so SQLite's row stepping counts too; PostgreSQL's prepared-statement
  plans included, as in production) — the ORM's share is the rest;
- the queue's tab counts (``queries.view_counts``) and the HTTP page /queues and its page
  200 through the Flask test client (informational apart from the page-200 ratio).

Targets: page 200 ≤ 1.1 × page 1 (p95, keyset pagination), DB time p95 ≤ 2 ms (SQLite) /
3 ms (PostgreSQL) per page. A miss prints the plan of the query that missed.

Last, enqueueing a job on the request path: the same small transaction (update one case,
commit) with and without ``jobs.enqueue("bench.noop")``; the difference of the medians is
what a request pays (target ≤ 0.5 ms), measured with RQ on a local Redis (a spare Redis
database, emptied afterwards) and with the in-process runner.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import report as summary
import sqlalchemy as sa
from servers import PG_HOST, PG_PORT, pg_user, scratch_database
from sqlalchemy import event

CASES = int(os.environ.get("FENGQIAO_BENCH_CASES", "1000000"))
SAMPLES = int(os.environ.get("FENGQIAO_BENCH_SAMPLES", "100"))
SLOW_SAMPLES = max(10, SAMPLES // 3)  # whole pages and tab counts take tenths of a second
EXPLAIN_ALWAYS = os.environ.get("FENGQIAO_BENCH_EXPLAIN") == "1"
PAGE = 50
DEEP = 200  # the page compared with the first
REDIS_URL = os.environ.get("FENGQIAO_BENCH_REDIS", "redis://127.0.0.1:6379/15")
USERS = (("shenli", "社区工作人员"), ("ducha", "县督查员"), ("shuiwu", "部门联络员：只见派给本单位的"))
DB_TARGET_MS = {"sqlite": 2.0, "postgresql": 3.0}
RATIO_TARGET = 1.10
ENQUEUE_TARGET_MS = 0.5
ENQUEUE_SAMPLES = 300


def pct(samples: list[float], q: int) -> float:
    """The q-th percentile (inclusive method: fine for 50+ samples)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


class Report:
    """Rows of the printed table: what, p50, p95, target, verdict."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []
        self.misses: list[str] = []

    def add(self, backend: str, who: str, what: str, samples: list[float] | None = None,
            target: str = "", ok: bool | None = None, note: str = "") -> None:
        p50 = f"{pct(samples, 50):8.3f}" if samples else " " * 8
        p95 = f"{pct(samples, 95):8.3f}" if samples else " " * 8
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        if ok is False:
            self.misses.append(f"{backend} {who} {what}")
        self.rows.append((backend, who, what, p50, p95, target, f"{verdict} {note}".strip()))

    def print(self) -> None:
        print(f"{'backend':<11}{'user':<8}{'measurement':<36}{'p50 ms':>8}{'p95 ms':>9}  {'target':<18}result")
        for backend, who, what, p50, p95, target, verdict in self.rows:
            print(f"{backend:<11}{who:<8}{what:<36}{p50} {p95}  {target:<18}{verdict}")


# ---- databases ------------------------------------------------------------------------------


@contextlib.contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="fq-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextlib.contextmanager
def postgres_url() -> Iterator[str | None]:
    """A throwaway database, or None (with the reason printed) when no server answers."""
    user = pg_user()
    if user is None:
        print(f"PostgreSQL: skipped — no server accepting trust connections on {PG_HOST}:{PG_PORT}")
        summary.skipped("queues", f"no PostgreSQL on {PG_HOST}:{PG_PORT}", "PostgreSQL figures")
        yield None
        return
    with scratch_database(user, "fq_bench") as name:
        yield f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"


def make_bench_app(url: str, instance: Path, redis_url: str | None):
    from fengqiao.app import create_app
    from fengqiao.jobs.registry import JobSpec

    app = create_app({"mode": "testing", "database_url": url, "instance_path": str(instance),
                      "secret_key": "bench-secret-key-0123456789abcdefghijkl", "redis_url": redis_url,
                      "plugins": [], "jobs_wait": False})  # jobs do not hold up the committing thread
    app.extensions["fengqiao.jobs"]["bench.noop"] = JobSpec("bench.noop", lambda **_args: None)
    app.logger.setLevel("WARNING")
    return app


def prepare(app, backend: str) -> str:
    """Migrate, load the demo county, generate the cases, analyse; returns a summary line."""
    from fengqiao.cases.synthetic import generate_cases
    from fengqiao.demo_data import load_demo_data
    from fengqiao.migrate import upgrade

    engine = app.extensions["fengqiao.db"].engine
    upgrade(engine)
    with app.app_context():
        load_demo_data()
        result = generate_cases(CASES)
    began = time.perf_counter()
    if backend == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    analysed = time.perf_counter() - began
    return (f"{result.cases:,} cases + {result.events:,} events + {result.participants:,} dispatches "
            f"generated in {result.seconds:.1f} s ({result.rows / result.seconds:,.0f} rows/s); "
            f"{'ANALYZE' if backend == 'sqlite' else 'VACUUM ANALYZE'} {analysed:.1f} s")


# ---- the queue ------------------------------------------------------------------------------


class Capture:
    """The statements (and driver parameters) the engine sends while ``on``."""

    def __init__(self, engine) -> None:
        self.on = False
        self.statements: list[tuple[str, object]] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, parameters, _context, _executemany) -> None:
        if self.on:
            self.statements.append((statement, parameters))

    @contextlib.contextmanager
    def recording(self) -> Iterator[list]:
        self.statements, self.on = [], True
        try:
            yield self.statements
        finally:
            self.on = False


def _driver_ms(raw, statements: list[tuple[str, object]]) -> float:
    cursor = raw.cursor()
    try:
        began = time.perf_counter()
        for sql, params in statements:
            cursor.execute(sql, params)
            cursor.fetchall()
        return (time.perf_counter() - began) * 1000
    finally:
        cursor.close()


def explain(raw, backend: str, statements: list[tuple[str, object]]) -> list[str]:
    cursor = raw.cursor()
    try:
        prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
        lines = []
        for sql, params in statements:
            cursor.execute(prefix + sql, params)
            lines += [" | ".join(str(c) for c in row) for row in cursor.fetchall()]
        return lines
    finally:
        cursor.close()


def queue_pages(app, backend: str, username: str, label: str, capture: Capture, report: Report) -> str | None:
    """Service and DB figures for page 1 and page 200; returns page 200's cursor."""
    from fengqiao.cases import queries
    from fengqiao.db import database, db
    from fengqiao.models import User

    with app.app_context():
        user = db.scalar(sa.select(User).where(User.username == username))
        assert user.memberships  # loaded now: scope_for reads them on every page
        filters = queries.Filters()
        cursor = None
        for _ in range(DEEP - 1):
            cursor = queries.queue_page(user, filters, cursor, PAGE).next_cursor
            if cursor is None:
                print(f"  {username}: fewer than {DEEP} pages; raise FENGQIAO_BENCH_CASES")
                return None
        pages = {"page 1": None, f"page {DEEP}": cursor}
        service: dict[str, list[float]] = {name: [] for name in pages}
        sql: dict[str, list] = {}
        for i in range(SAMPLES + 5):
            for name, at in pages.items():
                database().session.remove()  # a fresh session, like a request
                with capture.recording() as statements:
                    began = time.perf_counter()
                    page = queries.queue_page(user, filters, at, PAGE)
                    took = (time.perf_counter() - began) * 1000
                assert len(page.items) == PAGE
                if i >= 5:  # the first rounds warm caches and prepared statements
                    service[name].append(took)
                sql[name] = statements
        counts: list[float] = []
        for i in range(SLOW_SAMPLES + 2):
            database().session.remove()
            began = time.perf_counter()
            queries.view_counts(user, filters)
            if i >= 2:
                counts.append((time.perf_counter() - began) * 1000)
        database().session.remove()
    raw = app.extensions["fengqiao.db"].engine.raw_connection()
    try:
        driver: dict[str, list[float]] = {name: [] for name in pages}
        for i in range(SAMPLES + 5):
            for name in pages:
                took = _driver_ms(raw, sql[name])
                if i >= 5:
                    driver[name].append(took)
        first, deep = "page 1", f"page {DEEP}"
        ratio = pct(service[deep], 95) / pct(service[first], 95)
        db_ratio = pct(driver[deep], 95) / pct(driver[first], 95)
        limit = DB_TARGET_MS[backend]
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        queries_per_page = len(sql[first])
        report.add(name, username, f"{first} queue_page ({queries_per_page} quer{'y' if queries_per_page == 1 else 'ies'})",
                   service[first], note=label)
        report.add(name, username, f"{deep} queue_page", service[deep], f"≤ {RATIO_TARGET}× page 1",
                   ratio <= RATIO_TARGET, f"{ratio:.2f}×")
        summary.record("queues", f"{name} {username} page {DEEP} vs page 1 (p95)", pct(service[deep], 95),
                       pct(service[first], 95), ratio, f"≤ {RATIO_TARGET}×", ratio <= RATIO_TARGET, unit=" ms")
        report.add(name, username, f"tab counts ({len(queries.COUNTED_VIEWS)} views, capped)", counts)
        for page_name in (first, deep):
            ok = pct(driver[page_name], 95) <= limit
            note = f"{db_ratio:.2f}× page 1" if page_name == deep else ""
            report.add(name, username, f"{page_name} DB time", driver[page_name], f"p95 ≤ {limit:g} ms", ok, note)
            summary.record("queues", f"{name} {username} {page_name} DB time (p95)", pct(driver[page_name], 95),
                           target=f"≤ {limit:g} ms", met=ok, unit=" ms")
            if not ok or EXPLAIN_ALWAYS or (page_name == deep and ratio > RATIO_TARGET):
                print(f"  plan of {name} {username} {page_name}:")
                for line in explain(raw, backend, sql[page_name]):
                    print(f"    {line}")
        return cursor
    finally:
        raw.close()


def http_pages(app, backend: str, username: str, cursor: str, report: Report) -> None:
    from fengqiao.testing.plugin import login

    client = app.test_client()
    if login(client, username).status_code != 302:
        report.add(backend, username, "HTTP /queues", note="skipped: login failed")
        return
    urls = {"HTTP /queues page 1": "/queues", f"HTTP /queues page {DEEP}": f"/queues?cursor={cursor}"}
    times: dict[str, list[float]] = {name: [] for name in urls}
    for i in range(SLOW_SAMPLES + 3):
        for name, url in urls.items():
            began = time.perf_counter()
            response = client.get(url)
            took = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                report.add(backend, username, name, note=f"skipped: status {response.status_code}")
                return
            if i >= 3:
                times[name].append(took)
    first, deep = urls
    ratio = pct(times[deep], 95) / pct(times[first], 95)
    report.add(backend, username, first, times[first])
    report.add(backend, username, deep, times[deep], f"≤ {RATIO_TARGET}× page 1", ratio <= RATIO_TARGET,
               f"{ratio:.2f}×")
    summary.record("queues", f"{backend} {username} {deep} vs page 1 (p95)", pct(times[deep], 95),
                   pct(times[first], 95), ratio, f"≤ {RATIO_TARGET}×", ratio <= RATIO_TARGET, unit=" ms")


# ---- enqueue --------------------------------------------------------------------------------


def enqueue_cost(app, backend: str, dispatcher: str, report: Report) -> None:
    """A request-sized transaction with and without one enqueued job, interleaved."""
    from fengqiao import jobs
    from fengqiao.db import db
    from fengqiao.models import Case

    with app.app_context():
        case_id = db.scalar(sa.select(sa.func.max(Case.id)))
        touch = sa.update(Case).where(Case.id == case_id).values(urge_count=Case.urge_count)

        def plain() -> None:
            db.execute(touch)
            db.commit()

        def with_job() -> None:
            db.execute(touch)
            jobs.enqueue("bench.noop", case_id=case_id)
            db.commit()

        runs: dict[str, list[float]] = {"plain": [], "job": []}
        calls: list[float] = []
        for i in range(ENQUEUE_SAMPLES + 20):
            for name, work in (("plain", plain), ("job", with_job)):
                began = time.perf_counter()
                work()
                if i >= 20:
                    runs[name].append((time.perf_counter() - began) * 1000)
            db.execute(touch)  # the enqueue call on its own, for the record
            began = time.perf_counter()
            jobs.enqueue("bench.noop", case_id=case_id)
            calls.append((time.perf_counter() - began) * 1000)
            db.rollback()
        time.sleep(0.5)  # let the in-process runner drain
    cost50 = pct(runs["job"], 50) - pct(runs["plain"], 50)
    cost95 = pct(runs["job"], 95) - pct(runs["plain"], 95)
    name = "SQLite" if backend == "sqlite" else "PostgreSQL"
    report.add(name, "-", f"commit, no job ({dispatcher})", runs["plain"])
    report.add(name, "-", f"commit + enqueue ({dispatcher})", runs["job"])
    report.add(name, "-", f"enqueue() call alone ({dispatcher})", calls)
    report.add(name, "-", f"enqueue cost on the request ({dispatcher})", None, f"≤ {ENQUEUE_TARGET_MS} ms (p50 Δ)",
               cost50 <= ENQUEUE_TARGET_MS, f"Δp50 {cost50:.3f} ms, Δp95 {cost95:.3f} ms")
    summary.record("queues", f"{name} enqueue cost on the request ({dispatcher}, Δp50)", cost50,
                   pct(runs["plain"], 50), pct(runs["job"], 50) / pct(runs["plain"], 50),
                   f"≤ {ENQUEUE_TARGET_MS} ms", cost50 <= ENQUEUE_TARGET_MS, unit=" ms")


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:  # any failure just means "measure without it"
        return False


def drop_bench_queues() -> None:
    import redis
    from rq import Queue

    from fengqiao.jobs.registry import QUEUES

    connection = redis.Redis.from_url(REDIS_URL)
    for name in QUEUES:
        Queue(name, connection=connection).delete(delete_jobs=True)  # jobs, registries, the name


# ---- main -----------------------------------------------------------------------------------


def run_backend(backend: str, url: str, report: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="fq-bench-inst-") as instance:
        app = make_bench_app(url, Path(instance), None)
        print(f"{'SQLite' if backend == 'sqlite' else 'PostgreSQL'}: {prepare(app, backend)}", flush=True)
        capture = Capture(app.extensions["fengqiao.db"].engine)
        for username, label in USERS:
            cursor = queue_pages(app, backend, username, label, capture, report)
            if cursor:
                http_pages(app, "SQLite" if backend == "sqlite" else "PostgreSQL", username, cursor, report)
        enqueue_cost(app, backend, "inline", report)
        app.extensions["fengqiao.dispatcher"].close()
        app.extensions["fengqiao.db"].dispose()
        if redis_available():
            app = make_bench_app(url, Path(instance), REDIS_URL)
            try:
                enqueue_cost(app, backend, "RQ", report)
            finally:
                drop_bench_queues()
                app.extensions["fengqiao.db"].dispose()
        else:
            print(f"RQ: skipped — no Redis at {REDIS_URL}")
            summary.skipped("queues", f"no Redis at {REDIS_URL}", "enqueue cost (RQ)")


def main() -> None:
    report = Report()
    print(f"{CASES:,} synthetic cases per backend, {SAMPLES} samples per figure, pages of {PAGE}")
    with sqlite_url() as url:
        run_backend("sqlite", url, report)
    with postgres_url() as url:
        if url:
            run_backend("postgresql", url, report)
    report.print()
    if report.misses:
        print("MISSED: " + "; ".join(report.misses))


if __name__ == "__main__":
    main()
