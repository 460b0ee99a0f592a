"""server-side browser sessions: logout, password change and the absolute lifetime end them

Revision ID: 0012_server_sessions
Revises: 0011_merged_into_index
Create Date: 2026-12-06 19:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
import fengqiao.db


revision = '0012_server_sessions'
down_revision = '0011_merged_into_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('digest', name=op.f('uq_user_sessions_digest')),
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
