"""Throwaway PostgreSQL and Redis servers that the fault tests stop and start again.

The shared servers on 5432/6379 are never stopped: each outage happens to a server started
here from the installed binaries, on a free loopback port, and removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fengqiao.stack import descendants
from fengqiao.testing.services import _pg_bin, _try_connect, free_port

HERE = Path(__file__).parent


class PgCluster:
    """An initdb'd data folder served by ``pg_ctl`` on one fixed port across restarts."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            raise RuntimeError("initdb/pg_ctl are not installed")
        self.datadir = tempfile.mkdtemp(prefix="fengqiao-rel-pg-")
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.run_as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.datadir, "postgres")
        subprocess.run([*self.run_as, self.initdb, "-D", self.datadir, "-A", "trust", "-U", "postgres",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=60)
        self.port = free_port()
        self.running = False

    def _ctl(self, *args: str) -> None:
        subprocess.run([*self.run_as, self.pg_ctl, "-D", self.datadir, "-w", "-t", "30", *args],
                       check=True, capture_output=True, timeout=40)

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.datadir} -c fsync=off -c max_connections=60"
        self._ctl("-o", options, "-l", f"{self.datadir}/server.log", "start")
        deadline = time.monotonic() + 20
        while not _try_connect("127.0.0.1", self.port):
            assert time.monotonic() < deadline, "throwaway PostgreSQL did not accept connections"
            time.sleep(0.1)
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects every client at once, as a crash or restart does to them."""
        self._ctl("-m", mode, "stop")
        self.running = False

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if self.running:
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.datadir, ignore_errors=True)


class RedisServer:
    """A ``redis-server`` without persistence, restartable on the same port."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise RuntimeError("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.RedisError:
                assert time.monotonic() < deadline, "throwaway redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[PgCluster]:
    try:
        cluster = PgCluster()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"cannot start a throwaway PostgreSQL: {err}")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def redis_proc() -> Iterator[RedisServer]:
    try:
        server = RedisServer()
    except RuntimeError as err:
        pytest.skip(f"cannot start a throwaway Redis: {err}")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Processes:
    """Child processes each in its own session; signals go to their whole process tree."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def spawn(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        with open(log, "ab") as out:
            process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True, cwd=HERE)
        self.started.append(process)
        return process

    @staticmethod
    def kill_tree(process: subprocess.Popen, below: list[int] | None = None) -> None:
        """SIGKILL the process, its group and every descendant, all at once."""
        if process.returncode is not None:
            return  # reaped: its pid may belong to someone else now
        below = descendants(process.pid) if below is None else below
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for pid in below:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is not None:
                continue
            below = descendants(process.pid)
            process.terminate()  # RQ's warm shutdown
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
            for pid in below:  # a work horse outlives a parent that exited first
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.kill_tree(process, below)


@pytest.fixture
def processes() -> Iterator[Processes]:
    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()
