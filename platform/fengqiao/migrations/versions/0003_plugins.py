"""plugin system: per-plugin enable switch and settings

Revision ID: 0003_plugins
Revises: 0002_forms
Create Date: 2026-11-26 22:10:59.206535
"""
from alembic import op
import sqlalchemy as sa
import fengqiao.db


revision = '0003_plugins'
down_revision = '0002_forms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plugin_states',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('updated_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_plugin_states'))
    )


def downgrade() -> None:
    op.drop_table('plugin_states')
