"""Find or start PostgreSQL and Redis for a test session."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@dataclass
class Postgres:
    """A reachable PostgreSQL server and the admin DSN to create databases on it."""

    host: str
    port: int
    user: str
    process: subprocess.Popen | None = None
    datadir: str | None = None

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self, prefix: str = "fengqiao_test", durable: bool = True) -> str:
        """A new database; ``durable=False`` for a test process's own, which nobody needs after
        a crash: its commits do not wait for the WAL's flush to disk (``synchronous_commit``
        off; 1–10 ms a commit on a busy disk, and a test commits a dozen times)."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            if not durable:
                conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        if self.datadir:
            shutil.rmtree(self.datadir, ignore_errors=True)


def _try_connect(host: str, port: int) -> str | None:
    for user in filter(None, [os.environ.get("PGUSER"), "postgres", os.environ.get("USER"), "root"]):
        try:
            with psycopg.connect(f"host={host} port={port} user={user} dbname=postgres", connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return user
        except psycopg.Error:
            continue
    return None


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def start_postgres() -> Postgres:
    """The local server on 127.0.0.1:5432, else a throwaway one from the binaries.

    Raises RuntimeError with the reason when neither is possible.
    """
    if _listening(5432):
        user = _try_connect("127.0.0.1", 5432)
        if user:
            return Postgres("127.0.0.1", 5432, user)
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    if not (initdb and postgres):
        raise RuntimeError("PostgreSQL is not listening on 127.0.0.1:5432 and no initdb/postgres binaries are installed")
    datadir = tempfile.mkdtemp(prefix="fengqiao-pg-")
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(datadir, "postgres")
    subprocess.run([*run_as, initdb, "-D", datadir, "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                   check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [*run_as, postgres, "-D", datadir, "-p", str(port), "-h", "127.0.0.1", "-k", datadir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _listening(port) and _try_connect("127.0.0.1", port):
            return Postgres("127.0.0.1", port, "postgres", process, datadir)
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("a throwaway PostgreSQL server did not start within 30 s")


@dataclass
class Redis:
    url: str
    process: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)


def start_redis(db: int = 13) -> Redis:
    """The local Redis on 127.0.0.1:6379 (a test-only db number), else a throwaway one."""
    import redis

    if _listening(6379):
        url = f"redis://127.0.0.1:6379/{db}"
        try:
            redis.Redis.from_url(url).ping()
            return Redis(url)
        except redis.RedisError:
            pass
    binary = shutil.which("redis-server")
    if not binary:
        raise RuntimeError("Redis is not listening on 127.0.0.1:6379 and redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            redis.Redis.from_url(url).ping()
            return Redis(url, process)
        except redis.RedisError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("a throwaway redis-server did not start within 15 s")


@contextlib.contextmanager
def postgres_database(server: Postgres) -> Iterator[str]:
    name = server.create_database()
    try:
        yield name
    finally:
        server.drop_database(name)
