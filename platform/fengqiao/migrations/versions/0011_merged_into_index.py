"""index the cases merged into a case (read on every case page; a scan at 1M cases)

Revision ID: 0011_merged_into_index
Revises: 0010_login_security
Create Date: 2026-11-27 06:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_merged_into_index'
down_revision = '0010_login_security'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cases_merged_into', 'cases', ['merged_into_id'], unique=False,
                    sqlite_where=sa.text('merged_into_id IS NOT NULL'),
                    postgresql_where=sa.text('merged_into_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_cases_merged_into', table_name='cases',
                  sqlite_where=sa.text('merged_into_id IS NOT NULL'),
                  postgresql_where=sa.text('merged_into_id IS NOT NULL'))
