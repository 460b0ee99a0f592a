"""The first clock kept for metrics, extension counts, step limits, parking review, escalation time

Revision ID: 0014_case_clock_integrity
Revises: 0013_idempotency_scope
Create Date: 2026-12-06 22:00:00.000000

Existing cases keep their numbers: ``due_at`` starts as today's deadline and
``first_closed_at`` as today's closure.
"""
from alembic import op
import sqlalchemy as sa

import fengqiao.db


revision = '0014_case_clock_integrity'
down_revision = '0013_idempotency_scope'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_closed_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paused_seconds', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('extension_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('extended_total', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('step_name', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('step_due', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('review_reminded_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_due_at'), ['due_at'], unique=False)
    op.execute(sa.text("UPDATE cases SET due_at = deadline, first_closed_at = closed_at"))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_due_at'))
        for column in ('escalated_at', 'review_reminded_on', 'review_on', 'step_due', 'step_name',
                       'extended_total', 'extension_count', 'paused_seconds', 'first_closed_at', 'due_at'):
            batch_op.drop_column(column)
