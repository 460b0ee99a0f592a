"""index the open cases that are due soon (the 临期 tab and its badge; a scan of every open
deadline at 1M cases)

Revision ID: 0016_due_soon_index
Revises: 0015_cache_versions
Create Date: 2026-12-07 02:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0016_due_soon_index'
down_revision = '0015_cache_versions'
branch_labels = None
depends_on = None

DUE_SOON = sa.text("closed_at IS NULL AND sla_status = 'due_soon'")


def upgrade() -> None:
    op.create_index('ix_cases_due_soon', 'cases', ['deadline'], unique=False,
                    sqlite_where=DUE_SOON, postgresql_where=DUE_SOON)


def downgrade() -> None:
    op.drop_index('ix_cases_due_soon', table_name='cases', sqlite_where=DUE_SOON, postgresql_where=DUE_SOON)
