"""The local servers the benchmarks use: which PostgreSQL role can connect on loopback, and
the benches' own Redis database numbers."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

PG_HOST, PG_PORT = "127.0.0.1", 5432


def pg_user() -> str | None:
    """A role that can connect to the local PostgreSQL (PGUSER, postgres, or the login user)."""
    import psycopg

    for user in filter(None, [os.environ.get("PGUSER"), "postgres", os.environ.get("USER")]):
        try:
            with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="postgres", connect_timeout=3):
                return user
        except psycopg.Error:
            continue
    return None


@contextlib.contextmanager
def scratch_database(user: str, prefix: str) -> Iterator[str]:
    """A new, empty database ``<prefix>_<pid>`` on the local server, dropped afterwards."""
    import psycopg

    name = f"{prefix}_{os.getpid()}"
    admin = {"host": PG_HOST, "port": PG_PORT, "user": user, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_ok(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def flush_redis(url: str) -> None:
    """Empty a Redis database a bench owns (its own number: nothing else lives there)."""
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()


@contextlib.contextmanager
def two_databases(backend: str, folder, bench: str) -> Iterator[tuple[str, str] | None]:
    """Two fresh databases of ``backend`` (one for a baseline, one for the product), or None
    (reported as skipped for ``bench``) where no PostgreSQL can be started."""
    import report

    if backend == "sqlite":
        yield f"sqlite:///{folder}/baseline.db", f"sqlite:///{folder}/product.db"
        return
    from fengqiao.testing.services import start_postgres

    try:
        server = start_postgres()
    except (RuntimeError, OSError) as err:
        print(f"PostgreSQL: skipped — {err}")
        report.skipped(bench, f"PostgreSQL: {err}"[:120], "postgresql")
        yield None
        return
    names = [server.create_database(f"fq_bench_{bench}"), server.create_database(f"fq_bench_{bench}")]
    try:
        yield server.url(names[0]), server.url(names[1])
    finally:
        for name in names:
            server.drop_database(name)
        server.stop()  # only stops a throwaway server this bench started


def demo_app(url: str, instance, plugins: list[str]):
    """The app on ``url`` with its migrations applied and the demo county loaded."""
    from fengqiao.app import create_app
    from fengqiao.demo_data import load_demo_data
    from fengqiao.migrate import upgrade

    app = create_app({"mode": "testing", "database_url": url, "instance_path": str(instance),
                      "secret_key": "bench-secret-key-0123456789abcdefghijkl", "redis_url": None,
                      "plugins": plugins})
    app.logger.setLevel("WARNING")
    upgrade(app.extensions["fengqiao.db"].engine)
    with app.app_context():
        load_demo_data()
    return app

