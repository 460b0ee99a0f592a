"""Migrations, not create_all: idempotent upgrades that match the models on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import fengqiao.models  # noqa: F401
from fengqiao.db import Base, make_engine
from fengqiao.migrate import alembic_config, pending, upgrade


@pytest.mark.parametrize("empty_database_url", ["sqlite", "postgresql"], indirect=True)
def test_upgrade_twice_then_schema_matches_models(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
        assert pending(engine)
        assert upgrade(engine) == sorted(heads)
        assert upgrade(engine) == []
        assert not pending(engine)
        # Installed plugins' tables come from their own branches and models, each plugin's on a
        # metadata of its own (discovering a plugin imports its models).
        from fengqiao.plugins.discovery import discover
        from fengqiao.plugins.tables import plugin_metadata

        installed = [p.name for p in discover().plugins]
        assert installed
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, [Base.metadata, *plugin_metadata(installed)])  # type: ignore[arg-type]
        assert diff == []
    finally:
        engine.dispose()


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
