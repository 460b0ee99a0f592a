"""case type drafts: the one unpublished draft per case type that admins edit in the UI
before publishing it as the next version (a type never published exists only as its draft)

Revision ID: 0017_case_type_drafts
Revises: 0016_due_soon_index
Create Date: 2026-12-08 01:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import fengqiao.db

revision = '0017_case_type_drafts'
down_revision = '0016_due_soon_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_type_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('base_number', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_case_type_drafts_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_type_drafts')),
    sa.UniqueConstraint('key', name=op.f('uq_case_type_drafts_key'))
    )


def downgrade() -> None:
    op.drop_table('case_type_drafts')
