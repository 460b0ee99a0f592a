"""Database wiring: one engine and one scoped session per app, typed declarative models.

Plain SQLAlchemy 2.x rather than an extension: the same engine/session code serves web
requests, CLI commands and RQ workers (which must dispose the engine after forking).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from werkzeug.local import LocalProxy

from fengqiao.transaction import Session as CommitHookSession

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


LOCAL_TZ = ZoneInfo("Asia/Shanghai")
"""Where every user is: deadlines, case numbers and displayed times use local time."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def sortable_path() -> sa.types.TypeEngine:
    """A string compared byte-wise, so materialized-path range scans use a plain b-tree."""
    return sa.String(512).with_variant(sa.String(512, collation="C"), "postgresql")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


PING_AFTER_IDLE_SECONDS = 2.0
"""A pooled connection unused this long is checked (one round trip) before it is handed out;
a busy pool never pays for the check."""

# psycopg prepares a statement the fifth time a connection runs it, so PostgreSQL parses it
# once. A prepared statement may switch to a generic plan, which cannot see the values of a
# scope's path range (``path >= :low AND path < :high``) and may skip its index; with
# ``force_custom_plan`` every execution is planned with its values, as an unprepared one is.
# JIT compilation is off: it spent 2 s compiling each dashboard statement that then ran in 0.5 s
# (1M cases); our statements are index-driven, never the long scans JIT pays off for.
POSTGRES_OPTIONS = "-c plan_cache_mode=force_custom_plan -c jit=off"


def make_engine(url: str, statement_timeout_seconds: int | None = None) -> Engine:
    """Create an engine with the settings each backend needs; on PostgreSQL a statement
    running longer than ``statement_timeout_seconds`` is cancelled by the server."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options = POSTGRES_OPTIONS
    if statement_timeout_seconds:
        options += f" -c statement_timeout={int(statement_timeout_seconds) * 1000}"
    engine = sa.create_engine(url, pool_size=10, max_overflow=10, connect_args={"options": options})
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a connection that sat idle in the pool before it is used (a restarted server or
    a dropped idle connection then costs a reconnect, not a failed request)."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _mark_idle(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:  # the pool replaces the connection and tries again
            raise sa.exc.DisconnectionError() from err


class Database:
    """Per-app engine + scoped session, removed when the app context ends."""

    def __init__(self, engine: Engine):
        self.engine = engine
        # Its commit() runs the callbacks queued with fengqiao.transaction.after_commit.
        self.session_factory = sessionmaker(bind=engine, expire_on_commit=False,
                                            class_=CommitHookSession)
        self.session: scoped_session[Session] = scoped_session(self.session_factory)

    def init_app(self, app: Flask) -> None:
        app.extensions["fengqiao.db"] = self

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            self.session.remove()

    def dispose(self) -> None:
        """Drop pooled connections (after fork in RQ workers, or at test teardown)."""
        self.session.remove()
        self.engine.dispose()


def database() -> Database:
    return current_app.extensions["fengqiao.db"]


def current_session() -> Session:
    """The current app's session itself: hot paths take it once instead of going through the
    ``db`` proxy (a context lookup) on every call."""
    return current_app.extensions["fengqiao.db"].session()


db: Session = LocalProxy(current_session)  # type: ignore[assignment]


def insert(table: Any) -> Any:
    """``INSERT`` for the session's backend, with ``on_conflict_do_nothing`` (PostgreSQL and
    SQLite both have it): a concurrent duplicate is skipped instead of spoiling the caller's
    transaction."""
    return (postgresql if db.get_bind().dialect.name == "postgresql" else sqlite).insert(table)
"""The current app's session: ``from fengqiao.db import db; db.scalars(select(...))``."""
