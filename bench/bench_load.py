"""The load test end to end: its own 2 web + 2 worker stack on PostgreSQL with 1M cases.

Creates a throwaway database ``fq_load_<pid>`` on 127.0.0.1:5432, migrates it, loads the
demo county and ``FENGQIAO_BENCH_CASES`` synthetic cases (default 1,000,000), then starts
``gunicorn -w 2 fengqiao.wsgi:app`` and two ``fengqiao worker`` processes on Redis database
``FENGQIAO_LOAD_REDIS`` (default 14, emptied before and after), plus ``bench/trivial_app.py``
under the same gunicorn settings, runs ``load.py``'s three phases and stops everything
(SIGTERM, then SIGKILL after 10 s) and drops the database, whatever happened.

Before those phases, ``wrk`` measures the HTTP throughput of an authenticated
``POST /api/v1/forms/livelihood-request/submissions`` against the floor (``trivial_app``'s
``/floor``: a compiled validator and one INSERT + commit) under the same gunicorn, in
alternating rounds of ``FENGQIAO_WRK_SECONDS`` (default 15); skipped, with the reason,
where ``wrk`` is not installed (Debian: ``apt-get install wrk``).

``FENGQIAO_LOAD_DATABASE=name`` reuses an existing, prepared database and keeps it (for
repeated runs while tuning; the synthetic cases are then not generated again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import load
import report
import sqlalchemy as sa
import wrk
from servers import PG_HOST, PG_PORT, flush_redis, pg_user, redis_ok, scratch_database
from trivial_app import FLOOR_TABLE

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CASES = int(os.environ.get("FENGQIAO_BENCH_CASES", "1000000"))
REDIS_URL = os.environ.get("FENGQIAO_LOAD_REDIS", "redis://127.0.0.1:6379/14")
REUSE = os.environ.get("FENGQIAO_LOAD_DATABASE", "")
SECRET = "load-test-secret-key-0123456789abcdefghijklmnop"
WEB_WORKERS = 2
RQ_WORKERS = 2
START_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
WRK_SECONDS = float(os.environ.get("FENGQIAO_WRK_SECONDS", "15"))
WRK_ROUNDS = 2  # floor, product, floor, product: drift in machine load hits both alike
SUBMIT_VS_FLOOR_TARGET = 0.4


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    return f"{os.cpu_count()} CPUs ({model})"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def database(user: str) -> Iterator[str]:
    """The load database's name: a new one dropped afterwards, or the one to reuse."""
    if REUSE:
        yield REUSE
        return
    with scratch_database(user, "fq_load") as name:
        yield name


def prepare(url: str, instance: str) -> dict[str, str]:
    """Migrate, load the county and the cases (unless reused), analyse; bearer tokens by role."""
    from fengqiao.accounts.service import issue_token
    from fengqiao.app import create_app
    from fengqiao.cases.synthetic import generate_cases
    from fengqiao.db import db
    from fengqiao.demo_data import load_demo_data
    from fengqiao.migrate import upgrade
    from fengqiao.models import Case, User

    logging.getLogger("fengqiao").addFilter(lambda r: r.levelno >= logging.WARNING)  # no start-up chatter
    app = create_app({"mode": "testing", "database_url": url, "instance_path": instance,
                      "secret_key": SECRET, "plugins": []})
    engine = app.extensions["fengqiao.db"].engine
    try:
        upgrade(engine)
        with app.app_context():
            load_demo_data()
            have = db.scalar(sa.select(sa.func.count()).select_from(Case))
            if have < CASES:
                result = generate_cases(CASES - have)
                print(f"generated {result.cases:,} cases + {result.events:,} events in {result.seconds:.0f} s "
                      f"({result.rows / result.seconds:,.0f} rows/s)", flush=True)
            tokens = {role: issue_token(db.scalar(sa.select(User).where(User.username == username)))
                      for role, username in load.ACCOUNTS.items()}
            db.commit()
            total = db.scalar(sa.select(sa.func.count()).select_from(Case))
        with engine.begin() as conn:  # trivial_app's /floor writes here
            conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id bigserial PRIMARY KEY, "
                                 "data jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")
        began = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        print(f"database ready: {total:,} cases; VACUUM ANALYZE {time.perf_counter() - began:.0f} s", flush=True)
        return tokens
    finally:
        app.extensions["fengqiao.dispatcher"].close()
        engine.dispose()


class Stack:
    """The processes of one run; ``stop()`` ends exactly these (their process groups)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        self.procs[name] = proc
        return proc

    def pids(self, *names: str) -> list[int]:
        """The named processes and their descendants (gunicorn's workers, RQ's work horses)."""
        roots = {self.procs[n].pid for n in names if n in self.procs}
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        found, frontier = set(roots), set(roots)
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
            found |= frontier
        return sorted(found)

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def wait_ready(stack: Stack, name: str, url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if stack.procs[name].poll() is not None:
            raise RuntimeError(f"{name} exited:\n{stack.tail(name)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{name} not ready after {START_TIMEOUT:.0f} s:\n{stack.tail(name)}")


def backend_pids(user: str, dbname: str) -> list[int]:
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="postgres", autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (dbname,))]


@dataclass(frozen=True)
class HttpFigures:
    """Requests/s of the product's submission and of the floor, by ``wrk`` (means of the rounds)."""

    submissions: float
    floor: float
    errors: int
    runs: list[wrk.Run]


