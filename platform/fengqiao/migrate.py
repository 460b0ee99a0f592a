"""``fengqiao db upgrade``: apply Alembic migrations (idempotent), never ``create_all``."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def version_locations() -> list[str]:
    """The core's versions plus each installed, compatible plugin's own branch.

    Installed plugins are migrated even while disabled: disabling hides, never drops data.
    """
    from fengqiao.plugins.discovery import discover

    folders = [str(MIGRATIONS / "versions")]
    for plugin in discover().plugins:
        folder = plugin.package_path(plugin.migrations)
        if folder is not None:
            folders.append(str(folder))
    return folders


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(version_locations()))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> list[str]:
    """Bring the database to ``revision``; returns the revisions applied (empty when current)."""
    cfg = alembic_config(engine)
    before = current_revisions(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    after = current_revisions(engine)
    return sorted(after - before)


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def pending(engine: Engine) -> bool:
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    return current_revisions(engine) != heads
