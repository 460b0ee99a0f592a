"""A plugin's own tables: their declarative base, column types and the session.

Each plugin declares its models on ``declarative_base_for("<name>")``: a metadata of its own
with the core's constraint naming convention (``pk_<table>``, ``uq_<table>_<column>``,
``ix_<table>_<column>``, ``fk_<table>_<column>_<referred table>``, ``ck_<table>_<name>``), so
its tables never mix with the core's or another plugin's. Core tables are not reachable as
models: read core data through the sdk's functions (``cases``, ``orgs``, ``forms``), which
return plain values.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from fengqiao.db import UTCDateTime, db, utcnow
from fengqiao.plugins.tables import SHARED, declarative_base_for

__all__ = ["Model", "UTCDateTime", "db", "declarative_base_for", "utcnow", "write_lock"]

Model: type[DeclarativeBase] = declarative_base_for(SHARED)
"""The base of plugins written before API 1.5: one metadata shared by those plugins (not the
core's). New plugins use ``declarative_base_for("<name>")``."""


def write_lock() -> None:
    """Take the database's write lock before a read-then-write (SQLite: ``BEGIN IMMEDIATE``,
    so concurrent writers queue instead of failing). On PostgreSQL it does nothing: use
    conditional ``UPDATE … WHERE`` or ``SELECT … FOR UPDATE``. Call it first in the transaction."""
    connection = db.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
