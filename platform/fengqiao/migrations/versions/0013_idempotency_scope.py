"""Idempotency-Key scoped to its caller and form, with the request's hash

Revision ID: 0013_idempotency_scope
Revises: 0012_server_sessions
Create Date: 2026-12-06 19:40:00.000000

Keys stored before this revision have no scope and are never replayed again (a client
retrying across the upgrade opens a second case; the alternative, a global key, answered
one person's case to another).
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_idempotency_scope'
down_revision = '0012_server_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_submissions_idempotency_key'), type_='unique')
        batch_op.add_column(sa.Column('idempotency_scope', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('idempotency_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_submissions_idempotency_scope'),
                                          ['idempotency_scope', 'idempotency_key'])


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_submissions_idempotency_scope'), type_='unique')
        batch_op.drop_column('idempotency_hash')
        batch_op.drop_column('idempotency_scope')
    # Scoped keys may repeat across callers: keep only the first of each before the global rule.
    op.execute(sa.text(
        "UPDATE submissions SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL AND id NOT IN "
        "(SELECT min(id) FROM submissions WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key)"))
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_submissions_idempotency_key'), ['idempotency_key'])
