"""Alembic environment: run with the connection ``fengqiao.migrate`` hands over."""

from alembic import context

import fengqiao.models  # noqa: F401  (register every core table)
from fengqiao.db import Base
from fengqiao.plugins.tables import plugin_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    # the core's tables and each loaded plugin's (on their own metadata): what autogenerate compares
    target_metadata=[Base.metadata, *plugin_metadata()],
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
