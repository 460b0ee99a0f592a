"""grid: visits and their photos, patrols, diary entries, monthly dispute returns

Revision ID: grid_0002
"""

import sqlalchemy as sa
from alembic import op
from fengqiao.sdk.models import UTCDateTime

revision = "grid_0002"
down_revision = "grid_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grid_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("establishment_id", sa.Integer(), nullable=True),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("purpose IN ('home_visit', 'safety_check', 'dispute_check', 'special_care', 'other')",
                           name=op.f("ck_grid_visits_purpose")),
        sa.ForeignKeyConstraint(["address_id"], ["grid_addresses.id"], name=op.f("fk_grid_visits_address_id_grid_addresses")),
        sa.ForeignKeyConstraint(["household_id"], ["grid_households.id"],
                                name=op.f("fk_grid_visits_household_id_grid_households")),
        sa.ForeignKeyConstraint(["establishment_id"], ["grid_establishments.id"],
                                name=op.f("fk_grid_visits_establishment_id_grid_establishments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_visits")),
    )
    op.create_index("ix_grid_visits_grid_day", "grid_visits", ["grid_code", "visited_on"])
    for column in ("address_id", "household_id", "establishment_id", "case_number", "worker"):
        op.create_index(op.f(f"ix_grid_visits_{column}"), "grid_visits", [column])

    op.create_table(
        "grid_visit_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["visit_id"], ["grid_visits.id"], name=op.f("fk_grid_visit_photos_visit_id_grid_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_visit_photos")),
    )
    op.create_index(op.f("ix_grid_visit_photos_visit_id"), "grid_visit_photos", ["visit_id"])

    op.create_table(
        "grid_patrols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("patrolled_on", sa.Date(), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_patrols")),
    )
    op.create_index(op.f("ix_grid_patrols_grid_code"), "grid_patrols", ["grid_code"])

    op.create_table(
        "grid_diary_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("written_on", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["grid_households.id"],
                                name=op.f("fk_grid_diary_entries_household_id_grid_households")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_diary_entries")),
    )
    op.create_index(op.f("ix_grid_diary_entries_grid_code"), "grid_diary_entries", ["grid_code"])

    op.create_table(
        "grid_dispute_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("zero_report", sa.Boolean(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("items_count", sa.Integer(), nullable=False),
        sa.Column("items_text", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("(zero_report AND items_count = 0 AND confirmed) OR (NOT zero_report AND items_count > 0)",
                           name=op.f("ck_grid_dispute_returns_zero_or_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_dispute_returns")),
        sa.UniqueConstraint("grid_code", "month", name=op.f("uq_grid_dispute_returns_grid_code")),
    )


def downgrade() -> None:
    for table in ("grid_dispute_returns", "grid_diary_entries", "grid_patrols", "grid_visit_photos", "grid_visits"):
        op.drop_table(table)
