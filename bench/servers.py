"""The local servers the benchmarks use: which PostgreSQL role can connect on loopback."""

from __future__ import annotations

import os

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
