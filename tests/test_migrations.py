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
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        # Tables of installed plugins come from their own branches and models.
        from fengqiao.plugins.discovery import discover

        prefixes = tuple(f"{p.name}_" for p in discover().plugins)
        core_diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith(prefixes))]
        assert core_diff == []
    finally:
        engine.dispose()


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