def http_rounds(app_url: str, trivial_url: str, token: str) -> HttpFigures:
    body = load.submission(random.Random(2026))
    submit_url = f"{app_url}/api/v1/forms/{load.FORM}/submissions"
    headers = {"Authorization": f"Bearer {token}"}
    wrk.post(submit_url, body, headers, seconds=2)  # warm both: caches, prepared statements
    wrk.post(f"{trivial_url}/floor", body, seconds=2)
    runs: dict[str, list[wrk.Run]] = {"floor": [], "submissions": []}
    for _ in range(WRK_ROUNDS):
        runs["floor"].append(wrk.post(f"{trivial_url}/floor", body, seconds=WRK_SECONDS))
        runs["submissions"].append(wrk.post(submit_url, body, headers, seconds=WRK_SECONDS))
    every = runs["floor"] + runs["submissions"]
    for run in every:
        print(f"   wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} {run.url}: {run.requests_per_second:,.1f} req/s, "
              f"mean latency {run.mean_latency_ms:.1f} ms, {run.errors} errors", flush=True)
    return HttpFigures(statistics.mean(r.requests_per_second for r in runs["submissions"]),
                       statistics.mean(r.requests_per_second for r in runs["floor"]),
                       sum(r.errors for r in every), every)


def run_stack(user: str, dbname: str, tmp: Path) -> tuple[list[load.Phase], HttpFigures | None]:
    url = f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{dbname}"
    tokens = prepare(url, str(tmp))
    env = {**os.environ, "FENGQIAO_DATABASE_URL": url, "FENGQIAO_REDIS_URL": REDIS_URL,
           "FENGQIAO_SECRET_KEY": SECRET, "FENGQIAO_MODE": "production", "FENGQIAO_INSTANCE_PATH": str(tmp),
           "PYTHONUNBUFFERED": "1"}
    app_port, trivial_port = free_port(), free_port()
    gunicorn = [str(BIN / "gunicorn"), "-w", str(WEB_WORKERS), "--log-level", "warning"]
    stack = Stack(tmp)
    flush_redis(REDIS_URL)
    try:
        stack.start("web", [*gunicorn, "-b", f"127.0.0.1:{app_port}", "fengqiao.wsgi:app"], env)
        stack.start("trivial", [*gunicorn, "-b", f"127.0.0.1:{trivial_port}", "--pythonpath", str(HERE),
                                "trivial_app:app"], env)
        for i in range(RQ_WORKERS):
            stack.start(f"worker{i + 1}", [str(BIN / "fengqiao"), "worker"], env)
        wait_ready(stack, "web", f"http://127.0.0.1:{app_port}/healthz")
        wait_ready(stack, "trivial", f"http://127.0.0.1:{trivial_port}/ping")
        time.sleep(1.0)
        for i in range(RQ_WORKERS):
            if stack.procs[f"worker{i + 1}"].poll() is not None:
                raise RuntimeError(f"worker{i + 1} exited:\n{stack.tail(f'worker{i + 1}')}")
        servers = ["web", *(f"worker{i + 1}" for i in range(RQ_WORKERS))]
        http = None
        if wrk.available():
            http = http_rounds(f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{trivial_port}",
                               tokens["resident"])
        print(f"stack up: web :{app_port} (gunicorn -w {WEB_WORKERS}), trivial :{trivial_port}, "
              f"{RQ_WORKERS} RQ workers, Redis {REDIS_URL}; {load.SECONDS:.0f} s per phase, "
              f"{load.USERS} users (trivial/submissions), mixed {load.MIX}", flush=True)
        phases = asyncio.run(load.run_all(
            f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{trivial_port}", tokens,
            app_pids=lambda: {"web": stack.pids("web"), "workers": stack.pids(*servers[1:]),
                              "database": backend_pids(user, dbname)},
            trivial_pids=lambda: stack.pids("trivial"),
            floor_pids=lambda: {"web": stack.pids("trivial"), "database": backend_pids(user, dbname)}))
        return phases, http
    finally:
        stack.stop()
        with contextlib.suppress(Exception):
            flush_redis(REDIS_URL)


def main() -> None:
    print(f"machine: {machine()}; {CASES:,} cases", flush=True)
    user = pg_user()
    if user is None:
        print(f"load: skipped — no PostgreSQL accepting trust connections on {PG_HOST}:{PG_PORT}")
        report.skipped("load", f"no PostgreSQL on {PG_HOST}:{PG_PORT}")
        return
    if not redis_ok(REDIS_URL):
        print(f"load: skipped — no Redis at {REDIS_URL}")
        report.skipped("load", f"no Redis at {REDIS_URL}")
        return
    with tempfile.TemporaryDirectory(prefix="fq-load-") as tmp, database(user) as dbname:
        phases, http = run_stack(user, dbname, Path(tmp))
    print(f"machine: {machine()}; {CASES:,} cases in PostgreSQL; 2 web + 2 RQ workers")
    measurement = f"HTTP submissions vs floor (wrk -c{wrk.CONNECTIONS}, gunicorn -w {WEB_WORKERS})"
    if http is None:
        print("wrk: skipped — not installed (Debian: apt-get install wrk)")
        report.skipped("load", "wrk not installed (apt-get install wrk)", measurement)
    else:
        ratio = http.submissions / http.floor
        print(f"   {measurement}: {http.submissions:,.1f} vs {http.floor:,.1f} req/s = {ratio:.2f} "
              f"(target >= {SUBMIT_VS_FLOOR_TARGET}), {http.errors} errors")
        report.record("load", measurement, http.submissions, http.floor, ratio, f"≥ {SUBMIT_VS_FLOOR_TARGET}",
                      report.at_least(ratio, SUBMIT_VS_FLOOR_TARGET) and http.errors == 0, unit=" req/s")
    for v in load.print_results(phases):
        info = v.target.startswith("(")
        report.record("load", v.measurement, v.value, v.baseline, v.ratio, v.target,
                      None if info else v.met, unit=v.unit)


if __name__ == "__main__":
    main()
