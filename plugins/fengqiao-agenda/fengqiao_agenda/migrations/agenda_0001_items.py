"""agenda: the agenda_items table

Revision ID: agenda_0001
"""

import sqlalchemy as sa
from alembic import op
from fengqiao.sdk.models import UTCDateTime

revision = "agenda_0001"
down_revision = None  # starts the plugin's branch
branch_labels = ("agenda",)  # the branch is named after the plugin
depends_on = "0001_core"  # ordered after the core's first revision


def upgrade() -> None:
    op.create_table(
        "agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("proposer", sa.String(length=50), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("meeting_on", sa.Date(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('proposed', 'scheduled', 'declined')", name=op.f("ck_agenda_items_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_items")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_agenda_items_submission_id")),
    )
    op.create_index(op.f("ix_agenda_items_org_code"), "agenda_items", ["org_code"])


def downgrade() -> None:
    op.drop_index(op.f("ix_agenda_items_org_code"), table_name="agenda_items")
    op.drop_table("agenda_items")
