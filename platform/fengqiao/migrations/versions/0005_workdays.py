"""working-day calendar

Revision ID: 0005_workdays
Revises: 0004_case_events
Create Date: 2026-11-26 22:17:04.759834
"""
from alembic import op
import sqlalchemy as sa
import fengqiao.db


revision = '0005_workdays'
down_revision = '0004_case_events'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('org_code', sa.String(length=32), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.CheckConstraint("action in ('add','update','remove','import','seed')", name=op.f('ck_calendar_changes_action')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_changes'))
    )
    op.create_table('calendar_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_code', sa.String(length=32), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind in ('holiday','workday')", name=op.f('ck_calendar_days_kind')),
    sa.CheckConstraint("source in ('chinese-calendar','admin','import')", name=op.f('ck_calendar_days_source')),
    sa.ForeignKeyConstraint(['org_code'], ['org_units.code'], name=op.f('fk_calendar_days_org_code_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_days')),
    sa.UniqueConstraint('org_code', 'day', name=op.f('uq_calendar_days_org_code'))
    )
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.create_index('uq_calendar_days_national_day', ['day'], unique=True, sqlite_where=sa.text('org_code IS NULL'), postgresql_where=sa.text('org_code IS NULL'))

    op.create_table('calendar_years',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_code', sa.String(length=32), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('entered_by', sa.String(length=64), nullable=True),
    sa.Column('entered_at', fengqiao.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_code'], ['org_units.code'], name=op.f('fk_calendar_years_org_code_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_years')),
    sa.UniqueConstraint('org_code', 'year', name=op.f('uq_calendar_years_org_code'))
    )
    with op.batch_alter_table('calendar_years', schema=None) as batch_op:
        batch_op.create_index('uq_calendar_years_national_year', ['year'], unique=True, sqlite_where=sa.text('org_code IS NULL'), postgresql_where=sa.text('org_code IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('calendar_years', schema=None) as batch_op:
        batch_op.drop_index('uq_calendar_years_national_year', sqlite_where=sa.text('org_code IS NULL'), postgresql_where=sa.text('org_code IS NULL'))

    op.drop_table('calendar_years')
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.drop_index('uq_calendar_days_national_day', sqlite_where=sa.text('org_code IS NULL'), postgresql_where=sa.text('org_code IS NULL'))

    op.drop_table('calendar_days')
    op.drop_table('calendar_changes')

