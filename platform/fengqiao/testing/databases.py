"""Per-test databases that are reset, not rebuilt (docs/testing.md, "Databases").

Each test process migrates one PostgreSQL database and one SQLite template file per session.
Before a test, PostgreSQL is put back to just migrated: ``DELETE`` of every table in one
transaction, the migrations' own rows copied back and every sequence reset (TRUNCATE of
50-odd tables cost 0.3–1.3 s a test; this costs 10–30 ms); SQLite is a copy of the template
file. A test that uses the demo county starts from a snapshot of it (per set of plugins)
instead of loading it again: rows copied back from a snapshot schema on PostgreSQL, a copy of
a demo-loaded file on SQLite.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

SEQUENCE_TABLE = "_snapshot_sequences"
_MIGRATED = "migrated"  # the snapshot key of the state right after the migrations
# Other sessions left on the test database by a previous test (a leaked connection "idle in
# transaction" holds locks the reset would wait for forever).
_END_OTHER_SESSIONS = sa.text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
_TABLES = sa.text(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    " AND tablename <> 'alembic_version' ORDER BY tablename"
)


def migrate(url: str) -> None:
    """Apply the core's and every installed plugin's migrations to ``url``."""
    from fengqiao.db import make_engine
    from fengqiao.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def load_demo_into(url: str, settings: dict) -> None:
    """Run ``load_demo_data`` once in an app built from ``settings`` on ``url``."""
    from fengqiao.app import create_app
    from fengqiao.demo_data import load_demo_data

    app = create_app({**settings, "database_url": url})
    try:
        with app.app_context():
            load_demo_data()
    finally:
        app.extensions["fengqiao.db"].dispose()


_quoted = postgresql.dialect().identifier_preparer.quote_identifier


class PostgresTestDatabase:
    """A migrated PostgreSQL database that one test process reuses for all its tests."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = sa.create_engine(url, pool_size=1, pool_pre_ping=True)
        # key -> (schema, its tables in foreign-key order)
        self._snapshots: dict[object, tuple[str, list[str]]] = {}
        with self._engine.connect() as conn:
            self._superuser = conn.scalar(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        self._save(_MIGRATED)  # what the migrations wrote, as a new database would hold it

    def dispose(self) -> None:
        self._engine.dispose()

    def reset(self, snapshot: object | None = None, make: Callable[[str], None] | None = None) -> None:
        """Back to just migrated: every table as the migrations left it, every sequence where
        they left it; with ``snapshot``, then as saved under that key instead (the first time
        a key is asked for, ``make(url)`` fills the just-migrated database and what it wrote
        is saved)."""
        key = _MIGRATED if snapshot is None else snapshot
        if key not in self._snapshots:
            self.reset()
            if make is not None:
                make(self.url)
            self._save(key)
        schema, saved = self._snapshots[key]
        with self._engine.begin() as conn:
            conn.execute(_END_OTHER_SESSIONS)
            conn.execute(sa.text("SET LOCAL lock_timeout = '20s'"))
            self._empty(conn, conn.scalars(_TABLES).all())
            if saved:  # names from the catalog, quoted
                conn.exec_driver_sql(";".join(
                    f"INSERT INTO {_quoted(t)} SELECT * FROM {schema}.{_quoted(t)}" for t in saved))  # noqa: S608
            conn.exec_driver_sql(self._restart_sequences(schema))

    def _empty(self, conn: sa.Connection, tables: Sequence[str]) -> None:
        if not tables:
            return
        if self._superuser:
            # Triggers off (foreign keys, the audit log's append-only guard) for this
            # transaction only, so neither the DELETEs nor the refill need an order.
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql(";".join(f"DELETE FROM {_quoted(t)}" for t in tables))  # noqa: S608
        else:  # slower, but needs no superuser
            conn.exec_driver_sql(f"TRUNCATE {', '.join(_quoted(t) for t in tables)} CASCADE")

    @staticmethod
    def _restart_sequences(schema: str) -> str:
        """One statement: each sequence at its saved value, or at its start when it had none."""
        saved = f"{schema}.{SEQUENCE_TABLE}"
        return (
            "SELECT setval(quote_ident(s.sequencename)::regclass, coalesce(v.last_value, s.start_value),"  # noqa: S608
            f" v.last_value IS NOT NULL) FROM pg_sequences s LEFT JOIN {saved} v USING (sequencename)"
            " WHERE s.schemaname = current_schema()"
        )

    def _save(self, key: object) -> None:
        """Copy the non-empty tables and the sequences' values into a schema of their own."""
        schema = f"snapshot_{len(self._snapshots) + 1}"
        with self._engine.begin() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)  # e.g. an expression index it skips
            metadata = sa.MetaData()
            metadata.reflect(conn)
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            saved = []
            for table in metadata.sorted_tables:  # parents first: refilling without superuser
                if table.name != "alembic_version" and conn.scalar(sa.select(sa.exists().select_from(table))):
                    conn.exec_driver_sql(f"CREATE TABLE {schema}.{_quoted(table.name)} AS TABLE {_quoted(table.name)}")
                    saved.append(table.name)
            conn.exec_driver_sql(
                f"CREATE TABLE {schema}.{SEQUENCE_TABLE} AS SELECT sequencename, last_value"  # noqa: S608
                " FROM pg_sequences WHERE schemaname = current_schema()"
            )
        self._snapshots[key] = (schema, saved)


class SqliteTemplates:
    """SQLite files to copy: the just-migrated template, and one per snapshot key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.migrated = folder / "migrated.db"
        migrate(f"sqlite:///{self.migrated}")
        self._snapshots: dict[object, Path] = {}

    def copy_to(self, path: Path, snapshot: object | None = None,
                make: Callable[[str], None] | None = None) -> None:
        """Write the just-migrated template, or the snapshot saved under key ``snapshot``, to
        ``path`` (the first time a key is asked for, ``make(url)`` fills a copy of the template)."""
        source = self.migrated
        if snapshot is not None:
            if snapshot not in self._snapshots:
                built = self.folder / f"snapshot_{len(self._snapshots) + 1}.db"
                shutil.copyfile(self.migrated, built)
                if make is not None:
                    make(f"sqlite:///{built}")
                self._snapshots[snapshot] = built
            source = self._snapshots[snapshot]
        shutil.copyfile(source, path)
