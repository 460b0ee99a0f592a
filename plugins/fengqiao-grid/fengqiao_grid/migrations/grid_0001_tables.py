"""grid: standard addresses, their moves, households, people, residences, special groups, units

Revision ID: grid_0001
"""

import sqlalchemy as sa
from alembic import op
from fengqiao.sdk.models import UTCDateTime

revision = "grid_0001"
down_revision = None
branch_labels = ("grid",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "grid_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=120), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("keeper_user", sa.String(length=64), nullable=True),
        sa.Column("keeper_name", sa.String(length=50), nullable=False),
        sa.Column("keeper_mobile", sa.String(length=11), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint("kind IN ('estate', 'building', 'entrance', 'room')", name=op.f("ck_grid_addresses_kind")),
        sa.ForeignKeyConstraint(["parent_id"], ["grid_addresses.id"], name=op.f("fk_grid_addresses_parent_id_grid_addresses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_addresses")),
        sa.UniqueConstraint("grid_code", "code", name=op.f("uq_grid_addresses_grid_code")),
    )
    op.create_index(op.f("ix_grid_addresses_grid_code"), "grid_addresses", ["grid_code"])
    op.create_index(op.f("ix_grid_addresses_parent_id"), "grid_addresses", ["parent_id"])
    op.create_index(op.f("ix_grid_addresses_label"), "grid_addresses", ["label"])

    op.create_table(
        "grid_address_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("from_grid", sa.String(length=32), nullable=False),
        sa.Column("to_grid", sa.String(length=32), nullable=False),
        sa.Column("nodes", sa.Integer(), nullable=False),
        sa.Column("moved_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["address_id"], ["grid_addresses.id"],
                                name=op.f("fk_grid_address_moves_address_id_grid_addresses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_address_moves")),
    )
    op.create_index(op.f("ix_grid_address_moves_address_id"), "grid_address_moves", ["address_id"])

    op.create_table(
        "grid_households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("head_person_id", sa.Integer(), nullable=True),
        sa.Column("rented", sa.Boolean(), nullable=False),
        sa.Column("landlord_name", sa.String(length=50), nullable=False),
        sa.Column("landlord_mobile", sa.String(length=11), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["address_id"], ["grid_addresses.id"],
                                name=op.f("fk_grid_households_address_id_grid_addresses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_households")),
        sa.UniqueConstraint("address_id", name=op.f("uq_grid_households_address_id")),
    )

    op.create_table(
        "grid_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("id_card", sa.String(length=18), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("care_tags", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["address_id"], ["grid_addresses.id"],
                                name=op.f("fk_grid_people_address_id_grid_addresses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_people")),
    )
    op.create_index(op.f("ix_grid_people_id_card"), "grid_people", ["id_card"])
    op.create_index(op.f("ix_grid_people_address_id"), "grid_people", ["address_id"])

    op.create_table(
        "grid_residences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("residence_type", sa.String(length=16), nullable=False),
        sa.Column("moved_in_on", sa.Date(), nullable=False),
        sa.Column("moved_out_on", sa.Date(), nullable=True),
        sa.Column("moved_out_reason", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint("relation IN ('head', 'spouse', 'child', 'parent', 'grandchild', 'grandparent', "
                           "'sibling', 'relative', 'tenant', 'other')", name=op.f("ck_grid_residences_relation")),
        sa.CheckConstraint("residence_type IN ('registered', 'resident', 'floating', 'renting')",
                           name=op.f("ck_grid_residences_residence_type")),
        sa.CheckConstraint("moved_out_on IS NULL OR moved_out_on >= moved_in_on", name=op.f("ck_grid_residences_dates")),
        sa.ForeignKeyConstraint(["address_id"], ["grid_addresses.id"],
                                name=op.f("fk_grid_residences_address_id_grid_addresses")),
        sa.ForeignKeyConstraint(["household_id"], ["grid_households.id"],
                                name=op.f("fk_grid_residences_household_id_grid_households")),
        sa.ForeignKeyConstraint(["person_id"], ["grid_people.id"], name=op.f("fk_grid_residences_person_id_grid_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_residences")),
    )
    op.create_index(op.f("ix_grid_residences_person_id"), "grid_residences", ["person_id"])
    op.create_index(op.f("ix_grid_residences_household_id"), "grid_residences", ["household_id"])

    op.create_table(
        "grid_special_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint("group_key IN ('correction', 'mental', 'youth', 'drug')",
                           name=op.f("ck_grid_special_records_group_key")),
        sa.ForeignKeyConstraint(["person_id"], ["grid_people.id"],
                                name=op.f("fk_grid_special_records_person_id_grid_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_special_records")),
    )
    op.create_index(op.f("ix_grid_special_records_person_id"), "grid_special_records", ["person_id"])

    op.create_table(
        "grid_establishments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("contact_name", sa.String(length=50), nullable=False),
        sa.Column("contact_mobile", sa.String(length=11), nullable=False),
        sa.Column("safety_due", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint("category IN ('shop', 'company', 'organisation', 'institution', 'other')",
                           name=op.f("ck_grid_establishments_category")),
        sa.ForeignKeyConstraint(["address_id"], ["grid_addresses.id"],
                                name=op.f("fk_grid_establishments_address_id_grid_addresses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_establishments")),
    )
    op.create_index(op.f("ix_grid_establishments_address_id"), "grid_establishments", ["address_id"])
    op.create_index(op.f("ix_grid_establishments_credit_code"), "grid_establishments", ["credit_code"])


def downgrade() -> None:
    for table in ("grid_establishments", "grid_special_records", "grid_residences", "grid_people",
                  "grid_households", "grid_address_moves", "grid_addresses"):
        op.drop_table(table)
