"""case engine: units a case is dispatched to

Revision ID: 0006_case_participants
Revises: 0005_workdays
Create Date: 2026-11-26 23:15:54.679594
"""
from alembic import op
import sqlalchemy as sa
import fengqiao.db


revision = '0006_case_participants'
down_revision = '0005_workdays'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('added_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_case_participants_added_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_participants_case_id_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['org_units.id'], name=op.f('fk_case_participants_org_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_participants')),
    sa.UniqueConstraint('case_id', 'org_id', name='case_org')
    )
    with op.batch_alter_table('case_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_participants_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_participants_org_id'), ['org_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_participants_org_id'))
        batch_op.drop_index(batch_op.f('ix_case_participants_case_id'))

    op.drop_table('case_participants')
