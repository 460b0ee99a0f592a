"""saved queue filters per user (issue 22): a name (unique per user) and the query string of
the queue's filters it applies

Revision ID: 0021_saved_queue_filters
Revises: 0020_deliveries
Create Date: 2026-12-07 09:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

import fengqiao.db

revision = '0021_saved_queue_filters'
down_revision = '0020_deliveries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_queue_filters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('query', sa.String(length=1000), nullable=False),
    sa.Column('created_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_queue_filters_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_queue_filters')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_saved_queue_filters_user_id'))
    )


def downgrade() -> None:
    op.drop_table('saved_queue_filters')
