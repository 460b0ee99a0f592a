"""case engine: resident satisfaction rating

Revision ID: 0007_case_rating
Revises: 0006_case_participants
Create Date: 2026-11-26 23:17:06.230352
"""
from alembic import op
import sqlalchemy as sa
import fengqiao.db


revision = '0007_case_rating'
down_revision = '0006_case_participants'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('rated_at', fengqiao.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('rated_at')
        batch_op.drop_column('rating')

