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
