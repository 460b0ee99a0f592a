"""grid: which standard address a case is about (case pages: the address's other cases), and
an index on address codes (the address book resolves a typed code to its address)

Revision ID: grid_0003
"""

import sqlalchemy as sa
from alembic import op
from fengqiao.sdk.models import UTCDateTime

revision = "grid_0003"
down_revision = "grid_0002"
branch_labels = None
depends_on = None

# Cases already spawned from visits: the visit names both ends (its first visit, per case).
BACKFILL = (
    "INSERT INTO grid_case_addresses (case_number, address_id, linked_at) "
    "SELECT v.case_number, v.address_id, v.created_at FROM grid_visits v "
    "WHERE v.case_number IS NOT NULL AND v.id = "
    "(SELECT MIN(w.id) FROM grid_visits w WHERE w.case_number = v.case_number)"
)


def upgrade() -> None:
    op.create_table(
        "grid_case_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["address_id"], ["grid_addresses.id"],
                                name=op.f("fk_grid_case_addresses_address_id_grid_addresses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_case_addresses")),
        sa.UniqueConstraint("case_number", name=op.f("uq_grid_case_addresses_case_number")),
    )
    op.create_index(op.f("ix_grid_case_addresses_address_id"), "grid_case_addresses", ["address_id"])
    op.execute(BACKFILL)
    op.create_index(op.f("ix_grid_addresses_code"), "grid_addresses", ["code"])


def downgrade() -> None:
    op.drop_index(op.f("ix_grid_addresses_code"), table_name="grid_addresses")
    op.drop_table("grid_case_addresses")
