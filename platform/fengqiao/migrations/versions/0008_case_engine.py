"""case engine: SLA clock, escalation, links, board, summons, job outbox, case type versions

Revision ID: 0008_case_engine
Revises: 0007_case_rating
Create Date: 2026-11-27 00:05:14.957663
"""
from alembic import op
import sqlalchemy as sa
import fengqiao.db


revision = '0008_case_engine'
down_revision = '0007_case_rating'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_type_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_case_type_versions_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_type_versions')),
    sa.UniqueConstraint('key', 'number', name='key_number')
    )
    with op.batch_alter_table('case_type_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_type_versions_key'), ['key'], unique=False)

    op.create_table('job_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('queue', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_job_outbox_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_job_outbox_dedupe_key'))
    )
    with op.batch_alter_table('job_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_outbox_status'), ['status'], unique=False)

    with op.batch_alter_table('case_participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_due', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('checked_in_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('checked_in_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rating', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('rated_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_case_participants_checked_in_by_id_users'), 'users', ['checked_in_by_id'], ['id'])
        batch_op.drop_index(batch_op.f('ix_case_participants_org_id'))  # the composite serves it
        batch_op.create_index('ix_case_participants_org_case', ['org_id', 'case_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_tail', sa.String(length=4), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('workflow_version', sa.Integer(), nullable=False, server_default=sa.text('1')))
        batch_op.add_column(sa.Column('priority', sa.String(length=24), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('deadline_provisional', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('sla_start', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_limit', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('sla_credit', sa.Float(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('paused_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pending_extension', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('escalation_level', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('escalated_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('urge_count', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('reopen_count', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('on_board', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('responded_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_cases_open_deadline', ['closed_at', 'deadline'], unique=False)
        batch_op.create_index('ix_cases_open_assignee', ['closed_at', 'assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_escalated_to_id'), ['escalated_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_phone_tail'), ['phone_tail'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_escalated_to_id_org_units'), 'org_units', ['escalated_to_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_cases_merged_into_id_cases'), 'cases', ['merged_into_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_merged_into_id_cases'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cases_escalated_to_id_org_units'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_deadline'))
        batch_op.drop_index(batch_op.f('ix_cases_created_at'))
        batch_op.drop_index(batch_op.f('ix_cases_escalated_to_id'))
        batch_op.drop_index('ix_cases_open_assignee')
        batch_op.drop_index('ix_cases_open_deadline')
        batch_op.drop_index(batch_op.f('ix_cases_phone_tail'))
        batch_op.drop_column('phone_tail')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('responded_at')
        batch_op.drop_column('on_board')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('reopen_count')
        batch_op.drop_column('urge_count')
        batch_op.drop_column('escalated_to_id')
        batch_op.drop_column('escalation_level')
        batch_op.drop_column('pending_extension')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('sla_credit')
        batch_op.drop_column('sla_limit')
        batch_op.drop_column('sla_start')
        batch_op.drop_column('deadline_provisional')
        batch_op.drop_column('priority')
        batch_op.drop_column('workflow_version')

    with op.batch_alter_table('case_participants', schema=None) as batch_op:
        batch_op.drop_index('ix_case_participants_org_case')
        batch_op.create_index(batch_op.f('ix_case_participants_org_id'), ['org_id'], unique=False)
        batch_op.drop_constraint(batch_op.f('fk_case_participants_checked_in_by_id_users'), type_='foreignkey')
        batch_op.drop_column('rated_at')
        batch_op.drop_column('rating')
        batch_op.drop_column('checked_in_by_id')
        batch_op.drop_column('checked_in_at')
        batch_op.drop_column('checkin_due')

    with op.batch_alter_table('job_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_outbox_status'))

    op.drop_table('job_outbox')
    with op.batch_alter_table('case_type_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_type_versions_key'))

    op.drop_table('case_type_versions')
