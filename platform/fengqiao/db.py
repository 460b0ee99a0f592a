"""Database wiring: one engine and one scoped session per app, typed declarative models.

Plain SQLAlchemy 2.x rather than an extension: the same engine/session code serves web
requests, CLI commands and RQ workers (which must dispose the engine after forking).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from werkzeug.local import LocalProxy

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


def make_engine(url: str) -> Engine:
    """Create an engine with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No server-side prepared statements: after five runs psycopg would prepare one and
    # PostgreSQL may then switch to a generic plan that ignores the scope's path range.
    psycopg3 = url.startswith("postgresql+psycopg:") or url.startswith("postgresql+psycopg_async:")
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                            connect_args={"prepare_threshold": None} if psycopg3 else {})


class Database:
    """Per-app engine + scoped session, removed when the app context ends."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.session_factory = sessionmaker(bind=engine, expire_on_commit=False)
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


def _current_session() -> Session:
    return database().session()


db: Session = LocalProxy(_current_session)  # type: ignore[assignment]
"""The current app's session: ``from fengqiao.db import db; db.scalars(select(...))``."""
