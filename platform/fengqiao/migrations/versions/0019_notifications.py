"""the message centre (站内信): one notification row per event and recipient, unique per
(event_key, user_id) so the delivering job may run twice; indexed for the unread bell

Revision ID: 0019_notifications
Revises: 0018_repeat_probe_index
Create Date: 2026-12-07 05:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

import fengqiao.db

revision = '0019_notifications'
down_revision = '0018_repeat_probe_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('case_number', sa.String(length=40), nullable=True),
    sa.Column('created_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('event_key', 'user_id', name=op.f('uq_notifications_event_key'))
    )
    op.create_index('ix_notifications_user_unread', 'notifications', ['user_id', 'read_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notifications_user_unread', table_name='notifications')
    op.drop_table('notifications')
